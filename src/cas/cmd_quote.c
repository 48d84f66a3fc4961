/*
 * cmd_quote.c - `cas quote verify QUOTE [--collateral DIR | --pccs URL] [--at TIME] [--json]`
 * (api.md §3.4): verifies an Intel DCAP quote with lib/dcap and prints the verdict, as
 * `Name: value` lines or one JSON object. Judging the measurements is policy's job: exit 0
 * whenever the quote is authentic and its TCB status determined (except Revoked), 1 naming
 * the failed check otherwise.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "client/pccs.h"
#include "dcap/verify.h"
#include "util/codec.h"
#include "util/file.h"

struct opts {
    const char *quote, *dir, *pccs;
    int64_t at;
    bool json;
};

static void
print_hex(const char *name, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];

    cas_hex_encode(p, n, hex);
    printf("%s: %s\n", name, hex);
}

static void
print_text(const struct cas_dcap_verdict *v)
{
    const struct cas_quote *q = &v->quote;
    char t[21];

    printf("Evidence type: %s\n", v->evidence_type);
    printf("Root: %s\n", v->root);
    printf("TCB status: %s\n", cas_dcap_status_name(v->status));
    printf("Advisories: ");
    for (unsigned i = 0; i < v->advisories.count; i++)
        printf("%s%s", i ? ", " : "", v->advisories.id[i]);
    printf("%s\n", v->advisories.count ? "" : "none");
    if (q->body_type == CAS_DCAP_BODY_SGX) {
        print_hex("MRENCLAVE", q->sgx.mrenclave, 32);
        print_hex("MRSIGNER", q->sgx.mrsigner, 32);
        printf("ISVPRODID: %u\nISVSVN: %u\n", q->sgx.isvprodid, q->sgx.isvsvn);
        print_hex("Attributes", q->sgx.attributes, 16);
        print_hex("Report data", q->sgx.report_data, 64);
    } else {
        print_hex("MRTD", q->td.mrtd, 48);
        print_hex("RTMR0", q->td.rtmr[0], 48);
        print_hex("RTMR1", q->td.rtmr[1], 48);
        print_hex("RTMR2", q->td.rtmr[2], 48);
        print_hex("RTMR3", q->td.rtmr[3], 48);
        print_hex("MRCONFIGID", q->td.mrconfigid, 48);
        print_hex("MROWNER", q->td.mrowner, 48);
        print_hex("TD attributes", q->td.td_attributes, 8);
        print_hex("Report data", q->td.report_data, 64);
    }
    printf("Debug: %s\n", v->debug ? "yes" : "no");
    print_hex("FMSPC", v->fmspc, 6);
    print_hex("Platform id", v->platform_id, 32);
    cas_dcap_time_format(v->at, t);
    printf("Verified at: %s\n", t);
}

static int
print_json(const struct cas_dcap_verdict *v, cas_rc rc, const struct cas_err *err)
{
    json_t *o = cas_dcap_verdict_json(v), *msgs = json_array();
    const char *m;
    char *text = NULL;

    if (o != NULL && msgs != NULL &&
        json_object_set_new(o, "verified", json_boolean(rc == CAS_OK)) == 0) {
        for (unsigned i = 0; rc != CAS_OK && (m = cas_err_get(err, i)) != NULL; i++)
            json_array_append_new(msgs, json_string(m));
        if (json_object_set(o, "msg", msgs) == 0)
            text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    json_decref(msgs);
    json_decref(o);
    if (text == NULL) {
        cas_cli_error("out of memory");
        return CAS_EXIT_FAIL;
    }
    puts(text);
    free(text);
    return CAS_EXIT_OK;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {{"collateral", required_argument, NULL, 'c'},
                                       {"pccs", required_argument, NULL, 'p'},
                                       {"at", required_argument, NULL, 'a'},
                                       {"json", no_argument, NULL, 'j'},
                                       {NULL, 0, NULL, 0}};
    int opt;

    memset(o, 0, sizeof(*o));
    o->at = (int64_t)time(NULL);
    while ((opt = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        switch (opt) {
        case 'c':
            o->dir = optarg;
            break;
        case 'p':
            o->pccs = optarg;
            break;
        case 'a':
            if (!cas_dcap_time_parse(optarg, strlen(optarg), true, &o->at))
                return cas_cli_usage("quote verify",
                                     "--at '%s' is neither RFC 3339 nor Unix seconds", optarg);
            break;
        case 'j':
            o->json = true;
            break;
        case ':':
            return cas_cli_usage("quote verify", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cas_cli_usage("quote verify", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cas_cli_usage("quote verify", "'quote verify' takes one QUOTE file");
    if (o->dir != NULL && o->pccs != NULL)
        return cas_cli_usage("quote verify", "--collateral and --pccs exclude each other");
    o->quote = argv[optind];
    return CAS_EXIT_OK;
}

/* Collateral from --collateral, --pccs, or else the quote's own folder. */
static cas_rc
load_collateral(const struct opts *o, const uint8_t *quote, size_t len,
                struct cas_dcap_collateral *c, struct cas_err *err)
{
    struct cas_pccs *pccs = NULL;
    struct cas_quote q;
    char dir[4096];
    const char *slash;
    cas_rc rc;

