#!/usr/bin/env python3
"""pccs_server.py - a PCCS (API v4) stand-in on 127.0.0.1 for tests: serves the collateral of
one tests/data/dcap case folder at the PCCS v4 paths, issuer chains URL-encoded in the
response headers as PCCS sends them, the root CA CRL as hex (as some PCCS versions do).

Usage: pccs_server.py CASE_DIR PORT_FILE   (binds a free port, writes it to PORT_FILE)
"""
import http.server
import json
import os
import sys
import urllib.parse

CASE = sys.argv[1]
PORT_FILE = sys.argv[2]


def case_info():
    path = os.path.join(CASE, "case.json")
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        doc = json.load(f)
    return doc.get("fmspc", "").upper(), doc.get("tee", "").lower()


FMSPC, TEE = case_info()


def read(name):
    with open(os.path.join(CASE, name), "rb") as f:
        return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, body, header=None, chain=None):
        self.send_response(200)
        if header:
            self.send_header(header, urllib.parse.quote(read(chain).decode(), safe=""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if len(parts) < 4 or parts[1:3] != ["certification", "v4"]:
            return self.send_error(404)
        tee, what = parts[0], "/".join(parts[3:])
        if what == "tcb" and (TEE in (None, tee)) and \
                (FMSPC is None or query.get("fmspc", [""])[0].upper() == FMSPC):
            return self.send(read("tcb_info.json"), "TCB-Info-Issuer-Chain",
                             "tcb_info_issuer_chain.pem")
        if what == "qe/identity" and TEE in (None, tee):
            return self.send(read("qe_identity.json"), "SGX-Enclave-Identity-Issuer-Chain",
                             "qe_identity_issuer_chain.pem")
        if what == "pckcrl" and tee == "sgx":
            return self.send(read("pck_crl.der"), "SGX-PCK-CRL-Issuer-Chain",
                             "pck_crl_issuer_chain.pem")
        if what == "rootcacrl" and tee == "sgx":
            return self.send(read("root_ca_crl.der").hex().encode())
        return self.send_error(404)

    def log_message(self, fmt, *args):
        sys.stderr.write("pccs_server: " + (fmt % args) + "\n")


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
