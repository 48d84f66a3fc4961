/*
 * secrets_render.c - a value as placeholder text (policy.md §9): each kind's formats, the old
 * `.chain` order, PKCS#12 under the empty password, and `|escape(json)`. Everything rendered is
 * built in wiping buffers and handed out as a struct cas_secret.
 */
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <string.h>

#include "secrets_int.h"
#include "util/codec.h"
#include "util/err_openssl.h"
#include "util/secret.h"

bool
cas_secrets_kind_has_format(enum cas_policy_kind kind, enum cas_policy_format f)
{
    if (f == CAS_FMT_DEFAULT)
        return true;
    switch (kind) {
    case CAS_POLICY_KIND_BINARY:
        return f == CAS_FMT_BIN || f == CAS_FMT_HEX || f == CAS_FMT_BASE64 ||
               f == CAS_FMT_BASE64URL || f == CAS_FMT_BASE32 || f == CAS_FMT_BASE32NOPAD;
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return f == CAS_FMT_PKCS8_PEM || f == CAS_FMT_PKCS8_DER;
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return f == CAS_FMT_SPKI_PEM || f == CAS_FMT_SPKI_DER;
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return f == CAS_FMT_CRT_PEM || f == CAS_FMT_CRT_DER || f == CAS_FMT_PRIVKEY_PEM ||
               f == CAS_FMT_PRIVKEY_DER || f == CAS_FMT_CHAIN || f == CAS_FMT_PKCS12 ||
               f == CAS_FMT_OLD_CHAIN;
    default:
        return false; /* ascii, config-fragment: their text only */
    }
}

/* The kind's first format (§9's table). */
static enum cas_policy_format
default_format(enum cas_policy_kind kind)
{
    switch (kind) {
    case CAS_POLICY_KIND_BINARY:
        return CAS_FMT_BIN;
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return CAS_FMT_PKCS8_PEM;
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return CAS_FMT_SPKI_PEM;
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return CAS_FMT_CRT_PEM;
    default:
        return CAS_FMT_DEFAULT;
    }
}

static cas_rc
add_der(void *ctx, const uint8_t *der, size_t der_len, struct cas_err *err)
{
    (void)err;
    cas_buf_add(ctx, der, der_len);
    return CAS_OK;
}

static void
add_base32(struct cas_buf *b, const uint8_t *p, size_t n, bool pad)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t i = 0;

    /* RFC 4648 §6: five bytes make eight characters; a short last group pads with '=' */
    while (i < n) {
        uint8_t g[5] = {0};
        size_t take = n - i < 5 ? n - i : 5, chars = (take * 8 + 4) / 5;
        memcpy(g, p + i, take);
        for (size_t c = 0; c < 8; c++) {
            size_t bit = c * 5;
            unsigned v = (unsigned)((g[bit / 8] << 8 | (bit / 8 + 1 < 5 ? g[bit / 8 + 1] : 0)) >>
                                    (11 - bit % 8)) &
                         0x1fu;
            if (c < chars)
                cas_buf_addc(b, abc[v]);
            else if (pad)
                cas_buf_addc(b, '=');
        }
        i += take;
    }
}

static void
add_b64(struct cas_buf *b, const uint8_t *p, size_t n, bool url)
{
    size_t need = cas_b64_encoded_len(n) + 1;
    size_t start = b->len;

    /* grow first, then encode in place: the text never sits outside the wiping buffer */
    for (size_t i = 0; i < need && !b->failed; i++)
        cas_buf_addc(b, '\0');
    if (b->failed)
        return;
    cas_b64_encode(p, n, b->buf + start, url);
    b->len = start + strlen(b->buf + start);
}