    if (o->pccs != NULL) {
        if ((rc = cas_dcap_quote_parse(quote, len, &q, err)) != CAS_OK ||
            (rc = cas_pccs_new(o->pccs, &pccs, err)) != CAS_OK)
            return rc;
        rc = cas_pccs_collateral(pccs, &q, o->at, c, err);
        cas_pccs_free(pccs);
        return rc;
    }
    if (o->dir != NULL)
        return cas_dcap_collateral_from_dir(o->dir, c, err);
    slash = strrchr(o->quote, '/');
    if (slash == NULL)
        return cas_dcap_collateral_from_dir(".", c, err);
    if ((size_t)(slash - o->quote) >= sizeof(dir))
        return cas_err_set(err, CAS_E_INVALID, "Quote path is too long");
    memcpy(dir, o->quote, (size_t)(slash - o->quote));
    dir[slash - o->quote] = 0;
    return cas_dcap_collateral_from_dir(dir[0] ? dir : "/", c, err);
}

int
cas_cmd_quote_verify(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_dcap_collateral col;
    struct cas_dcap_verifier *v = NULL;
    struct cas_dcap_anchor intel;
    struct cas_dcap_verdict verdict;
    struct cas_err err = {0};
    struct opts o;
    uint8_t *quote = NULL;
    size_t len = 0;
    int status;
    cas_rc rc;

    (void)cli;
    cas_dcap_collateral_init(&col);
    if ((status = parse_opts(argc, argv, &o)) != CAS_EXIT_OK)
        return status;
    memset(&verdict, 0, sizeof(verdict));
    verdict.at = o.at;
    cas_dcap_anchor_intel(&intel);
    if ((rc = cas_file_read(o.quote, CAS_DCAP_QUOTE_MAX, &quote, &len, &err)) != CAS_OK ||
        (rc = load_collateral(&o, quote, len, &col, &err)) != CAS_OK ||
        (rc = cas_dcap_verifier_new(&intel, 1, &v, &err)) != CAS_OK) {
        cas_err_wrap(&err, "Cannot verify quote '%s'", o.quote);
        cas_cli_error_chain(&err);
        status = CAS_EXIT_FAIL;
        goto out;
    }
    rc = cas_dcap_verify(v, quote, len, &col, o.at, &verdict, &err);
    if (o.json)
        status = print_json(&verdict, rc, &err);
    else if (verdict.has_status)
        print_text(&verdict); /* Revoked: the verdict is shown, then refused */
    if (rc != CAS_OK) {
        cas_err_wrap(&err, "Quote '%s' is not trustworthy", o.quote);
        cas_cli_error_chain(&err);
        status = CAS_EXIT_FAIL;
    }
out:
    cas_dcap_verifier_free(v);
    cas_dcap_collateral_release(&col);
    free(quote);
    return status;
}
