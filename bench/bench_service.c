/*
 * bench_service.c - full service attestations per second against casd's enclave API: every
 * request on a new mutually authenticated TLS connection, a simulated quote bound to the client
 * key verified, the service's configuration rendered; and, with the very same client loop, new
 * TLS connections per second to a reference server (nginx serving a small file). The attest
 * client sends what cas-run sends (lib/client/enclave.c).
 * Usage: bench_service attest HOST:PORT CHAIN_PEM CONFIG_ID MRENCLAVE_HEX SECONDS
 *        bench_service get URL CA_PEM SECONDS
 */
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "bench_evidence.h"

/* The client credentials as objects, installed the way cas-run's enclave connection does
 * (lib/client/enclave.c): no PEM of the key is decoded again for every connection. */
struct creds {
    X509 *cert;
    EVP_PKEY *key;
};

static CURLcode
use_creds(CURL *curl, void *sslctx, void *arg)
{
    const struct creds *c = arg;

    (void)curl;
    if (SSL_CTX_use_certificate(sslctx, c->cert) != 1 ||
        SSL_CTX_use_PrivateKey(sslctx, c->key) != 1)
        return CURLE_SSL_CERTPROBLEM;
    return CURLE_OK;
}

/* Requests on new connections for `seconds`; returns successes per second. */
static double
loop(const char *url, const char *ca, const char *body, struct creds *creds, const char *resolve,
     double seconds, long *ok_out, long *bad_out, char *phases, size_t phases_cap)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rs = resolve != NULL ? curl_slist_append(NULL, resolve) : NULL, *hs = NULL;
    double t0 = now_s(), t, phase[3] = {0};
    long ok = 0, bad = 0;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L); /* a new TLS connection every time */
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (rs != NULL)
        curl_easy_setopt(c, CURLOPT_RESOLVE, rs);
    if (creds != NULL) {
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, use_creds);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, creds);
    }
    if (body != NULL) {
        /* What cas-run sends with it (lib/client/enclave.c). */
        hs =
            curl_slist_append(curl_slist_append(NULL, "Content-Type: application/json"), "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    do {
        long code = 0;
        curl_off_t ph[3] = {0};
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200) {
            ok++;
            curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &ph[0]);
            curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &ph[1]);
            curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &ph[2]);
            for (int i = 0; i < 3; i++)
                phase[i] += (double)ph[i];
        } else
            bad++;
        t = now_s();
    } while (t - t0 < seconds);
    /* Where the time of a request goes, as curl saw it (means over the successes, in us). */
    if (ok > 0)
        (void)snprintf(phases, phases_cap,
                       "TLS handshake done at %.0f us, first answer byte %.0f us, "
                       "done %.0f us",
                       phase[0] / (double)ok, phase[1] / (double)ok, phase[2] / (double)ok);
    curl_easy_cleanup(c);
    curl_slist_free_all(rs);
    curl_slist_free_all(hs);
    *ok_out = ok;
    *bad_out = bad;
    return ok / (t - t0);
}

static int
attest(int argc, char **argv)
{
    struct cas_err err = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    uint8_t mr[32];
    char url[256], resolve[128], *body = NULL, phases[160] = "";
    struct creds creds;
    long ok, bad;
    double rate;

    if (argc != 7)
        return 2;
    if (!cas_hex_decode_exact(argv[5], strlen(argv[5]), mr, 32))
        return fprintf(stderr, "bad MRENCLAVE\n"), 2;
    /* One client key; the quote binds its key hash, so every connection may present it. */
    if (!bench_client_evidence(mr, argv[4], "bench", &key, &cert, &body, &err))
        return fprintf(stderr, "setup: %s\n", cas_err_get(&err, 0)), 1;
    creds = (struct creds){cert, key};
    {
        const char *colon = strrchr(argv[2], ':');
        snprintf(url, sizeof(url), "https://cas:%s/v1/service/attest", colon + 1);
        snprintf(resolve, sizeof(resolve), "cas:%s:%.*s", colon + 1, (int)(colon - argv[2]),
                 argv[2]);
    }
    rate =
        loop(url, argv[3], body, &creds, resolve, atof(argv[6]), &ok, &bad, phases, sizeof(phases));
    printf("service attestations: %.0f per second (%ld ok, %ld failed; %s)\n", rate, ok, bad,
           phases);
    free(body);
    X509_free(cert);
    EVP_PKEY_free(key);
    return bad == 0 && ok > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    long ok, bad;
    char phases[160] = "";

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc >= 2 && strcmp(argv[1], "attest") == 0)
        return attest(argc, argv);
    if (argc == 5 && strcmp(argv[1], "get") == 0) {
        double rate = loop(argv[2], argv[3], NULL, NULL, NULL, atof(argv[4]), &ok, &bad, phases,
                           sizeof(phases));
        printf("reference: %.0f new TLS connections with a GET per second (%ld ok, %ld failed; "
               "%s)\n",
               rate, ok, bad, phases);
        return bad == 0 && ok > 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: bench_service attest HOST:PORT CHAIN CONFIG_ID MRENCLAVE SECONDS\n"
                    "       bench_service get URL CA_PEM SECONDS\n");
    return 2;
}