static cas_rc
render_binary(const struct cas_secret_value *v, enum cas_policy_format f, struct cas_buf *b)
{
    size_t n;
    const uint8_t *p = cas_secret_peek(v->data, &n);

    switch (f) {
    case CAS_FMT_BIN:
        cas_buf_add(b, p, n);
        break;
    case CAS_FMT_HEX:
        cas_buf_add_hex(b, p, n);
        break;
    case CAS_FMT_BASE64:
    case CAS_FMT_BASE64URL:
        add_b64(b, p, n, f == CAS_FMT_BASE64URL);
        break;
    default:
        add_base32(b, p, n, f == CAS_FMT_BASE32);
        break;
    }
    return CAS_OK;
}

/* PKCS#12 of certificate, key and chain under the empty password: OpenSSL 3's defaults are
 * AES-256-CBC with PBKDF2 and a SHA-256 MAC (§9). */
static cas_rc
render_pkcs12(const struct cas_secret_value *v, struct cas_buf *b, struct cas_err *err)
{
    EVP_PKEY *key = NULL;
    STACK_OF(X509) *certs = NULL, *chain = NULL;
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL;
    int len = 0;
    cas_rc rc;

    if ((rc = key_from_secret(v->key, &key, err)) != CAS_OK ||
        (rc = certs_from_pem(v->pem, strlen(v->pem), &certs, err)) != CAS_OK ||
        (rc = certs_from_pem(v->chain, v->chain != NULL ? strlen(v->chain) : 0, &chain, err)) !=
            CAS_OK)
        goto out;
    if ((p12 = PKCS12_create_ex("", NULL, key, sk_X509_value(certs, 0), chain, 0, 0, 0, 0, 0, NULL,
                                NULL)) == NULL ||
        (len = i2d_PKCS12(p12, &der)) <= 0) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot build the PKCS#12");
        goto out;
    }
    cas_buf_add(b, der, (size_t)len);
out:
    OPENSSL_clear_free(der, len > 0 ? (size_t)len : 0);
    PKCS12_free(p12);
    sk_X509_pop_free(certs, X509_free);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    return rc;
}

