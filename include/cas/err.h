/*
 * err.h - the one error type of libcas: a result code plus a chain of messages.
 *
 * Every fallible function returns cas_rc and takes `struct cas_err *err` last. The chain holds
 * the innermost cause in msg[0] and each caller's context after it; cas_err_get() reads it the
 * way people and the API's {"msg": [...]} want it, outermost ("what failed") first. Messages
 * never carry a secret, key, token or request body.
 */
#ifndef CAS_ERR_H
#define CAS_ERR_H

#include <stddef.h>

#define CAS_MUST_CHECK __attribute__((warn_unused_result))

#define CAS_ERR_DEPTH 8
#define CAS_ERR_LEN 512

typedef enum cas_rc {
    CAS_OK = 0,
    CAS_E_NOMEM,       /* out of memory or over a configured ceiling: 500 */
    CAS_E_INVALID,     /* the input is wrong: 400 */
    CAS_E_DENIED,      /* not allowed: 403 */
    CAS_E_NOTFOUND,    /* 404 */
    CAS_E_CONFLICT,    /* conflicts with stored state: 409 */
    CAS_E_TOOBIG,      /* over a size limit: 413 */
    CAS_E_UNSUPPORTED, /* recognised but not (yet) provided: 422 or "not supported" */
    CAS_E_IO,          /* file, database or network I/O failed: 500/503 */
    CAS_E_CRYPTO,      /* a cryptographic operation or check failed */
    CAS_E_INTERNAL,    /* a bug: 500 */
} cas_rc;

struct cas_err {
    cas_rc rc;
    unsigned n;                           /* messages held, at most CAS_ERR_DEPTH */
    char msg[CAS_ERR_DEPTH][CAS_ERR_LEN]; /* innermost first */
};

/* Starts a new chain with one message; returns rc. */
cas_rc cas_err_set(struct cas_err *e, cas_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds the caller's context ("what failed") around the chain; returns e->rc. */
cas_rc cas_err_wrap(struct cas_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Message i counted from the outermost (0 = what failed); NULL past the end. */
const char *cas_err_get(const struct cas_err *e, unsigned i);
/* The whole chain on one line, outermost first, joined by ": ", into buf (always terminated). */
void cas_err_join(const struct cas_err *e, char *buf, size_t len);
/* Clears e to CAS_OK with no message. */
void cas_err_clear(struct cas_err *e);
/* The short name of a code ("invalid", "denied", ...). */
const char *cas_rc_name(cas_rc rc);

#endif
