/*
 * enclave.c - the enclave API connection (enclave.h). One curl easy handle per struct
 * cas_enclave_conn keeps its connection between calls (no FORBID_REUSE, HTTP/1.1 keep-alive), and
 * CURLINFO_NUM_CONNECTS proves it: a later call that had to connect again fails, since casd binds
 * the render token to the connection's client key. casd's chain is decided by an OpenSSL verify
 * callback against the CAS_CERT root only; no system CA and no address ever count (api.md §4).
 */
#include "client/enclave.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/https.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/secret.h"

struct cas_enclave_conn {
    CURL *curl;
    struct curl_slist *headers;
    char *base_url;
    X509 *root;
    EVP_PKEY *key;
    X509 *cert;
    struct cas_buf answer; /* secret buffer: wiped as it grows and when released */
    bool untrusted;        /* the verify callback refused casd's chain */
    unsigned calls;
    char errbuf[CURL_ERROR_SIZE];
};

/* casd's leaf must chain to the CAS_CERT root and name DNS:cas, whatever address was dialled. */
static int
check_casd_chain(X509_STORE_CTX *ctx, void *arg)
{
    struct cas_enclave_conn *c = arg;

    if (cas_https_chain_pinned(X509_STORE_CTX_get0_cert(ctx), X509_STORE_CTX_get0_untrusted(ctx),
                               c->root))
        return 1;
    c->untrusted = true;
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_UNTRUSTED);
    return 0;
}

static CURLcode
setup_tls(CURL *curl, void *sslctx, void *arg)
{
    struct cas_enclave_conn *c = arg;
    SSL_CTX *ctx = sslctx;

    (void)curl;
    SSL_CTX_set_cert_verify_callback(ctx, check_casd_chain, c);
    /* The key goes to OpenSSL as an object: no PEM copy of it lands in curl's heap. */
    if (SSL_CTX_use_certificate(ctx, c->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1)
        return CURLE_SSL_CERTPROBLEM;
    return CURLE_OK;
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
    struct cas_enclave_conn *c = arg;
    size_t len = size * n;

    cas_buf_add(&c->answer, p, len);
    return c->answer.failed ? 0 : len; /* 0: curl fails the transfer (over the ceiling) */
}

cas_rc
cas_enclave_conn_new(const char *base_url, X509 *root, EVP_PKEY *key, X509 *cert,
                     struct cas_enclave_conn **out, struct cas_err *err)
{
    struct cas_enclave_conn *c;
    CURL *h;

    *out = NULL;
    cas_https_global_init();
    if ((c = cas_calloc(1, sizeof(*c))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the enclave API connection");
    cas_buf_init_secret(&c->answer, CAS_ENCLAVE_MAX_ANSWER);
    if ((c->base_url = cas_strdup(base_url)) == NULL || (c->curl = curl_easy_init()) == NULL ||
        (c->headers = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
        cas_enclave_conn_free(c);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the enclave API connection");
    }
    X509_up_ref(root);
    c->root = root;
    EVP_PKEY_up_ref(key);
    c->key = key;
    X509_up_ref(cert);
    c->cert = cert;
    h = c->curl;
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L); /* decided by check_casd_chain */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L); /* DNS:cas, not the address */
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, setup_tls);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
    /* "Expect:" off: a 100-continue round trip buys nothing for bodies this small. */
    c->headers = curl_slist_append(c->headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    *out = c;
    return CAS_OK;
}

cas_rc
cas_enclave_post(struct cas_enclave_conn *c, const char *path, const void *body, size_t body_len,
                 long *status, struct cas_secret **answer, struct cas_err *err)
{
    char url[1024];
    long connects = 0;
    int n;
    CURLcode code;
    cas_rc rc;

    *status = 0;
    *answer = NULL;
    n = snprintf(url, sizeof(url), "%s%s", c->base_url, path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return cas_err_set(err, CAS_E_INVALID, "the enclave API address is too long");
    cas_buf_reset(&c->answer);
    c->errbuf[0] = '\0';
    c->untrusted = false;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    code = curl_easy_perform(c->curl);
    if (code != CURLE_OK) {
        if (c->untrusted)
            return cas_err_set(
                err, CAS_E_DENIED,
                "the CAS at '%s' has no certificate for DNS:cas from CAS_CERT's root", c->base_url);
        return cas_err_set(err, code == CURLE_WRITE_ERROR ? CAS_E_TOOBIG : CAS_E_IO,
                           "cannot reach the CAS at '%s': %s", c->base_url,
                           c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(code));
    }
    curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects);
    if (c->calls++ > 0 && connects != 0)
        return cas_err_set(err, CAS_E_IO, "the connection to the CAS at '%s' was not kept for '%s'",
                           c->base_url, path);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if ((rc = cas_secret_from(c->answer.buf, c->answer.len, answer, err)) != CAS_OK)
        return rc;
    cas_buf_reset(&c->answer);
    return CAS_OK;
}

void
cas_enclave_conn_free(struct cas_enclave_conn *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    cas_buf_release(&c->answer);
    X509_free(c->root);
    EVP_PKEY_free(c->key);
    X509_free(c->cert);
    free(c->base_url);
    free(c);
}
