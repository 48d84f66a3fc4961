/*
 * pccs.c - DCAP collateral from a PCCS (API v4) with libcurl, cached until its nextUpdate.
 * Bodies are capped (CAS_PCCS_BODY_MAX), redirects are not followed, plain http is refused
 * unless the host is a loopback address. CRLs come as DER, PEM or hex depending on the
 * service; they are all turned into DER here, which is the form lib/dcap takes.
 */
#include "client/pccs.h"

#include <stdint.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dcap/pck.h"
#include "dcap/tcb.h"
#include "dcap/x509.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"

#define CACHE_SLOTS 16
#define URL_MAX 2048

struct cached {
    char key[48]; /* "tdx/B0C06F000000/platform" */
    struct cas_dcap_collateral col;
    int64_t until; /* the earliest nextUpdate of its parts */
};

struct cas_pccs {
    char base[URL_MAX / 2];
    bool allow_http;
    pthread_mutex_t lock;
    struct cached slot[CACHE_SLOTS];
    size_t n;
    unsigned long requests;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool
is_loopback_http(const char *url)
{
    static const char *const ok[] = {"http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
                                     "http://localhost/", "http://[::1]:",     "http://[::1]/"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strncmp(url, ok[i], strlen(ok[i])) == 0)
            return true;
    }
    return strcmp(url, "http://127.0.0.1") == 0 || strcmp(url, "http://localhost") == 0;
}

cas_rc
cas_pccs_new(const char *base_url, struct cas_pccs **out, struct cas_err *err)
{
    struct cas_pccs *p;
    size_t n = strlen(base_url);

    *out = NULL;
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(p->base))
        return cas_err_set(err, CAS_E_INVALID, "PCCS URL '%s' is empty or too long", base_url);
    if (strncmp(base_url, "https://", 8) != 0 && !is_loopback_http(base_url))
        return cas_err_set(err, CAS_E_INVALID,
                           "PCCS URL '%s' is not https:// (plain http only to a loopback address)",
                           base_url);
    if (pthread_once(&curl_once, init_curl) != 0 || curl_init_rc != CURLE_OK)
        return cas_err_set(err, CAS_E_INTERNAL, "Cannot initialise libcurl");
    if ((p = cas_calloc(1, sizeof(*p))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the PCCS client");
    memcpy(p->base, base_url, n);
    p->base[n] = 0;
    p->allow_http = strncmp(base_url, "http://", 7) == 0;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return cas_err_set(err, CAS_E_NOMEM, "Cannot set up the PCCS client's lock");
    }
    *out = p;
    return CAS_OK;
}

