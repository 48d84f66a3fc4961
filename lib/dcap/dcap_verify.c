/*
 * dcap_verify.c - the verification of a DCAP quote against its collateral (verify.h), and the
 * verifier's cache. Two kinds of entries, each refcounted so a thread may use one while another
 * thread evicts it: a verified PCK chain (keyed by the quote's certification data and the
 * collateral that holds its CRLs) and verified collateral (keyed by the collateral's id). Each
 * lives for its validity window: lookups outside it miss, and an entry asked for after its
 * window has ended is dropped. Only the lookups run under the lock.
 */
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dcap/pck.h"
#include "dcap/verify.h"
#include "dcap/x509.h"
#include "util/alloc.h"
#include "util/err_openssl.h"

/* The PCK certificate's SGX extensions (Intel SGX PCK Certificate and CRL Profile). */
#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/* SHA-256 of the DER Intel SGX Root CA (PROVENANCE.md of tests/data/dcap). */
static const uint8_t intel_root_sha256[32] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3};

static const char *const check_names[] = {
    [CAS_DCAP_CHECK_NONE] = "none",
    [CAS_DCAP_CHECK_QUOTE_FORMAT] = "quote-format",
    [CAS_DCAP_CHECK_COLLATERAL_FORMAT] = "collateral-format",
    [CAS_DCAP_CHECK_PCK_CHAIN] = "pck-chain",
    [CAS_DCAP_CHECK_ROOT_CA_CRL] = "root-ca-crl",
    [CAS_DCAP_CHECK_PCK_CRL] = "pck-crl",
    [CAS_DCAP_CHECK_PCK_REVOKED] = "pck-revoked",
    [CAS_DCAP_CHECK_TCB_INFO] = "tcb-info",
    [CAS_DCAP_CHECK_QE_IDENTITY] = "qe-identity",
    [CAS_DCAP_CHECK_TCB_INFO_MISMATCH] = "tcb-info-mismatch",
    [CAS_DCAP_CHECK_QE_REPORT_SIGNATURE] = "qe-report-signature",
    [CAS_DCAP_CHECK_QE_REPORT_DATA] = "qe-report-data",
    [CAS_DCAP_CHECK_QUOTE_SIGNATURE] = "quote-signature",
    [CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH] = "qe-identity-mismatch",
    [CAS_DCAP_CHECK_TCB_LEVEL] = "tcb-level",
    [CAS_DCAP_CHECK_TCB_REVOKED] = "tcb-revoked",
    [CAS_DCAP_CHECK_INTERNAL] = "internal",
};

const char *
cas_dcap_check_name(enum cas_dcap_check c)
{
    if ((unsigned)c >= sizeof(check_names) / sizeof(check_names[0]))
        return "unknown";
    return check_names[c];
}

void
cas_dcap_anchor_intel(struct cas_dcap_anchor *a)
{
    memset(a, 0, sizeof(*a));
    memcpy(a->sha256, intel_root_sha256, 32);
    memcpy(a->name, "Intel SGX Root CA", sizeof("Intel SGX Root CA"));
}

cas_rc
cas_dcap_anchor_from_pem(const uint8_t *pem, size_t len, const char *name,
                         struct cas_dcap_anchor *a, struct cas_err *err)
{
    STACK_OF(X509) *chain = NULL;
    size_t n = strlen(name);
    cas_rc rc;

    memset(a, 0, sizeof(*a));
    if (n == 0 || n >= sizeof(a->name))
        return cas_err_set(err, CAS_E_INVALID, "Root name '%s' is empty or too long", name);
    if ((rc = cas_dcap_pem_chain(pem, len, "root certificate", &chain, err)) != CAS_OK)
        return rc;
    if (!cas_dcap_cert_sha256(sk_X509_value(chain, 0), a->sha256))
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "Cannot hash the root certificate");
    else
        memcpy(a->name, name, n + 1);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

/* ---- the cache ---- */

struct entry {
    unsigned refs; /* the table's reference counts as one */
    uint8_t key[32];
    struct cas_dcap_window w;
    uint64_t used;
    void (*destroy)(struct entry *e);
};

