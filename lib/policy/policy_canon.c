/*
 * policy_canon.c - the normal form's outputs (policy.md §12): RFC 8785 canonical JSON and its
 * SHA-256 (the session hash), the normalised YAML of `cas session check` and `session read`,
 * and the release of a parsed policy. docs/internals/policy.md describes the procedure so that
 * another implementation can reproduce it byte for byte.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secret.h"

#define CANON_MAX 67108864u /* 64 MiB: 500,000 nodes of a 1 MiB file */

static const char g_no_creator[] =
    "Cannot calculate session hash! The session, explicitly or through the default access "
    "policy, references its creator. If not explicitly specified in the session, the creator is "
    "automatically assigned to the identity uploading the session. You may use "
    "--with-self-as-creator to pretend you created the session, or remove all creator "
    "references.";

void
cas_policy_free(struct cas_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->secret_count; i++)
        cas_secret_free(p->secrets[i].value);
    if (p->impl != NULL) {
        json_decref(p->impl->normal);
        arena_release(&p->impl->arena);
        free(p->impl);
    }
    free(p);
}

const struct json_t *
cas_policy_normal_form(const struct cas_policy *p)
{
    return p->impl->normal;
}

/* ---- RFC 8785 ---- */

/* The next code point of a valid UTF-8 string (validated when the file was read). */
static uint32_t
next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t cp;
    size_t n;

    if (p[0] < 0x80) {
        cp = p[0];
        n = 1;
    } else if ((p[0] & 0xe0) == 0xc0) {
        cp = p[0] & 0x1fu;
        n = 2;
    } else if ((p[0] & 0xf0) == 0xe0) {
        cp = p[0] & 0x0fu;
        n = 3;
    } else {
        cp = p[0] & 0x07u;
        n = 4;
    }
    for (size_t i = 1; i < n && p[i] != '\0'; i++)
        cp = cp << 6 | (p[i] & 0x3fu);
    *s = p + n;
    return cp;
}

/* A code point as UTF-16 code units (a surrogate pair above U+FFFF; else u[1] = 0). */
static void
utf16_units(uint32_t cp, uint32_t u[2])
{
    u[0] = cp;
    u[1] = 0;
    if (cp >= 0x10000) {
        u[0] = 0xd800 + ((cp - 0x10000) >> 10);
        u[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    }
}

/* Compares keys by their UTF-16 code units, as RFC 8785 §3.2.3 sorts them. */
static int
cmp_utf16(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a,
                        *y = *(const unsigned char *const *)b;

    while (*x != '\0' && *y != '\0') {
        uint32_t ux[2], uy[2];
        utf16_units(next_cp(&x), ux);
        utf16_units(next_cp(&y), uy);
        for (int i = 0; i < 2; i++)
            if (ux[i] != uy[i])
                return ux[i] < uy[i] ? -1 : 1;
    }
    return (*x != '\0') - (*y != '\0');
}

static void
canon_string(struct cas_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    cas_buf_addc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"':
            cas_buf_adds(b, "\\\"");
            break;
        case '\\':
            cas_buf_adds(b, "\\\\");
            break;
        case '\b':
            cas_buf_adds(b, "\\b");
            break;
        case '\f':
            cas_buf_adds(b, "\\f");
            break;
        case '\n':
            cas_buf_adds(b, "\\n");
            break;
        case '\r':
            cas_buf_adds(b, "\\r");
            break;
        case '\t':
            cas_buf_adds(b, "\\t");
            break;
        default:
            if (ch < 0x20) {
                char esc[7] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], '\0'};
                cas_buf_adds(b, esc);
            } else {
                cas_buf_addc(b, (char)ch);
            }
        }
    }
    cas_buf_addc(b, '"');
}

static void
canon(struct cas_buf *b, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        const char **keys = n ? cas_malloc(n * sizeof(*keys)) : NULL;
        const char *k;
        json_t *v;
        if (n != 0 && keys == NULL) {
            b->failed = true;
            return;
        }
        json_object_foreach((json_t *)(uintptr_t)j, k, v)
        {
            keys[i++] = k;
        }
        if (n > 1)
            qsort(keys, n, sizeof(*keys), cmp_utf16);
        cas_buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i > 0)
                cas_buf_addc(b, ',');
            canon_string(b, keys[i], strlen(keys[i]));
            cas_buf_addc(b, ':');
            canon(b, json_object_get(j, keys[i]));
        }
        cas_buf_addc(b, '}');
        free(keys);
        break;
    }
    case JSON_ARRAY:
        cas_buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i > 0)
                cas_buf_addc(b, ',');
            canon(b, json_array_get(j, i));
        }
        cas_buf_addc(b, ']');
        break;
    case JSON_STRING:
        canon_string(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        cas_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        break;
    case JSON_TRUE:
        cas_buf_adds(b, "true");
        break;
    case JSON_FALSE:
        cas_buf_adds(b, "false");
        break;
    default:
        cas_buf_adds(b, "null");
        break;
    }
}

/* The creator for step 9, or NULL with *need set when the session needs one and has none. */
static const uint8_t *
creator_of(const struct cas_policy *p, const uint8_t *uploader)
{
    if (!p->references_creator)
        return NULL;
    return p->has_creator ? p->creator : uploader;
}