void
cas_pccs_free(struct cas_pccs *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        cas_dcap_collateral_release(&p->slot[i].col);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

unsigned long
cas_pccs_requests(struct cas_pccs *p)
{
    unsigned long n;

    pthread_mutex_lock(&p->lock);
    n = p->requests;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* ---- one GET ---- */

struct header {
    const char *name;
    struct cas_buf *value; /* NULL: not wanted */
};

static size_t
on_body(char *data, size_t size, size_t count, void *ud)
{
    struct cas_buf *b = ud;

    cas_buf_add(b, data, size * count);
    return b->failed ? 0 : size * count;
}

static size_t
on_header(char *data, size_t size, size_t count, void *ud)
{
    struct header *h = ud;
    size_t len = size * count, n;

    if (h->value == NULL)
        return len;
    n = strlen(h->name);
    if (len > n + 1 && strncasecmp(data, h->name, n) == 0 && data[n] == ':') {
        size_t s = n + 1, e = len;
        while (s < e && (data[s] == ' ' || data[s] == '\t'))
            s++;
        while (e > s && (data[e - 1] == '\r' || data[e - 1] == '\n' || data[e - 1] == ' '))
            e--;
        cas_buf_reset(h->value);
        cas_buf_add(h->value, data + s, e - s);
    }
    return len;
}

static cas_rc
get(struct cas_pccs *p, const char *path, const char *header_name, struct cas_buf *body,
    struct cas_buf *header_value, struct cas_err *err)
{
    struct header h = {header_name, header_value};
    char url[URL_MAX];
    CURL *c;
    CURLcode cc;
    long status = 0;

    if (snprintf(url, sizeof(url), "%s%s", p->base, path) >= (int)sizeof(url))
        return cas_err_set(err, CAS_E_INVALID, "PCCS URL is too long");
    if ((c = curl_easy_init()) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Cannot start a PCCS request");
    pthread_mutex_lock(&p->lock);
    p->requests++;
    pthread_mutex_unlock(&p->lock);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, p->allow_http ? "http" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, CAS_PCCS_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK)
        return cas_err_set(err, CAS_E_IO, "PCCS request '%s' failed: %s", path,
                           body->failed ? "the answer is too big" : curl_easy_strerror(cc));
    if (status != 200)
        return cas_err_set(err, CAS_E_IO, "PCCS answered %ld to '%s'", status, path);
    if (header_value != NULL && (header_value->len == 0 || header_value->failed))
        return cas_err_set(err, CAS_E_IO, "PCCS answer to '%s' has no '%s' header", path,
                           header_name);
    return CAS_OK;
}

/* Percent-decoding of an issuer chain header, in place. */
static bool
url_decode(struct cas_buf *b)
{
    size_t o = 0;

    for (size_t i = 0; i < b->len; i++) {
        uint8_t v;
        if (b->buf[i] != '%') {
            b->buf[o++] = b->buf[i];
            continue;
        }
        if (b->len - i < 3 || !cas_hex_decode_exact(b->buf + i + 1, 2, &v, 1))
            return false;
        b->buf[o++] = (char)v;
        i += 2;
    }
    b->len = o;
    b->buf[o] = 0;
    return true;
}

/* A CRL as DER, from DER, PEM or hex. */
static cas_rc
set_crl(struct cas_dcap_collateral *c, enum cas_dcap_field f, struct cas_buf *b,
        struct cas_err *err)
{
    uint8_t *der = NULL;
    cas_rc rc;

    if (b->len > 10 && strncmp(b->buf, "-----BEGIN", 10) == 0) {
        BIO *bio = BIO_new_mem_buf(b->buf, (int)b->len);
        X509_CRL *crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        int n = crl ? i2d_X509_CRL(crl, &der) : -1;
        BIO_free(bio);
        X509_CRL_free(crl);
        if (n <= 0)
            return cas_err_set(err, CAS_E_INVALID, "PCCS '%s' is not a PEM CRL",
                               cas_dcap_field_name(f));
        rc = cas_dcap_collateral_set(c, f, der, (size_t)n, err);
        OPENSSL_free(der);
        return rc;
    }
    if (b->len > 0 && b->len % 2 == 0 && b->buf[0] == '3') { /* hex of DER: "30..." */
        if ((der = cas_malloc(b->len / 2)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "Out of memory for a CRL");
        if (cas_hex_decode_exact(b->buf, b->len, der, b->len / 2)) {
            rc = cas_dcap_collateral_set(c, f, der, b->len / 2, err);
            free(der);
            return rc;
        }
        free(der);
    }
    return cas_dcap_collateral_set(c, f, b->buf, b->len, err);
}

/* One resource: body into field `bf`, its issuer chain header (if any) into `hf`. */
static cas_rc
fetch(struct cas_pccs *p, const char *path, const char *header, enum cas_dcap_field bf,
      enum cas_dcap_field hf, struct cas_dcap_collateral *c, struct cas_err *err)
{
    struct cas_buf body, hval;
    cas_rc rc;

    cas_buf_init(&body, CAS_PCCS_BODY_MAX);
    cas_buf_init(&hval, 64 * 1024);
    if ((rc = get(p, path, header, &body, header ? &hval : NULL, err)) != CAS_OK)
        goto out;
    if (bf == CAS_DCAP_PCK_CRL || bf == CAS_DCAP_ROOT_CA_CRL)
        rc = set_crl(c, bf, &body, err);
    else
        rc = cas_dcap_collateral_set(c, bf, body.buf, body.len, err);
    if (rc == CAS_OK && header != NULL) {
        if (!url_decode(&hval))
            rc = cas_err_set(err, CAS_E_INVALID, "PCCS header '%s' is not URL-encoded", header);
        else
            rc = cas_dcap_collateral_set(c, hf, hval.buf, hval.len, err);
    }
out:
    cas_buf_release(&body);
    cas_buf_release(&hval);
    return rc;
}

static void
narrow(int64_t *until, int64_t t)
{
    if (t < *until)
        *until = t;
}

/* The earliest nextUpdate of the parts; INT64_MIN when one cannot be read. */
static int64_t
expiry(const struct cas_dcap_collateral *c)
{
    static const enum cas_dcap_field crls[] = {CAS_DCAP_PCK_CRL, CAS_DCAP_ROOT_CA_CRL};
    struct cas_dcap_tcb_info *ti = NULL;
    struct cas_dcap_qe_identity *qi = NULL;
    struct cas_err err = {0};
    int64_t until = INT64_MAX;

    if (cas_dcap_tcb_info_parse(c->f[CAS_DCAP_TCB_INFO].p, c->f[CAS_DCAP_TCB_INFO].len, &ti,
                                &err) != CAS_OK ||
        cas_dcap_qe_identity_parse(c->f[CAS_DCAP_QE_IDENTITY].p, c->f[CAS_DCAP_QE_IDENTITY].len,
                                   &qi, &err) != CAS_OK)
        until = INT64_MIN;
    else {
        narrow(&until, ti->next_update);
        narrow(&until, qi->next_update);
    }
    for (size_t i = 0; i < 2 && until != INT64_MIN; i++) {
        X509_CRL *crl = NULL;
        int64_t t;
        if (cas_dcap_der_crl(c->f[crls[i]].p, c->f[crls[i]].len, "CRL", &crl, &err) != CAS_OK ||
            !cas_dcap_asn1_time(X509_CRL_get0_nextUpdate(crl), &t))
            until = INT64_MIN;
        else
            narrow(&until, t);
        X509_CRL_free(crl);
    }
    cas_dcap_tcb_info_free(ti);
    cas_dcap_qe_identity_free(qi);
    return until;
}

static cas_rc
copy_collateral(const struct cas_dcap_collateral *from, struct cas_dcap_collateral *to,
                struct cas_err *err)
{
    cas_rc rc = CAS_OK;

    cas_dcap_collateral_init(to);
    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT && rc == CAS_OK; i++)
        rc = cas_dcap_collateral_set(to, (enum cas_dcap_field)i, from->f[i].p, from->f[i].len, err);
    if (rc == CAS_OK)
        rc = cas_dcap_collateral_seal(to, err);
    if (rc != CAS_OK)
        cas_dcap_collateral_release(to);
    return rc;
}

/* Under the lock: a copy of the entry for key while it holds at at; drops expired ones. */
static bool
cache_lookup(struct cas_pccs *p, const char *key, int64_t at, struct cas_dcap_collateral *out)
{
    struct cas_err err = {0};
    bool found = false;

    for (size_t i = 0; i < p->n;) {
        if (p->slot[i].until <= at) {
            cas_dcap_collateral_release(&p->slot[i].col);
            p->slot[i] = p->slot[--p->n];
            continue;
        }
        if (!found && strcmp(p->slot[i].key, key) == 0)
            found = copy_collateral(&p->slot[i].col, out, &err) == CAS_OK;
        i++;
    }
    return found;
}

static void
cache_store(struct cas_pccs *p, const char *key, const struct cas_dcap_collateral *c, int64_t until)
{
    struct cas_err err = {0};
    size_t at = p->n;

    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->slot[i].key, key) == 0)
            at = i;
    }
    if (at == CACHE_SLOTS) { /* full: the one that expires first goes */
        at = 0;
        for (size_t i = 1; i < p->n; i++) {
            if (p->slot[i].until < p->slot[at].until)
                at = i;
        }
    }
    if (at < p->n)
        cas_dcap_collateral_release(&p->slot[at].col);
    if (copy_collateral(c, &p->slot[at].col, &err) != CAS_OK) {
        if (at < p->n)
            p->slot[at] = p->slot[--p->n];
        return;
    }
    memcpy(p->slot[at].key, key, strlen(key) + 1);
    p->slot[at].until = until;
    if (at == p->n)
        p->n++;
}

