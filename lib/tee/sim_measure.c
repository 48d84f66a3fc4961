/*
 * sim_measure.c - the simulator's identities (api.md §1.1): MRENCLAVE of an open executable,
 * MRSIGNER of an RSA-3072 key, PPID of this machine, and the published root and signing key.
 * Reads files and keys only; signs nothing.
 */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"
#include "util/codec.h"
#include "util/err_openssl.h"
#include "util/file.h"
#include "util/secret.h"

#define MRENCLAVE_LABEL "CAS-SIM-MRENCLAVE-1"
#define MEASURE_CHUNK 65536
#define SIGNING_KEY_PEM_MAX 65536
#define MACHINE_ID_MAX 4096
#define RSA3072_MODULUS_LEN 384

const char *
cas_tee_sim_root_pem(void)
{
    return cas_tee_sim_root_ca_crt;
}

static uint8_t root_digest[32];
static pthread_once_t root_digest_once = PTHREAD_ONCE_INIT;

/* lib/tee/sim/root_ca.sha256, written by gen-sim-pki.py; the unit test recomputes it. */
static void
decode_root_digest(void)
{
    const char *hex = cas_tee_sim_root_ca_sha256;

    if (!cas_hex_decode_exact(hex, strlen(hex), root_digest, sizeof(root_digest)))
        memset(root_digest, 0, sizeof(root_digest));
}

const uint8_t *
cas_tee_sim_root_sha256(void)
{
    (void)pthread_once(&root_digest_once, decode_root_digest);
    return root_digest;
}

const char *
cas_tee_sim_signing_key_pem(void)
{
    return cas_tee_sim_signing_key_pem_text;
}

cas_rc
cas_tee_sim_measure_fd(int fd, uint8_t mrenclave[32], struct cas_err *err)
{
    static const char label[] = MRENCLAVE_LABEL; /* hashed with its NUL: the 0x00 separator */
    EVP_MD_CTX *md = NULL;
    uint8_t *chunk = NULL;
    off_t off = 0;
    cas_rc rc = CAS_OK;

    memset(mrenclave, 0, 32);
    if ((chunk = OPENSSL_malloc(MEASURE_CHUNK)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory measuring a program");
        goto out;
    }
    if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, label, sizeof(label)) != 1) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "SHA-256 failed");
        goto out;
    }
    for (;;) {
        ssize_t n = pread(fd, chunk, MEASURE_CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cas_err_set(err, CAS_E_IO, "cannot read the program to measure: %s",
                             strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(md, chunk, (size_t)n) != 1) {
            rc = cas_err_openssl(err, CAS_E_CRYPTO, "SHA-256 failed");
            goto out;
        }
        off += n;
    }
    if (EVP_DigestFinal_ex(md, mrenclave, NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "SHA-256 failed");
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(chunk);
    return rc;
}

/* A public key PEM, else a private key PEM (whose bytes the BIO only borrows). */
static EVP_PKEY *
read_any_key(const char *pem, size_t pem_len)
{
    EVP_PKEY *key = NULL;
    BIO *bio;

    if (pem_len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL)
        return NULL;
    key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (key == NULL && BIO_reset(bio) == 1)
        key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

cas_rc
cas_tee_sim_mrsigner_from_pem(const char *pem, size_t pem_len, uint8_t mrsigner[32],
                              struct cas_err *err)
{
    EVP_PKEY *key = NULL;
    BIGNUM *n = NULL;
    uint8_t modulus[RSA3072_MODULUS_LEN];
    cas_rc rc = CAS_OK;

    memset(mrsigner, 0, 32);
    if ((key = read_any_key(pem, pem_len)) == NULL) {
        rc = cas_err_openssl(err, CAS_E_INVALID, "signing key is not an RSA key in PEM");
        goto out;
    }
    if (!EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_get_bits(key) != 3072) {
        rc = cas_err_set(err, CAS_E_INVALID,
                         "signing key is not RSA-3072 (SGX signs enclaves with RSA-3072)");
        goto out;
    }
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        BN_bn2lebinpad(n, modulus, sizeof(modulus)) != (int)sizeof(modulus)) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot read the signing key's modulus");
        goto out;
    }
    if (EVP_Digest(modulus, sizeof(modulus), mrsigner, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "SHA-256 failed");
out:
    BN_free(n);
    EVP_PKEY_free(key);
    return rc;
}

cas_rc
cas_tee_sim_mrsigner_default(uint8_t mrsigner[32], struct cas_err *err)
{
    const char *pem = cas_tee_sim_signing_key_pem_text;

    return cas_tee_sim_mrsigner_from_pem(pem, strlen(pem), mrsigner, err);
}

cas_rc
cas_tee_sim_mrsigner_from_file(const char *path, uint8_t mrsigner[32], struct cas_err *err)
{
    struct cas_secret *pem = NULL;
    const uint8_t *p;
    size_t len = 0;
    cas_rc rc;

    memset(mrsigner, 0, 32);
    if ((rc = cas_file_read_secret(path, SIGNING_KEY_PEM_MAX, &pem, err)) != CAS_OK)
        return cas_err_wrap(err, "Failed to read the signing key '%s'", path);
    p = cas_secret_peek(pem, &len);
    if ((rc = cas_tee_sim_mrsigner_from_pem((const char *)p, len, mrsigner, err)) != CAS_OK)
        cas_err_wrap(err, "Failed to compute MRSIGNER from '%s'", path);
    cas_secret_free(pem);
    return rc;
}

cas_rc
cas_tee_sim_ppid(const char *machine_id_path, uint8_t ppid[16], struct cas_err *err)
{
    uint8_t *id = NULL, digest[32];
    size_t len = 0;
    cas_rc rc;

    memset(ppid, 0, 16);
    if (machine_id_path == NULL)
        machine_id_path = "/etc/machine-id";
    rc = cas_file_read(machine_id_path, MACHINE_ID_MAX, &id, &len, err);
    if (rc == CAS_E_NOTFOUND) { /* §1.1: 16 zero bytes without that file */
        cas_err_clear(err);
        return CAS_OK;
    }
    if (rc != CAS_OK)
        return cas_err_wrap(err, "Failed to read the machine id");
    if (EVP_Digest(id, len, digest, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "SHA-256 failed");
    else
        memcpy(ppid, digest, 16);
    free(id);
    return rc;
}