struct pck_entry {
    struct entry e;
    unsigned anchor;
    EVP_PKEY *pck_key;
    struct cas_dcap_pck_info info;
    uint8_t ak_bytes[64]; /* the attestation key of the quote it was built for */
    EVP_PKEY *ak;
    uint8_t qe_ok[32]; /* SHA-256(QE report || its signature) that verified with pck_key */
    bool has_qe_ok;
};

struct col_entry {
    struct entry e;
    unsigned anchor;
    struct cas_dcap_tcb_info *ti;
    struct cas_dcap_qe_identity *qi;
};

struct table {
    struct entry *e[CAS_DCAP_CACHE_MAX];
    size_t n;
};

struct cas_dcap_verifier {
    struct cas_dcap_anchor anchors[CAS_DCAP_MAX_ANCHORS];
    size_t anchor_count;
    ASN1_OBJECT *sgx_ext;
    pthread_mutex_t lock;
    struct table pck, col;
    uint64_t tick;
    unsigned long hits, misses;
};

static void
pck_entry_destroy(struct entry *e)
{
    struct pck_entry *p = (struct pck_entry *)e;

    EVP_PKEY_free(p->pck_key);
    EVP_PKEY_free(p->ak);
    free(p);
}

static void
col_entry_destroy(struct entry *e)
{
    struct col_entry *c = (struct col_entry *)e;

    cas_dcap_tcb_info_free(c->ti);
    cas_dcap_qe_identity_free(c->qi);
    free(c);
}

/* Under the lock. */
static void
unref_locked(struct entry *e)
{
    if (e != NULL && --e->refs == 0)
        e->destroy(e);
}

static void
entry_release(struct cas_dcap_verifier *v, struct entry *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&v->lock);
    unref_locked(e);
    pthread_mutex_unlock(&v->lock);
}

static void
table_remove_locked(struct table *t, size_t i)
{
    unref_locked(t->e[i]);
    t->e[i] = t->e[--t->n];
}

/*
 * The entry for key if it holds at `at`. One asked for at or past the end of its window (its
 * earliest nextUpdate or notAfter) is dropped: it can never serve a later time. Entries of
 * other keys are left alone, so callers verifying at different explicit times do not evict
 * each other; capacity is bounded by cache_put().
 */
static struct entry *
cache_get(struct cas_dcap_verifier *v, struct table *t, const uint8_t key[32], int64_t at)
{
    struct entry *found = NULL;

    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < t->n; i++) {
        struct entry *e = t->e[i];
        if (memcmp(e->key, key, 32) != 0)
            continue;
        if (e->w.hi <= at)
            table_remove_locked(t, i);
        else if (e->w.lo <= at) {
            found = e;
            e->refs++;
            e->used = ++v->tick;
        }
        break;
    }
    if (found != NULL)
        v->hits++;
    else
        v->misses++;
    pthread_mutex_unlock(&v->lock);
    return found;
}

/*
 * Adds e (the caller keeps its own reference), replacing an entry of the same key. When full,
 * an entry already expired at `at` goes first, else the least recently used.
 */
static void
cache_put(struct cas_dcap_verifier *v, struct table *t, struct entry *e, int64_t at)
{
    size_t victim = 0;

    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < t->n; i++) {
        if (memcmp(t->e[i]->key, e->key, 32) == 0) {
            table_remove_locked(t, i);
            break;
        }
    }
    if (t->n == CAS_DCAP_CACHE_MAX) {
        for (size_t i = 1; i < t->n; i++) {
            bool gone = t->e[i]->w.hi <= at, victim_gone = t->e[victim]->w.hi <= at;
            if ((gone && !victim_gone) ||
                (gone == victim_gone && t->e[i]->used < t->e[victim]->used))
                victim = i;
        }
        table_remove_locked(t, victim);
    }
    e->refs++;
    e->used = ++v->tick;
    t->e[t->n++] = e;
    pthread_mutex_unlock(&v->lock);
}

cas_rc
cas_dcap_verifier_new(const struct cas_dcap_anchor *anchors, size_t count,
                      struct cas_dcap_verifier **out, struct cas_err *err)
{
    struct cas_dcap_verifier *v;

