/*
 * enclave.h - the launcher's calls to casd's enclave API (api.md §2.4): HTTPS with a client
 * certificate (the launcher's ephemeral key, bound into its evidence), casd's chain verified
 * against the root of CAS_CERT with DNS:cas on the leaf, and every call of one struct
 * cas_enclave_conn on the same TLS connection (the render token is bound to it).
 * Answers may hold secrets (environment, injection files): they come back in a struct
 * cas_secret, and every buffer that held them is wiped. Not thread safe.
 */
#ifndef CAS_CLIENT_ENCLAVE_H
#define CAS_CLIENT_ENCLAVE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cas/err.h"

struct cas_secret;
struct cas_enclave_conn;

#define CAS_ENCLAVE_MAX_ANSWER ((size_t)64 * 1024 * 1024)

/*
 * A connection to base_url ("https://host:port", no path). root is the trust anchor, key and
 * cert the client identity: all three are up-referenced, not copied. Nothing is sent yet.
 */
cas_rc cas_enclave_conn_new(const char *base_url, X509 *root, EVP_PKEY *key, X509 *cert,
                            struct cas_enclave_conn **out, struct cas_err *err) CAS_MUST_CHECK;

/*
 * POSTs body (JSON) to base_url + path. The first call connects; later calls must reuse that
 * connection, else CAS_E_IO ("the connection ... was not kept"). On an HTTP answer of any status
 * *status is set and *answer holds its body; a TLS failure to trust casd is CAS_E_DENIED.
 */
cas_rc cas_enclave_post(struct cas_enclave_conn *c, const char *path, const void *body,
                        size_t body_len, long *status, struct cas_secret **answer,
                        struct cas_err *err) CAS_MUST_CHECK;

void cas_enclave_conn_free(struct cas_enclave_conn *c);

#endif
