/*
 * bench_policy.c - how long cas_policy_parse (with the hash) takes on a generated 1 MiB session
 * and on a 10,000-secret session, as a ratio to plain libyaml event parsing of the same bytes
 * measured in the same run (the floor any YAML-based parser pays). Best of N runs each.
 * Usage: bench_policy [RUNS]
 */
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "bench_common.h"
#include "policy/policy.h"
#include "util/buf.h"

#define MR "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Services with environments and placeholders, then secrets, up to just under 1 MiB. */
static char *
gen_mib(size_t *len)
{
    struct cas_buf b;
    size_t s = 0;

    cas_buf_init(&b, 2u << 20);
    cas_buf_adds(&b, "name: bench/mib\nversion: \"0.3.12\"\n"
                     "access_policy: {read: [CREATOR], update: [CREATOR]}\nservices:\n");
    for (; s < 1000; s++) {
        cas_buf_addf(&b,
                     "  - name: svc%zu\n    command: /usr/bin/app --id %zu @@1\n"
                     "    environment:\n",
                     s, s);
        for (int e = 0; e < 8; e++)
            cas_buf_addf(&b, "      VAR_%d: \"value %d of service %zu: $$SCONE::sec%zu$$\"\n", e, e,
                         s, s);
        cas_buf_adds(&b, "    attestation: {mrenclave: " MR "}\n");
    }
    cas_buf_adds(&b, "secrets:\n");
    for (s = 0; b.len < CAS_POLICY_MAX_DOC - 64 && s < CAS_POLICY_MAX_SECRETS; s++)
        cas_buf_addf(&b, "  - {name: sec%zu, kind: ascii, size: 32}\n", s);
    return cas_buf_detach(&b, len);
}

static char *
gen_secrets(size_t n, size_t *len)
{
    struct cas_buf b;

    cas_buf_init(&b, 8u << 20);
    cas_buf_adds(&b, "name: bench/secrets\nversion: \"0.3\"\nsecrets:\n");
    for (size_t i = 0; i < n; i++)
        cas_buf_addf(&b, "  - name: secret_%zu\n    kind: %s\n", i,
                     i % 3 == 0   ? "ascii"
                     : i % 3 == 1 ? "binary"
                                  : "private-key");
    return cas_buf_detach(&b, len);
}

static int
yaml_events(const char *doc, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int n = 0, done = 0;

    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev))
            break;
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        n++;
    }
    yaml_parser_delete(&p);
    return n;
}

static int
cas_parse(const char *doc, size_t len)
{
    static const struct cas_policy_options o = {.substitute = true};
    struct cas_policy_diags d;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    uint8_t up[32] = {1}, h[32];
    int ok;

    cas_policy_diags_init(&d);
    ok = cas_policy_parse((const uint8_t *)doc, len, &o, &p, &d, &err) == CAS_OK &&
         cas_policy_hash(p, up, h, NULL, &err) == CAS_OK;
    if (!ok && d.count > 0)
        fprintf(stderr, "%u:%u: %s\n", d.items[0].line, d.items[0].column, d.items[0].text);
    cas_policy_free(p);
    cas_policy_diags_release(&d);
    return ok;
}

static void
run(const char *what, const char *doc, size_t len, int runs)
{
    double best_ref = 1e9, best_cas = 1e9;

    for (int i = 0; i < runs; i++) {
        double t0 = now_s(), t1, t2;
        if (yaml_events(doc, len) < 3)
            exit(1);
        t1 = now_s();
        if (!cas_parse(doc, len)) {
            fprintf(stderr, "%s: the generated session does not parse\n", what);
            exit(1);
        }
        t2 = now_s();
        if (t1 - t0 < best_ref)
            best_ref = t1 - t0;
        if (t2 - t1 < best_cas)
            best_cas = t2 - t1;
    }
    printf("%-26s %8zu bytes  libyaml events %7.2f ms  cas_policy_parse+hash %7.2f ms  "
           "ratio %.2fx\n",
           what, len, best_ref * 1e3, best_cas * 1e3, best_cas / best_ref);
}

int
main(int argc, char **argv)
{
    int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 7;
    size_t len;
    char *doc;

    if (runs < 1)
        runs = 1;
    doc = gen_mib(&len);
    run("1 MiB session", doc, len, runs);
    free(doc);
    doc = gen_secrets(10000, &len);
    run("10,000-secret session", doc, len, runs);
    free(doc);
    return 0;
}
