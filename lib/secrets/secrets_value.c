/*
 * secrets_value.c - struct cas_secret_value: release and copy, the storage encoding (layout in
 * docs/internals/secrets.md; read back from the database, so parsed as untrusted bytes through
 * struct cas_reader, every field under a ceiling), and the values API JSON of api.md §2.2.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secrets_int.h"
#include "util/alloc.h"
#include "util/reader.h"
#include "util/secret.h"

#define MAGIC "CASV"
#define VERSION 1u
#define FLAG_GENERATED 0x01u
#define HEADER_LEN 32u

void
cas_secrets_value_free(struct cas_secret_value *v)
{
    if (v == NULL)
        return;
    cas_secret_free(v->data);
    cas_secret_free(v->key);
    free(v->pem);
    free(v->chain);
    EVP_PKEY_free(v->obj_key);
    X509_free(v->obj_cert);
    free(v);
}

static cas_rc
dup_secret(const struct cas_secret *s, struct cas_secret **out, struct cas_err *err)
{
    size_t len;
    const uint8_t *p;

    *out = NULL;
    if (s == NULL)
        return CAS_OK;
    p = cas_secret_peek(s, &len);
    return cas_secret_from(p, len, out, err);
}

static cas_rc
dup_str(const char *s, char **out, struct cas_err *err)
{
    *out = NULL;
    if (s != NULL && (*out = cas_strdup(s)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a secret value");
    return CAS_OK;
}

cas_rc
cas_secrets_value_dup(const struct cas_secret_value *v, bool with_key,
                      struct cas_secret_value **out, struct cas_err *err)
{
    struct cas_secret_value *c;
    cas_rc rc;

    *out = NULL;
    if ((c = cas_calloc(1, sizeof(*c))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a secret value");
    c->kind = v->kind;
    c->key_type = v->key_type;
    c->is_generated = v->is_generated;
    c->not_before = v->not_before;
    c->not_after = v->not_after;
    c->renew_at = v->renew_at;
    if ((rc = dup_secret(v->data, &c->data, err)) != CAS_OK ||
        (rc = dup_secret(with_key ? v->key : NULL, &c->key, err)) != CAS_OK ||
        (rc = dup_str(v->pem, &c->pem, err)) != CAS_OK ||
        (rc = dup_str(v->chain, &c->chain, err)) != CAS_OK) {
        cas_secrets_value_free(c);
        return rc;
    }
    *out = c;
    return CAS_OK;
}

/* ---- encoding ---- */

static void
put_u32(struct cas_buf *b, uint32_t x)
{
    const uint8_t le[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};

    cas_buf_add(b, le, 4);
}

static void
put_i64(struct cas_buf *b, int64_t x)
{
    uint64_t u = (uint64_t)x;
    uint8_t le[8];

    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    cas_buf_add(b, le, 8);
}

static void
put_field(struct cas_buf *b, const void *p, size_t len)
{
    if (len > CAS_SECRETS_FIELD_MAX) {
        b->failed = true;
        return;
    }
    put_u32(b, (uint32_t)len);
    cas_buf_add(b, p, len);
}

static void
put_secret(struct cas_buf *b, const struct cas_secret *s)
{
    size_t len = 0;
    const uint8_t *p = s != NULL ? cas_secret_peek(s, &len) : NULL;

    put_field(b, p, len);
}

cas_rc
cas_secrets_encode(const struct cas_secret_value *v, struct cas_secret **out, struct cas_err *err)
{
    struct cas_buf b;
    const uint8_t head[8] = {'C',
                             'A',
                             'S',
                             'V',
                             VERSION,
                             (uint8_t)v->kind,
                             (uint8_t)v->key_type,
                             v->is_generated ? FLAG_GENERATED : 0};

    *out = NULL;
    cas_buf_init_secret(&b, CAS_SECRETS_ENCODED_MAX);
    cas_buf_add(&b, head, sizeof(head));
    put_i64(&b, v->not_before);
    put_i64(&b, v->not_after);
    put_i64(&b, v->renew_at);
    put_secret(&b, v->data);
    put_field(&b, v->pem, v->pem != NULL ? strlen(v->pem) : 0);
    put_field(&b, v->chain, v->chain != NULL ? strlen(v->chain) : 0);
    put_secret(&b, v->key);
    return buf_to_secret(&b, out, err);
}

static bool
get_i64(struct cas_reader *r, int64_t *x)
{
    uint64_t u;

    if (!cas_rd_u64le(r, &u))
        return false;
    *x = (int64_t)u;
    return true;
}

