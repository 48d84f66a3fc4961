/*
 * cmd_cas.c - the commands about attested CASes (api.md §3.2): list, set-default,
 * show-certificate, show-identification, and `cas cas version` (asks the CAS through its pin).
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casconn.h"
#include "cli.h"
#include "client/attest.h"
#include "client/https.h"
#include "client/state.h"
#include "crypto/pki.h"
#include "util/codec.h"

static int
load(struct cas_cli *cli, struct cas_cli_state *st)
{
    struct cas_err err = {0};

    if (cas_cli_state_load(cli->config, st, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}

/* The pinned entry of name (NULL: the default), or NULL after printing why not. */
static json_t *
entry_of(struct cas_cli_state *st, const char *name, struct cas_addr *a)
{
    json_t *all = json_object_get(st->root, "cas"), *e;

    if (name == NULL) {
        json_t *d = json_object_get(st->root, "default");
        if (!json_is_string(d)) {
            cas_cli_error("no CAS attested; run 'cas attest' first");
            return NULL;
        }
        name = json_string_value(d);
    }
    if (!cas_addr_parse(name, 8081, a)) {
        cas_cli_error("'%s' is not a CAS address (HOST[:PORT])", name);
        return NULL;
    }
    e = json_is_object(all) ? json_object_get(all, a->name) : NULL;
    if (!json_is_object(e) || !json_is_string(json_object_get(e, "chain"))) {
        cas_cli_error("CAS '%s' is not attested; run 'cas attest %s' first", a->name, a->name);
        return NULL;
    }
    return e;
}

