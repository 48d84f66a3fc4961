/*
 * seal.h - authenticated encryption at rest: AES-256-GCM under a 32-byte sealing key, a fresh
 * 96-bit random nonce per value, and associated data naming what the value is (so a sealed value
 * moved to another row or name does not open). Layout of a sealed blob:
 *   "CS1" ‖ nonce (12) ‖ ciphertext ‖ tag (16)
 * Opening gives the plaintext as a struct cas_secret. Thread safe.
 */
#ifndef CAS_CRYPTO_SEAL_H
#define CAS_CRYPTO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"

struct cas_secret;

#define CAS_SEAL_KEY_LEN 32
#define CAS_SEAL_OVERHEAD (3 + 12 + 16)

/* Seals plain under key with aad; *out is malloc'd (ciphertext is not secret), *out_len set. */
cas_rc cas_seal(const struct cas_secret *key, const void *aad, size_t aad_len,
                const struct cas_secret *plain, uint8_t **out, size_t *out_len,
                struct cas_err *err) CAS_MUST_CHECK;
/* Opens a sealed blob; CAS_E_CRYPTO if the key, the aad or any byte differs. */
cas_rc cas_unseal(const struct cas_secret *key, const void *aad, size_t aad_len,
                  const uint8_t *sealed, size_t sealed_len, struct cas_secret **out,
                  struct cas_err *err) CAS_MUST_CHECK;

#endif
