/* buf.c - struct cas_buf: see buf.h for the invariants. */
#include "util/buf.h"

#include <stdarg.h>

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static char g_empty[1];

void
cas_buf_init(struct cas_buf *b, size_t max)
{
    b->buf = g_empty; /* a shared empty string until the first append: init cannot fail */
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = false;
    b->wipe = false;
}

void
cas_buf_init_secret(struct cas_buf *b, size_t max)
{
    cas_buf_init(b, max);
    b->wipe = true;
}

static bool
grow(struct cas_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return false;
    if (extra > b->max - b->len) {
        b->failed = true;
        return false;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if ((p = cas_malloc(cap)) == NULL) {
        b->failed = true;
        return false;
    }
    memcpy(p, b->buf, b->len + 1);
    if (b->cap != 0) {
        if (b->wipe)
            OPENSSL_cleanse(b->buf, b->cap);
        free(b->buf);
    }
    b->buf = p;
    b->cap = cap;
    return true;
}

void
cas_buf_add(struct cas_buf *b, const void *p, size_t n)
{
    if (n == 0 || !grow(b, n))
        return;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void
cas_buf_adds(struct cas_buf *b, const char *s)
{
    cas_buf_add(b, s, strlen(s));
}

void
cas_buf_addc(struct cas_buf *b, char c)
{
    cas_buf_add(b, &c, 1);
}

void
cas_buf_addf(struct cas_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    size_t room;

    if (b->failed)
        return;
    room = b->cap > b->len ? b->cap - b->len : 0;
    va_start(ap, fmt);
    n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < room) {
        b->len += (size_t)n;
        return;
    }
    if (!grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
cas_buf_add_hex(struct cas_buf *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    if (n > SIZE_MAX / 2 || !grow(b, n * 2))
        return;
    for (size_t i = 0; i < n; i++) {
        b->buf[b->len++] = hex[p[i] >> 4];
        b->buf[b->len++] = hex[p[i] & 15];
    }
    b->buf[b->len] = '\0';
}

void
cas_buf_reset(struct cas_buf *b)
{
    if (b->cap != 0 && b->wipe)
        OPENSSL_cleanse(b->buf, b->len);
    b->len = 0;
    b->failed = false;
    if (b->cap != 0)
        b->buf[0] = '\0';
}

void
cas_buf_release(struct cas_buf *b)
{
    if (b->cap != 0) {
        if (b->wipe)
            OPENSSL_cleanse(b->buf, b->cap);
        free(b->buf);
    }
    cas_buf_init(b, b->max);
}

char *
cas_buf_detach(struct cas_buf *b, size_t *len)
{
    char *p;

    if (b->failed) {
        cas_buf_release(b);
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (b->cap == 0 && !grow(b, 0)) { /* an empty buffer still hands over a real string */
        cas_buf_release(b);
        return NULL;
    }
    p = b->buf;
    if (len != NULL)
        *len = b->len;
    cas_buf_init(b, b->max);
    return p;
}
