/*
 * policy_template.c - template variables (policy.md §4) and secret placeholders (§9) in plain
 * strings. Pure text scanning: knows nothing of YAML or of which secrets exist (policy_check.c
 * resolves names and checks formats against kinds).
 */
#include <string.h>

#include "policy/placeholder.h"

static bool
is_var_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_var_char(char c)
{
    return is_var_start(c) || (c >= '0' && c <= '9');
}

/* Segment characters of a secret name (policy.md §3 Names). */
static bool
is_name_char(char c)
{
    return is_var_char(c) || c == '.' || c == '~' || c == '-';
}

/*
 * At s[i] == '$': the length of a variable reference and its name's span, or 0 when the `$`
 * starts no variable (`$$`, `$1`, `${` without a valid name and `}`).
 */
static size_t
var_ref(const char *s, size_t len, size_t i, size_t *name_off, size_t *name_len)
{
    size_t j = i + 1;

    if (j >= len)
        return 0;
    if (s[j] == '{') {
        size_t k = j + 1;
        if (k >= len || !is_var_start(s[k]))
            return 0;
        while (k < len && is_var_char(s[k]))
            k++;
        if (k >= len || s[k] != '}')
            return 0;
        *name_off = j + 1;
        *name_len = k - (j + 1);
        return k + 1 - i;
    }
    if (!is_var_start(s[j]))
        return 0;
    while (j < len && is_var_char(s[j]))
        j++;
    *name_off = i + 1;
    *name_len = j - (i + 1);
    return j - i;
}

static const char *
lookup_list(const char *const *list, size_t n, bool last_wins, const char *name, size_t name_len)
{
    const char *found = NULL;

    for (size_t i = 0; i < n; i++) {
        const char *d = list[i];
        if (d == NULL)
            break;
        if (strncmp(d, name, name_len) == 0 && d[name_len] == '=') {
            found = d + name_len + 1;
            if (!last_wins)
                return found;
        }
    }
    return found;
}

static const char *
lookup_var(const struct cas_policy_vars *vars, const char *name, size_t name_len)
{
    const char *v = NULL;

    if (vars == NULL)
        return NULL;
    if (vars->defs != NULL)
        v = lookup_list(vars->defs, vars->def_count, true, name, name_len);
    if (v == NULL && vars->env != NULL) {
        size_t n = 0;
        while (vars->env[n] != NULL)
            n++;
        v = lookup_list(vars->env, n, false, name, name_len);
    }
    return v;
}

bool
cas_policy_vars_present(const char *s, size_t len)
{
    size_t off, nlen;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != '$')
            continue;
        if (i + 1 < len && s[i + 1] == '$') {
            i++;
            continue;
        }
        if (var_ref(s, len, i, &off, &nlen) != 0)
            return true;
    }
    return false;
}

cas_rc
cas_policy_vars_expand(const char *s, size_t len, const struct cas_policy_vars *vars,
                       struct cas_buf *out, char *missing, size_t missing_cap, struct cas_err *err)
{
    size_t i = 0, start = 0;

    if (missing_cap > 0)
        missing[0] = '\0';
    while (i < len) {
        size_t ref, off = 0, nlen = 0;
        const char *v;

        if (s[i] != '$') {
            i++;
            continue;
        }
        if (i + 1 < len && s[i + 1] == '$') { /* `$$` is never a variable: both stay */
            i += 2;
            continue;
        }
        if ((ref = var_ref(s, len, i, &off, &nlen)) == 0) {
            i++;
            continue;
        }
        if ((v = lookup_var(vars, s + off, nlen)) == NULL) {
            if (missing_cap > 0) {
                size_t n = nlen < missing_cap - 1 ? nlen : missing_cap - 1;
                memcpy(missing, s + off, n);
                missing[n] = '\0';
            }
            return cas_err_set(err, CAS_E_NOTFOUND, "value for variable $%.*s is missing",
                               (int)(nlen > 128 ? 128 : nlen), s + off);
        }
        cas_buf_add(out, s + start, i - start);
        cas_buf_adds(out, v);
        i += ref;
        start = i;
    }
    cas_buf_add(out, s + start, len - start);
    if (out->failed)
        return cas_err_set(err, CAS_E_TOOBIG,
                           "the value is longer than %zu bytes after "
                           "substituting variables",
                           out->max);
    return CAS_OK;
}

