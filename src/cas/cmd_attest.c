/*
 * cmd_attest.c - `cas attest [OPTIONS] ADDRESS [MRENCLAVE]` (api.md §3.1): option rules (SCONE's
 * and D10), the fetch of /v1/attest with a fresh nonce, the checks of lib/client/attest.c, and
 * on success the pin in the CLI state and exactly two lines on stdout. A failure leaves the state
 * as it was.
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cas/version.h"
#include "casconn.h"
#include "cli.h"
#include "client/attest.h"
#include "client/https.h"
#include "client/state.h"
#include "dcap/collateral.h"
#include "dcap/verify.h"
#include "tee/sim.h"
#include "util/codec.h"
#include "util/file.h"

enum {
    O_MRSIGNER = 1000,
    O_ISVPRODID,
    O_ISVSVN,
    O_DEBUG,
    O_IGNORE_SIGNER,
    O_TRUST_ANY,
    O_OFFLINE,
    O_NONCE,
    O_VTIME,
    O_RETRIES,
    O_OWNER_ACCESS,
    O_UNPROVISIONED,
};

struct opts {
    struct cas_attest_expect e;
    bool has_mrsigner, has_isvprodid, has_isvsvn;
    const char *offline, *nonce_hex;
    bool has_vtime;
    int64_t vtime;
    unsigned retries;
};

static bool
parse_uint16(const char *s, unsigned *out)
{
    if (s[0] == '\0' || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s) ||
        strtoul(s, NULL, 10) > 65535)
        return false;
    *out = (unsigned)strtoul(s, NULL, 10);
    return true;
}

/* yyyy-mm-dd, dd.mm.yyyy or dd-mm-yyyy, at 00:00 UTC. */
static bool
parse_date(const char *s, int64_t *out)
{
    unsigned y, m, d;
    char tail;

    if (strlen(s) != 10)
        return false;
    if (sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 && s[4] == '-') {
        /* yyyy-mm-dd */
    } else if ((sscanf(s, "%2u.%2u.%4u%c", &d, &m, &y, &tail) == 3 && s[2] == '.') ||
               (sscanf(s, "%2u-%2u-%4u%c", &d, &m, &y, &tail) == 3 && s[2] == '-')) {
        /* dd.mm.yyyy, dd-mm-yyyy */
    } else {
        return false;
    }
    if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1970)
        return false;
    *out = cas_dcap_time_from_civil(y, m, d, 0, 0, 0);
    return true;
}

static int
refuse(const char *opt, const char *reason)
{
    cas_cli_error("option '%s' is not supported by cas (%s)", opt, reason);
    return CAS_EXIT_USAGE;
}

