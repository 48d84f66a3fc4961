/* tee_test.c - the lib/tee tests' shared helpers (tee_test.h). */
#include "tee_test.h"

#include <stddef.h>
#include <stdint.h>

#include <ftw.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/reader.h"

bool
quote_view_parse(const uint8_t *q, size_t len, struct quote_view *v)
{
    struct cas_reader r, hdr, sig;

    memset(v, 0, sizeof(*v));
    cas_rd_init(&r, q, len);
    v->header = q;
    if (!cas_rd_sub(&r, 48, &hdr) || !cas_rd_u16le(&hdr, &v->version) ||
        !cas_rd_u16le(&hdr, &v->att_key_type) || !cas_rd_u32le(&hdr, &v->tee_type) ||
        !cas_rd_u16le(&hdr, &v->qe_svn) || !cas_rd_u16le(&hdr, &v->pce_svn))
        return false;
    v->qe_vendor_id = hdr.buf + hdr.off;
    v->body = r.buf + r.off;
    if (!cas_rd_skip(&r, 384) || !cas_rd_u32le(&r, &v->sig_len) ||
        !cas_rd_sub(&r, v->sig_len, &sig) || cas_rd_left(&r) != 0)
        return false;
    v->isv_sig = sig.buf + sig.off;
    if (!cas_rd_skip(&sig, 64))
        return false;
    v->att_key = sig.buf + sig.off;
    if (!cas_rd_skip(&sig, 64))
        return false;
    v->qe_body = sig.buf + sig.off;
    if (!cas_rd_skip(&sig, 384))
        return false;
    v->qe_sig = sig.buf + sig.off;
    if (!cas_rd_skip(&sig, 64) || !cas_rd_u16le(&sig, &v->auth_len))
        return false;
    v->auth = sig.buf + sig.off;
    if (!cas_rd_skip(&sig, v->auth_len) || !cas_rd_u16le(&sig, &v->cert_type) ||
        !cas_rd_u32le(&sig, &v->cert_len))
        return false;
    v->cert = sig.buf + sig.off;
    return cas_rd_skip(&sig, v->cert_len) && cas_rd_left(&sig) == 0;
}

bool
verify_raw_sig(EVP_PKEY *key, const void *msg, size_t len, const uint8_t sig[64])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int der_len;
    bool ok = false;

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL;
    if ((der_len = i2d_ECDSA_SIG(es, &der)) <= 0)
        goto out;
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)der_len, msg, len) == 1;
out:
    BN_free(r);
    BN_free(s);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return ok;
}

EVP_PKEY *
pubkey_from_xy(const uint8_t xy[64])
{
    uint8_t pt[65];
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;

    pt[0] = 0x04;
    memcpy(pt + 1, xy, 64);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
    params[2] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

STACK_OF(X509) * certs_from_pem(const void *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;

    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    ERR_clear_error();
    BIO_free(bio);
    return sk;
}

bool
chain_verifies_to(STACK_OF(X509) * chain, const char *root_pem)
{
    STACK_OF(X509) *roots = certs_from_pem(root_pem, strlen(root_pem));
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false;

    if (sk_X509_num(roots) != 1 || sk_X509_num(chain) < 1 ||
        X509_STORE_add_cert(store, sk_X509_value(roots, 0)) != 1)
        goto out;
    for (int i = 1; i < sk_X509_num(chain); i++)
        sk_X509_push(untrusted, sk_X509_value(chain, i));
    ok = X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted) == 1 &&
         X509_verify_cert(ctx) == 1;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    sk_X509_pop_free(roots, X509_free);
    return ok;
}

bool
pcs_inner(const char *body, const char *key, const char **inner, size_t *inner_len, uint8_t sig[64])
{
    char prefix[64];
    const char *start, *tail;
    size_t n = (size_t)snprintf(prefix, sizeof(prefix), "{\"%s\":", key);

    if (strncmp(body, prefix, n) != 0)
        return false;
    start = body + n;
    /* the signature member is last: {"tcbInfo":{...},"signature":"<128 hex>"} */
    tail = strstr(start, ",\"signature\":\"");
    if (tail == NULL || strlen(tail) < 14 + 128 + 2 || strcmp(tail + 14 + 128, "\"}") != 0)
        return false;
    *inner = start;
    *inner_len = (size_t)(tail - start);
    hex_to_bytes(tail + 14, sig, 64);
    return true;
}

struct cas_tee_sim *
sim_on_machine(const char *dir, const char *machine_id, struct cas_tee_sim_config *cfg)
{
    struct cas_tee_sim *sim = NULL;
    struct cas_err err = {0};
    char path[4200];

    snprintf(path, sizeof(path), "%s/machine-id", dir);
    write_file(path, machine_id, strlen(machine_id));
    cfg->machine_id_path = path;
    if (cas_tee_sim_new(cfg, &sim, &err) != CAS_OK)
        sim = NULL;
    cfg->machine_id_path = NULL;
    return sim;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

char *
make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char buf[4096];

    snprintf(buf, sizeof(buf), "%s/cas-tee-test-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(buf) == NULL)
        return NULL;
    return strdup(buf);
}

void
rm_tree(const char *dir)
{
    if (dir != NULL)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
write_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        abort();
    if (len > 0 && fwrite(p, 1, len, f) != len)
        abort();
    fclose(f);
}

uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long n;

    *len = 0;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (p = malloc((size_t)n + 1)) == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        fclose(f);
        return NULL;
    }
    p[n] = 0;
    *len = (size_t)n;
    fclose(f);
    return p;
}

void
hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            abort();
        out[i] = (uint8_t)v;
    }
}