    *out = NULL;
    if (count < 1 || count > CAS_DCAP_MAX_ANCHORS)
        return cas_err_set(err, CAS_E_INVALID, "A verifier takes 1 to %d trusted roots",
                           CAS_DCAP_MAX_ANCHORS);
    if ((v = cas_calloc(1, sizeof(*v))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the quote verifier");
    memcpy(v->anchors, anchors, count * sizeof(*anchors));
    v->anchor_count = count;
    if ((v->sgx_ext = OBJ_txt2obj(SGX_EXT_OID, 1)) == NULL) {
        free(v);
        return cas_err_openssl(err, CAS_E_NOMEM, "Cannot set up the quote verifier");
    }
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        ASN1_OBJECT_free(v->sgx_ext);
        free(v);
        return cas_err_set(err, CAS_E_NOMEM, "Cannot set up the quote verifier's lock");
    }
    *out = v;
    return CAS_OK;
}

void
cas_dcap_verifier_free(struct cas_dcap_verifier *v)
{
    if (v == NULL)
        return;
    while (v->pck.n > 0)
        table_remove_locked(&v->pck, 0);
    while (v->col.n > 0)
        table_remove_locked(&v->col, 0);
    pthread_mutex_destroy(&v->lock);
    ASN1_OBJECT_free(v->sgx_ext);
    free(v);
}

void
cas_dcap_verifier_stats(struct cas_dcap_verifier *v, unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&v->lock);
    *hits = v->hits;
    *misses = v->misses;
    pthread_mutex_unlock(&v->lock);
}

/* ---- cold paths: verify and build an entry ---- */

/* The anchor a chain ends in; -1 when its root is not trusted. */
static int
find_anchor(const struct cas_dcap_verifier *v, STACK_OF(X509) * chain)
{
    uint8_t h[32];

    if (!cas_dcap_cert_sha256(sk_X509_value(chain, sk_X509_num(chain) - 1), h))
        return -1;
    for (size_t i = 0; i < v->anchor_count; i++) {
        if (memcmp(h, v->anchors[i].sha256, 32) == 0)
            return (int)i;
    }
    return -1;
}

/* A chain from bytes that ends in a trusted root and verifies at at. */
static cas_rc
trusted_chain(const struct cas_dcap_verifier *v, const uint8_t *pem, size_t len, const char *what,
              int64_t at, STACK_OF(X509) * *out, int *anchor, struct cas_dcap_window *w,
              struct cas_err *err)
{
    cas_rc rc;

    *anchor = -1;
    if ((rc = cas_dcap_pem_chain(pem, len, what, out, err)) != CAS_OK)
        return rc;
    if (sk_X509_num(*out) < 2)
        return cas_err_set(err, CAS_E_CRYPTO, "The %s has no issuer certificate", what);
    if ((*anchor = find_anchor(v, *out)) < 0)
        return cas_err_set(err, CAS_E_CRYPTO, "The %s ends in a root that is not trusted", what);
    return cas_dcap_chain_verify(*out, at, what, w, err);
}

struct fail {
    enum cas_dcap_check check;
};

static cas_rc
failed(struct fail *f, enum cas_dcap_check check, cas_rc rc)
{
    f->check = check;
    return rc;
}

static cas_rc
pck_extensions(const ASN1_OBJECT *sgx_ext, X509 *leaf, struct cas_dcap_pck_info *info,
               struct cas_err *err)
{
    int i = X509_get_ext_by_OBJ(leaf, sgx_ext, -1);
    const ASN1_OCTET_STRING *data;

    if (i < 0 || X509_get_ext_by_OBJ(leaf, sgx_ext, i) >= 0)
        return cas_err_set(err, CAS_E_INVALID, "The PCK certificate has not one SGX extension");
    data = X509_EXTENSION_get_data(X509_get_ext(leaf, i));
    return cas_dcap_pck_ext_parse(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data),
                                  info, err);
}

cas_rc
cas_dcap_quote_pck(const struct cas_quote *q, struct cas_dcap_pck_info *out, bool *platform_ca,
                   struct cas_err *err)
{
    STACK_OF(X509) *chain = NULL;
    ASN1_OBJECT *sgx_ext;
    char cn[128] = "";
    cas_rc rc;

