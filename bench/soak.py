#!/usr/bin/env python3
"""soak.py - the load and the measurements of bench/soak.sh (run that, not this).

`soak.py run`: against one running casd, for --seconds, a mixed hostile load (session uploads,
small and with RSA-3072 keys; public value reads; service attestations with simulated evidence;
service access token guessing; slow connections drip-fed or silent; bodies over max_body) while a
separate process probes GET /v1/health and a public value read, each over a NEW TLS connection,
every PROBE_EVERY_S, and samples casd's VmRSS and open fds every second. Then every upload that
was acknowledged (201/200) is read back by the identity that made it, and its hash compared.
Prints the report and exits 1 when a target is missed (see TARGETS in soak.sh's --help).
`soak.py verify`: only the read-back, from the list `run` left (soak.sh uses it when casd died
and was restarted on the same data directory).
Standard library only.
"""
import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import secrets
import select
import signal
import socket
import ssl
import sys
import threading
import time
from collections import Counter, defaultdict

LOAD_KINDS = ("upload-small", "upload-rsa", "value-read", "attest", "token", "oversized", "slow")
PROBE_EVERY_S = 0.1
WINDOW_S = 30
TIMEOUT_S = 10
# The load, bounded so the 2-core machine stays usable: threads and pauses per kind.
UPLOAD_SMALL_PAUSE_S = 0.05  # one thread: small sessions (one public ascii value)
UPLOAD_RSA_PAUSE_S = 10.0  # one thread: a session with an RSA-3072 key every 10 s
VALUE_READ_PAUSE_S = 0.01  # one thread, a new TLS connection per read
ATTEST_PAUSE_S = 0.01  # one thread, a new mutually authenticated TLS connection each
TOKEN_GUESS_PAUSE_S = 0.01  # one thread on a keep-alive connection, up to ~100 guesses/s
OVERSIZED_PAUSE_S = 0.5  # one thread, three variants in turn
SLOW_SILENT = 12  # TCP connections that never start TLS
SLOW_HEADERS = 12  # TLS connections dripping a header, a byte every SLOW_DRIP_S
SLOW_BODY = 12  # TLS connections dripping a body, a byte every SLOW_DRIP_S
SLOW_DRIP_S = 2.0


def tls_context(chain, client_pem=None):
    ctx = ssl.create_default_context(cafile=chain)  # checks the chain and 127.0.0.1 in the SAN
    if client_pem is not None:
        ctx.load_cert_chain(client_pem)
    return ctx


def request(ctx, port, method, path, body=None, headers=None, conn=None):
    """One request; a new connection unless conn (a keep-alive HTTPSConnection) is given.
    Returns (status or 'error:Name', body bytes)."""
    own = conn is None
    if own:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=TIMEOUT_S)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        if resp.will_close and not own:
            conn.close()
        return resp.status, data
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return "error:" + type(e).__name__, b""
    finally:
        if own:
            conn.close()


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def proc_sample(pid):
    """(VmRSS in KiB, open fds) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None


def cpu_s(pid):
    """User plus system CPU seconds pid has used, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# --- the probe process: latencies, RSS, fds; one JSON line per sample --------------------------
def probe_main(a, t0, out_path, stop):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    ctx = tls_context(a.chain)
    value_path = "/v1/values/session=soak-probe,secret=v"
    next_proc = 0.0
    with open(out_path, "w") as out:
        while not stop.is_set():
            t = time.monotonic()
            for kind, path in (("health", "/v1/health"), ("value", value_path)):
                s = time.monotonic()
                status, body = request(ctx, a.port, "GET", path)
                ms = (time.monotonic() - s) * 1000
                ok = status == 200 and (kind == "health" or b'"soak-probe"' in body)
                out.write(json.dumps({"t": s - t0, "k": kind, "ms": ms, "ok": ok}) + "\n")
            if t >= next_proc:
                next_proc = t + 1.0
                p = proc_sample(a.pid)
                out.write(json.dumps({"t": t - t0, "k": "proc", "rss": p and p[0],
                                      "fds": p and p[1]}) + "\n")
            out.flush()
            stop.wait(max(0.0, PROBE_EVERY_S - (time.monotonic() - t)))


