/*
 * err.c - the message chain of struct cas_err. Formats into fixed arrays only: an error path
 * must not fail for want of memory, and a message longer than CAS_ERR_LEN is cut, never lost.
 */
#include "cas/err.h"

#include <stdarg.h>

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#include "util/err_openssl.h"

static void vput(struct cas_err *e, unsigned slot, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
vput(struct cas_err *e, unsigned slot, const char *fmt, va_list ap)
{
    int n = vsnprintf(e->msg[slot], CAS_ERR_LEN, fmt, ap);

    if (n < 0)
        (void)snprintf(e->msg[slot], CAS_ERR_LEN, "(message could not be formatted)");
}

cas_rc
cas_err_set(struct cas_err *e, cas_rc rc, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return rc;
    e->rc = rc;
    e->n = 1;
    va_start(ap, fmt);
    vput(e, 0, fmt, ap);
    va_end(ap);
    return rc;
}

cas_rc
cas_err_wrap(struct cas_err *e, const char *fmt, ...)
{
    va_list ap;
    unsigned slot;

    if (e == NULL)
        return CAS_E_INTERNAL;
    if (e->rc == CAS_OK) /* wrapping nothing is a bug; keep it visible */
        e->rc = CAS_E_INTERNAL;
    if (e->n < CAS_ERR_DEPTH) {
        slot = e->n++;
    } else {
        /* Full: keep the innermost cause and the outer context, drop the middle. */
        memmove(e->msg[1], e->msg[2], (size_t)(CAS_ERR_DEPTH - 2) * CAS_ERR_LEN);
        slot = CAS_ERR_DEPTH - 1;
    }
    va_start(ap, fmt);
    vput(e, slot, fmt, ap);
    va_end(ap);
    return e->rc;
}

const char *
cas_err_get(const struct cas_err *e, unsigned i)
{
    if (e == NULL || i >= e->n)
        return NULL;
    return e->msg[e->n - 1 - i];
}

void
cas_err_join(const struct cas_err *e, char *buf, size_t len)
{
    size_t off = 0;
    const char *m;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (unsigned i = 0; e != NULL && (m = cas_err_get(e, i)) != NULL; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ": " : "", m);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
}

void
cas_err_clear(struct cas_err *e)
{
    if (e == NULL)
        return;
    e->rc = CAS_OK;
    e->n = 0;
    e->msg[0][0] = '\0';
}

const char *
cas_rc_name(cas_rc rc)
{
    switch (rc) {
    case CAS_OK:
        return "ok";
    case CAS_E_NOMEM:
        return "out of memory";
    case CAS_E_INVALID:
        return "invalid";
    case CAS_E_DENIED:
        return "denied";
    case CAS_E_NOTFOUND:
        return "not found";
    case CAS_E_CONFLICT:
        return "conflict";
    case CAS_E_TOOBIG:
        return "too big";
    case CAS_E_UNSUPPORTED:
        return "unsupported";
    case CAS_E_IO:
        return "i/o";
    case CAS_E_CRYPTO:
        return "crypto";
    case CAS_E_INTERNAL:
        return "internal";
    }
    return "unknown";
}

cas_rc
cas_err_openssl(struct cas_err *e, cas_rc rc, const char *fmt, ...)
{
    unsigned long code;
    unsigned long last = 0;
    char reason[256];
    va_list ap;

    /* The queue's oldest entry is usually the root cause; the newest is the best summary. */
    while ((code = ERR_get_error()) != 0)
        last = code;
    if (last != 0) {
        ERR_error_string_n(last, reason, sizeof(reason));
        (void)cas_err_set(e, rc, "%s", reason);
        if (e == NULL)
            return rc;
        if (e->n < CAS_ERR_DEPTH) {
            va_start(ap, fmt);
            vput(e, e->n++, fmt, ap);
            va_end(ap);
        }
        return rc;
    }
    if (e == NULL)
        return rc;
    e->rc = rc;
    e->n = 1;
    va_start(ap, fmt);
    vput(e, 0, fmt, ap);
    va_end(ap);
    return rc;
}