/* ---- placeholders ---- */

static const struct {
    const char *text;
    enum cas_policy_format f;
} g_formats[] = {
    {"bin", CAS_FMT_BIN},
    {"hex", CAS_FMT_HEX},
    {"base64", CAS_FMT_BASE64},
    {"base64url", CAS_FMT_BASE64URL},
    {"base32", CAS_FMT_BASE32},
    {"base32nopad", CAS_FMT_BASE32NOPAD},
    {"pem", CAS_FMT_PKCS8_PEM},
    {"pkcs8:pem", CAS_FMT_PKCS8_PEM},
    {"der", CAS_FMT_PKCS8_DER},
    {"pkcs8:der", CAS_FMT_PKCS8_DER},
    {"spki:pem", CAS_FMT_SPKI_PEM},
    {"spki:der", CAS_FMT_SPKI_DER},
    {"crt", CAS_FMT_CRT_PEM},
    {"crt:pem", CAS_FMT_CRT_PEM},
    {"crt:der", CAS_FMT_CRT_DER},
    {"privatekey", CAS_FMT_PRIVKEY_PEM},
    {"privatekey:pem", CAS_FMT_PRIVKEY_PEM},
    {"privatekey:pkcs8:pem", CAS_FMT_PRIVKEY_PEM},
    {"privatekey:der", CAS_FMT_PRIVKEY_DER},
    {"privatekey:pkcs8:der", CAS_FMT_PRIVKEY_DER},
    {"chain", CAS_FMT_CHAIN},
    {"pkcs12-with-private-key", CAS_FMT_PKCS12},
};

const char *
cas_policy_format_name(enum cas_policy_format f)
{
    switch (f) {
    case CAS_FMT_DEFAULT:
        return "default";
    case CAS_FMT_PKCS8_PEM:
        return "pkcs8:pem";
    case CAS_FMT_PKCS8_DER:
        return "pkcs8:der";
    case CAS_FMT_CRT_PEM:
        return "crt:pem";
    case CAS_FMT_PRIVKEY_PEM:
        return "privatekey:pem";
    case CAS_FMT_PRIVKEY_DER:
        return "privatekey:der";
    case CAS_FMT_OLD_CHAIN:
        return ".chain";
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(g_formats) / sizeof(g_formats[0]); i++)
        if (g_formats[i].f == f)
            return g_formats[i].text;
    return "unknown";
}

bool
cas_policy_format_is_binary(enum cas_policy_format f)
{
    return f == CAS_FMT_BIN || f == CAS_FMT_PKCS8_DER || f == CAS_FMT_SPKI_DER ||
           f == CAS_FMT_CRT_DER || f == CAS_FMT_PRIVKEY_DER || f == CAS_FMT_PKCS12;
}