# --- the load ----------------------------------------------------------------------------------
class Load:
    def __init__(self, a):
        self.a = a
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = defaultdict(Counter)  # kind -> status -> n
        self.lat = defaultdict(list)  # kind -> ms of each request
        self.acked = {}  # session name -> hash
        self.public = ["soak-probe"]  # sessions whose public value v is their own name
        self.anon = tls_context(a.chain)
        self.ident = tls_context(a.chain, a.client_pem)
        # The RSA uploads come from an identity of their own: the small uploads keep their key
        # at uploads_per_minute, which would otherwise starve the expensive ones.
        self.ident_rsa = tls_context(a.chain, a.rsa_client_pem or a.client_pem)
        # The token guesser is another party: a key of its own (casd backs off per key, so
        # sharing the attesting client's key would refuse that client's attestations too).
        self.ident_guess = tls_context(a.chain, a.guess_client_pem or a.client_pem)
        with open(a.attest_body) as f:
            self.evidence = json.load(f)
        self.slow_stats = {"opened": Counter(), "closed": defaultdict(list), "open": {}}

    def count(self, kind, status, started):
        ms = (time.monotonic() - started) * 1000
        with self.lock:
            self.counts[kind][status] += 1
            self.lat[kind].append(ms)

    def pause(self, s):
        return self.stop.wait(s)

    def upload(self, tag, rsa, pause):
        i = 0
        while not self.stop.is_set():
            i += 1
            name = f"soak-{tag}-{i}"
            body = (f'name: {name}\nversion: "0.3"\nsecrets:\n'
                    f'  - {{name: v, kind: ascii, value: "{name}", export_public: true}}\n')
            if rsa:
                body += "  - {name: k, kind: private-key, key_type: RSA-3072}\n"
            t = time.monotonic()
            status, data = request(self.ident_rsa if rsa else self.ident, self.a.port, "POST",
                                   "/v1/sessions", body.encode())
            self.count("upload RSA-3072" if rsa else "upload small", status, t)
            if status in (200, 201):
                try:
                    h = json.loads(data)["hash"]
                except (ValueError, KeyError):
                    h = None
                with self.lock:
                    self.acked[name] = h
                    self.public.append(name)
            self.pause(pause)

    def value_reads(self):
        while not self.stop.is_set():
            with self.lock:
                name = random.choice(self.public)
            t = time.monotonic()
            status, data = request(self.anon, self.a.port, "GET",
                                   f"/v1/values/session={name},secret=v")
            if status == 200 and json.loads(data).get("value") != name:
                status = "wrong value"
            self.count("value read", status, t)
            self.pause(VALUE_READ_PAUSE_S)

    def attest_body(self, config_id, token):
        b = dict(self.evidence, config_id=config_id, access_token=token)
        return json.dumps(b).encode()

    def attestations(self):
        body = self.attest_body("soak/svc", None)
        hdr = {"Content-Type": "application/json"}
        while not self.stop.is_set():
            t = time.monotonic()
            status, _ = request(self.ident, self.a.eport, "POST", "/v1/service/attest", body, hdr)
            self.count("service attestation", status, t)
            self.pause(ATTEST_PAUSE_S)

    def token_guesses(self):
        hdr = {"Content-Type": "application/json"}
        conn = None
        # The body once, the guess spliced in: the client's CPU is the machine's too.
        pre, post = self.attest_body("soak-token/svc", "@TOKEN@").split(b"@TOKEN@")
        while not self.stop.is_set():
            if conn is None or conn.sock is None:
                conn = http.client.HTTPSConnection("127.0.0.1", self.a.eport,
                                                   context=self.ident_guess, timeout=TIMEOUT_S)
            body = pre + secrets.token_hex(12).encode() + post
            t = time.monotonic()
            status, _ = request(self.ident_guess, self.a.eport, "POST", "/v1/service/attest", body,
                                hdr, conn=conn)
            self.count("token guess", status, t)
            if str(status).startswith("error"):
                conn = None
                self.pause(0.1)
            self.pause(TOKEN_GUESS_PAUSE_S)
        if conn is not None:
            conn.close()

    # Bodies over max_body: declared and not sent, streamed with a Content-Length, chunked.
    def oversized_one(self, variant):
        total = 2 * self.a.max_body
        chunk = b"a" * 65536
        raw = socket.create_connection(("127.0.0.1", self.a.port), timeout=TIMEOUT_S)
        s = self.anon.wrap_socket(raw, server_hostname="127.0.0.1")
        resp = b""
        try:
            if variant == "chunked":
                s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: cas\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n")
            else:
                s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: cas\r\nContent-Length: "
                          + str(total).encode() + b"\r\n\r\n")
            sent = 0
            while variant != "declared" and sent < total and not self.stop.is_set():
                if s.pending() or select.select([s], [], [], 0)[0]:
                    break  # casd answered (or closed) before the body ended
                if variant == "chunked":
                    s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                else:
                    s.sendall(chunk)
                sent += len(chunk)
            if variant == "chunked" and sent >= total:
                s.sendall(b"0\r\n\r\n")
            s.settimeout(5)
            while b"\r\n" not in resp:
                d = s.recv(4096)
                if not d:
                    break
                resp += d
        except socket.timeout:
            return "no answer in 5 s" if not resp else "partial answer"
        except (OSError, ssl.SSLError) as e:
            # casd may have answered and closed while we were still sending: its answer may
            # still be readable
            try:
                s.settimeout(1)
                resp += s.recv(4096)
            except (OSError, ssl.SSLError):
                pass
            if not resp:
                return "closed unanswered (" + type(e).__name__ + ")"
        finally:
            s.close()
        parts = resp.split(b" ", 2)
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else "closed, no answer"

    def oversized(self):
        variants = ["declared", "streamed", "chunked"]
        i = 0
        while not self.stop.is_set():
            v = variants[i % 3]
            i += 1
            t = time.monotonic()
            try:
                status = self.oversized_one(v)
            except (OSError, ssl.SSLError) as e:
                status = "error:" + type(e).__name__
            self.count(f"oversized body ({v})", status, t)
            self.pause(OVERSIZED_PAUSE_S)

    # Slow connections: opened, then fed a byte every SLOW_DRIP_S (or nothing), reopened once
    # casd closes them; how long each lived is what the report shows.
    def slow_open(self, kind):
        raw = socket.create_connection(("127.0.0.1", self.a.port), timeout=TIMEOUT_S)
        if kind == "silent":
            raw.setblocking(False)
            return raw
        s = self.anon.wrap_socket(raw, server_hostname="127.0.0.1")
        if kind == "headers":
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: cas\r\nX-Slow: ")
        else:
            s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: cas\r\nContent-Length: 100000\r\n\r\n")
        s.settimeout(0.05)
        return s

    def slow(self):
        want = {"silent": SLOW_SILENT, "headers": SLOW_HEADERS, "body": SLOW_BODY}
        conns = []  # [kind, socket, opened, next drip]
        retry_at = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            have = Counter(c[0] for c in conns)
            if now >= retry_at:
                for kind, n in want.items():
                    for _ in range(n - have[kind]):
                        try:
                            s = self.slow_open(kind)
                        except (OSError, ssl.SSLError):
                            self.slow_stats["opened"]["failed to open (" + kind + ")"] += 1
                            retry_at = now + 1.0
                            break
                        self.slow_stats["opened"][kind] += 1
                        conns.append([kind, s, now, now + SLOW_DRIP_S])
            closed = set()
            socks = [c[1] for c in conns]
            readable = select.select(socks, [], [], 0)[0] if socks else []
            for c in conns:
                kind, s, opened, nxt = c
                try:
                    if s in readable or (kind != "silent" and s.pending()):
                        if not s.recv(4096):
                            closed.add(id(c))  # EOF: casd closed it
                        elif kind != "silent":
                            closed.add(id(c))  # casd answered (408, 400, ...): done
                    if id(c) not in closed and kind != "silent" and now >= nxt:
                        s.send(b"a")
                        c[3] = now + SLOW_DRIP_S
                except (ssl.SSLWantReadError, socket.timeout, BlockingIOError):
                    pass
                except (OSError, ssl.SSLError):
                    closed.add(id(c))
            for c in conns:
                if id(c) in closed:
                    self.slow_stats["closed"][c[0]].append(now - c[2])
                    c[1].close()
            conns = [c for c in conns if id(c) not in closed]
            self.slow_stats["open"] = {k: [now - c[2] for c in conns if c[0] == k] for k in want}
            self.pause(0.1)
        for c in conns:
            c[1].close()

    def run(self, seconds):
        jobs = {"upload-small": (self.upload, ("s", False, UPLOAD_SMALL_PAUSE_S)),
                "upload-rsa": (self.upload, ("rsa", True, UPLOAD_RSA_PAUSE_S)),
                "value-read": (self.value_reads, ()), "attest": (self.attestations, ()),
                "token": (self.token_guesses, ()), "oversized": (self.oversized, ()),
                "slow": (self.slow, ())}
        threads = [threading.Thread(target=f, args=args, daemon=True)
                   for k, (f, args) in jobs.items() if k not in self.a.without]
        for t in threads:
            t.start()
        self.stop.wait(seconds)
        self.stop.set()
        for t in threads:
            t.join(TIMEOUT_S + 10)