static bool
get_field(struct cas_reader *r, struct cas_span *f)
{
    uint32_t len;
    size_t mark = r->off;

    if (!cas_rd_u32le(r, &len) || len > CAS_SECRETS_FIELD_MAX || !cas_rd_span(r, len, f)) {
        r->off = mark;
        return false;
    }
    return true;
}

/* Which fields each kind has: data, pem, chain, key, times. */
enum { F_DATA = 1, F_PEM = 2, F_CHAIN = 4, F_KEY = 8, F_TIMES = 16 };

static unsigned
kind_fields(enum cas_policy_kind k)
{
    switch (k) {
    case CAS_POLICY_KIND_ASCII:
    case CAS_POLICY_KIND_BINARY:
    case CAS_POLICY_KIND_PRIVATE_KEY:
    case CAS_POLICY_KIND_CONFIG_FRAGMENT:
        return F_DATA;
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return F_PEM;
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return F_PEM | F_CHAIN | F_KEY | F_TIMES;
    default:
        return 0;
    }
}

static bool
is_text(const struct cas_span *f)
{
    return memchr(f->buf, '\0', f->len) == NULL;
}

/* The consistency rules of the layout (docs/internals/secrets.md). */
static const char *
check_fields(const struct cas_secret_value *v, unsigned have, const struct cas_span *f)
{
    unsigned want = kind_fields(v->kind);

    if (want == 0)
        return "unknown kind";
    if ((have & ~want) != 0 || (want & (F_DATA | F_PEM) & ~have) != 0)
        return "fields do not fit the kind";
    if (v->key_type > CAS_POLICY_KEY_RSA3072 ||
        (v->kind != CAS_POLICY_KIND_PRIVATE_KEY && v->key_type != 0))
        return "bad key type";
    if (v->kind == CAS_POLICY_KIND_BINARY && f[0].len > 65536)
        return "binary value over 65536 bytes";
    if (v->kind == CAS_POLICY_KIND_ASCII && !utf8_valid(f[0].buf, f[0].len))
        return "ascii value is not UTF-8 without NUL";
    if ((v->kind == CAS_POLICY_KIND_PRIVATE_KEY || v->kind == CAS_POLICY_KIND_CONFIG_FRAGMENT) &&
        !is_text(&f[0]))
        return "text holds NUL";
    if (!is_text(&f[1]) || !is_text(&f[2]) || !is_text(&f[3]))
        return "text holds NUL";
    if ((want & F_TIMES) == 0) {
        if (v->not_before != 0 || v->not_after != 0 || v->renew_at != 0)
            return "times on a kind without them";
    } else if (v->not_before > v->not_after || v->not_after > CAS_SECRETS_NEVER ||
               v->not_before < -CAS_SECRETS_NEVER ||
               (v->renew_at != 0 &&
                (v->renew_at < v->not_before || v->renew_at > v->not_after || !v->is_generated))) {
        return "inconsistent times";
    }
    return NULL;
}

static cas_rc
take_secret(const struct cas_span *f, struct cas_secret **out, struct cas_err *err)
{
    if (f->len == 0)
        return CAS_OK;
    return cas_secret_from(f->buf, f->len, out, err);
}