/* `.chain`: the root first, down to the certificate itself. */
static cas_rc
render_old_chain(const struct cas_secret_value *v, struct cas_buf *b, struct cas_err *err)
{
    STACK_OF(X509) *chain = NULL;
    cas_rc rc;

    if ((rc = certs_from_pem(v->chain, v->chain != NULL ? strlen(v->chain) : 0, &chain, err)) ==
        CAS_OK) {
        for (int i = sk_X509_num(chain) - 1; i >= 0; i--)
            cert_pem_add(b, sk_X509_value(chain, i));
        cas_buf_adds(b, v->pem);
    }
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

static cas_rc
render_cert(const struct cas_secret_value *v, enum cas_policy_format f, struct cas_buf *b,
            struct cas_err *err)
{
    size_t klen = 0;
    const uint8_t *key = v->key != NULL ? cas_secret_peek(v->key, &klen) : NULL;

    if ((f == CAS_FMT_PRIVKEY_PEM || f == CAS_FMT_PRIVKEY_DER || f == CAS_FMT_PKCS12) &&
        key == NULL)
        return cas_err_set(err, CAS_E_INVALID,
                           "format '%s' needs the certificate's private key, "
                           "which is not available",
                           cas_policy_format_name(f));
    switch (f) {
    case CAS_FMT_CRT_PEM:
        cas_buf_adds(b, v->pem);
        return CAS_OK;
    case CAS_FMT_CRT_DER:
        return pem_blocks(v->pem, strlen(v->pem), "CERTIFICATE", 1, "the certificate", add_der, b,
                          err);
    case CAS_FMT_PRIVKEY_PEM:
        cas_buf_add(b, key, klen);
        return CAS_OK;
    case CAS_FMT_PRIVKEY_DER:
        return pem_blocks((const char *)key, klen, "PRIVATE KEY", 1, "the private key", add_der, b,
                          err);
    case CAS_FMT_CHAIN:
        if (v->chain != NULL)
            cas_buf_adds(b, v->chain);
        return CAS_OK;
    case CAS_FMT_PKCS12:
        return render_pkcs12(v, b, err);
    default:
        return render_old_chain(v, b, err);
    }
}

static cas_rc
render_raw(const struct cas_secret_value *v, enum cas_policy_format f, struct cas_buf *b,
           struct cas_err *err)
{
    size_t n = 0;
    const uint8_t *p = v->data != NULL ? cas_secret_peek(v->data, &n) : NULL;
    json_t *j;

    switch (v->kind) {
    case CAS_POLICY_KIND_ASCII:
        cas_buf_add(b, p, n);
        return CAS_OK;
    case CAS_POLICY_KIND_CONFIG_FRAGMENT:
        /* as text: a string's own text, anything else its compact JSON (§9) */
        j = json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (j != NULL && json_is_string(j))
            cas_buf_add(b, json_string_value(j), json_string_length(j));
        else
            cas_buf_add(b, p, n);
        json_decref(j);
        return CAS_OK;
    case CAS_POLICY_KIND_BINARY:
        return render_binary(v, f, b);
    case CAS_POLICY_KIND_PRIVATE_KEY:
        if (f == CAS_FMT_PKCS8_PEM) {
            cas_buf_add(b, p, n);
            return CAS_OK;
        }
        return pem_blocks((const char *)p, n, "PRIVATE KEY", 1, "the private key", add_der, b, err);
    case CAS_POLICY_KIND_PUBLIC_KEY:
        if (f == CAS_FMT_SPKI_PEM) {
            cas_buf_adds(b, v->pem);
            return CAS_OK;
        }
        return pem_blocks(v->pem, strlen(v->pem), "PUBLIC KEY", 1, "the public key", add_der, b,
                          err);
    default:
        return render_cert(v, f, b, err);
    }
}

/* RFC 8259 §7 string escaping, without the quotes. */
static void
escape_json(struct cas_buf *out, const struct cas_buf *in)
{
    for (size_t i = 0; i < in->len; i++) {
        unsigned char c = (unsigned char)in->buf[i];
        if (c == '"' || c == '\\') {
            cas_buf_addc(out, '\\');
            cas_buf_addc(out, (char)c);
        } else if (c == '\n') {
            cas_buf_adds(out, "\\n");
        } else if (c == '\r') {
            cas_buf_adds(out, "\\r");
        } else if (c == '\t') {
            cas_buf_adds(out, "\\t");
        } else if (c < 0x20) {
            cas_buf_addf(out, "\\u%04x", c);
        } else {
            cas_buf_addc(out, (char)c);
        }
    }
}

cas_rc
cas_secrets_render(const struct cas_secret_value *v, enum cas_policy_format f, bool escape,
                   struct cas_secret **out, bool *is_binary, struct cas_err *err)
{
    struct cas_buf b, e;
    cas_rc rc;

    *out = NULL;
    *is_binary = false;
    if (!cas_secrets_kind_has_format(v->kind, f))
        return cas_err_set(err, CAS_E_INVALID, "format '%s' does not exist for this kind",
                           cas_policy_format_name(f));
    if (f == CAS_FMT_DEFAULT)
        f = default_format(v->kind);
    *is_binary = f != CAS_FMT_DEFAULT && cas_policy_format_is_binary(f);
    if (*is_binary && escape)
        return cas_err_set(err, CAS_E_INVALID,
                           "format '%s' is binary and cannot be escaped as "
                           "JSON",
                           cas_policy_format_name(f));
    cas_buf_init_secret(&b, CAS_SECRETS_ENCODED_MAX);
    if ((rc = render_raw(v, f, &b, err)) != CAS_OK) {
        cas_buf_release(&b);
        return rc;
    }
    if (!escape)
        return buf_to_secret(&b, out, err);
    cas_buf_init_secret(&e, 6 * CAS_SECRETS_ENCODED_MAX);
    escape_json(&e, &b);
    if (b.failed)
        e.failed = true;
    cas_buf_release(&b);
    return buf_to_secret(&e, out, err);
}