# --- the read-back of acknowledged uploads ----------------------------------------------------
def verify(a, acked):
    """Returns (lost names, names that could not be checked)."""
    ctxs = {"": tls_context(a.chain, a.client_pem),
            "soak-rsa-": tls_context(a.chain, a.rsa_client_pem or a.client_pem)}
    conns = {}
    lost, unchecked = [], []
    for name, h in sorted(acked.items()):
        kind = "soak-rsa-" if name.startswith("soak-rsa-") else ""
        ctx, conn = ctxs[kind], conns.get(kind)
        for attempt in range(3):
            if conn is None or conn.sock is None:
                conn = http.client.HTTPSConnection("127.0.0.1", a.port, context=ctx,
                                                   timeout=TIMEOUT_S)
            status, data = request(ctx, a.port, "GET", f"/v1/sessions/{name}", conn=conn)
            if not str(status).startswith("error"):
                break
            conn = None
            time.sleep(0.5)
        conns[kind] = conn
        if status == 200:
            if h is None or json.loads(data).get("hash") != h:
                lost.append(name)
        elif status == 404:
            lost.append(name)
        else:
            unchecked.append(f"{name} ({status})")
    for conn in conns.values():
        if conn is not None:
            conn.close()
    return lost, unchecked


def report_lost(acked, lost, unchecked):
    print(f"lost: {len(lost)} of {len(acked)} acknowledged uploads (each read back by its "
          f"creator, hash compared)" + (f": {', '.join(lost[:10])}" if lost else ""))
    if unchecked:
        print(f"  {len(unchecked)} could not be checked: {', '.join(unchecked[:10])}")
    return not lost and not unchecked