static cas_rc
take_str(const struct cas_span *f, char **out, struct cas_err *err)
{
    if (f->len == 0)
        return CAS_OK;
    if ((*out = cas_malloc(f->len + 1)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a secret value");
    memcpy(*out, f->buf, f->len);
    (*out)[f->len] = '\0';
    return CAS_OK;
}

cas_rc
cas_secrets_decode(const uint8_t *p, size_t len, struct cas_secret_value **out, struct cas_err *err)
{
    struct cas_secret_value *v = NULL;
    struct cas_reader r;
    struct cas_span f[4];
    uint8_t head[8];
    unsigned have = 0;
    const char *why = NULL;
    cas_rc rc;

    *out = NULL;
    cas_rd_init(&r, p, len);
    if (len > CAS_SECRETS_ENCODED_MAX)
        return cas_err_set(err, CAS_E_INVALID, "stored secret value is over %u bytes",
                           CAS_SECRETS_ENCODED_MAX);
    if ((v = cas_calloc(1, sizeof(*v))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a secret value");
    if (!cas_rd_bytes(&r, head, sizeof(head)) || memcmp(head, MAGIC, 4) != 0)
        why = "no value header";
    else if (head[4] != VERSION)
        why = "unknown version";
    else if ((head[7] & ~FLAG_GENERATED) != 0)
        why = "unknown flags";
    else if (!get_i64(&r, &v->not_before) || !get_i64(&r, &v->not_after) ||
             !get_i64(&r, &v->renew_at) || !get_field(&r, &f[0]) || !get_field(&r, &f[1]) ||
             !get_field(&r, &f[2]) || !get_field(&r, &f[3]))
        why = "truncated";
    else if (cas_rd_left(&r) != 0)
        why = "trailing bytes";
    if (why == NULL) {
        v->kind = (enum cas_policy_kind)head[5];
        v->key_type = (enum cas_policy_key_type)head[6];
        v->is_generated = (head[7] & FLAG_GENERATED) != 0;
        for (unsigned i = 0; i < 4; i++)
            have |= f[i].len != 0 ? 1u << i : 0;
        why = check_fields(v, have, f);
    }
    if (why != NULL) {
        rc = cas_err_set(err, CAS_E_INVALID,
                         "stored secret value is malformed (%s) at byte %zu "
                         "of %zu",
                         why, r.off, r.len);
        goto out;
    }
    if ((rc = take_secret(&f[0], &v->data, err)) != CAS_OK ||
        (rc = take_str(&f[1], &v->pem, err)) != CAS_OK ||
        (rc = take_str(&f[2], &v->chain, err)) != CAS_OK ||
        (rc = take_secret(&f[3], &v->key, err)) != CAS_OK)
        goto out;
    *out = v;
    v = NULL;
out:
    cas_secrets_value_free(v);
    return rc;
}

/* ---- values API ---- */

static json_t *
rfc3339(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char s[32];

    if (t == 0 || t >= CAS_SECRETS_NEVER || gmtime_r(&tt, &tm) == NULL ||
        strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return json_null();
    return json_string(s);
}

static json_t *
value_text(const struct cas_secret_value *v)
{
    size_t len = 0;
    const uint8_t *p = v->data != NULL ? cas_secret_peek(v->data, &len) : NULL;
    json_t *j = NULL;

    switch (v->kind) {
    case CAS_POLICY_KIND_BINARY: {
        struct cas_buf hex;
        cas_buf_init_secret(&hex, 2 * CAS_SECRETS_FIELD_MAX + 1);
        cas_buf_add_hex(&hex, p, len);
        j = hex.failed ? NULL : json_stringn(hex.buf, hex.len);
        cas_buf_release(&hex);
        return j;
    }
    case CAS_POLICY_KIND_ASCII:
    case CAS_POLICY_KIND_PRIVATE_KEY:
    case CAS_POLICY_KIND_CONFIG_FRAGMENT:
        return p != NULL ? json_stringn((const char *)p, len) : NULL;
    case CAS_POLICY_KIND_PUBLIC_KEY:
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return v->pem != NULL ? json_string(v->pem) : NULL;
    default:
        return NULL;
    }
}

static const char *
api_kind(enum cas_policy_kind k)
{
    switch (k) {
    case CAS_POLICY_KIND_ASCII:
        return "string";
    case CAS_POLICY_KIND_BINARY:
        return "binary";
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return "private-key";
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return "public-key";
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return "x509";
    case CAS_POLICY_KIND_CONFIG_FRAGMENT:
        return "config-fragment";
    default:
        return NULL;
    }
}

cas_rc
cas_secrets_value_json(const struct cas_secret_value *v, json_t **out, struct cas_err *err)
{
    const char *kind = api_kind(v->kind);
    bool cert = v->kind == CAS_POLICY_KIND_X509 || v->kind == CAS_POLICY_KIND_X509_CA;
    json_t *o = json_object();

    *out = NULL;
    if (kind == NULL) {
        json_decref(o);
        return cas_err_set(err, CAS_E_INVALID, "a value of unknown kind has no JSON form");
    }
    if (o == NULL || json_object_set_new(o, "kind", json_string(kind)) != 0 ||
        json_object_set_new(o, "value", value_text(v)) != 0 ||
        json_object_set_new(o, "expires", cert ? rfc3339(v->not_after) : json_null()) != 0 ||
        json_object_set_new(o, "renew", cert ? rfc3339(v->renew_at) : json_null()) != 0) {
        json_decref(o);
        return cas_err_set(err, CAS_E_NOMEM,
                           "cannot build the JSON of a value (out of memory "
                           "or text that is not UTF-8)");
    }
    *out = o;
    return CAS_OK;
}

static int
dump_to_buf(const char *p, size_t n, void *data)
{
    struct cas_buf *b = data;

    cas_buf_add(b, p, n);
    return b->failed ? -1 : 0;
}

cas_rc
cas_secrets_json_dump(const json_t *j, struct cas_secret **out, struct cas_err *err)
{
    struct cas_buf b;

    *out = NULL;
    cas_buf_init_secret(&b, CAS_SECRETS_ENCODED_MAX);
    /* no JSON_COMPACT and no indent: jansson's ", " and ": " on one line, as api.md prints */
    if (json_dump_callback(j, dump_to_buf, &b, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) != 0)
        b.failed = true;
    return buf_to_secret(&b, out, err);
}
