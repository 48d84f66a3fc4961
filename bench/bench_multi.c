/*
 * bench_multi.c - one client of bench/multi.sh: for SECONDS, either public value reads or
 * session creations (one ascii secret each) against one casd, over one keep-alive TLS
 * connection. Prints the rate as a bare number.
 * Usage: bench_multi read|create PORT CHAIN_PEM SECONDS [TAG]
 */
#include <curl/curl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "crypto/pki.h"

int
main(int argc, char **argv)
{
    struct cas_err err = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    const struct cas_cert_spec spec = {CAS_CERT_TLS_CLIENT, "bench", NULL, 0, 0,
                                       CAS_NOT_AFTER_NEVER};
    char url[256], resolve[64], body[512], *pem = NULL;
    struct curl_blob cb, kb;
    struct curl_slist *rs;
    BIO *kbio;
    BUF_MEM *kmem;
    CURL *c;
    bool create;
    double t0, secs;
    long ok = 0, bad = 0, i = 0;

    if (argc < 5)
        return fprintf(stderr, "usage: bench_multi read|create PORT CHAIN SECONDS [TAG]\n"), 2;
    create = strcmp(argv[1], "create") == 0;
    secs = atof(argv[4]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = curl_easy_init();
    snprintf(resolve, sizeof(resolve), "cas:%s:127.0.0.1", argv[2]);
    rs = curl_slist_append(NULL, resolve);
    curl_easy_setopt(c, CURLOPT_RESOLVE, rs);
    curl_easy_setopt(c, CURLOPT_CAINFO, argv[3]);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (create) {
        if (cas_key_new_p256(&key, &err) != CAS_OK ||
            cas_cert_issue(&spec, key, NULL, key, &cert, &err) != CAS_OK ||
            cas_cert_to_pem(cert, &pem, &err) != CAS_OK)
            return fprintf(stderr, "identity: %s\n", cas_err_get(&err, 0)), 1;
        kbio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL);
        BIO_get_mem_ptr(kbio, &kmem);
        cb = (struct curl_blob){pem, strlen(pem), CURL_BLOB_COPY};
        kb = (struct curl_blob){kmem->data, kmem->length, CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
        snprintf(url, sizeof(url), "https://cas:%s/v1/sessions", argv[2]);
    } else {
        snprintf(url, sizeof(url), "https://cas:%s/v1/values/session=multi,secret=v", argv[2]);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    t0 = now_s();
    while (now_s() - t0 < secs) {
        long code = 0;
        if (create) {
            snprintf(body, sizeof(body),
                     "name: m-%s-%ld-%ld\nversion: \"0.3\"\nsecrets:\n"
                     "  - {name: v, kind: ascii, export_public: true}\n",
                     argc > 5 ? argv[5] : "x", (long)time(NULL), i++);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        }
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
            code == (create ? 201 : 200))
            ok++;
        else
            bad++;
    }
    printf("%.0f\n", ok / (now_s() - t0));
    if (bad > 0)
        fprintf(stderr, "bench_multi: %ld requests failed\n", bad);
    return bad == 0 ? 0 : 1;
}
