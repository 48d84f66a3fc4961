/*
 * secrets_util.c - the small pieces the rest of lib/secrets shares: PEM blocks read strictly
 * (labels checked, never a password prompt, key bytes in OpenSSL's secure heap), key types,
 * RFC 8785 canonical JSON for config-fragment values, UTF-8 checks.
 */
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secrets_int.h"
#include "util/alloc.h"
#include "util/err_openssl.h"
#include "util/secret.h"

cas_rc
pem_blocks(const char *text, size_t len, const char *label, size_t max, const char *what,
           pem_block_fn cb, void *ctx, struct cas_err *err)
{
    BIO *bio = NULL;
    size_t count = 0;
    cas_rc rc = CAS_OK;

    if (len > CAS_SECRETS_FIELD_MAX || memchr(text, '\0', len) != NULL)
        return cas_err_set(err, CAS_E_INVALID, "%s is not PEM text", what);
    if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "cannot read %s", what);
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        if (PEM_read_bio_ex(bio, &name, &header, &data, &dlen, PEM_FLAG_SECURE) != 1) {
            unsigned long e = ERR_peek_last_error();
            if (count > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            rc = cas_err_openssl(err, CAS_E_INVALID, "%s is not valid PEM", what);
            break;
        }
        if (strcmp(name, label) != 0 || header[0] != '\0')
            rc = cas_err_set(err, CAS_E_INVALID, "%s holds a PEM block '%.40s', expected '%s'",
                             what, name, label);
        else if (++count > max)
            rc = cas_err_set(err, CAS_E_INVALID, "%s holds more than %zu PEM blocks", what, max);
        else
            rc = cb(ctx, data, (size_t)dlen, err);
        OPENSSL_secure_free(name);
        OPENSSL_secure_free(header);
        OPENSSL_secure_clear_free(data, (size_t)dlen);
        if (rc != CAS_OK)
            break;
    }
    BIO_free(bio);
    return rc;
}

static cas_rc
add_cert(void *ctx, const uint8_t *der, size_t der_len, struct cas_err *err)
{
    STACK_OF(X509) *stack = ctx;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)der_len);

    if (cert == NULL || p != der + der_len) {
        X509_free(cert);
        return cas_err_openssl(err, CAS_E_INVALID, "a certificate is not valid DER");
    }
    if (sk_X509_push(stack, cert) <= 0) {
        X509_free(cert);
        return cas_err_openssl(err, CAS_E_NOMEM, "out of memory for a certificate chain");
    }
    return CAS_OK;
}

cas_rc
certs_from_pem(const char *text, size_t len, STACK_OF(X509) * *stack, struct cas_err *err)
{
    if (*stack == NULL && (*stack = sk_X509_new_null()) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "out of memory for a certificate chain");
    if (text == NULL || len == 0)
        return CAS_OK;
    return pem_blocks(text, len, "CERTIFICATE", CAS_SECRETS_CHAIN_MAX + 1, "the certificates",
                      add_cert, *stack, err);
}

/*
 * OpenSSL 3.0 builds a decoder context for every EVP_PKCS82PKEY call by walking every decoder
 * of every provider: three quarters of a session creation went there (bench/sessions.sh). One
 * context per thread, made once and reused, decodes the same DER to the same key.
 */
struct key_decoder {
    OSSL_DECODER_CTX *ctx;
    EVP_PKEY *out; /* the context writes each key here */
};

static pthread_key_t g_decoder_key;
static pthread_once_t g_decoder_once = PTHREAD_ONCE_INIT;

static void
free_decoder(void *p)
{
    struct key_decoder *d = p;

    OSSL_DECODER_CTX_free(d->ctx);
    EVP_PKEY_free(d->out);
    OPENSSL_free(d);
}

static void
make_decoder_key(void)
{
    (void)pthread_key_create(&g_decoder_key, free_decoder);
}

static struct key_decoder *
thread_decoder(void)
{
    struct key_decoder *d;

    (void)pthread_once(&g_decoder_once, make_decoder_key);
    if ((d = pthread_getspecific(g_decoder_key)) != NULL)
        return d;
    if ((d = OPENSSL_zalloc(sizeof(*d))) == NULL)
        return NULL;
    d->ctx = OSSL_DECODER_CTX_new_for_pkey(&d->out, "DER", "PrivateKeyInfo", NULL, EVP_PKEY_KEYPAIR,
                                           NULL, NULL);
    if (d->ctx == NULL || pthread_setspecific(g_decoder_key, d) != 0) {
        free_decoder(d);
        return NULL;
    }
    return d;
}

