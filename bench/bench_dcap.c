/*
 * bench_dcap.c - DCAP verifications per second on one core, over the testdata quotes that the
 * JavaScript reference verifier also accepts (case.json `expected.result` ok, so bench/dcap.sh
 * compares like with like), and over every case: warm (collateral and PCK chain cached, one
 * verifier) and cold (a new verifier each time: every chain, CRL and signature checked), plus
 * the bare ECDSA P-256 verify rate through the same EVP path the verifier uses.
 *
 * Usage: bench_dcap TESTDATA_DCAP_DIR [SECONDS]; prints `name value` lines for dcap.sh.
 */
#include <stdint.h>

#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "dcap/verify.h"
#include "dcap/x509.h"

#define MAX_CASES 64

struct item {
    char name[256];
    uint8_t *quote;
    size_t len;
    struct cas_dcap_collateral col;
    int64_t at;
    bool js_ok;
};

static uint8_t *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL ||
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int
cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

static size_t
load(const char *root, struct item *items)
{
    DIR *d = opendir(root);
    struct dirent *e;
    size_t n = 0;

    while (d != NULL && (e = readdir(d)) != NULL && n < MAX_CASES) {
        char dir[2048], path[4096];
        struct cas_err err = {0};
        json_error_t jerr;
        json_t *doc;
        struct item *it = &items[n];
        if (e->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
        snprintf(path, sizeof(path), "%s/case.json", dir);
        if ((doc = json_load_file(path, 0, &jerr)) == NULL)
            continue;
        snprintf(it->name, sizeof(it->name), "%s", e->d_name);
        it->at =
            json_integer_value(json_object_get(json_object_get(doc, "verification_time"), "unix"));
        it->js_ok =
            strcmp(json_string_value(json_object_get(json_object_get(doc, "expected"), "result")),
                   "ok") == 0;
        json_decref(doc);
        snprintf(path, sizeof(path), "%s/quote.bin", dir);
        if ((it->quote = slurp(path, &it->len)) == NULL ||
            cas_dcap_collateral_from_dir(dir, &it->col, &err) != CAS_OK) {
            fprintf(stderr, "bench_dcap: cannot load %s\n", dir);
            exit(1);
        }
        n++;
    }
    if (d != NULL)
        closedir(d);
    qsort(items, n, sizeof(*items), cmp_item);
    return n;
}

static void
verify_one(struct cas_dcap_verifier *v, const struct item *it)
{
    struct cas_dcap_verdict verdict;
    struct cas_err err = {0};

    /* TcbNotSupported cases still do every check before the TCB level: count them too. */
    if (cas_dcap_verify(v, it->quote, it->len, &it->col, it->at, &verdict, &err) != CAS_OK &&
        verdict.failed != CAS_DCAP_CHECK_TCB_LEVEL) {
        fprintf(stderr, "bench_dcap: %s failed: %s\n", it->name, err.msg[0]);
        exit(1);
    }
}

/* Verifications per second over the chosen items, round robin, for about `secs`. */
static double
rate(struct item *items, size_t n, bool js_only, bool warm, double secs)
{
    struct cas_dcap_anchor intel;
    struct cas_dcap_verifier *shared = NULL;
    struct cas_err err = {0};
    unsigned long count = 0;
    double start, elapsed;

    cas_dcap_anchor_intel(&intel);
    if (warm && cas_dcap_verifier_new(&intel, 1, &shared, &err) != CAS_OK)
        exit(1);
    start = now_s();
    do {
        for (size_t i = 0; i < n; i++) {
            struct cas_dcap_verifier *v = shared;
            if (js_only && !items[i].js_ok)
                continue;
            if (!warm && cas_dcap_verifier_new(&intel, 1, &v, &err) != CAS_OK)
                exit(1);
            verify_one(v, &items[i]);
            if (!warm)
                cas_dcap_verifier_free(v);
            count++;
        }
        elapsed = now_s() - start;
    } while (elapsed < secs);
    cas_dcap_verifier_free(shared);
    return (double)count / elapsed;
}

/* Bare ECDSA P-256 verifies through cas_dcap_ecdsa_verify (a fresh EVP_PKEY_CTX each). */
static double
ecdsa_rate(double secs)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t msg[32] = {1}, digest[32], der[80], rs[64] = {0};
    size_t n = sizeof(der);
    unsigned long count = 0;
    double start, elapsed;
    const unsigned char *p = der;
    ECDSA_SIG *sig;

    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(md, der, &n, msg, sizeof(msg));
    sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
    SHA256(msg, sizeof(msg), digest);
    start = now_s();
    do {
        for (int i = 0; i < 100; i++) {
            if (!cas_dcap_ecdsa_verify(key, digest, rs))
                exit(1);
        }
        count += 100;
        elapsed = now_s() - start;
    } while (elapsed < secs);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return (double)count / elapsed;
}

int
main(int argc, char **argv)
{
    static struct item items[MAX_CASES];
    double secs = argc > 2 ? strtod(argv[2], NULL) : 3.0;
    size_t n, js = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_dcap TESTDATA_DCAP_DIR [SECONDS]\n");
        return 2;
    }
    n = load(argv[1], items);
    for (size_t i = 0; i < n; i++)
        js += items[i].js_ok;
    if (n == 0 || js == 0) {
        fprintf(stderr, "bench_dcap: no cases under %s\n", argv[1]);
        return 1;
    }
    printf("cases_all %zu\ncases_js_ok %zu\n", n, js);
    for (size_t i = 0; i < n; i++)
        printf("case %s%s\n", items[i].name, items[i].js_ok ? "" : " (not in the JS set)");
    printf("ecdsa_verify_per_sec %.0f\n", ecdsa_rate(secs));
    printf("warm_per_sec %.0f\n", rate(items, n, true, true, secs));
    printf("cold_per_sec %.0f\n", rate(items, n, true, false, secs));
    printf("warm_all_per_sec %.0f\n", rate(items, n, false, true, secs));
    printf("cold_all_per_sec %.0f\n", rate(items, n, false, false, secs));
    for (size_t i = 0; i < n; i++) {
        free(items[i].quote);
        cas_dcap_collateral_release(&items[i].col);
    }
    return 0;
}
