/* seal.c - AES-256-GCM sealing of values at rest (seal.h). */
#include "crypto/seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/err_openssl.h"
#include "util/secret.h"

static const uint8_t magic[3] = {'C', 'S', '1'};

static cas_rc
check_key(const struct cas_secret *key, struct cas_err *err)
{
    if (cas_secret_len(key) != CAS_SEAL_KEY_LEN)
        return cas_err_set(err, CAS_E_INTERNAL, "sealing key has %zu bytes, not %d",
                           cas_secret_len(key), CAS_SEAL_KEY_LEN);
    return CAS_OK;
}

cas_rc
cas_seal(const struct cas_secret *key, const void *aad, size_t aad_len,
         const struct cas_secret *plain, uint8_t **out, size_t *out_len, struct cas_err *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    size_t plain_len;
    const uint8_t *p = cas_secret_peek(plain, &plain_len);
    uint8_t *blob = NULL, *nonce, *ct;
    int n = 0, fin = 0;
    cas_rc rc;

    *out = NULL;
    *out_len = 0;
    if ((rc = check_key(key, err)) != CAS_OK)
        return rc;
    if (plain_len > INT32_MAX - 64 || aad_len > INT32_MAX)
        return cas_err_set(err, CAS_E_TOOBIG, "value of %zu bytes is too large to seal", plain_len);
    if ((blob = cas_malloc(plain_len + CAS_SEAL_OVERHEAD)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory sealing a value");
    memcpy(blob, magic, 3);
    nonce = blob + 3;
    ct = nonce + 12;
    if (RAND_bytes(nonce, 12) != 1 || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), cas_secret_peek(key, NULL), nonce, NULL) != 1 ||
        (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
        EVP_EncryptUpdate(ctx, ct, &n, p, (int)plain_len) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct + plain_len) != 1) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot seal a value");
        free(blob);
        goto out;
    }
    *out = blob;
    *out_len = plain_len + CAS_SEAL_OVERHEAD;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

cas_rc
cas_unseal(const struct cas_secret *key, const void *aad, size_t aad_len, const uint8_t *sealed,
           size_t sealed_len, struct cas_secret **out, struct cas_err *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    struct cas_secret *plain = NULL;
    size_t ct_len;
    uint8_t tag[16];
    int n = 0, fin = 0;
    cas_rc rc;

    *out = NULL;
    if ((rc = check_key(key, err)) != CAS_OK)
        return rc;
    if (sealed_len < CAS_SEAL_OVERHEAD || memcmp(sealed, magic, 3) != 0 || sealed_len > INT32_MAX ||
        aad_len > INT32_MAX)
        return cas_err_set(err, CAS_E_CRYPTO, "sealed value is malformed");
    ct_len = sealed_len - CAS_SEAL_OVERHEAD;
    memcpy(tag, sealed + sealed_len - 16, 16);
    if ((rc = cas_secret_new(ct_len, &plain, err)) != CAS_OK)
        return rc;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), cas_secret_peek(key, NULL), sealed + 3, NULL) !=
            1 ||
        (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
        EVP_DecryptUpdate(ctx, cas_secret_data(plain), &n, sealed + 15, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, cas_secret_data(plain) + n, &fin) != 1) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO,
                             "sealed value does not open: wrong sealing key, or it was altered");
        goto out;
    }
    *out = plain;
    plain = NULL;
out:
    EVP_CIPHER_CTX_free(ctx);
    cas_secret_free(plain);
    return rc;
}
