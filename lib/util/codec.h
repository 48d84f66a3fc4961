/*
 * codec.h - strict text encodings of bytes: hex, base64 (standard and URL alphabets), and the
 * Base58Check key-hash form of api.md §1. Decoders take untrusted text: they refuse anything that
 * is not exactly the encoding (wrong characters, wrong length, bad padding, embedded NUL), write
 * at most out_cap bytes, and leave *out_len at 0 on failure.
 */
#ifndef CAS_UTIL_CODEC_H
#define CAS_UTIL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"

/* Lowercase hex of n bytes into out (2n+1 bytes: terminated). */
void cas_hex_encode(const uint8_t *p, size_t n, char *out);
/* Exactly 2*want hex digits, either case, into out[want]. */
bool cas_hex_decode_exact(const char *s, size_t s_len, uint8_t *out, size_t want);

/* Encoded length (without terminator) of n bytes in padded base64. */
size_t cas_b64_encoded_len(size_t n);
/* Base64 of n bytes into out (cas_b64_encoded_len(n)+1 bytes); url: URL alphabet, no padding. */
void cas_b64_encode(const uint8_t *p, size_t n, char *out, bool url);
/* Base64 of n bytes in a new terminated string from cas_wipe_malloc (free it with
 * cas_wipe_free: the bytes may be secret); NULL when out of memory. */
char *cas_b64_alloc(const uint8_t *p, size_t n, bool url);
/* Strict base64 (standard alphabet, padded; url: URL alphabet, padding optional). */
bool cas_b64_decode(const char *s, size_t s_len, uint8_t *out, size_t out_cap, size_t *out_len,
                    bool url);

/*
 * Strict percent-decoding of in[0..len) (a URL path part): %XX only, either case; no '+' as
 * space; a NUL byte, raw or as %00, fails. out gets a terminated string; false when it does not
 * fit in cap bytes.
 */
bool cas_pct_decode(const char *in, size_t len, char *out, size_t cap);

/* The 50-character Base58Check text of a 32-byte key hash (api.md §1), terminated: out[51]. */
void cas_keyhash_to_b58(const uint8_t digest[32], char out[51]);
/* A key hash given as Base58Check (version 0x01, good checksum) or 64 hex, either case. */
cas_rc cas_keyhash_parse(const char *s, uint8_t digest[32], struct cas_err *err) CAS_MUST_CHECK;

#endif