    *platform_ca = false;
    if ((sgx_ext = OBJ_txt2obj(SGX_EXT_OID, 1)) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "Cannot read the PCK certificate");
    if ((rc = cas_dcap_pem_chain(q->cert_data.buf, q->cert_data.len, "PCK certificate chain",
                                 &chain, err)) == CAS_OK &&
        (rc = pck_extensions(sgx_ext, sk_X509_value(chain, 0), out, err)) == CAS_OK) {
        X509_NAME_get_text_by_NID(X509_get_issuer_name(sk_X509_value(chain, 0)), NID_commonName, cn,
                                  sizeof(cn));
        *platform_ca = strstr(cn, "Platform") != NULL;
    }
    sk_X509_pop_free(chain, X509_free);
    ASN1_OBJECT_free(sgx_ext);
    return rc;
}

/* PCK chain, root CA CRL, PCK CRL, revocation, SGX extensions (QVL's PCK certificate step). */
static cas_rc
pck_checks(const struct cas_dcap_verifier *v, const struct cas_quote *q,
           const struct cas_dcap_collateral *c, int64_t at, struct pck_entry *pe, struct fail *f,
           struct cas_err *err)
{
    STACK_OF(X509) *chain = NULL;
    X509_CRL *root_crl = NULL, *pck_crl = NULL;
    int anchor;
    cas_rc rc;

    if ((rc = trusted_chain(v, q->cert_data.buf, q->cert_data.len, "PCK certificate chain", at,
                            &chain, &anchor, &pe->e.w, err)) != CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_PCK_CHAIN, rc);
        goto out;
    }
    pe->anchor = (unsigned)anchor;
    if (sk_X509_num(chain) != 3) {
        rc = failed(
            f, CAS_DCAP_CHECK_PCK_CHAIN,
            cas_err_set(err, CAS_E_CRYPTO, "The PCK certificate chain is not PCK, CA, root"));
        goto out;
    }
    if ((rc = cas_dcap_der_crl(c->f[CAS_DCAP_ROOT_CA_CRL].p, c->f[CAS_DCAP_ROOT_CA_CRL].len,
                               "root CA CRL", &root_crl, err)) != CAS_OK ||
        (rc = cas_dcap_crl_check(root_crl, sk_X509_value(chain, 2), at, "root CA CRL", &pe->e.w,
                                 err)) != CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_ROOT_CA_CRL, rc);
        goto out;
    }
    if ((rc = cas_dcap_der_crl(c->f[CAS_DCAP_PCK_CRL].p, c->f[CAS_DCAP_PCK_CRL].len, "PCK CRL",
                               &pck_crl, err)) != CAS_OK ||
        (rc = cas_dcap_crl_check(pck_crl, sk_X509_value(chain, 1), at, "PCK CRL", &pe->e.w, err)) !=
            CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_PCK_CRL, rc);
        goto out;
    }
    if (cas_dcap_crl_lists(root_crl, sk_X509_value(chain, 1)) ||
        cas_dcap_crl_lists(pck_crl, sk_X509_value(chain, 0))) {
        rc = failed(
            f, CAS_DCAP_CHECK_PCK_REVOKED,
            cas_err_set(err, CAS_E_DENIED, "The %s certificate is revoked",
                        cas_dcap_crl_lists(pck_crl, sk_X509_value(chain, 0)) ? "PCK" : "PCK CA"));
        goto out;
    }
    if ((rc = pck_extensions(v->sgx_ext, sk_X509_value(chain, 0), &pe->info, err)) != CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_PCK_CHAIN, rc);
        goto out;
    }
    pe->pck_key = X509_get_pubkey(sk_X509_value(chain, 0));
    if (pe->pck_key == NULL || !EVP_PKEY_is_a(pe->pck_key, "EC") ||
        EVP_PKEY_get_bits(pe->pck_key) != 256)
        rc = failed(f, CAS_DCAP_CHECK_PCK_CHAIN,
                    cas_err_set(err, CAS_E_CRYPTO, "The PCK certificate key is not P-256"));
out:
    X509_CRL_free(root_crl);
    X509_CRL_free(pck_crl);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

