/*
 * tls.h - TLS contexts for cas's servers: TLS 1.2 and 1.3 only (1.3 preferred), forward-secret
 * AEAD ciphers, no renegotiation or compression, and client certificates requested but not
 * required and accepted self-signed: a caller's identity is its key hash, not a CA's word.
 */
#ifndef CAS_CRYPTO_TLS_H
#define CAS_CRYPTO_TLS_H

#include <stdint.h>

#include <openssl/ssl.h>
#include <stdbool.h>

#include "cas/err.h"

/* A server context presenting leaf (with its key) and the chain certificates after it. */
cas_rc cas_tls_server_ctx(X509 *leaf, EVP_PKEY *key, X509 *const *chain, size_t chain_count,
                          bool require_client_cert, SSL_CTX **out,
                          struct cas_err *err) CAS_MUST_CHECK;
/* The key hash of the peer's certificate on ssl; false when it sent none. */
bool cas_tls_peer_key_hash(SSL *ssl, uint8_t out[32]);

#endif
