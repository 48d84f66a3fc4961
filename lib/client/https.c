/*
 * https.c - libcurl calls with cas's own trust decision (https.h). curl verifies nothing itself
 * here: an OpenSSL certificate-verify callback installed through CURLOPT_SSL_CTX_FUNCTION records
 * the served chain and decides against the pin, so no system CA and no hostname ever count.
 */
#include "client/https.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/identity.h"
#include "util/alloc.h"
#include "util/buf.h"

struct call {
    const struct cas_https_request *req;
    struct cas_https_response *resp;
    struct cas_buf body;
};

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
cas_https_global_init(void)
{
    pthread_once(&g_curl_once, curl_init_once);
}

bool
cas_https_chain_pinned(X509 *leaf, STACK_OF(X509) * untrusted, const X509 *root)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *v = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    bool ok = false;

    if (store != NULL && v != NULL && leaf != NULL &&
        X509_STORE_add_cert(store, (X509 *)(uintptr_t)root) == 1 &&
        X509_STORE_CTX_init(v, store, leaf, untrusted) == 1) {
        param = X509_STORE_CTX_get0_param(v);
        ok = X509_VERIFY_PARAM_set1_host(param, "cas", 3) == 1 &&
             X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER) == 1 &&
             X509_verify_cert(v) == 1;
    }
    X509_STORE_CTX_free(v);
    X509_STORE_free(store);
    ERR_clear_error();
    return ok;
}

/* Replaces OpenSSL's chain verification for this connection: records the served chain, then
 * decides by the pin (or, at first contact, leaves the decision to the caller). */
static int
verify_cb(X509_STORE_CTX *ctx, void *arg)
{
    struct call *c = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
    STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(ctx);

    sk_X509_pop_free(c->resp->chain, X509_free);
    c->resp->chain = sk_X509_new_null();
    if (c->resp->chain == NULL || leaf == NULL)
        return 0;
    X509_up_ref(leaf);
    sk_X509_push(c->resp->chain, leaf);
    for (int i = 0; untrusted != NULL && i < sk_X509_num(untrusted); i++) {
        X509 *x = sk_X509_value(untrusted, i);
        if (X509_cmp(x, leaf) == 0)
            continue;
        X509_up_ref(x);
        sk_X509_push(c->resp->chain, x);
    }
    if (c->req->pinned_root == NULL)
        return 1; /* first contact: the caller checks what was served */
    if (cas_https_chain_pinned(leaf, untrusted, c->req->pinned_root))
        return 1;
    c->resp->pin_mismatch = true;
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_UNTRUSTED);
    return 0;
}

static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *arg)
{
    struct call *c = arg;
    SSL_CTX *ctx = sslctx;
    (void)curl;
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, c);
    if (c->req->identity != NULL && c->req->identity->key != NULL) {
        /* The key goes to OpenSSL as an object: no PEM copy of it lands in curl's heap. */
        if (SSL_CTX_use_certificate(ctx, c->req->identity->cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, c->req->identity->key) != 1)
            return CURLE_SSL_CERTPROBLEM;
    }
    return CURLE_OK;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    size_t len = size * n;

    if (c->body.len + len > CAS_HTTPS_MAX_BODY)
        return 0; /* curl then fails the transfer: CURLE_WRITE_ERROR */
    cas_buf_add(&c->body, p, len);
    return c->body.failed ? 0 : len;
}

static bool
retryable(CURLcode code)
{
    return code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT ||
           code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_GOT_NOTHING ||
           code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR;
}

static CURLcode
attempt(struct call *c, char *errbuf)
{
    const struct cas_https_request *req = c->req;
    struct curl_slist *hdrs = NULL;
    char ct[128];
    CURL *curl = curl_easy_init();
    CURLcode code;

    if (curl == NULL)
        return CURLE_OUT_OF_MEMORY;
    cas_buf_reset(&c->body);
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout_s > 0 ? req->timeout_s : 30L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L); /* decided by verify_cb */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L); /* the pin, not the address */
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, c);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    if (req->body != NULL || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (req->content_type != NULL &&
        snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type) < (int)sizeof(ct))
        hdrs = curl_slist_append(hdrs, ct);
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    code = curl_easy_perform(curl);
    if (code == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &c->resp->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    return code;
}

cas_rc
cas_https_do(const struct cas_https_request *req, struct cas_https_response *resp,
             struct cas_err *err)
{
    struct call c = {req, resp, {0}};
    char errbuf[CURL_ERROR_SIZE];
    CURLcode code;
    unsigned delay = 1;

    memset(resp, 0, sizeof(*resp));
    cas_https_global_init();
    cas_buf_init(&c.body, CAS_HTTPS_MAX_BODY);
    for (unsigned i = 0;; i++) {
        code = attempt(&c, errbuf);
        if (code == CURLE_OK || !retryable(code) || i >= req->retries)
            break;
        sleep(delay);
        delay = delay < 32 ? delay * 2 : delay;
    }
    if (code != CURLE_OK) {
        cas_buf_release(&c.body);
        if (resp->pin_mismatch)
            return cas_err_set(err, CAS_E_DENIED,
                               "the server's certificate does not chain to the pin");
        return cas_err_set(err, code == CURLE_WRITE_ERROR ? CAS_E_TOOBIG : CAS_E_IO, "%s",
                           errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code));
    }
    resp->body = cas_buf_detach(&c.body, &resp->body_len);
    if (resp->body == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the answer");
    return CAS_OK;
}

void
cas_https_response_release(struct cas_https_response *resp)
{
    free(resp->body);
    sk_X509_pop_free(resp->chain, X509_free);
    memset(resp, 0, sizeof(*resp));
}

X509 *
cas_https_chain_root(const char *pem, size_t len)
{
    BIO *bio = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
    X509 *x, *root = NULL;

    if (bio == NULL)
        return NULL;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (root == NULL && X509_check_issued(x, x) == X509_V_OK)
            root = x;
        else
            X509_free(x);
    }
    ERR_clear_error();
    BIO_free(bio);
    return root;
}
