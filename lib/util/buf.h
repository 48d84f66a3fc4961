/*
 * buf.h - struct cas_buf, a growable byte string with a ceiling chosen at init.
 *
 * Invariants: buf is never NULL after init and always NUL-terminated at len; len <= max; once an
 * append fails (out of memory, or the ceiling), `failed` stays set and later appends do nothing,
 * so a builder checks once at the end. A buffer from cas_buf_init_secret() wipes every block it
 * drops (growth and release). cas_buf_detach() hands the bytes over; the buffer is then empty.
 */
#ifndef CAS_UTIL_BUF_H
#define CAS_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

struct cas_buf {
    char *buf;
    size_t len, cap, max;
    bool failed, wipe;
};

void cas_buf_init(struct cas_buf *b, size_t max);
void cas_buf_init_secret(struct cas_buf *b, size_t max);
void cas_buf_add(struct cas_buf *b, const void *p, size_t n);
void cas_buf_adds(struct cas_buf *b, const char *s);
void cas_buf_addc(struct cas_buf *b, char c);
void cas_buf_addf(struct cas_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends lowercase hex of n bytes. */
void cas_buf_add_hex(struct cas_buf *b, const uint8_t *p, size_t n);
void cas_buf_reset(struct cas_buf *b);
void cas_buf_release(struct cas_buf *b);
/* Returns the malloc'd, terminated bytes (NULL if failed) and empties b; *len gets the length. */
char *cas_buf_detach(struct cas_buf *b, size_t *len);

#endif