static int
parse(int argc, char **argv, struct opts *o, const char **address)
{
    static const struct option lo[] = {
        {"mrenclave", required_argument, NULL, 'm'},
        {"mrsigner", required_argument, NULL, O_MRSIGNER},
        {"isvprodid", required_argument, NULL, O_ISVPRODID},
        {"isvsvn", required_argument, NULL, O_ISVSVN},
        {"accept-group-out-of-date", no_argument, NULL, 'G'},
        {"accept-configuration-needed", no_argument, NULL, 'C'},
        {"accept-sw-hardening-needed", no_argument, NULL, 'S'},
        {"only_for_testing-debug", no_argument, NULL, O_DEBUG},
        {"only_for_testing-ignore-signer", no_argument, NULL, O_IGNORE_SIGNER},
        {"only_for_testing-trust-any", no_argument, NULL, O_TRUST_ANY},
        {"offline-report", required_argument, NULL, O_OFFLINE},
        {"nonce", required_argument, NULL, O_NONCE},
        {"verification-time", required_argument, NULL, O_VTIME},
        {"retries", required_argument, NULL, O_RETRIES},
        {"allow-cas-owner-secret-access", no_argument, NULL, O_OWNER_ACCESS},
        {"only_for_testing_allow-unprovisioned-cas", no_argument, NULL, O_UNPROVISIONED},
        {NULL, 0, NULL, 0}};
    struct cas_err err = {0};
    int c;

    o->retries = cas_cli_default_retries();
    while ((c = getopt_long(argc, argv, ":m:c:GCSs:", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (o->e.n_mrenclaves == CAS_ATTEST_MAX_MRENCLAVES)
                return cas_cli_usage("attest", "at most %d MRENCLAVEs", CAS_ATTEST_MAX_MRENCLAVES);
            if (!cas_hex_decode_exact(optarg, strlen(optarg), o->e.mrenclaves[o->e.n_mrenclaves],
                                      32))
                return cas_cli_usage("attest", "MRENCLAVE '%s' is not 64 hex digits", optarg);
            o->e.n_mrenclaves++;
            break;
        case O_MRSIGNER:
            if (!cas_hex_decode_exact(optarg, strlen(optarg), o->e.mrsigner, 32))
                return cas_cli_usage("attest", "MRSIGNER '%s' is not 64 hex digits", optarg);
            o->has_mrsigner = true;
            break;
        case O_ISVPRODID:
            if (!parse_uint16(optarg, &o->e.isvprodid))
                return cas_cli_usage("attest", "ISVPRODID '%s' is not 0 to 65535", optarg);
            o->has_isvprodid = true;
            break;
        case O_ISVSVN:
            if (!parse_uint16(optarg, &o->e.isvsvn_min))
                return cas_cli_usage("attest", "ISVSVN '%s' is not 0 to 65535", optarg);
            o->has_isvsvn = true;
            break;
        case 'c':
            if (cas_keyhash_parse(optarg, o->e.key_hash, &err) != CAS_OK)
                return cas_cli_usage("attest", "%s", cas_err_get(&err, 0));
            o->e.has_key_hash = true;
            break;
        case 'G':
            o->e.accept_out_of_date = true;
            break;
        case 'C':
            o->e.accept_configuration = true;
            break;
        case 'S':
            o->e.accept_sw_hardening = true;
            break;
        case O_DEBUG:
            o->e.debug = true;
            break;
        case O_IGNORE_SIGNER:
            o->e.ignore_signer = true;
            break;
        case O_TRUST_ANY:
            o->e.trust_any = true;
            break;
        case O_OFFLINE:
            o->offline = optarg;
            break;
        case O_NONCE:
            o->nonce_hex = optarg;
            break;
        case O_VTIME:
            if (!parse_date(optarg, &o->vtime))
                return cas_cli_usage("attest",
                                     "verification time '%s' is not yyyy-mm-dd, dd.mm.yyyy or "
                                     "dd-mm-yyyy",
                                     optarg);
            o->has_vtime = true;
            break;
        case O_RETRIES:
            if (!cas_cli_parse_retries(optarg, &o->retries))
                return cas_cli_usage("attest", "--retries takes 0 to 20, not '%s'", optarg);
            break;
        case 's':
            return refuse("-s", "cas has no separate software key");
        case O_OWNER_ACCESS:
            return refuse("--allow-cas-owner-secret-access",
                          "cas has no owner-injected database key");
        case O_UNPROVISIONED:
            return refuse("--only_for_testing_allow-unprovisioned-cas",
                          "cas has no unprovisioned state");
        case ':':
            return cas_cli_usage("attest", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cas_cli_usage("attest", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cas_cli_usage("attest", "'attest' needs the CAS ADDRESS");
    *address = argv[optind++];
    if (optind < argc) {
        if (o->e.n_mrenclaves == CAS_ATTEST_MAX_MRENCLAVES ||
            !cas_hex_decode_exact(argv[optind], strlen(argv[optind]),
                                  o->e.mrenclaves[o->e.n_mrenclaves], 32))
            return cas_cli_usage("attest", "MRENCLAVE '%s' is not 64 hex digits", argv[optind]);
        o->e.n_mrenclaves++;
        optind++;
    }
    if (optind < argc)
        return cas_cli_usage("attest", "unexpected argument '%s'", argv[optind]);
    return CAS_EXIT_OK;
}

/* The dependency rules of api.md §3.1, before any connection. */
static int
check_rules(struct opts *o)
{
    if (o->e.debug && !o->e.ignore_signer)
        return cas_cli_usage("attest", "--only_for_testing-debug is only allowed if CAS signer is "
                                       "ignored (add --only_for_testing-ignore-signer)");
    if (o->e.ignore_signer && o->e.n_mrenclaves == 0 && !o->e.trust_any)
        return cas_cli_usage("attest", "--only_for_testing-ignore-signer requires --mrenclave (or "
                                       "a positional MRENCLAVE) unless "
                                       "--only_for_testing-trust-any is given");
    if (o->has_mrsigner && (!o->has_isvprodid || !o->has_isvsvn))
        return cas_cli_usage("attest", "--mrsigner requires --isvprodid and --isvsvn");
    if (o->nonce_hex != NULL && o->offline == NULL)
        return cas_cli_usage("attest", "--nonce is only allowed with --offline-report");
    if (o->e.ignore_signer && (o->has_mrsigner || o->has_isvprodid || o->has_isvsvn))
        return cas_cli_usage("attest", "--only_for_testing-ignore-signer cannot be combined with "
                                       "--mrsigner, --isvprodid or --isvsvn");
    return CAS_EXIT_OK;
}

/* The expected signer: the options, else the release signer compiled in (api.md §3.1). */
static int
default_signer(struct opts *o)
{
    struct cas_err err = {0};

    if (o->e.ignore_signer)
        return CAS_EXIT_OK;
    if (!o->has_mrsigner) {
        const char *rel = CAS_RELEASE_MRSIGNER;
        const char *sim = cas_tee_sim_signing_key_pem();
        if (rel[0] != '\0'
                ? !cas_hex_decode_exact(rel, strlen(rel), o->e.mrsigner, 32)
                : cas_tee_sim_mrsigner_from_pem(sim, strlen(sim), o->e.mrsigner, &err) != CAS_OK) {
            cas_cli_error("the release signer built into cas is not usable");
            return CAS_EXIT_FAIL;
        }
    }
    if (!o->has_isvprodid)
        o->e.isvprodid = CAS_RELEASE_ISVPRODID;
    if (o->has_isvsvn) {
        o->e.has_isvsvn_min = true;
    } else if (o->e.n_mrenclaves == 0) {
        o->e.has_isvsvn_min = true;
        o->e.isvsvn_min = CAS_RELEASE_ISVSVN;
    }
    return CAS_EXIT_OK;
}

static int
pin(struct cas_cli_state *st, const struct cas_addr *a, const struct cas_attest_report *r,
    const struct cas_attest_outcome *out)
{
    struct cas_err err = {0};
    json_t *all = json_object_get(st->root, "cas"), *entry;
    char url[400], version[256], now[21];

    if (!json_is_object(all)) {
        all = json_object();
        json_object_set_new(st->root, "cas", all);
    }
    (void)snprintf(url, sizeof(url), "%s/", a->base);
    (void)snprintf(version, sizeof(version), "%s (%s)", r->version, r->build_time);
    cas_dcap_time_format((int64_t)time(NULL), now);
    entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:s, s:s, s:s, s:s}", "url",
                      url, "key_hash", out->key_hash_b58, "chain", out->chain_pem, "mrenclave",
                      out->mrenclave, "mrsigner", out->mrsigner, "isvprodid", (int)out->isvprodid,
                      "isvsvn", (int)out->isvsvn, "debug", out->debug, "tcb_status",
                      out->tcb_status, "evidence_type", out->evidence_type, "root", out->root,
                      "version", version, "attested_at", now);
    if (entry == NULL || json_object_set_new(all, a->name, entry) != 0) {
        cas_cli_error("out of memory");
        return CAS_EXIT_FAIL;
    }
    if (!json_is_string(json_object_get(st->root, "default")))
        json_object_set_new(st->root, "default", json_string(a->name));
    if (cas_cli_state_save(st, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}

/* Fetches /v1/attest?nonce= with no trust yet, recording the chain that served it. */
static int
fetch(const struct cas_addr *a, const uint8_t *nonce, size_t nonce_len, unsigned retries,
      struct cas_https_response *resp)
{
    struct cas_https_request req = {0};
    struct cas_err err = {0};
    char hex[129], url[600];

    cas_hex_encode(nonce, nonce_len, hex);
    (void)snprintf(url, sizeof(url), "%s/v1/attest?nonce=%s", a->base, hex);
    req.method = "GET";
    req.url = url;
    req.retries = retries;
    if (cas_https_do(&req, resp, &err) != CAS_OK) {
        cas_cli_error("CAS '%s' is not trustworthy: cannot reach %s/v1/attest: %s", a->name,
                      a->base, cas_err_get(&err, 0));
        return CAS_EXIT_FAIL;
    }
    if (resp->status != 200) {
        cas_cli_error("CAS '%s' is not trustworthy: cannot reach %s/v1/attest: HTTP status %ld",
                      a->name, a->base, resp->status);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}

int
cas_cmd_attest(struct cas_cli *cli, int argc, char **argv)
{
    struct opts o;
    struct cas_addr a;
    struct cas_cli_state st = {0};
    struct cas_https_response resp = {0};
    struct cas_attest_report r = {0};
    struct cas_attest_outcome out = {0};
    struct cas_dcap_verifier *v = NULL;
    struct cas_err err = {0};
    const char *address = NULL;
    uint8_t nonce[64];
    size_t nonce_len = 32;
    int status;
    cas_rc rc;

    memset(&o, 0, sizeof(o));
    if ((status = parse(argc, argv, &o, &address)) != CAS_EXIT_OK ||
        (status = check_rules(&o)) != CAS_EXIT_OK)
        return status;
    if (!cas_addr_parse(address, 8081, &a))
        return cas_cli_usage("attest", "'%s' is not a CAS address (HOST[:PORT])", address);
    if ((status = default_signer(&o)) != CAS_EXIT_OK)
        return status;
    /* Load the state first: a state we could not write must fail before anything is trusted. */
    if (cas_cli_state_load(cli->config, &st, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    status = CAS_EXIT_FAIL;
    if (o.offline != NULL) {
        uint8_t *text = NULL;
        size_t len = 0;
        if (cas_file_read(o.offline, CAS_HTTPS_MAX_BODY, &text, &len, &err) != CAS_OK) {
            cas_cli_error_chain(&err);
            goto out;
        }
        resp.body = (char *)text;
        resp.body_len = len;
        if (o.nonce_hex == NULL) {
            nonce_len = 0;
            fprintf(stderr, "warning: no --nonce: the freshness of '%s' is not checked\n",
                    o.offline);
        } else if (strlen(o.nonce_hex) % 2 != 0 || strlen(o.nonce_hex) < 32 ||
                   strlen(o.nonce_hex) > 128 ||
                   !cas_hex_decode_exact(o.nonce_hex, strlen(o.nonce_hex), nonce,
                                         strlen(o.nonce_hex) / 2)) {
            status = cas_cli_usage("attest", "--nonce takes 32 to 128 hex digits");
            goto out;
        } else {
            nonce_len = strlen(o.nonce_hex) / 2;
        }
    } else {
        if (RAND_bytes(nonce, (int)nonce_len) != 1) {
            cas_cli_error("the random number generator failed");
            goto out;
        }
        if (fetch(&a, nonce, nonce_len, o.retries, &resp) != CAS_EXIT_OK)
            goto out;
    }
    if (cas_attest_report_parse(resp.body, resp.body_len, &r, &err) != CAS_OK) {
        cas_cli_error("CAS '%s' is not trustworthy: %s", a.name, cas_err_get(&err, 0));
        goto out;
    }
    if (cas_attest_verifier_new(&v, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        goto out;
    }
    rc = cas_attest_check(&r, nonce, nonce_len, o.offline != NULL ? NULL : resp.chain, &o.e,
                          o.has_vtime ? o.vtime : (int64_t)time(NULL), v, a.name, &out, &err);
    if (rc == CAS_E_DENIED) {
        for (unsigned i = 0; i < out.n_problems; i++)
            cas_cli_error("CAS '%s' is not trustworthy: %s", a.name, out.problems[i]);
        goto out;
    }
    if (rc != CAS_OK) {
        cas_cli_error_chain(&err);
        goto out;
    }
    if (pin(&st, &a, &r, &out) != CAS_EXIT_OK)
        goto out;
    for (unsigned i = 0; i < out.n_warnings; i++)
        fprintf(stderr, "warning: %s\n", out.warnings[i]);
    printf("CAS %s at %s/ is trustworthy\n", a.name, a.base);
    printf("Version of attested CAS: %s (%s)\n", r.version, r.build_time);
    status = CAS_EXIT_OK;
out:
    cas_attest_outcome_release(&out);
    cas_attest_report_release(&r);
    cas_https_response_release(&resp);
    cas_dcap_verifier_free(v);
    cas_cli_state_release(&st);
    return status;
}