/* The issuer chain of a signed collateral item: trusted, its signer not revoked. */
static cas_rc
signer_checks(const struct cas_dcap_verifier *v, const struct cas_dcap_blob *chain_pem,
              X509_CRL *root_crl, const char *what, int64_t at, STACK_OF(X509) * *chain,
              int *anchor, struct cas_dcap_window *w, struct cas_err *err)
{
    cas_rc rc;
    int n;

    if ((rc = trusted_chain(v, chain_pem->p, chain_pem->len, what, at, chain, anchor, w, err)) !=
        CAS_OK)
        return rc;
    n = sk_X509_num(*chain);
    if ((rc = cas_dcap_crl_check(root_crl, sk_X509_value(*chain, n - 1), at, "root CA CRL", w,
                                 err)) != CAS_OK)
        return rc;
    for (int i = 0; i < n - 1; i++) {
        if (cas_dcap_crl_lists(root_crl, sk_X509_value(*chain, i)))
            return cas_err_set(err, CAS_E_DENIED, "A certificate of the %s is revoked", what);
    }
    return CAS_OK;
}

static cas_rc
signed_item_checks(X509 *signer, const uint8_t digest[32], const uint8_t sig[64], int64_t issued,
                   int64_t next, int64_t at, const char *what, struct cas_dcap_window *w,
                   struct cas_err *err)
{
    char a[21], b[21];

    if (!cas_dcap_ecdsa_verify(X509_get0_pubkey(signer), digest, sig))
        return cas_err_set(err, CAS_E_CRYPTO, "The %s signature does not verify", what);
    cas_dcap_window_narrow(w, issued, next);
    if (at < issued || at >= next) {
        cas_dcap_time_format(issued, a);
        cas_dcap_time_format(next, b);
        return cas_err_set(err, CAS_E_CRYPTO,
                           "The %s is not valid at the verification time: issued %s, next update "
                           "%s",
                           what, a, b);
    }
    return CAS_OK;
}

/* TCB info and QE identity: chains, revocation, signatures, validity (QVL's second, third step). */
static cas_rc
collateral_checks(const struct cas_dcap_verifier *v, const struct cas_dcap_collateral *c,
                  int64_t at, struct col_entry *ce, struct fail *f, struct cas_err *err)
{
    STACK_OF(X509) *tchain = NULL, *qchain = NULL;
    X509_CRL *root_crl = NULL;
    int ta, qa;
    cas_rc rc;

    if ((rc = cas_dcap_der_crl(c->f[CAS_DCAP_ROOT_CA_CRL].p, c->f[CAS_DCAP_ROOT_CA_CRL].len,
                               "root CA CRL", &root_crl, err)) != CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_ROOT_CA_CRL, rc);
        goto out;
    }
    if ((rc = signer_checks(v, &c->f[CAS_DCAP_TCB_INFO_ISSUER_CHAIN], root_crl,
                            "TCB info issuer chain", at, &tchain, &ta, &ce->e.w, err)) != CAS_OK ||
        (rc = cas_dcap_tcb_info_parse(c->f[CAS_DCAP_TCB_INFO].p, c->f[CAS_DCAP_TCB_INFO].len,
                                      &ce->ti, err)) != CAS_OK ||
        (rc = signed_item_checks(sk_X509_value(tchain, 0), ce->ti->signed_digest, ce->ti->signature,
                                 ce->ti->issue_date, ce->ti->next_update, at, "TCB info", &ce->e.w,
                                 err)) != CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_TCB_INFO, rc);
        goto out;
    }
    if ((rc = signer_checks(v, &c->f[CAS_DCAP_QE_IDENTITY_ISSUER_CHAIN], root_crl,
                            "QE identity issuer chain", at, &qchain, &qa, &ce->e.w, err)) !=
            CAS_OK ||
        (rc = cas_dcap_qe_identity_parse(c->f[CAS_DCAP_QE_IDENTITY].p,
                                         c->f[CAS_DCAP_QE_IDENTITY].len, &ce->qi, err)) != CAS_OK ||
        (rc = signed_item_checks(sk_X509_value(qchain, 0), ce->qi->signed_digest, ce->qi->signature,
                                 ce->qi->issue_date, ce->qi->next_update, at, "QE identity",
                                 &ce->e.w, err)) != CAS_OK) {
        rc = failed(f, CAS_DCAP_CHECK_QE_IDENTITY, rc);
        goto out;
    }
    if (ta != qa) {
        rc = failed(f, CAS_DCAP_CHECK_QE_IDENTITY,
                    cas_err_set(err, CAS_E_CRYPTO,
                                "The QE identity and the TCB info end in different roots"));
        goto out;
    }
    ce->anchor = (unsigned)ta;