# --- the report --------------------------------------------------------------------------------
def report(a, load, samples, proc_start, proc_end, died):
    misses = []
    lat = defaultdict(list)  # (window, kind) -> ms
    failed = Counter()
    procs = [s for s in samples if s["k"] == "proc"]
    for s in samples:
        if s["k"] in ("health", "value") and 0 <= s["t"] < a.seconds:
            w = int(s["t"] // WINDOW_S)
            lat[(w, s["k"])].append(s["ms"])
            if not s["ok"]:
                failed[(w, s["k"])] += 1
    nwin = max([w for w, _ in lat] + [0]) + 1
    if a.without:
        print(f"load kinds left out: {', '.join(sorted(a.without))}")
    print(f"casd pid {a.pid}; {a.seconds:.0f} s of load; windows of {WINDOW_S} s; probes every "
          f"{PROBE_EVERY_S * 1000:.0f} ms, each over a NEW TLS connection (handshake included)")
    print(f"{'window':>11}  {'health p50 / p99 ms':>20}  {'value p50 / p99 ms':>19}  "
          f"{'>=100ms':>7}  {'failed':>6}  {'RSS MiB max':>11}  {'fds max':>7}")
    for w in range(nwin):
        h, v = lat[(w, "health")], lat[(w, "value")]
        ps = [p for p in procs if w * WINDOW_S <= p["t"] < (w + 1) * WINDOW_S and p["rss"]]
        rss = max((p["rss"] for p in ps), default=0) / 1024
        fds = max((p["fds"] for p in ps), default=0)
        hp99 = pct(h, 0.99)
        we = min((w + 1) * WINDOW_S, int(a.seconds))
        print(f"{w * WINDOW_S:>4}-{we:<4} s  {pct(h, .5):>8.1f} / {hp99:>7.1f}  "
              f"{pct(v, .5):>8.1f} / {pct(v, .99):>6.1f}  "
              f"{sum(1 for x in h + v if x >= 100):>7}  {failed[(w, 'health')] + failed[(w, 'value')]:>6}  {rss:>11.1f}  {fds:>7}"
              + ("   <- p99 >= 100 ms" if not hp99 < 100 else ""))
        if not hp99 < 100:
            misses.append(f"health probe p99 {hp99:.0f} ms >= 100 ms in window "
                          f"{w * WINDOW_S}-{we} s")
        if failed[(w, "health")]:
            misses.append(f"{failed[(w, 'health')]} health probes failed in window "
                          f"{w * WINDOW_S}-{we} s")

    def at(t):
        ok = [p for p in procs if p["rss"] is not None]
        before = [p for p in ok if p["t"] <= t]
        return (before[-1] if before else ok[0]) if ok else None

    start = {"rss": proc_start[0], "fds": proc_start[1]} if proc_start else at(0)
    warm, end = at(min(a.warmup, a.seconds)), at(a.seconds)
    mib = lambda p: p["rss"] / 1024 if p else float("nan")
    fd = lambda p: p["fds"] if p else "?"
    growth = mib(end) - mib(warm)
    tol = max(a.rss_tolerance_mb, 0.1 * mib(warm))
    print(f"RSS: start (before the load) {mib(start):.1f} MiB, after warm-up ({min(a.warmup, a.seconds):.0f} s) {mib(warm):.1f} MiB, "
          f"end {mib(end):.1f} MiB: growth after warm-up {growth:+.1f} MiB (tolerance "
          f"{tol:.1f} MiB: the larger of {a.rss_tolerance_mb:.0f} MiB and 10%)")
    print(f"open fds: start (before the load) {fd(start)}, after warm-up {fd(warm)}, end of load {fd(end)}, "
          f"2 s after the load stopped {proc_end[1] if proc_end else '?'}")
    if not growth <= tol:
        misses.append(f"RSS grew {growth:.1f} MiB after warm-up (tolerance {tol:.1f} MiB)")
    print(f"load: {'kind':<26} {'count':>7}  {'p50 / p99 ms':>16}   status: count")
    for kind in sorted(load.counts):
        c, ms = load.counts[kind], load.lat[kind]
        print(f"  {kind:<30} {sum(c.values()):>7}  {pct(ms, .5):>7.1f} / {pct(ms, .99):>6.0f}   "
              + ", ".join(f"{k}: {n}" for k, n in sorted(c.items(), key=lambda x: -x[1])))
    sl = load.slow_stats
    print("slow connections (a few dozen held; silent = TCP only, headers/body drip a byte every "
          f"{SLOW_DRIP_S:.0f} s):")
    for kind in ("silent", "headers", "body"):
        life = sorted(sl["closed"][kind])
        still = sl["open"].get(kind, [])
        closed = (f"closed by casd {len(life)} (lived {min(life):.0f} / {pct(life, .5):.0f} / "
                  f"{max(life):.0f} s min/median/max)" if life else "closed by casd 0")
        print(f"  {kind:<8} opened {sl['opened'][kind]:>4}, {closed}, open at end {len(still)}"
              + (f" (oldest {max(still):.0f} s)" if still else ""))
    for k, n in sl["opened"].items():
        if k.startswith("failed"):
            print(f"  {k}: {n}")
    what = {"headers": "a header", "body": "a body"}
    for kind in what:
        if sl["opened"][kind] and not sl["closed"][kind]:
            print(f"  note: casd closed none of the connections dripping {what[kind]} in "
                  f"{a.seconds:.0f} s (a byte every {SLOW_DRIP_S:.0f} s keeps them open)")
    if died:
        gone = [p["t"] for p in procs if p["rss"] is None]
        misses.append("casd died during the run" + (f" (gone at {gone[0]:.0f} s)" if gone else ""))
    return misses


def cmd_run(a):
    load = Load(a)
    # The fixed sessions: the probe's public value, a service to attest, one behind a token.
    mr = a.mrenclave
    sim = ('  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], '
           'ignore_advisories: "*"}\n')
    fixed = {
        "soak-probe": 'secrets:\n  - {name: v, kind: ascii, value: "soak-probe", '
                      'export_public: true}\n',
        "soak": f"security:\n{sim}services:\n  - {{name: svc, command: /bin/true, "
                f"attestation: {{mrenclave: {mr}}}}}\n",
        "soak-token": f"security:\n{sim}  service_access_token: \"{secrets.token_hex(16)}\"\n"
                      f"services:\n  - {{name: svc, command: /bin/true, "
                      f"attestation: {{mrenclave: {mr}}}}}\n",
    }
    for name, rest in fixed.items():
        status, data = request(load.ident, a.port, "POST", "/v1/sessions",
                               f'name: {name}\nversion: "0.3"\n{rest}'.encode())
        if status != 201:
            sys.exit(f"soak: creating session '{name}' failed: {status} {data[:300]!r}")
    proc_start = proc_sample(a.pid)  # before any load
    casd_cpu0, own0 = cpu_s(a.pid), os.times()
    stop = multiprocessing.Event()
    probes = os.path.join(a.out, "probes.jsonl")
    t0 = time.monotonic()
    prober = multiprocessing.Process(target=probe_main, args=(a, t0, probes, stop), daemon=True)
    prober.start()
    with open(os.path.join(a.out, "probe.pid"), "w") as f:
        f.write(f"{prober.pid}\n")
    load.run(a.seconds)
    time.sleep(2)  # the slow connections are closed now: their fds should be gone from casd
    proc_end = proc_sample(a.pid)
    stop.set()
    prober.join(TIMEOUT_S + 5)
    casd_cpu1, own1 = cpu_s(a.pid), os.times()
    cpu = None
    if casd_cpu0 is not None and casd_cpu1 is not None:
        cpu = (casd_cpu1 - casd_cpu0,
               sum(own1[:4]) - sum(own0[:4]))  # this process and the probe process
    with open(probes) as f:
        samples = [json.loads(l) for l in f if l.strip()]
    died = proc_end is None
    misses = report(a, load, samples, proc_start, proc_end, died)
    if cpu is not None:
        n = os.cpu_count() or 1
        print(f"CPU: casd {cpu[0]:.0f} s, this load generator and its probes {cpu[1]:.0f} s, of "
              f"{n} cores x {a.seconds + 2:.0f} s; load average now "
              f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
    with open(os.path.join(a.out, "acked.json"), "w") as f:
        json.dump(load.acked, f)
    if died:
        print("lost: not checked yet (casd died; soak.sh restarts it and checks)")
    else:
        lost, unchecked = verify(a, load.acked)
        if not report_lost(load.acked, lost, unchecked):
            misses.append("acknowledged uploads lost or unreadable")
    return misses


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("cmd", choices=["run", "verify"])
    p.add_argument("--port", type=int, required=True, help="casd client API port")
    p.add_argument("--eport", type=int, help="casd enclave API port")
    p.add_argument("--pid", type=int, help="casd's pid")
    p.add_argument("--chain", required=True, help="cas-chain.pem")
    p.add_argument("--client-pem", required=True, help="certificate and key of the client")
    p.add_argument("--rsa-client-pem", help="the RSA uploader's (default: --client-pem)")
    p.add_argument("--guess-client-pem", help="the token guesser's (default: --client-pem)")
    p.add_argument("--attest-body", help="attest.json from bench_soak")
    p.add_argument("--mrenclave", help="the MRENCLAVE in the simulated evidence")
    p.add_argument("--max-body", type=int, default=1048576)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--warmup", type=float, default=WINDOW_S)
    p.add_argument("--rss-tolerance-mb", type=float, default=4)
    p.add_argument("--without", default="", type=lambda v: set(filter(None, v.split(","))),
                   help="load kinds left out, comma-separated: " + ", ".join(LOAD_KINDS))
    p.add_argument("--out", required=True, help="directory for probes.jsonl and acked.json")
    a = p.parse_args()
    if a.without - set(LOAD_KINDS):
        p.error(f"--without takes {', '.join(LOAD_KINDS)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if a.cmd == "verify":
        with open(os.path.join(a.out, "acked.json")) as f:
            acked = json.load(f)
        return 0 if report_lost(acked, *verify(a, acked)) else 1
    misses = cmd_run(a)
    if misses:
        print("MISSED: " + "; ".join(misses))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
