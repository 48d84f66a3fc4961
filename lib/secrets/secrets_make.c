/*
 * secrets_make.c - a secret's value from its definition (policy.md §8): generated values with
 * the spec's defaults, and explicit values checked (PEM labels and parsing, key types, chains
 * that verify link by link, key against certificate) and normalised. Certificates are issued in
 * secrets_x509.c. Messages name the secret, never a value.
 */
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pki.h"
#include "secrets_int.h"
#include "secrets_x509.h"
#include "util/alloc.h"
#include "util/err_openssl.h"
#include "util/secret.h"

#define ASCII_FIRST 0x21u
#define ASCII_COUNT 94u /* 0x21-0x7e */

static cas_rc
value_new(const struct cas_policy_secret *def, struct cas_secret_value **out, struct cas_err *err)
{
    if ((*out = cas_calloc(1, sizeof(**out))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for secret '%s'", def->name);
    (*out)->kind = def->kind;
    (*out)->is_generated = def->source == CAS_POLICY_GENERATED;
    return CAS_OK;
}

/* size characters drawn uniformly from 0x21-0x7e: bytes at or above 188 are redrawn. */
static cas_rc
gen_ascii(size_t size, struct cas_secret **out, struct cas_err *err)
{
    struct cas_secret *text = NULL, *pool = NULL;
    uint8_t *dst;
    size_t filled = 0;
    cas_rc rc;

    if ((rc = cas_secret_new(size, &text, err)) != CAS_OK ||
        (rc = cas_secret_new(256, &pool, err)) != CAS_OK)
        goto out;
    dst = cas_secret_data(text);
    while (filled < size) {
        uint8_t *r = cas_secret_data(pool);
        if (RAND_bytes(r, 256) != 1) {
            rc = cas_err_openssl(err, CAS_E_CRYPTO, "the random generator failed");
            goto out;
        }
        for (size_t i = 0; i < 256 && filled < size; i++)
            if (r[i] < 2 * ASCII_COUNT)
                dst[filled++] = (uint8_t)(ASCII_FIRST + r[i] % ASCII_COUNT);
    }
    *out = text;
    text = NULL;
out:
    cas_secret_free(text);
    cas_secret_free(pool);
    return rc;
}

static cas_rc
gen_key(enum cas_policy_key_type type, EVP_PKEY **out, struct cas_err *err)
{
    switch (type) {
    case CAS_POLICY_KEY_P256:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case CAS_POLICY_KEY_P384:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case CAS_POLICY_KEY_ED25519:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case CAS_POLICY_KEY_RSA2048:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case CAS_POLICY_KEY_RSA3072:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    default:
        *out = NULL;
        return cas_err_set(err, CAS_E_INTERNAL, "unknown key type %d", (int)type);
    }
    if (*out == NULL)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot generate a key");
    return CAS_OK;
}

static cas_rc
gen_public_key(const struct cas_policy_secret *def, cas_secrets_resolve_fn resolve, void *ctx,
               struct cas_secret_value *v, struct cas_err *err)
{
    const struct cas_secret_value *priv = NULL;
    EVP_PKEY *key = NULL;
    struct cas_buf b;
    cas_rc rc;

    if (def->private_key == NULL)
        return cas_err_set(err, CAS_E_INVALID, "a generated public-key needs private_key");
    if ((rc = resolve_named("private_key", def->private_key, CAS_POLICY_KIND_PRIVATE_KEY, resolve,
                            ctx, &priv, err)) != CAS_OK ||
        (rc = key_from_secret(priv->data, &key, err)) != CAS_OK)
        return rc;
    cas_buf_init(&b, CAS_SECRETS_FIELD_MAX);
    pubkey_pem_add(&b, key);
    EVP_PKEY_free(key);
    return buf_to_str(&b, &v->pem, err);
}

static cas_rc
generate(const struct cas_policy_secret *def, int64_t now, cas_secrets_resolve_fn resolve,
         void *ctx, struct cas_secret_value *v, struct cas_err *err)
{
    EVP_PKEY *key = NULL;
    cas_rc rc;

    switch (def->kind) {
    case CAS_POLICY_KIND_ASCII:
        return gen_ascii(def->size != 0 ? def->size : 20, &v->data, err);
    case CAS_POLICY_KIND_BINARY:
        return cas_secret_random(def->size != 0 ? def->size : 20, &v->data, err);
    case CAS_POLICY_KIND_PRIVATE_KEY:
        v->key_type = def->key_type;
        if ((rc = gen_key(def->key_type, &key, err)) == CAS_OK &&
            (rc = cas_key_to_pem(key, &v->data, err)) == CAS_OK) {
            v->obj_key = key; /* certificates issued from it need not decode the PEM */
            key = NULL;
        }
        EVP_PKEY_free(key);
        return rc;
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return gen_public_key(def, resolve, ctx, v, err);
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return x509_issue(def, now, resolve, ctx, v, err);
    default:
        return cas_err_set(err, CAS_E_INVALID,
                           "secret '%s': a %s is never generated; give its "
                           "value or import it",
                           def->name,
                           def->kind == CAS_POLICY_KIND_CONFIG_FRAGMENT ? "config-fragment"
                                                                        : "secret without kind");
    }
}

/* ---- explicit values ---- */

static cas_rc
explicit_private_key(const struct cas_policy_secret *def, struct cas_secret_value *v,
                     struct cas_err *err)
{
    EVP_PKEY *key = NULL;
    enum cas_policy_key_type type;
    cas_rc rc;

    if ((rc = key_from_secret(def->value, &key, err)) != CAS_OK)
        return rc;
    if (!key_type_of(key, &type))
        rc = cas_err_set(err, CAS_E_INVALID,
                         "the key is not of type P-256, P-384, Ed25519, RSA-2048 or RSA-3072");
    else if (type != def->key_type)
        rc = cas_err_set(err, CAS_E_INVALID, "the key's type differs from key_type");
    else if ((rc = cas_key_to_pem(key, &v->data, err)) == CAS_OK)
        v->key_type = type;
    EVP_PKEY_free(key);
    return rc;
}

static cas_rc
one_pubkey(void *ctx, const uint8_t *der, size_t der_len, struct cas_err *err)
{
    const unsigned char *p = der;

    if ((*(EVP_PKEY **)ctx = d2i_PUBKEY(NULL, &p, (long)der_len)) == NULL || p != der + der_len)
        return cas_err_openssl(err, CAS_E_INVALID, "the public key is not valid DER");
    return CAS_OK;
}

static cas_rc
explicit_public_key(const struct cas_policy_secret *def, struct cas_secret_value *v,
                    struct cas_err *err)
{
    size_t len;
    const char *text = (const char *)cas_secret_peek(def->value, &len);
    EVP_PKEY *key = NULL;
    struct cas_buf b;
    cas_rc rc;

    rc = pem_blocks(text, len, "PUBLIC KEY", 1, "the public key", one_pubkey, &key, err);
    if (rc == CAS_OK) {
        cas_buf_init(&b, CAS_SECRETS_FIELD_MAX);
        pubkey_pem_add(&b, key);
        rc = buf_to_str(&b, &v->pem, err);
    }
    EVP_PKEY_free(key);
    return rc;
}

static cas_rc
explicit_fragment(const struct cas_policy_secret *def, struct cas_secret_value *v,
                  struct cas_err *err)
{
    size_t len;
    const uint8_t *text = cas_secret_peek(def->value, &len);
    json_error_t jerr;
    json_t *j =
        json_loadb((const char *)text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    struct cas_buf b;
    cas_rc rc;

    if (j == NULL)
        return cas_err_set(err, CAS_E_INVALID, "the value is not JSON (%d:%d)", jerr.line,
                           jerr.column);
    cas_buf_init_secret(&b, CAS_SECRETS_FIELD_MAX);
    rc = json_canonical(&b, j, err);
    json_decref(j);
    if (rc != CAS_OK) {
        cas_buf_release(&b);
        return rc;
    }
    return buf_to_secret(&b, &v->data, err);
}

static cas_rc
explicit_value(const struct cas_policy_secret *def, cas_secrets_resolve_fn resolve, void *ctx,
               struct cas_secret_value *v, struct cas_err *err)
{
    size_t len;
    const uint8_t *p;

    if (def->value == NULL)
        return cas_err_set(err, CAS_E_INVALID, "it has no value");
    p = cas_secret_peek(def->value, &len);
    switch (def->kind) {
    case CAS_POLICY_KIND_ASCII:
        if (len == 0 || len > CAS_SECRETS_FIELD_MAX || !utf8_valid(p, len))
            return cas_err_set(err, CAS_E_INVALID, "an ascii value is UTF-8 text without NUL");
        return cas_secret_from(p, len, &v->data, err);
    case CAS_POLICY_KIND_BINARY:
        if (len == 0 || len > 65536)
            return cas_err_set(err, CAS_E_INVALID, "a binary value is 1 to 65536 bytes");
        return cas_secret_from(p, len, &v->data, err);
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return explicit_private_key(def, v, err);
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return explicit_public_key(def, v, err);
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return x509_explicit(def, resolve, ctx, v, err);
    case CAS_POLICY_KIND_CONFIG_FRAGMENT:
        return explicit_fragment(def, v, err);
    default:
        return cas_err_set(err, CAS_E_INVALID, "its kind is unknown");
    }
}

cas_rc
cas_secrets_make(const struct cas_policy_secret *def, int64_t now, cas_secrets_resolve_fn resolve,
                 void *ctx, struct cas_secret_value **out, struct cas_err *err)
{
    struct cas_secret_value *v = NULL;
    cas_rc rc;

    *out = NULL;
    if (def->source == CAS_POLICY_IMPORTED)
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "secret '%s' is imported: its value comes from its exporter", def->name);
    if ((rc = value_new(def, &v, err)) != CAS_OK)
        return rc;
    if (def->source == CAS_POLICY_EXPLICIT) {
        if ((rc = explicit_value(def, resolve, ctx, v, err)) != CAS_OK) {
            (void)cas_err_wrap(err, "The explicit value of secret '%s' is not valid", def->name);
            goto out;
        }
    } else if ((rc = generate(def, now, resolve, ctx, v, err)) != CAS_OK) {
        (void)cas_err_wrap(err, "Failed to generate secret '%s'", def->name);
        goto out;
    }
    *out = v;
    v = NULL;
out:
    cas_secrets_value_free(v);
    return rc;
}
