/*
 * attest.c - the checks of `cas attest` (attest.h), in api.md §3.1's order: evidence, binding,
 * key hash, signer, measurement, debug, trust-any, TCB. A failed evidence check stops there
 * (nothing the quote says can be believed); every other failing check adds its line.
 */
#include "client/attest.h"

#include <stdarg.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/binding.h"
#include "crypto/pki.h"
#include "dcap/verify.h"
#include "tee/sim.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"

#define SIM_ROOT_NAME "CAS TEE Simulator Root CA"

static char *
dup_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? cas_strndup(json_string_value(v), json_string_length(v)) : NULL;
}

cas_rc
cas_attest_report_parse(const char *json, size_t len, struct cas_attest_report *r,
                        struct cas_err *err)
{
    json_t *root, *ev, *col;
    json_error_t je;
    const char *q;
    size_t qlen, cap;
    cas_rc rc = CAS_OK;

    memset(r, 0, sizeof(*r));
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return cas_err_set(err, CAS_E_INVALID, "the answer is not a JSON object (%s)", je.text);
    }
    ev = json_object_get(root, "evidence");
    col = json_object_get(root, "collateral");
    r->version = dup_str(root, "version");
    r->build_time = dup_str(root, "build_time");
    r->tee = dup_str(root, "tee");
    r->cas_certificate = dup_str(root, "cas_certificate");
    r->tls_certificate = dup_str(root, "tls_certificate");
    r->cas_key_hash = dup_str(root, "cas_key_hash");
    r->evidence_type = json_is_object(ev) ? dup_str(ev, "type") : NULL;
    if (r->version == NULL || r->build_time == NULL || r->cas_certificate == NULL ||
        r->tls_certificate == NULL || r->cas_key_hash == NULL || r->evidence_type == NULL ||
        !json_is_string(json_object_get(ev, "quote")) ||
        (col != NULL && !json_is_object(col) && !json_is_null(col))) {
        rc = cas_err_set(err, CAS_E_INVALID, "the answer lacks fields of api.md §2.3");
        goto out;
    }
    q = json_string_value(json_object_get(ev, "quote"));
    qlen = json_string_length(json_object_get(ev, "quote"));
    cap = qlen / 4 * 3 + 3;
    if ((r->quote = cas_malloc(cap)) == NULL ||
        !cas_b64_decode(q, qlen, r->quote, cap, &r->quote_len, false)) {
        rc = cas_err_set(err, CAS_E_INVALID, "the evidence's quote is not base64");
        goto out;
    }
    if (json_is_object(col) && (r->collateral = json_dumps(col, JSON_COMPACT)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
out:
    json_decref(root);
    if (rc != CAS_OK)
        cas_attest_report_release(r);
    return rc;
}

void
cas_attest_report_release(struct cas_attest_report *r)
{
    free(r->version);
    free(r->build_time);
    free(r->tee);
    free(r->evidence_type);
    free(r->quote);
    free(r->collateral);
    free(r->cas_certificate);
    free(r->tls_certificate);
    free(r->cas_key_hash);
    memset(r, 0, sizeof(*r));
}

void
cas_attest_outcome_release(struct cas_attest_outcome *o)
{
    free(o->chain_pem);
    memset(o, 0, sizeof(*o));
}

static void problem(struct cas_attest_outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct cas_attest_outcome *o, const char *fmt, ...)
{
    va_list ap;

    if (o->n_problems >= CAS_ATTEST_MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(o->problems[o->n_problems++], CAS_ATTEST_LINE, fmt, ap);
    va_end(ap);
}

static void warning(struct cas_attest_outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warning(struct cas_attest_outcome *o, const char *fmt, ...)
{
    va_list ap;

    if (o->n_warnings >= 4)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(o->warnings[o->n_warnings++], CAS_ATTEST_LINE, fmt, ap);
    va_end(ap);
}

cas_rc
cas_attest_verifier_new(struct cas_dcap_verifier **out, struct cas_err *err)
{
    struct cas_dcap_anchor a[2];
    const char *pem = cas_tee_sim_root_pem();
    cas_rc rc;

    cas_dcap_anchor_intel(&a[0]);
    if ((rc = cas_dcap_anchor_from_pem((const uint8_t *)pem, strlen(pem), SIM_ROOT_NAME, &a[1],
                                       err)) != CAS_OK)
        return rc;
    return cas_dcap_verifier_new(a, 2, out, err);
}

/* The certificates of a PEM text, in order. */
static STACK_OF(X509) * read_pem_chain(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;

    if (bio == NULL || sk == NULL) {
        BIO_free(bio);
        sk_X509_free(sk);
        return NULL;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    ERR_clear_error();
    BIO_free(bio);
    return sk;
}

/*
 * The binding check: the report's leaf and chain are the ones that served (when online), the
 * leaf chains to the report's root through its intermediate, and the report data commit to the
 * nonce and to those three keys.
 */
static bool
binding_holds(const struct cas_attest_report *r, const uint8_t *rd, const uint8_t *nonce,
              size_t nonce_len, STACK_OF(X509) * served, X509 **root_out)
{
    STACK_OF(X509) *cas = read_pem_chain(r->cas_certificate);
    STACK_OF(X509) *tls = read_pem_chain(r->tls_certificate);
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    X509 *leaf, *inter, *root;
    uint8_t want[64];
    bool ok = false;

    *root_out = NULL;
    if (cas == NULL || tls == NULL || sk_X509_num(cas) != 2 || sk_X509_num(tls) < 1)
        goto out;
    leaf = sk_X509_value(tls, 0);
    inter = sk_X509_value(cas, 0);
    root = sk_X509_value(cas, 1);
    if (served != NULL &&
        (sk_X509_num(served) < 2 || X509_cmp(sk_X509_value(served, 0), leaf) != 0 ||
         X509_cmp(sk_X509_value(served, 1), inter) != 0))
        goto out;
    if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_add_cert(store, root) != 1 || X509_STORE_CTX_init(ctx, store, leaf, cas) != 1 ||
        X509_verify_cert(ctx) != 1)
        goto out;
    if (!cas_binding_cas(nonce, nonce_len, root, inter, leaf, want))
        goto out;
    /* Without the nonce (an offline report, the caller warned) the report data cannot be
     * recomputed: only the certificates were checked above. */
    ok = nonce_len == 0 || CRYPTO_memcmp(want, rd, 64) == 0;
    if (ok) {
        X509_up_ref(root);
        *root_out = root;
    }
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(cas, X509_free);
    sk_X509_pop_free(tls, X509_free);
    return ok;
}

static void
check_signer(const struct cas_attest_expect *e, const struct cas_sgx_report *q,
             struct cas_attest_outcome *o)
{
    char seen[65], want[65];

    if (e->ignore_signer)
        return;
    if (memcmp(q->mrsigner, e->mrsigner, 32) != 0) {
        cas_hex_encode(q->mrsigner, 32, seen);
        cas_hex_encode(e->mrsigner, 32, want);
        problem(o, "enclave signer (MRSIGNER) does not match expectation: got %s, expected %s",
                seen, want);
    }
    if (q->isvprodid != e->isvprodid)
        problem(o, "ISVPRODID is %u, expected %u", q->isvprodid, e->isvprodid);
    if (e->has_isvsvn_min && q->isvsvn < e->isvsvn_min)
        problem(o, "ISVSVN is %u, expected at least %u", q->isvsvn, e->isvsvn_min);
}

static void
check_measurement(const struct cas_attest_expect *e, const struct cas_sgx_report *q,
                  struct cas_attest_outcome *o)
{
    struct cas_buf b;
    char hex[65];

    if (e->n_mrenclaves == 0)
        return;
    for (size_t i = 0; i < e->n_mrenclaves; i++) {
        if (memcmp(q->mrenclave, e->mrenclaves[i], 32) == 0)
            return;
    }
    cas_buf_init(&b, CAS_ATTEST_LINE);
    for (size_t i = 0; i < e->n_mrenclaves; i++) {
        cas_hex_encode(e->mrenclaves[i], 32, hex);
        cas_buf_addf(&b, "%s%s", i ? " or " : "", hex);
    }
    problem(o, "enclave hash (MRENCLAVE) does not match expectation: got %s, expected %s",
            o->mrenclave, b.buf);
    cas_buf_release(&b);
}

static void
check_tcb(const struct cas_attest_expect *e, const struct cas_dcap_verdict *vd, bool revoked,
          const char *advisories, struct cas_attest_outcome *o)
{
    static const char g[] = "-G/--accept-group-out-of-date (out-of-date platform: dangerous)";
    static const char c[] = "-C/--accept-configuration-needed (platform configuration, e.g. "
                            "hyperthreading: less secure)";
    static const char s[] = "-S/--accept-sw-hardening-needed (software hardening missing: less "
                            "secure)";
    bool need_g = false, need_c = false, need_s = false;
    struct cas_buf b;

    if (revoked) {
        problem(o, "TCB status is Revoked; no option accepts a revoked platform");
        return;
    }
    switch (vd->status) {
    case CAS_DCAP_SW_HARDENING_NEEDED:
        need_s = true;
        break;
    case CAS_DCAP_CONFIGURATION_NEEDED:
        need_c = true;
        break;
    case CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        need_c = need_s = true;
        break;
    case CAS_DCAP_OUT_OF_DATE:
    case CAS_DCAP_TD_RELAUNCH_ADVISED:
        need_g = true;
        break;
    case CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED:
    case CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED:
        need_g = need_c = true;
        break;
    case CAS_DCAP_UP_TO_DATE:
    case CAS_DCAP_REVOKED:
        break;
    }
    if (!need_g && !need_c && !need_s)
        return;
    cas_buf_init(&b, CAS_ATTEST_LINE);
    if (need_g && !e->accept_out_of_date)
        cas_buf_addf(&b, "%s%s", b.len ? ", " : "", g);
    if (need_c && !e->accept_configuration)
        cas_buf_addf(&b, "%s%s", b.len ? ", " : "", c);
    if (need_s && !e->accept_sw_hardening)
        cas_buf_addf(&b, "%s%s", b.len ? ", " : "", s);
    if (b.len > 0)
        problem(o, "TCB status is %s (%s); accept with %s", cas_dcap_status_name(vd->status),
                advisories, b.buf);
    else
        warning(o, "accepted TCB status %s (%s)", cas_dcap_status_name(vd->status), advisories);
    cas_buf_release(&b);
}

cas_rc
cas_attest_check(const struct cas_attest_report *r, const uint8_t *nonce, size_t nonce_len,
                 STACK_OF(X509) * served, const struct cas_attest_expect *e, int64_t at,
                 struct cas_dcap_verifier *v, const char *cas, struct cas_attest_outcome *o,
                 struct cas_err *err)
{
    struct cas_dcap_collateral c;
    struct cas_dcap_verdict vd;
    struct cas_err verr = {0};
    X509 *root = NULL;
    char advisories[512] = "", msg[CAS_ERR_LEN * 2];
    bool revoked = false;
    size_t off = 0;
    cas_rc rc;

    memset(o, 0, sizeof(*o));
    cas_dcap_collateral_init(&c);
    if (r->collateral == NULL) {
        problem(o, "CAS sent no collateral; configure pccs_url or collateral_dir on casd");
        return CAS_E_DENIED;
    }
    memset(&vd, 0, sizeof(vd));
    if ((rc = cas_dcap_collateral_from_json(r->collateral, strlen(r->collateral), &c, &verr)) !=
        CAS_OK) {
        cas_err_join(&verr, msg, sizeof(msg));
        problem(o, "evidence does not verify: collateral: %s", msg);
        return CAS_E_DENIED;
    }
    rc = cas_dcap_verify(v, r->quote, r->quote_len, &c, at, &vd, &verr);
    cas_dcap_collateral_release(&c);
    if (rc != CAS_OK) {
        if (vd.failed == CAS_DCAP_CHECK_INTERNAL)
            return cas_err_set(err, rc, "the verifier failed: %s", cas_err_get(&verr, 0));
        if (vd.failed != CAS_DCAP_CHECK_TCB_REVOKED) {
            cas_err_join(&verr, msg, sizeof(msg));
            problem(o, "evidence does not verify: %s", msg);
            return CAS_E_DENIED;
        }
        revoked = true;
    }
    if (vd.quote.body_type != CAS_DCAP_BODY_SGX) {
        problem(o, "evidence does not verify: a CAS runs in an SGX enclave, not '%s'",
                vd.evidence_type);
        return CAS_E_DENIED;
    }
    cas_hex_encode(vd.quote.sgx.mrenclave, 32, o->mrenclave);
    cas_hex_encode(vd.quote.sgx.mrsigner, 32, o->mrsigner);
    o->isvprodid = vd.quote.sgx.isvprodid;
    o->isvsvn = vd.quote.sgx.isvsvn;
    o->debug = vd.debug;
    o->simulator = strcmp(vd.root, SIM_ROOT_NAME) == 0;
    (void)snprintf(o->root, sizeof(o->root), "%s", vd.root);
    (void)snprintf(o->evidence_type, sizeof(o->evidence_type), "%s", vd.evidence_type);
    (void)snprintf(o->tcb_status, sizeof(o->tcb_status), "%s",
                   revoked ? "Revoked" : cas_dcap_status_name(vd.status));
    for (unsigned i = 0; i < vd.advisories.count && off < sizeof(advisories); i++)
        off += (size_t)snprintf(advisories + off, sizeof(advisories) - off, "%s%s", i ? ", " : "",
                                vd.advisories.id[i]);

    /* binding */
    if (!binding_holds(r, vd.quote.sgx.report_data, nonce, nonce_len, served, &root))
        problem(o, "evidence does not bind this connection (nonce or certificates differ)");
    /* key hash: of the root the report names (and, with a binding, that served) */
    {
        STACK_OF(X509) *chain = read_pem_chain(r->cas_certificate);
        uint8_t h[32];
        char seen[51], want[51];
        if (chain != NULL && sk_X509_num(chain) == 2 &&
            cas_cert_key_hash(sk_X509_value(chain, 1), h, &verr) == CAS_OK) {
            cas_keyhash_to_b58(h, o->key_hash_b58);
            if (strcmp(o->key_hash_b58, r->cas_key_hash) != 0)
                problem(o, "evidence does not bind this connection (nonce or certificates differ)");
            if (e->has_key_hash && memcmp(h, e->key_hash, 32) != 0) {
                cas_keyhash_to_b58(h, seen);
                cas_keyhash_to_b58(e->key_hash, want);
                problem(o, "CAS key hash is %s, expected %s", seen, want);
            }
        }
        sk_X509_pop_free(chain, X509_free);
    }
    check_signer(e, &vd.quote.sgx, o);
    check_measurement(e, &vd.quote.sgx, o);
    if (vd.debug && !e->debug)
        problem(o,
                "CAS runs in %s, which cannot protect secrets; accept it only for testing with "
                "--only_for_testing-debug",
                o->simulator ? "the software TEE simulator" : "a debug enclave");
    else if (o->simulator && !e->debug) /* never: simulator evidence always has DEBUG */
        problem(o, "CAS runs in the software TEE simulator, which cannot protect secrets; accept "
                   "it only for testing with --only_for_testing-debug");
    if (e->trust_any && !vd.debug)
        problem(o, "--only_for_testing-trust-any is only allowed if CAS is in debug mode");
    if (vd.debug && e->debug)
        warning(o, "CAS '%s' runs in %s, which cannot protect secrets", cas,
                o->simulator ? "the software TEE simulator" : "a debug enclave");
    check_tcb(e, &vd, revoked, advisories[0] != '\0' ? advisories : "no advisories", o);
    if (o->n_problems == 0 && root != NULL &&
        (o->chain_pem = cas_strdup(r->cas_certificate)) == NULL) {
        X509_free(root);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    X509_free(root);
    return o->n_problems == 0 ? CAS_OK : CAS_E_DENIED;
}
