/*
 * secret.h - struct cas_secret, the only type that holds key material and secret values.
 *
 * Opaque: no accessor returns char *, so printf("%s", secret) and CAS_LF_STR(secret) cannot
 * compile. The bytes live in their own page-aligned mapping, locked in RAM (mlock; one warning
 * when RLIMIT_MEMLOCK is too low), excluded from core dumps (MADV_DONTDUMP), and wiped with
 * OPENSSL_cleanse before they are unmapped. Reading them is cas_secret_peek(): grep-able, reviewed.
 * Not thread safe per object; distinct objects may be used from distinct threads.
 */
#ifndef CAS_UTIL_SECRET_H
#define CAS_UTIL_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"

struct cas_secret;

/* A zeroed secret of len bytes (len may be 0). */
cas_rc cas_secret_new(size_t len, struct cas_secret **out, struct cas_err *err) CAS_MUST_CHECK;
/* A secret holding a copy of p[0..len). The caller still wipes its own copy. */
cas_rc cas_secret_from(const void *p, size_t len, struct cas_secret **out,
                       struct cas_err *err) CAS_MUST_CHECK;
/* Fresh random bytes from OpenSSL's CSPRNG. */
cas_rc cas_secret_random(size_t len, struct cas_secret **out, struct cas_err *err) CAS_MUST_CHECK;
const uint8_t *cas_secret_peek(const struct cas_secret *s, size_t *len);
/* Writable bytes, for filling a new secret (a decryption, a key export). */
uint8_t *cas_secret_data(struct cas_secret *s);
size_t cas_secret_len(const struct cas_secret *s);
/* Shrinks the visible length (the bytes past it are wiped); len must not grow. */
void cas_secret_truncate(struct cas_secret *s, size_t len);
/* Constant-time equality of two secrets' bytes. */
int cas_secret_equal(const struct cas_secret *a, const struct cas_secret *b);
/* Wipes and frees; NULL is fine. */
void cas_secret_free(struct cas_secret *s);

/* Test hook: called by cas_secret_free after the wipe, before the pages go, with the block. */
void cas_secret_set_release_hook(void (*hook)(const uint8_t *p, size_t cap));

#endif