static cas_rc
read_key(void *ctx, const uint8_t *der, size_t der_len, struct cas_err *err)
{
    EVP_PKEY **out = ctx;
    const unsigned char *p = der;
    size_t left = der_len;
    struct key_decoder *d = thread_decoder();
    PKCS8_PRIV_KEY_INFO *p8;

    /* The structure is checked strictly first: one PKCS#8 object spanning the whole block. */
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der_len);
    if (p8 == NULL || p != der + der_len) {
        PKCS8_PRIV_KEY_INFO_free(p8);
        return cas_err_openssl(err, CAS_E_INVALID, "the private key is not valid PKCS#8");
    }
    if (d == NULL) { /* no context: the slow path still works */
        *out = EVP_PKCS82PKEY_ex(p8, NULL, NULL);
        PKCS8_PRIV_KEY_INFO_free(p8);
        return *out != NULL
                   ? CAS_OK
                   : cas_err_openssl(err, CAS_E_INVALID, "the private key is not valid PKCS#8");
    }
    PKCS8_PRIV_KEY_INFO_free(p8);
    p = der;
    EVP_PKEY_free(d->out);
    d->out = NULL;
    if (OSSL_DECODER_from_data(d->ctx, &p, &left) != 1 || d->out == NULL)
        return cas_err_openssl(err, CAS_E_INVALID, "the private key is not valid PKCS#8");
    *out = d->out;
    d->out = NULL;
    return CAS_OK;
}

cas_rc
key_from_secret(const struct cas_secret *pem, EVP_PKEY **out, struct cas_err *err)
{
    size_t len;
    const uint8_t *p = cas_secret_peek(pem, &len);
    cas_rc rc;

    *out = NULL;
    rc = pem_blocks((const char *)p, len, "PRIVATE KEY", 1, "the private key", read_key, out, err);
    if (rc != CAS_OK) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    return rc;
}

cas_rc
resolve_named(const char *what, const char *name, enum cas_policy_kind want,
              cas_secrets_resolve_fn resolve, void *ctx, const struct cas_secret_value **out,
              struct cas_err *err)
{
    cas_rc rc = CAS_OK;

    *out = NULL;
    if (name == NULL)
        return CAS_OK;
    if (resolve == NULL || (rc = resolve(ctx, name, out, err)) == CAS_E_NOTFOUND ||
        (rc == CAS_OK && *out == NULL)) {
        *out = NULL;
        return cas_err_set(err, CAS_E_INVALID, "%s '%s' has no value yet (make it first)", what,
                           name);
    }
    if (rc != CAS_OK)
        return cas_err_wrap(err, "cannot resolve %s '%s'", what, name);
    if ((*out)->kind != want) {
        *out = NULL;
        return cas_err_set(err, CAS_E_INVALID, "%s '%s' is not of kind %s", what, name,
                           want == CAS_POLICY_KIND_X509_CA ? "x509-ca" : "private-key");
    }
    return CAS_OK;
}

bool
key_type_of(const EVP_PKEY *key, enum cas_policy_key_type *type)
{
    char group[32];

    if (EVP_PKEY_is_a(key, "ED25519")) {
        *type = CAS_POLICY_KEY_ED25519;
        return true;
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        int bits = EVP_PKEY_get_bits(key);
        *type = bits == 2048 ? CAS_POLICY_KEY_RSA2048 : CAS_POLICY_KEY_RSA3072;
        return bits == 2048 || bits == 3072;
    }
    if (EVP_PKEY_is_a(key, "EC") &&
        EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), NULL) == 1) {
        *type = strcmp(group, "secp384r1") == 0 ? CAS_POLICY_KEY_P384 : CAS_POLICY_KEY_P256;
        return strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0;
    }
    ERR_clear_error();
    return false;
}

static void
bio_add(struct cas_buf *b, BIO *bio, bool ok)
{
    BUF_MEM *mem = NULL;

    if (!ok || BIO_get_mem_ptr(bio, &mem) != 1 || mem == NULL)
        b->failed = true;
    else
        cas_buf_add(b, mem->data, mem->length);
}

void
cert_pem_add(struct cas_buf *b, const X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());

    bio_add(b, bio, bio != NULL && PEM_write_bio_X509(bio, cert) == 1);
    BIO_free(bio);
}