static bool
starts(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

/* The `$$` that closes a placeholder whose body starts at s[from]. */
static bool
find_close(const char *s, size_t len, size_t from, size_t *at)
{
    for (size_t i = from; i + 1 < len; i++) {
        if (s[i] == '$' && s[i + 1] == '$') {
            *at = i;
            return true;
        }
        if (s[i] == '\n')
            return false;
    }
    return false;
}

static cas_rc
parse_body(const char *b, size_t blen, struct cas_policy_placeholder *ph, struct cas_err *err)
{
    size_t n = 0, flen;
    const char *fmt;
    static const char esc[] = "|escape(json)";

    if (blen >= sizeof(esc) - 1 &&
        memcmp(b + blen - (sizeof(esc) - 1), esc, sizeof(esc) - 1) == 0) {
        ph->escape_json = true;
        blen -= sizeof(esc) - 1;
    }
    if (starts(b, blen, "self::"))
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "SCONE feature '$$SCONE::self::…$$' (session language v0.3.12) is not "
                           "supported by cas yet");
    while (n < blen && is_name_char(b[n]))
        n++;
    if (n == 0)
        return cas_err_set(err, CAS_E_INVALID,
                           "placeholder has no secret name; write "
                           "$$SCONE::<secret>$$");
    if (n > CAS_POLICY_PH_NAME_MAX)
        return cas_err_set(err, CAS_E_INVALID, "placeholder names a secret longer than %u bytes",
                           CAS_POLICY_PH_NAME_MAX);
    memcpy(ph->name, b, n);
    ph->name[n] = '\0';
    memcpy(ph->secret, b, n);
    ph->secret[n] = '\0';
    if (n == blen)
        return CAS_OK;
    if (b[n] != ':')
        return cas_err_set(err, CAS_E_INVALID,
                           "placeholder '%.*s' has an unexpected character after the secret name; "
                           "write $$SCONE::<secret>[:<format>][|escape(json)]$$",
                           (int)n, b);
    fmt = b + n + 1;
    flen = blen - n - 1;
    for (size_t i = 0; i < sizeof(g_formats) / sizeof(g_formats[0]); i++) {
        if (strlen(g_formats[i].text) == flen && memcmp(g_formats[i].text, fmt, flen) == 0) {
            ph->format = g_formats[i].f;
            ph->has_format = true;
            return CAS_OK;
        }
    }
    if (memmem(fmt, flen, "asciiarmored", 12) != NULL || starts(fmt, flen, "publickey"))
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "SCONE feature 'pgp-key' formats (session language v0.3.10) is not "
                           "supported by cas yet");
    return cas_err_set(err, CAS_E_INVALID,
                       "placeholder for '%s' has unknown format '%.*s'; use one of crt, chain, "
                       "privatekey, pem, der, spki:pem, hex, base64, bin (policy.md §9)",
                       ph->name, (int)(flen > 64 ? 64 : flen), fmt);
}

cas_rc
cas_policy_placeholder_next(const char *s, size_t len, size_t *pos, bool *found,
                            struct cas_policy_placeholder *ph, struct cas_err *err)
{
    size_t i = *pos, close, plen;

    *found = false;
    for (; i + 1 < len; i++) {
        if (s[i] != '$' || s[i + 1] != '$')
            continue;
        if (starts(s + i, len - i, "$$SCONE::"))
            plen = 9;
        else if (starts(s + i, len - i, "$$CAS::"))
            plen = 7;
        else
            continue;
        memset(ph, 0, sizeof(*ph));
        ph->offset = i;
        ph->cas_prefix = plen == 7;
        *pos = i + plen;
        if (!find_close(s, len, i + plen, &close))
            return cas_err_set(err, CAS_E_INVALID,
                               "placeholder '%.*s…' has no closing '$$'; write "
                               "$$SCONE::<secret>$$",
                               (int)plen, s + i);
        if (parse_body(s + i + plen, close - (i + plen), ph, err) != CAS_OK)
            return err->rc;
        ph->len = close + 2 - i;
        *pos = close + 2;
        *found = true;
        return CAS_OK;
    }
    *pos = len;
    return CAS_OK;
}

bool
cas_policy_is_whole_placeholder(const char *s, size_t len)
{
    struct cas_policy_placeholder ph;
    struct cas_err err = {0};
    size_t pos = 0;
    bool found = false;

    if (cas_policy_placeholder_next(s, len, &pos, &found, &ph, &err) != CAS_OK)
        return false;
    return found && ph.offset == 0 && ph.len == len;
}
