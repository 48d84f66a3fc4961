/*
 * placeholder.h - the two kinds of `$` text in session values: template variables `$NAME` and
 * `${NAME}` (policy.md §4, replaced by the CLI before validation) and secret placeholders
 * `$$SCONE::name[:format][|escape(json)]$$` / `$$CAS::…$$` (§9, kept in the session and
 * replaced when a service is configured). Both work on plain strings: no YAML, no allocation
 * beyond the caller's buffer.
 */
#ifndef CAS_POLICY_PLACEHOLDER_H
#define CAS_POLICY_PLACEHOLDER_H

#include <stddef.h>

#include <stdbool.h>

#include "cas/err.h"
#include "util/buf.h"

enum cas_policy_format {
    CAS_FMT_DEFAULT, /* no format written: the kind's first (§9 table) */
    CAS_FMT_BIN,
    CAS_FMT_HEX,
    CAS_FMT_BASE64,
    CAS_FMT_BASE64URL,
    CAS_FMT_BASE32,
    CAS_FMT_BASE32NOPAD,
    CAS_FMT_PKCS8_PEM, /* pem, pkcs8:pem */
    CAS_FMT_PKCS8_DER, /* der, pkcs8:der */
    CAS_FMT_SPKI_PEM,
    CAS_FMT_SPKI_DER,
    CAS_FMT_CRT_PEM, /* crt, crt:pem */
    CAS_FMT_CRT_DER,
    CAS_FMT_PRIVKEY_PEM, /* privatekey, privatekey:pem, privatekey:pkcs8:pem */
    CAS_FMT_PRIVKEY_DER, /* privatekey:der, privatekey:pkcs8:der */
    CAS_FMT_CHAIN,
    CAS_FMT_PKCS12, /* pkcs12-with-private-key */
    /* old suffixes (deprecated by SCONE): `.crt` = crt, `.key` = privatekey, `.hex` = hex */
    CAS_FMT_OLD_CHAIN, /* `.chain`: root first, then intermediates, then the certificate */
};

#define CAS_POLICY_PH_NAME_MAX 128

struct cas_policy_placeholder {
    size_t offset, len;                      /* its bytes in the text, `$$` to `$$` */
    char name[CAS_POLICY_PH_NAME_MAX + 1];   /* as written, before `:` (may hold an old suffix) */
    char secret[CAS_POLICY_PH_NAME_MAX + 1]; /* the secret it names, once resolved (§9 `a.b`) */
    enum cas_policy_format format;
    bool has_format;  /* `:FORMAT` written */
    bool old_suffix;  /* resolved as NAME.SUFFIX */
    bool escape_json; /* `|escape(json)` */
    bool cas_prefix;  /* `$$CAS::` rather than `$$SCONE::` */
};

/*
 * Finds the next placeholder in s[*pos..len). Returns CAS_OK with *found false when there is
 * none (pos moves to len), or with *found true, *ph filled in and *pos just past it. A malformed
 * placeholder (unterminated, bad name or format) is CAS_E_INVALID with the reason, and a known
 * form cas does not provide yet (`self::`, pgp formats) CAS_E_UNSUPPORTED; *pos then moves past
 * its start, so a caller can report and go on.
 */
cas_rc cas_policy_placeholder_next(const char *s, size_t len, size_t *pos, bool *found,
                                   struct cas_policy_placeholder *ph,
                                   struct cas_err *err) CAS_MUST_CHECK;

/* Whether s[0..len) is exactly one placeholder (a structural position, §9). */
bool cas_policy_is_whole_placeholder(const char *s, size_t len);

/* The format's name as written in the canonical long form (`crt:pem`), for messages. */
const char *cas_policy_format_name(enum cas_policy_format f);

/* Whether the format produces bytes that are not text (§9's asterisk). */
bool cas_policy_format_is_binary(enum cas_policy_format f);

/* Where template variables come from (policy.md §4). */
struct cas_policy_vars {
    const char *const *defs; /* "NAME=VALUE" (-e), the last definition of a name wins */
    size_t def_count;
    const char *const *env; /* NULL-terminated "NAME=VALUE" list (--use-env), or NULL */
};

/*
 * Appends s[0..len) to out with `$NAME` and `${NAME}` replaced from vars; `$$` is copied as is
 * (both characters), any other `$` too. A variable with no value: CAS_E_NOTFOUND, its name in
 * missing (terminated, truncated to missing_cap). out's ceiling bounds the result (CAS_E_TOOBIG).
 */
cas_rc cas_policy_vars_expand(const char *s, size_t len, const struct cas_policy_vars *vars,
                              struct cas_buf *out, char *missing, size_t missing_cap,
                              struct cas_err *err) CAS_MUST_CHECK;

/* Whether s[0..len) holds a `$NAME` or `${NAME}` reference at all. */
bool cas_policy_vars_present(const char *s, size_t len);

#endif
