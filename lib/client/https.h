/*
 * https.h - the CLI's HTTPS calls to a CAS (libcurl). Trust is one of:
 *  - a pin: the server's chain must verify to the pinned root certificate and its leaf must carry
 *    DNS:cas; the address is not matched (the pin is the key, api.md §3);
 *  - a chain file (--cas-cert): the same check against the self-signed root in that file;
 *  - none (cas attest's first contact): anything is accepted and the served chain is recorded
 *    so the caller can check that the evidence binds it.
 * The served chain (leaf first) is always returned. Connection errors and timeouts are retried
 * after 1, 2, 4 ... seconds, an HTTP answer never. Response bodies are capped at 16 MiB.
 */
#ifndef CAS_CLIENT_HTTPS_H
#define CAS_CLIENT_HTTPS_H

#include <stddef.h>

#include <openssl/x509.h>
#include <stdbool.h>

#include "cas/err.h"

struct cas_cli_identity;

#define CAS_HTTPS_MAX_BODY (16 * 1024 * 1024)

struct cas_https_request {
    const char *method; /* "GET", "POST", "DELETE" */
    const char *url;    /* https://host:port/path */
    const void *body;
    size_t body_len;
    const char *content_type;
    unsigned retries;                        /* extra attempts after connection errors */
    long timeout_s;                          /* whole request; 0: 30 s */
    const X509 *pinned_root;                 /* NULL: trust none (the chain is recorded) */
    const struct cas_cli_identity *identity; /* client certificate, or NULL */
};

struct cas_https_response {
    long status;
    char *body; /* NUL-terminated, malloc'd */
    size_t body_len;
    STACK_OF(X509) * chain; /* as served, leaf first */
    bool pin_mismatch;      /* the TLS failure was our pin check */
};

cas_rc cas_https_do(const struct cas_https_request *req, struct cas_https_response *resp,
                    struct cas_err *err) CAS_MUST_CHECK;
void cas_https_response_release(struct cas_https_response *resp);

/*
 * The trust decision of every connection to a CAS: leaf, with the certificates the peer sent
 * after it, chains to root and names DNS:cas (whatever address was dialled), for TLS server use.
 */
bool cas_https_chain_pinned(X509 *leaf, STACK_OF(X509) * untrusted, const X509 *root);
/* curl_global_init, once per process. */
void cas_https_global_init(void);

/* The self-signed certificate of a PEM chain (the trust anchor of --cas-cert FILE), or NULL. */
X509 *cas_https_chain_root(const char *pem, size_t len);

#endif