/* The normal form with `creator` (step 9); a new reference the caller releases. */
static json_t *
with_creator(const struct cas_policy *p, const uint8_t *creator)
{
    json_t *o = json_copy(p->impl->normal); /* shallow: shares the sections */
    char b58[51];

    if (o == NULL || creator == NULL)
        return o;
    cas_keyhash_to_b58(creator, b58);
    if (json_object_set_new(o, "creator", json_string(b58)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

cas_rc
cas_policy_canonical_json(const struct cas_policy *p, const uint8_t *uploader, char **out,
                          size_t *out_len, struct cas_err *err)
{
    const uint8_t *creator = creator_of(p, uploader);
    struct cas_buf b;
    json_t *o;

    *out = NULL;
    *out_len = 0;
    if (p->references_creator && creator == NULL)
        return cas_err_set(err, CAS_E_INVALID, "%s", g_no_creator);
    if ((o = with_creator(p, creator)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory while normalising the session");
    cas_buf_init_secret(&b, CANON_MAX); /* explicit values are part of it */
    canon(&b, o);
    json_decref(o);
    if ((*out = cas_buf_detach(&b, out_len)) == NULL) {
        cas_buf_release(&b);
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory while normalising the session");
    }
    return CAS_OK;
}

cas_rc
cas_policy_hash(const struct cas_policy *p, const uint8_t *uploader, uint8_t digest[32],
                char hex[65], struct cas_err *err)
{
    char *json = NULL;
    size_t len = 0;
    cas_rc rc;

    if ((rc = cas_policy_canonical_json(p, uploader, &json, &len, err)) != CAS_OK)
        return rc;
    if (EVP_Digest(json, len, digest, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_set(err, CAS_E_CRYPTO, "Cannot compute the session hash (SHA-256)");
    else if (hex != NULL)
        cas_hex_encode(digest, 32, hex);
    OPENSSL_cleanse(json, len);
    free(json);
    return rc;
}

/* ---- YAML ---- */

static int
write_out(void *data, unsigned char *buffer, size_t size)
{
    struct cas_buf *b = data;

    cas_buf_add(b, buffer, size);
    return !b->failed;
}

static bool
emit_scalar(yaml_emitter_t *e, const char *s, size_t len, yaml_scalar_style_t style)
{
    yaml_event_t ev;

    if (len > (size_t)INT_MAX)
        return false;
    /* both implicit: libyaml may quote a key it cannot write plain, never add a tag */
    return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)len, 1,
                                        1, style) &&
           yaml_emitter_emit(e, &ev);
}

static bool
emit_value(yaml_emitter_t *e, const json_t *j)
{
    yaml_event_t ev;
    char num[32];

    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return false;
        json_object_foreach((json_t *)(uintptr_t)j, k, v)
        {
            if (!emit_scalar(e, k, strlen(k), YAML_PLAIN_SCALAR_STYLE) || !emit_value(e, v))
                return false;
        }
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    }
    case JSON_ARRAY:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return false;
        for (size_t i = 0; i < json_array_size(j); i++)
            if (!emit_value(e, json_array_get(j, i)))
                return false;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    case JSON_STRING: {
        const char *s = json_string_value(j);
        size_t len = json_string_length(j);
        /* literal blocks where libyaml can reproduce the text exactly; else double quotes */
        return emit_scalar(e, s, len,
                           memchr(s, '\n', len) != NULL ? YAML_LITERAL_SCALAR_STYLE
                                                        : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    }
    case JSON_INTEGER:
        (void)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return emit_scalar(e, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case JSON_TRUE:
        return emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    default:
        return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
}

cas_rc
cas_policy_emit_yaml(const struct cas_policy *p, const uint8_t *uploader, char **out,
                     size_t *out_len, struct cas_err *err)
{
    static const char *const order[] = {
        "name",     "version", "predecessor", "creator", "salt",          "namespace_hash",
        "services", "images",  "volumes",     "secrets", "access_policy", "security",
    };
    yaml_emitter_t e;
    yaml_event_t ev;
    struct cas_buf b;
    json_t *o = with_creator(p, creator_of(p, uploader));
    bool ok;

    *out = NULL;
    *out_len = 0;
    if (o == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory while printing the session");
    if (!yaml_emitter_initialize(&e)) {
        json_decref(o);
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory while printing the session");
    }
    cas_buf_init_secret(&b, CANON_MAX);
    yaml_emitter_set_output(&e, write_out, &b);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1);
    yaml_emitter_set_indent(&e, 2);
    ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
         yaml_emitter_emit(&e, &ev) &&
         yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
         yaml_emitter_emit(&e, &ev) &&
         yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
         yaml_emitter_emit(&e, &ev);
    for (size_t i = 0; ok && i < sizeof(order) / sizeof(order[0]); i++) {
        const json_t *v = json_object_get(o, order[i]);
        if (v == NULL || json_is_null(v))
            continue;
        ok = emit_scalar(&e, order[i], strlen(order[i]), YAML_PLAIN_SCALAR_STYLE) &&
             emit_value(&e, v);
    }
    ok = ok && yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
         yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
         yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
         yaml_emitter_flush(&e);
    yaml_emitter_delete(&e);
    json_decref(o);
    if (!ok || (*out = cas_buf_detach(&b, out_len)) == NULL) {
        cas_buf_release(&b);
        return cas_err_set(err, CAS_E_NOMEM, "Cannot print the session as YAML");
    }
    return CAS_OK;
}
