/*
 * reader.h - struct cas_reader, the cursor every parser of untrusted bytes reads through.
 *
 * Invariant: off <= len. Every read checks what is left before it moves (never `off + n > len`:
 * that sum can wrap), moves by exactly its size on success and not at all on failure. A slice
 * (cas_rd_sub) borrows from the same buffer: nothing here allocates or copies more than asked.
 */
#ifndef CAS_UTIL_READER_H
#define CAS_UTIL_READER_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>
#include <string.h>

struct cas_reader {
    const uint8_t *buf;
    size_t len, off;
};

/* A borrowed byte range. */
struct cas_span {
    const uint8_t *buf;
    size_t len;
};

static inline void
cas_rd_init(struct cas_reader *r, const void *buf, size_t len)
{
    r->buf = (const uint8_t *)buf;
    r->len = buf != NULL ? len : 0;
    r->off = 0;
}

static inline size_t
cas_rd_left(const struct cas_reader *r)
{
    return r->len - r->off;
}

static inline bool
cas_rd_u8(struct cas_reader *r, uint8_t *v)
{
    if (r->len - r->off < 1)
        return false;
    *v = r->buf[r->off];
    r->off += 1;
    return true;
}

static inline bool
cas_rd_u16le(struct cas_reader *r, uint16_t *v)
{
    if (r->len - r->off < 2)
        return false;
    *v = (uint16_t)(r->buf[r->off] | r->buf[r->off + 1] << 8);
    r->off += 2;
    return true;
}

static inline bool
cas_rd_u16be(struct cas_reader *r, uint16_t *v)
{
    if (r->len - r->off < 2)
        return false;
    *v = (uint16_t)(r->buf[r->off] << 8 | r->buf[r->off + 1]);
    r->off += 2;
    return true;
}

static inline bool
cas_rd_u32le(struct cas_reader *r, uint32_t *v)
{
    const uint8_t *p;

    if (r->len - r->off < 4)
        return false;
    p = r->buf + r->off;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->off += 4;
    return true;
}

static inline bool
cas_rd_u64le(struct cas_reader *r, uint64_t *v)
{
    uint64_t x = 0;

    if (r->len - r->off < 8)
        return false;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | r->buf[r->off + (size_t)i];
    *v = x;
    r->off += 8;
    return true;
}

/* Copies exactly n bytes out. */
static inline bool
cas_rd_bytes(struct cas_reader *r, void *out, size_t n)
{
    if (r->len - r->off < n)
        return false;
    if (n != 0)
        memcpy(out, r->buf + r->off, n);
    r->off += n;
    return true;
}

/* Borrows the next n bytes as a span. */
static inline bool
cas_rd_span(struct cas_reader *r, size_t n, struct cas_span *out)
{
    if (r->len - r->off < n)
        return false;
    out->buf = r->buf + r->off;
    out->len = n;
    r->off += n;
    return true;
}

/* Borrows the next n bytes as a reader of their own. */
static inline bool
cas_rd_sub(struct cas_reader *r, size_t n, struct cas_reader *sub)
{
    if (r->len - r->off < n)
        return false;
    cas_rd_init(sub, r->buf + r->off, n);
    r->off += n;
    return true;
}

static inline bool
cas_rd_skip(struct cas_reader *r, size_t n)
{
    if (r->len - r->off < n)
        return false;
    r->off += n;
    return true;
}

#endif
