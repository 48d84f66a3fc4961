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

#include "crypto/pki.h"
#include "tee/provider.h"
#include "util/codec.h"

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
    struct cas_tee_options opt;
    struct cas_tee_provider *prov = NULL;
    struct cas_tee_evidence ev = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    const struct cas_cert_spec spec = {CAS_CERT_TLS_CLIENT, "soak", NULL, 0, 0,
                                       CAS_NOT_AFTER_NEVER};
    uint8_t rd[64] = {0};
    char *qb64 = NULL, *body = NULL, *cert_pem = NULL, *key_pem = NULL;
    BIO *kbio = NULL;
    json_t *col, *doc = NULL;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: bench_soak MRENCLAVE_HEX DIR\n");
        return 2;
    }
    cas_tee_options_init(&opt);
    if (!cas_hex_decode_exact(argv[1], strlen(argv[1]), opt.enclave.mrenclave, 32)) {
        fprintf(stderr, "bench_soak: MRENCLAVE must be 64 hex digits\n");
        return 2;
    }
    if (cas_key_new_p256(&key, &err) != CAS_OK ||
        cas_cert_issue(&spec, key, NULL, key, &cert, &err) != CAS_OK ||
        cas_cert_key_hash(cert, rd, &err) != CAS_OK ||
        cas_cert_to_pem(cert, &cert_pem, &err) != CAS_OK ||
        cas_tee_provider_new(&opt, &prov, &err) != CAS_OK ||
        cas_tee_provider_get_evidence(prov, rd, &ev, &err) != CAS_OK) {
        fprintf(stderr, "bench_soak: %s\n", cas_err_get(&err, 0));
        goto out;
    }
    kbio = BIO_new(BIO_s_mem());
    /* The key's PEM, NUL-terminated inside the BIO. */
    if (kbio == NULL || PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        BIO_write(kbio, "", 1) != 1 || BIO_get_mem_data(kbio, &key_pem) <= 0)
        goto out;
    qb64 = malloc(cas_b64_encoded_len(ev.quote_len) + 1);
    if (qb64 == NULL)
        goto out;
    cas_b64_encode(ev.quote, ev.quote_len, qb64, false);
    col = json_loadb(ev.collateral, ev.collateral_len, 0, NULL);
    doc = json_pack("{s:s, s:{s:s, s:s}, s:o, s:n, s:[]}", "config_id", "", "evidence", "type",
                    ev.type, "quote", qb64, "collateral", col, "access_token", "features");
    body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (body != NULL && write_file(argv[2], "client.pem", cert_pem, key_pem) &&
        write_file(argv[2], "attest.json", body, "\n"))
        rc = 0;
out:
    json_decref(doc);
    free(qb64);
    free(body);
    free(cert_pem);
    BIO_free(kbio);
    X509_free(cert);
    EVP_PKEY_free(key);
    cas_tee_evidence_release(&ev);
    cas_tee_provider_free(prov);
    return rc;
}