void
pubkey_pem_add(struct cas_buf *b, const EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());

    bio_add(b, bio, bio != NULL && PEM_write_bio_PUBKEY(bio, key) == 1);
    BIO_free(bio);
}

cas_rc
buf_to_secret(struct cas_buf *b, struct cas_secret **out, struct cas_err *err)
{
    cas_rc rc;

    *out = NULL;
    if (b->failed)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory or over %zu bytes", b->max);
    else
        rc = cas_secret_from(b->buf, b->len, out, err);
    cas_buf_release(b);
    return rc;
}

cas_rc
buf_to_str(struct cas_buf *b, char **out, struct cas_err *err)
{
    bool failed = b->failed;
    size_t max = b->max;

    *out = cas_buf_detach(b, NULL);
    cas_buf_release(b);
    if (failed || *out == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory or over %zu bytes", max);
    return CAS_OK;
}

bool
asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

bool
utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        /* overlong forms, surrogates and code points past U+10FFFF */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += n + 1;
    }
    return true;
}

/* ---- RFC 8785 ---- */

/*
 * RFC 8785 §3.2.3 sorts member names by UTF-16 code units. UTF-8 bytes sort by code point,
 * which agrees except that U+E000-U+FFFF (lead bytes 0xEE, 0xEF) come after the surrogate pairs
 * of U+10000 and above (lead bytes 0xF0-0xF4): lift those two lead bytes above 0xF4. The first
 * differing byte is a lead byte or lies inside characters of one length, where bytes agree.
 */
static unsigned
utf16_rank(unsigned char c)
{
    return c == 0xee || c == 0xef ? c + 0x10u : c;
}

static int
cmp_names(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;

    while (*x != '\0' && *x == *y) {
        x++;
        y++;
    }
    return (int)utf16_rank(*x) - (int)utf16_rank(*y);
}

static void
canon_str(struct cas_buf *b, const char *s, size_t len)
{
    cas_buf_addc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (esc != NULL)
            cas_buf_adds(b, esc);
        else if (c < 0x20)
            cas_buf_addf(b, "\\u%04x", c);
        else
            cas_buf_addc(b, (char)c);
    }
    cas_buf_addc(b, '"');
}

static cas_rc
canon_object(struct cas_buf *b, json_t *j, struct cas_err *err)
{
    size_t n = json_object_size(j), i = 0;
    const char **names = NULL;
    const char *k;
    json_t *v;
    cas_rc rc = CAS_OK;

    if (n > 0 && (names = cas_calloc(n, sizeof(*names))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a config-fragment");
    json_object_foreach(j, k, v)
    {
        if (i < n)
            names[i++] = k;
    }
    qsort(names, i, sizeof(*names), cmp_names);
    cas_buf_addc(b, '{');
    for (size_t m = 0; m < i && rc == CAS_OK; m++) {
        if (m > 0)
            cas_buf_addc(b, ',');
        canon_str(b, names[m], strlen(names[m]));
        cas_buf_addc(b, ':');
        rc = json_canonical(b, json_object_get(j, names[m]), err);
    }
    cas_buf_addc(b, '}');
    free(names);
    return rc;
}

cas_rc
json_canonical(struct cas_buf *b, json_t *j, struct cas_err *err)
{
    cas_rc rc = CAS_OK;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return canon_object(b, j, err);
    case JSON_ARRAY:
        cas_buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(j) && rc == CAS_OK; i++) {
            if (i > 0)
                cas_buf_addc(b, ',');
            rc = json_canonical(b, json_array_get(j, i), err);
        }
        cas_buf_addc(b, ']');
        return rc;
    case JSON_STRING:
        canon_str(b, json_string_value(j), json_string_length(j));
        return CAS_OK;
    case JSON_INTEGER:
        /* exact in an IEEE double (RFC 8785 §3.2.2.3), so printed as ECMAScript does */
        if (json_integer_value(j) > (1LL << 53) || json_integer_value(j) < -(1LL << 53))
            return cas_err_set(err, CAS_E_INVALID, "an integer is too large for RFC 8785");
        cas_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return CAS_OK;
    case JSON_TRUE:
        cas_buf_adds(b, "true");
        return CAS_OK;
    case JSON_FALSE:
        cas_buf_adds(b, "false");
        return CAS_OK;
    case JSON_NULL:
        cas_buf_adds(b, "null");
        return CAS_OK;
    case JSON_REAL:
        break;
    }
    return cas_err_set(err, CAS_E_INVALID, "a config-fragment holds a number with a fraction");
}