out:
    X509_CRL_free(root_crl);
    sk_X509_pop_free(tchain, X509_free);
    sk_X509_pop_free(qchain, X509_free);
    return rc;
}

/* SHA-256 of a || b. */
static bool
hash2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(md, a, a_len) == 1 && EVP_DigestUpdate(md, b, b_len) == 1 &&
              EVP_DigestFinal_ex(md, out, NULL) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

/*
 * The QE report's signature by the PCK key. A platform's quoting enclave signs the same report
 * for every quote (it binds the attestation key, not the quote), so an entry keeps the digest of
 * the report and signature it verified when it was built: those very bytes again need no second
 * ECDSA verification. Anything else is verified.
 */
static bool
qe_report_signed(const struct pck_entry *pe, const struct cas_quote *q)
{
    uint8_t h[32];

    if (pe->has_qe_ok &&
        hash2(q->qe_report_bytes.buf, q->qe_report_bytes.len, q->qe_report_signature, 64, h) &&
        CRYPTO_memcmp(h, pe->qe_ok, 32) == 0)
        return true;
    SHA256(q->qe_report_bytes.buf, q->qe_report_bytes.len, h);
    return cas_dcap_ecdsa_verify(pe->pck_key, h, q->qe_report_signature);
}

static cas_rc
get_pck(struct cas_dcap_verifier *v, const struct cas_quote *q, const struct cas_dcap_collateral *c,
        int64_t at, struct pck_entry **out, struct fail *f, struct cas_err *err)
{
    struct pck_entry *pe;
    uint8_t key[32];
    cas_rc rc;

    /* The certification data and the collateral (its CRLs) decide the result. */
    *out = NULL;
    if (!hash2(q->cert_data.buf, q->cert_data.len, c->id, 32, key))
        return cas_err_set(err, CAS_E_NOMEM, "Cannot hash the PCK certificate chain");
    if ((*out = (struct pck_entry *)cache_get(v, &v->pck, key, at)) != NULL)
        return CAS_OK;
    if ((pe = cas_calloc(1, sizeof(*pe))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the PCK chain");
    pe->e.refs = 1;
    pe->e.destroy = pck_entry_destroy;
    memcpy(pe->e.key, key, 32);
    cas_dcap_window_init(&pe->e.w);
    if ((rc = pck_checks(v, q, c, at, pe, f, err)) != CAS_OK) {
        pck_entry_destroy(&pe->e);
        return rc;
    }
    memcpy(pe->ak_bytes, q->attest_key, 64);
    if (cas_dcap_p256_key(q->attest_key, &pe->ak, err) != CAS_OK) {
        pe->ak = NULL; /* the quote signature check reports it */
        cas_err_clear(err);
    }
    /* Set before the entry is shared, never after: readers need no lock. */
    pe->has_qe_ok = qe_report_signed(pe, q) && hash2(q->qe_report_bytes.buf, q->qe_report_bytes.len,
                                                     q->qe_report_signature, 64, pe->qe_ok);
    cache_put(v, &v->pck, &pe->e, at);
    *out = pe;
    return CAS_OK;
}

static cas_rc
get_col(struct cas_dcap_verifier *v, const struct cas_dcap_collateral *c, int64_t at,
        struct col_entry **out, struct fail *f, struct cas_err *err)
{
    struct col_entry *ce;
    cas_rc rc;

    if ((*out = (struct col_entry *)cache_get(v, &v->col, c->id, at)) != NULL)
        return CAS_OK;
    if ((ce = cas_calloc(1, sizeof(*ce))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the collateral");
    ce->e.refs = 1;
    ce->e.destroy = col_entry_destroy;
    memcpy(ce->e.key, c->id, 32);
    cas_dcap_window_init(&ce->e.w);
    if ((rc = collateral_checks(v, c, at, ce, f, err)) != CAS_OK) {
        col_entry_destroy(&ce->e);
        return rc;
    }
    cache_put(v, &v->col, &ce->e, at);
    *out = ce;
    return CAS_OK;
}

/* ---- every verification ---- */

/* The collateral is for this quote's TEE and this platform (QVL: TCB info / QE identity mismatch).
 */
static cas_rc
match_checks(const struct cas_quote *q, const struct pck_entry *pe, const struct col_entry *ce,
             struct fail *f, struct cas_err *err)
{
    bool tdx = q->tee_type == CAS_DCAP_TEE_TDX;

    if (ce->ti->is_tdx != tdx)
        return failed(f, CAS_DCAP_CHECK_TCB_INFO_MISMATCH,
                      cas_err_set(err, CAS_E_DENIED, "The TCB info is for %s, the quote for %s",
                                  ce->ti->is_tdx ? "TDX" : "SGX", tdx ? "TDX" : "SGX"));
    if (memcmp(ce->ti->fmspc, pe->info.fmspc, 6) != 0)
        return failed(f, CAS_DCAP_CHECK_TCB_INFO_MISMATCH,
                      cas_err_set(err, CAS_E_DENIED,
                                  "The TCB info is for FMSPC %02X%02X%02X%02X%02X%02X, the PCK "
                                  "certificate for %02X%02X%02X%02X%02X%02X",
                                  ce->ti->fmspc[0], ce->ti->fmspc[1], ce->ti->fmspc[2],
                                  ce->ti->fmspc[3], ce->ti->fmspc[4], ce->ti->fmspc[5],
                                  pe->info.fmspc[0], pe->info.fmspc[1], pe->info.fmspc[2],
                                  pe->info.fmspc[3], pe->info.fmspc[4], pe->info.fmspc[5]));
    if (memcmp(ce->ti->pce_id, pe->info.pce_id, 2) != 0)
        return failed(f, CAS_DCAP_CHECK_TCB_INFO_MISMATCH,
                      cas_err_set(err, CAS_E_DENIED,
                                  "The TCB info is for another PCE ID than the PCK certificate"));
    if (ce->qi->is_td_qe != tdx)
        return failed(f, CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH,
                      cas_err_set(err, CAS_E_DENIED, "The QE identity is for %s, the quote for %s",
                                  ce->qi->is_td_qe ? "TD_QE" : "QE", tdx ? "TD_QE" : "QE"));
    if (ce->anchor != pe->anchor)
        return failed(f, CAS_DCAP_CHECK_TCB_INFO,
                      cas_err_set(err, CAS_E_CRYPTO,
                                  "The TCB info and the PCK chain end in different roots"));
    return CAS_OK;
}

/* QE report signed by the PCK key, binding the attestation key; the quote signed by that key. */
static cas_rc
signature_checks(const struct cas_quote *q, const struct pck_entry *pe, EVP_PKEY **ak_fresh,
                 struct fail *f, struct cas_err *err)
{
    static const uint8_t zeros[32] = {0};
    EVP_PKEY *ak = pe->ak;
    uint8_t h[32];

    if (!qe_report_signed(pe, q))
        return failed(f, CAS_DCAP_CHECK_QE_REPORT_SIGNATURE,
                      cas_err_set(err, CAS_E_CRYPTO,
                                  "The QE report signature does not verify with the PCK key"));
    if (!hash2(q->attest_key, 64, q->qe_auth_data.buf, q->qe_auth_data.len, h) ||
        memcmp(h, q->qe_report.report_data, 32) != 0 ||
        memcmp(q->qe_report.report_data + 32, zeros, 32) != 0)
        return failed(f, CAS_DCAP_CHECK_QE_REPORT_DATA,
                      cas_err_set(err, CAS_E_CRYPTO,
                                  "The QE report data is not SHA-256(attestation key || QE "
                                  "authentication data) followed by zeros"));
    if (ak == NULL || memcmp(pe->ak_bytes, q->attest_key, 64) != 0) {
        if (cas_dcap_p256_key(q->attest_key, ak_fresh, err) != CAS_OK)
            return failed(f, CAS_DCAP_CHECK_QUOTE_SIGNATURE, err->rc);
        ak = *ak_fresh;
    }
    SHA256(q->signed_part.buf, q->signed_part.len, h);
    if (!cas_dcap_ecdsa_verify(ak, h, q->signature))
        return failed(f, CAS_DCAP_CHECK_QUOTE_SIGNATURE,
                      cas_err_set(err, CAS_E_CRYPTO,
                                  "The quote signature does not verify with the attestation key"));
    return CAS_OK;
}

static cas_rc
tcb_checks(const struct cas_quote *q, const struct pck_entry *pe, const struct col_entry *ce,
           struct cas_dcap_verdict *out, struct fail *f, struct cas_err *err)
{
    enum cas_dcap_status qe_status;
    struct cas_dcap_tcb_result res;
    cas_rc rc;

    if ((rc = cas_dcap_qe_identity_check(ce->qi, &q->qe_report, &qe_status, err)) != CAS_OK)
        return failed(f, CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH, rc);
    if ((rc = cas_dcap_tcb_evaluate(ce->ti, &pe->info.tcb, q, qe_status, &res, err)) != CAS_OK)
        return failed(f, CAS_DCAP_CHECK_TCB_LEVEL, rc);
    out->has_status = true;
    out->status = res.status;
    out->platform_status = res.platform_status;
    out->qe_status = res.qe_status;
    out->tcb_date = res.tcb_date;
    out->advisories = res.advisories;
    if (res.status == CAS_DCAP_REVOKED)
        return failed(f, CAS_DCAP_CHECK_TCB_REVOKED,
                      cas_err_set(err, CAS_E_DENIED, "The platform's TCB status is Revoked"));
    return CAS_OK;
}

static bool
is_debug(const struct cas_quote *q)
{
    if (q->body_type == CAS_DCAP_BODY_SGX)
        return (q->sgx.attributes[0] & 0x02) != 0; /* SGX ATTRIBUTES.DEBUG, bit 1 */
    return (q->td.td_attributes[0] & 0x01) != 0;   /* TDX TD_ATTRIBUTES.DEBUG, bit 0 */
}

cas_rc
cas_dcap_verify(struct cas_dcap_verifier *v, const uint8_t *quote, size_t len,
                const struct cas_dcap_collateral *c, int64_t at, struct cas_dcap_verdict *out,
                struct cas_err *err)
{
    struct pck_entry *pe = NULL;
    struct col_entry *ce = NULL;
    EVP_PKEY *ak_fresh = NULL;
    struct fail f = {CAS_DCAP_CHECK_NONE};
    cas_rc rc;

    memset(out, 0, sizeof(*out));
    out->at = at;
    if ((rc = cas_dcap_quote_parse(quote, len, &out->quote, err)) != CAS_OK) {
        f.check = CAS_DCAP_CHECK_QUOTE_FORMAT;
        goto out;
    }
    out->evidence_type = cas_dcap_quote_evidence_type(&out->quote);
    out->debug = is_debug(&out->quote);
    if (!c->sealed) {
        f.check = CAS_DCAP_CHECK_COLLATERAL_FORMAT;
        rc = cas_err_set(err, CAS_E_INVALID, "The collateral is not complete (not sealed)");
        goto out;
    }
    if ((rc = get_pck(v, &out->quote, c, at, &pe, &f, err)) != CAS_OK)
        goto out;
    memcpy(out->root, v->anchors[pe->anchor].name, sizeof(out->root));
    out->has_platform = true;
    memcpy(out->fmspc, pe->info.fmspc, 6);
    memcpy(out->pce_id, pe->info.pce_id, 2);
    cas_dcap_platform_id(&pe->info, out->platform_id);
    if ((rc = get_col(v, c, at, &ce, &f, err)) != CAS_OK ||
        (rc = match_checks(&out->quote, pe, ce, &f, err)) != CAS_OK ||
        (rc = signature_checks(&out->quote, pe, &ak_fresh, &f, err)) != CAS_OK ||
        (rc = tcb_checks(&out->quote, pe, ce, out, &f, err)) != CAS_OK)
        goto out;
    out->collateral_expires = pe->e.w.hi < ce->e.w.hi ? pe->e.w.hi : ce->e.w.hi;
out:
    if (rc != CAS_OK && f.check == CAS_DCAP_CHECK_NONE)
        f.check = CAS_DCAP_CHECK_INTERNAL; /* only resource failures get here unnamed */
    out->failed = f.check;
    if (rc != CAS_OK)
        cas_err_wrap(err, "Check '%s' failed", cas_dcap_check_name(f.check));
    EVP_PKEY_free(ak_fresh);
    entry_release(v, pe ? &pe->e : NULL);
    entry_release(v, ce ? &ce->e : NULL);
    return rc;
}
