/*
 * binding.h - the report data that bind evidence to a TLS connection (api.md §2.3, §2.4): what
 * casd puts into its own quotes and what a verifier recomputes from the certificates it saw.
 */
#ifndef CAS_CRYPTO_BINDING_H
#define CAS_CRYPTO_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <stdbool.h>

/*
 * CAS evidence: SHA-256("CAS-ATTEST-1" || 0x00 || nonce || SHA-256(root SPKI) ||
 * SHA-256(intermediate SPKI) || SHA-256(leaf SPKI)) followed by 32 zero bytes.
 */
bool cas_binding_cas(const uint8_t *nonce, size_t nonce_len, X509 *root, X509 *intermediate,
                     X509 *leaf, uint8_t rd[64]);

/*
 * A running casd's evidence in the attested join (docs/operations.md): SHA-256("CAS-JOIN-1" ||
 * 0x00 || nonce || client_key_hash || SHA-256(root SPKI)) followed by 32 zero bytes, where nonce
 * is the newcomer's and client_key_hash the SHA-256 of the SubjectPublicKeyInfo of the client
 * certificate on the connection: only the newcomer holding that key can have asked for it.
 */
bool cas_binding_join(const uint8_t nonce[32], const uint8_t client_key_hash[32], X509 *root,
                      uint8_t rd[64]);

#endif
