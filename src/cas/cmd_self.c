/*
 * cmd_self.c - `cas self show|show-certificate|show-key-hash` (the CLI's identity, created on
 * first use) and `cas cert show-key-hash FILE` (api.md §3.4). Key hashes print in SCONE's
 * Base58Check form, or as 64 lowercase hex with --hex.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/identity.h"
#include "client/state.h"
#include "crypto/pki.h"
#include "util/codec.h"
#include "util/file.h"

static void
print_hash(const uint8_t h[32], bool hex)
{
    char text[65];

    if (hex)
        cas_hex_encode(h, 32, text);
    else
        cas_keyhash_to_b58(h, text);
    printf("%s\n", text);
}

/* Parses [--hex] and no operands. */
static int
hex_only(const char *cmd, int argc, char **argv, bool *hex)
{
    static const struct option lo[] = {{"hex", no_argument, NULL, 'x'}, {NULL, 0, NULL, 0}};
    int c;

    *hex = false;
    while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        if (c == 'x')
            *hex = true;
        else
            return cas_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    return CAS_EXIT_OK;
}

static int
with_identity(struct cas_cli *cli, struct cas_cli_identity *id)
{
    struct cas_cli_state st;
    struct cas_err err = {0};
    cas_rc rc;

    if (cas_cli_state_load(cli->config, &st, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    rc = cas_cli_identity_ensure(&st, id, &err);
    cas_cli_state_release(&st);
    if (rc != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}

static int
self_common(struct cas_cli *cli, const char *cmd, int argc, char **argv, bool want_cert,
            bool want_hash)
{
    struct cas_cli_identity id = {0};
    struct cas_err err = {0};
    char *pem = NULL;
    bool hex = false;
    int st;

    if ((st = hex_only(cmd, argc, argv, &hex)) != CAS_EXIT_OK)
        return st;
    if (hex && !want_hash)
        return cas_cli_usage(cmd, "'--hex' applies to key hashes only");
    if (optind < argc)
        return cas_cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if ((st = with_identity(cli, &id)) != CAS_EXIT_OK)
        return st;
    if (want_cert) {
        if (cas_cli_identity_cert_pem(&id, &pem, &err) != CAS_OK) {
            cas_cli_error_chain(&err);
            cas_cli_identity_release(&id);
            return CAS_EXIT_FAIL;
        }
        fputs(pem, stdout);
        free(pem);
    }
    if (want_hash) {
        if (want_cert)
            fputs("Key hash: ", stdout);
        print_hash(id.key_hash, hex);
    }
    cas_cli_identity_release(&id);
    return CAS_EXIT_OK;
}

int
cas_cmd_self_show(struct cas_cli *cli, int argc, char **argv)
{
    return self_common(cli, "self show", argc, argv, true, true);
}

int
cas_cmd_self_show_certificate(struct cas_cli *cli, int argc, char **argv)
{
    return self_common(cli, "self show-certificate", argc, argv, true, false);
}

int
cas_cmd_self_show_key_hash(struct cas_cli *cli, int argc, char **argv)
{
    return self_common(cli, "self show-key-hash", argc, argv, false, true);
}

int
cas_cmd_cert_show_key_hash(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_err err = {0};
    uint8_t *pem = NULL, h[32];
    size_t len = 0;
    X509 *cert = NULL;
    bool hex = false;
    int st;

    (void)cli;
    if ((st = hex_only("cert show-key-hash", argc, argv, &hex)) != CAS_EXIT_OK)
        return st;
    if (optind + 1 != argc)
        return cas_cli_usage("cert show-key-hash", "'cert show-key-hash' needs one FILE");
    if (cas_file_read(argv[optind], 1024 * 1024, &pem, &len, &err) != CAS_OK ||
        cas_cert_from_pem((const char *)pem, len, &cert, &err) != CAS_OK ||
        cas_cert_key_hash(cert, h, &err) != CAS_OK) {
        cas_err_wrap(&err, "cannot compute the key hash of '%s'", argv[optind]);
        cas_cli_error_chain(&err);
        free(pem);
        X509_free(cert);
        return CAS_EXIT_FAIL;
    }
    print_hash(h, hex);
    free(pem);
    X509_free(cert);
    return CAS_EXIT_OK;
}