static int
no_options(const char *cmd, int argc, char **argv, int min, int max)
{
    static const struct option lo[] = {{NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1)
        return cas_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
    if (argc - optind < min || argc - optind > max)
        return cas_cli_usage(cmd, "wrong number of arguments");
    return CAS_EXIT_OK;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
cas_cmd_list(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_cli_state st;
    json_t *all, *v;
    const char *key, *def, *names[1024];
    size_t n = 0;
    int s;

    if ((s = no_options("list", argc, argv, 0, 0)) != CAS_EXIT_OK || (s = load(cli, &st)) != 0)
        return s;
    all = json_object_get(st.root, "cas");
    def = json_string_value(json_object_get(st.root, "default"));
    json_object_foreach(all, key, v)
    {
        if (n < 1024)
            names[n++] = key;
    }
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        const char *url = json_string_value(json_object_get(json_object_get(all, names[i]), "url"));
        printf("%s%s: %s\n", def != NULL && strcmp(def, names[i]) == 0 ? "* " : "  ", names[i],
               url != NULL ? url : "?");
    }
    cas_cli_state_release(&st);
    return CAS_EXIT_OK;
}

int
cas_cmd_set_default(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_cli_state st;
    struct cas_addr a;
    struct cas_err err = {0};
    int s;

    if ((s = no_options("set-default", argc, argv, 1, 1)) != CAS_EXIT_OK ||
        (s = load(cli, &st)) != 0)
        return s;
    s = CAS_EXIT_FAIL;
    if (entry_of(&st, argv[optind], &a) != NULL) {
        json_object_set_new(st.root, "default", json_string(a.name));
        if (cas_cli_state_save(&st, &err) == CAS_OK)
            s = CAS_EXIT_OK;
        else
            cas_cli_error_chain(&err);
    }
    cas_cli_state_release(&st);
    return s;
}

int
cas_cmd_show_certificate(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_cli_state st;
    struct cas_addr a;
    json_t *e;
    int s;

    if ((s = no_options("show-certificate", argc, argv, 0, 1)) != CAS_EXIT_OK ||
        (s = load(cli, &st)) != 0)
        return s;
    e = entry_of(&st, optind < argc ? argv[optind] : NULL, &a);
    if (e != NULL)
        fputs(json_string_value(json_object_get(e, "chain")), stdout);
    cas_cli_state_release(&st);
    return e != NULL ? CAS_EXIT_OK : CAS_EXIT_FAIL;
}

int
cas_cmd_show_identification(struct cas_cli *cli, int argc, char **argv)
{
    static const struct option lo[] = {{"cas-key-hash", no_argument, NULL, 'c'},
                                       {"cas-certificate", no_argument, NULL, 'C'},
                                       {"certificate-chain", no_argument, NULL, 'T'},
                                       {"hex", no_argument, NULL, 'x'},
                                       {"session-encryption-key", no_argument, NULL, 's'},
                                       {NULL, 0, NULL, 0}};
    struct cas_cli_state st;
    struct cas_addr a;
    json_t *e;
    char what = 'T';
    bool hex = false;
    int c, s;

    while ((c = getopt_long(argc, argv, ":cCTsS", lo, NULL)) != -1) {
        if (c == 'c' || c == 'C' || c == 'T') {
            what = (char)c;
        } else if (c == 'x') {
            hex = true;
        } else if (c == 's' || c == 'S') {
            cas_cli_error("option '%s' is not supported by cas (cas has no software key and no "
                          "session encryption)",
                          argv[optind - 1]);
            return CAS_EXIT_USAGE;
        } else {
            return cas_cli_usage("show-identification", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cas_cli_usage("show-identification", "unexpected argument '%s'", argv[optind + 1]);
    if (hex && what != 'c')
        return cas_cli_usage("show-identification", "'--hex' goes with -c/--cas-key-hash");
    if ((s = load(cli, &st)) != 0)
        return s;
    e = entry_of(&st, optind < argc ? argv[optind] : NULL, &a);
    if (e != NULL) {
        const char *chain = json_string_value(json_object_get(e, "chain"));
        X509 *root = cas_https_chain_root(chain, strlen(chain));
        struct cas_err err = {0};
        uint8_t h[32];
        char text[65];
        if (root == NULL) {
            cas_cli_error("the pinned chain of CAS '%s' is damaged; attest it again", a.name);
            e = NULL;
        } else if (what == 'T') {
            fputs(chain, stdout);
        } else if (what == 'C') {
            PEM_write_X509(stdout, root);
        } else if (cas_cert_key_hash(root, h, &err) == CAS_OK) {
            if (hex)
                cas_hex_encode(h, 32, text);
            else
                cas_keyhash_to_b58(h, text);
            printf("%s\n", text);
        }
        X509_free(root);
    }
    cas_cli_state_release(&st);
    return e != NULL ? CAS_EXIT_OK : CAS_EXIT_FAIL;
}

/* `cas cas version [-c CAS]`: the CAS's own version and build time, asked through its pin. */
int
cas_cmd_cas_version(struct cas_cli *cli, int argc, char **argv)
{
    static const struct option lo[] = {{"cas", required_argument, NULL, 'c'},
                                       {"retries", required_argument, NULL, 'r'},
                                       {NULL, 0, NULL, 0}};
    struct cas_cli_state st;
    struct cas_cli_cas cas;
    struct cas_https_response resp = {0};
    struct cas_attest_report r = {0};
    struct cas_err err = {0};
    const char *name = NULL;
    unsigned retries = cas_cli_default_retries();
    uint8_t nonce[16];
    char path[64];
    int c, s;

    while ((c = getopt_long(argc, argv, ":c:", lo, NULL)) != -1) {
        if (c == 'c')
            name = optarg;
        else if (c == 'r' && cas_cli_parse_retries(optarg, &retries))
            continue;
        else
            return cas_cli_usage("cas version", "bad option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cas_cli_usage("cas version", "unexpected argument '%s'", argv[optind]);
    if ((s = load(cli, &st)) != 0)
        return s;
    if ((s = cas_cli_cas_open(&st, name, NULL, &cas)) != CAS_EXIT_OK) {
        cas_cli_state_release(&st);
        return s;
    }
    (void)RAND_bytes(nonce, sizeof(nonce));
    memcpy(path, "/v1/attest?nonce=", 17);
    cas_hex_encode(nonce, sizeof(nonce), path + 17);
    s = cas_cli_cas_call(&cas, "GET", path, NULL, 0, NULL, retries, &resp);
    if (s == CAS_EXIT_OK) {
        if (resp.status == 200 &&
            cas_attest_report_parse(resp.body, resp.body_len, &r, &err) == CAS_OK) {
            printf("casd %s (%s)\n", r.version, r.build_time);
        } else {
            cas_cli_error("CAS '%s' answered HTTP status %ld", cas.name, resp.status);
            s = CAS_EXIT_FAIL;
        }
    }
    cas_attest_report_release(&r);
    cas_https_response_release(&resp);
    cas_cli_cas_release(&cas);
    cas_cli_state_release(&st);
    return s;
}
