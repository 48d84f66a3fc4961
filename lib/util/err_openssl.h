/* err_openssl.h - cas_err_openssl(): drain OpenSSL's error queue into a cas_err chain. */
#ifndef CAS_UTIL_ERR_OPENSSL_H
#define CAS_UTIL_ERR_OPENSSL_H

#include "cas/err.h"

/*
 * Sets a chain whose cause is OpenSSL's newest queued error (if any) and whose context is fmt;
 * empties the queue either way, so a later call does not report a stale error. Returns rc.
 */
cas_rc cas_err_openssl(struct cas_err *e, cas_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