cas_rc
cas_pccs_collateral(struct cas_pccs *p, const struct cas_quote *q, int64_t at,
                    struct cas_dcap_collateral *out, struct cas_err *err)
{
    struct cas_dcap_pck_info pck;
    const char *tee = q->tee_type == CAS_DCAP_TEE_TDX ? "tdx" : "sgx";
    char key[48], fmspc[13], path[256];
    bool platform, hit;
    cas_rc rc;

    cas_dcap_collateral_init(out);
    if ((rc = cas_dcap_quote_pck(q, &pck, &platform, err)) != CAS_OK)
        return cas_err_wrap(err, "Cannot tell which collateral the quote needs");
    cas_hex_encode(pck.fmspc, 6, fmspc);
    for (char *s = fmspc; *s; s++) /* PCS spells FMSPCs in upper case */
        *s = (char)(*s >= 'a' && *s <= 'f' ? *s - 'a' + 'A' : *s);
    (void)snprintf(key, sizeof(key), "%s/%s/%s", tee, fmspc, platform ? "platform" : "processor");
    pthread_mutex_lock(&p->lock);
    hit = cache_lookup(p, key, at, out);
    pthread_mutex_unlock(&p->lock);
    if (hit)
        return CAS_OK;
    (void)snprintf(path, sizeof(path), "/%s/certification/v4/tcb?fmspc=%s", tee, fmspc);
    if ((rc = fetch(p, path, "TCB-Info-Issuer-Chain", CAS_DCAP_TCB_INFO,
                    CAS_DCAP_TCB_INFO_ISSUER_CHAIN, out, err)) != CAS_OK)
        goto out;
    (void)snprintf(path, sizeof(path), "/%s/certification/v4/qe/identity", tee);
    if ((rc = fetch(p, path, "SGX-Enclave-Identity-Issuer-Chain", CAS_DCAP_QE_IDENTITY,
                    CAS_DCAP_QE_IDENTITY_ISSUER_CHAIN, out, err)) != CAS_OK)
        goto out;
    (void)snprintf(path, sizeof(path), "/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
                   platform ? "platform" : "processor");
    if ((rc = fetch(p, path, "SGX-PCK-CRL-Issuer-Chain", CAS_DCAP_PCK_CRL,
                    CAS_DCAP_PCK_CRL_ISSUER_CHAIN, out, err)) != CAS_OK ||
        (rc = fetch(p, "/sgx/certification/v4/rootcacrl", NULL, CAS_DCAP_ROOT_CA_CRL,
                    CAS_DCAP_ROOT_CA_CRL, out, err)) != CAS_OK ||
        (rc = cas_dcap_collateral_seal(out, err)) != CAS_OK)
        goto out;
    pthread_mutex_lock(&p->lock);
    cache_store(p, key, out, expiry(out));
    pthread_mutex_unlock(&p->lock);
out:
    if (rc != CAS_OK) {
        cas_dcap_collateral_release(out);
        return cas_err_wrap(err, "Cannot fetch the collateral from '%s'", p->base);
    }
    return CAS_OK;
}
