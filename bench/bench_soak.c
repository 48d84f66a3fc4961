/*
 * bench_soak.c - the one thing bench/soak.py cannot make itself: simulated evidence for a
 * service attestation, bound to a fresh client key, as cas-run sends it (lib/client/enclave.c).
 * Writes DIR/client.pem (certificate then PKCS#8 key) and DIR/attest.json, the body of
 * POST /v1/service/attest with "config_id" and "access_token" for the caller to replace: the
 * quote binds the client key only, so one body serves every connection presenting that key.
 * Usage: bench_soak MRENCLAVE_HEX DIR
 */
#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_evidence.h"

static int
write_file(const char *dir, const char *name, const char *a, const char *b)
{
    char path[4096];
    FILE *f;
    int ok;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "w")) == NULL)
        return fprintf(stderr, "bench_soak: cannot write '%s'\n", path), 0;
    ok = fputs(a, f) >= 0 && (b == NULL || fputs(b, f) >= 0);
    return fclose(f) == 0 && ok;
}

int
main(int argc, char **argv)
{
    struct cas_err err = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    uint8_t mr[32];
    char *body = NULL, *cert_pem = NULL, *key_pem = NULL;
    BIO *kbio = NULL;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: bench_soak MRENCLAVE_HEX DIR\n");
        return 2;
    }
    if (!cas_hex_decode_exact(argv[1], strlen(argv[1]), mr, 32)) {
        fprintf(stderr, "bench_soak: MRENCLAVE must be 64 hex digits\n");
        return 2;
    }
    if (!bench_client_evidence(mr, "", "soak", &key, &cert, &body, &err) ||
        cas_cert_to_pem(cert, &cert_pem, &err) != CAS_OK) {
        fprintf(stderr, "bench_soak: %s\n", cas_err_get(&err, 0));
        goto out;
    }
    kbio = BIO_new(BIO_s_mem());
    /* The key's PEM, NUL-terminated inside the BIO. */
    if (kbio == NULL || PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        BIO_write(kbio, "", 1) != 1 || BIO_get_mem_data(kbio, &key_pem) <= 0)
        goto out;
    if (write_file(argv[2], "client.pem", cert_pem, key_pem) &&
        write_file(argv[2], "attest.json", body, "\n"))
        rc = 0;
out:
    free(body);
    free(cert_pem);
    BIO_free(kbio);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
