/*
 * bench_sessions.c - session creations per second on a running casd, each session with a
 * generated P-256 CA and one leaf certificate, against the raw OpenSSL cost of the same work
 * (two P-256 key generations, a self-signed CA certificate and a leaf it signs) measured in the
 * same run. Usage: bench_sessions PORT CHAIN_PEM (bench/sessions.sh runs it).
 */
#include <curl/curl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "crypto/pki.h"

#define PHASE_S 1.5

/* Raw OpenSSL rounds for PHASE_S seconds; per second. */
static double
raw_rate(void)
{
    struct cas_err err = {0};
    double t0 = now_s();
    const char *names[] = {"service"};
    int i = 0;

    for (; now_s() - t0 < PHASE_S; i++) {
        EVP_PKEY *ck = NULL, *lk = NULL;
        X509 *ca = NULL, *leaf = NULL;
        const struct cas_cert_spec cs = {CAS_CERT_ROOT_CA, "ca", NULL, 0, 0, CAS_NOT_AFTER_NEVER};
        const struct cas_cert_spec ls = {CAS_CERT_TLS_SERVER, "service", names, 1, 0,
                                         CAS_NOT_AFTER_NEVER};
        if (cas_key_new_p256(&ck, &err) != CAS_OK || cas_key_new_p256(&lk, &err) != CAS_OK ||
            cas_cert_issue(&cs, ck, NULL, ck, &ca, &err) != CAS_OK ||
            cas_cert_issue(&ls, lk, ca, ck, &leaf, &err) != CAS_OK) {
            fprintf(stderr, "raw: %s\n", cas_err_get(&err, 0));
            exit(1);
        }
        X509_free(ca);
        X509_free(leaf);
        EVP_PKEY_free(ck);
        EVP_PKEY_free(lk);
    }
    return i / (now_s() - t0);
}

#define ROUNDS 5

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    struct cas_err err = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    const struct cas_cert_spec spec = {CAS_CERT_TLS_CLIENT, "bench", NULL, 0, 0,
                                       CAS_NOT_AFTER_NEVER};
    char url[256], body[1024], *pem = NULL;
    struct curl_blob cb, kb;
    CURL *curl;
    int n, port, ok = 0;
    double t0, casd_rate, raw;
    BIO *kbio;
    BUF_MEM *kmem;

    if (argc != 3)
        return fprintf(stderr, "usage: bench_sessions PORT CHAIN_PEM\n"), 2;
    port = atoi(argv[1]);
    n = 0;
    if (cas_key_new_p256(&key, &err) != CAS_OK ||
        cas_cert_issue(&spec, key, NULL, key, &cert, &err) != CAS_OK ||
        cas_cert_to_pem(cert, &pem, &err) != CAS_OK)
        return fprintf(stderr, "identity: %s\n", cas_err_get(&err, 0)), 1;
    kbio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL);
    BIO_get_mem_ptr(kbio, &kmem);
    cb = (struct curl_blob){pem, strlen(pem), CURL_BLOB_COPY};
    kb = (struct curl_blob){kmem->data, kmem->length, CURL_BLOB_COPY};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    snprintf(url, sizeof(url), "https://cas:%d/v1/sessions", port);
    {
        char resolve[64];
        struct curl_slist *rs;
        snprintf(resolve, sizeof(resolve), "cas:%d:127.0.0.1", port);
        rs = curl_slist_append(NULL, resolve);
        curl_easy_setopt(curl, CURLOPT_RESOLVE, rs);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cb);
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &kb);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    /* Interleaved rounds: the machine may be shared, so each round measures both, and the
     * medians are compared (a slow patch hits both sides, not one). */
    {
        double raws[ROUNDS], casds[ROUNDS];
        int made = 0, round_start;
        for (int r = 0; r < ROUNDS; r++) {
            raws[r] = raw_rate();
            t0 = now_s();
            round_start = made;
            for (; now_s() - t0 < PHASE_S; made++) {
                long code = 0;
                snprintf(body, sizeof(body),
                         "name: bench-%d-%ld\nversion: \"0.3\"\nsecrets:\n"
                         "  - {name: ca_key, kind: private-key}\n"
                         "  - {name: ca, kind: x509-ca, private_key: ca_key}\n"
                         "  - {name: leaf_key, kind: private-key}\n"
                         "  - {name: leaf, kind: x509, private_key: leaf_key, issuer: ca, "
                         "san: [\"dns:service\"]}\n",
                         made, (long)time(NULL));
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                if (curl_easy_perform(curl) == CURLE_OK &&
                    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
                    code == 201)
                    ok++;
            }
            casds[r] = (made - round_start) / (now_s() - t0);
        }
        qsort(raws, ROUNDS, sizeof(double), cmp_double);
        qsort(casds, ROUNDS, sizeof(double), cmp_double);
        raw = raws[ROUNDS / 2];
        casd_rate = casds[ROUNDS / 2];
        n = made;
        printf("rounds: %d interleaved, %.1f s per side each; medians below (raw %.0f..%.0f, "
               "casd %.0f..%.0f)\n",
               ROUNDS, PHASE_S, raws[0], raws[ROUNDS - 1], casds[0], casds[ROUNDS - 1]);
    }
    printf("raw OpenSSL (2 P-256 keys, CA + leaf certificate): %.0f per second\n", raw);
    printf("casd session creations (CA + leaf, over one keep-alive TLS connection): %.0f per "
           "second (%d of %d created)\n",
           casd_rate, ok, n);
    printf("ratio casd / raw OpenSSL: %.2f\n", casd_rate / raw);
    curl_easy_cleanup(curl);
    BIO_free(kbio);
    free(pem);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok == n ? 0 : 1;
}
