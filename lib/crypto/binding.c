/* binding.c - report data binding evidence to certificates (binding.h). */
#include "crypto/binding.h"

#include <openssl/evp.h>
#include <string.h>

#include "crypto/pki.h"

bool
cas_binding_cas(const uint8_t *nonce, size_t nonce_len, X509 *root, X509 *intermediate, X509 *leaf,
                uint8_t rd[64])
{
    static const char label[] = "CAS-ATTEST-1"; /* hashed with its NUL: the 0x00 */
    struct cas_err err = {0};
    uint8_t h[3][32];
    EVP_MD_CTX *ctx;
    bool ok;

    memset(rd, 0, 64);
    if (root == NULL || intermediate == NULL || leaf == NULL ||
        cas_cert_key_hash(root, h[0], &err) != CAS_OK ||
        cas_cert_key_hash(intermediate, h[1], &err) != CAS_OK ||
        cas_cert_key_hash(leaf, h[2], &err) != CAS_OK || (ctx = EVP_MD_CTX_new()) == NULL)
        return false;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, label, sizeof(label)) == 1 &&
         EVP_DigestUpdate(ctx, nonce, nonce_len) == 1 && EVP_DigestUpdate(ctx, h, sizeof(h)) == 1 &&
         EVP_DigestFinal_ex(ctx, rd, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

bool
cas_binding_join(const uint8_t nonce[32], const uint8_t client_key_hash[32], X509 *root,
                 uint8_t rd[64])
{
    static const char label[] = "CAS-JOIN-1"; /* hashed with its NUL: the 0x00 */
    struct cas_err err = {0};
    uint8_t h[32];
    EVP_MD_CTX *ctx;
    bool ok;

    memset(rd, 0, 64);
    if (root == NULL || cas_cert_key_hash(root, h, &err) != CAS_OK ||
        (ctx = EVP_MD_CTX_new()) == NULL)
        return false;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, label, sizeof(label)) == 1 &&
         EVP_DigestUpdate(ctx, nonce, 32) == 1 && EVP_DigestUpdate(ctx, client_key_hash, 32) == 1 &&
         EVP_DigestUpdate(ctx, h, sizeof(h)) == 1 && EVP_DigestFinal_ex(ctx, rd, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}
