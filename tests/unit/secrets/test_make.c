/* test_make.c - cas_secrets_make(): every kind generated with policy.md §8's defaults and checked
 * with OpenSSL, explicit values checked (good and bad), references through the resolver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_testlib.h"
#include "util/alloc.h"
#include "util/secret.h"

static const char g_session[] = "name: s\n"
                                "version: \"0.3.11\"\n"
                                "secrets:\n"
                                "  - name: password\n"
                                "    kind: ascii\n"
                                "  - name: long_password\n"
                                "    kind: ascii\n"
                                "    size: 64\n"
                                "  - name: raw\n"
                                "    kind: binary\n"
                                "  - name: raw32\n"
                                "    kind: binary\n"
                                "    size: 32\n"
                                "  - name: key\n"
                                "    kind: private-key\n"
                                "  - name: ed\n"
                                "    kind: private-key\n"
                                "    key_type: Ed25519\n"
                                "  - name: rsa\n"
                                "    kind: private-key\n"
                                "    key_type: RSA-2048\n"
                                "  - name: pub\n"
                                "    kind: public-key\n"
                                "    private_key: key\n"
                                "  - name: web\n"
                                "    kind: x509\n"
                                "    private_key: rsa\n"
                                "    issuer: sub\n"
                                "    endpoint: server\n"
                                "    san: [\"dns:www.example.com\", \"ip:10.0.0.1\", \"ip:::1\"]\n"
                                "    valid_for: 90 days\n"
                                "  - name: client\n"
                                "    kind: x509\n"
                                "    private_key: key\n"
                                "    issuer: root\n"
                                "    endpoint: client\n"
                                "  - name: sub\n"
                                "    kind: x509-ca\n"
                                "    private_key: ed\n"
                                "    issuer: root\n"
                                "  - name: root\n"
                                "    kind: x509-ca\n"
                                "    private_key: root_key\n"
                                "    common_name: Example Root\n"
                                "    valid_for: 1 year\n"
                                "  - name: root_key\n"
                                "    kind: private-key\n"
                                "    key_type: P-384\n";

static int
setup(void **state)
{
    *state = tl_fx_new(g_session);
    return 0;
}

static void
test_make_generates_ascii_of_the_default_size_from_printable_characters(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *a = tl_get(&f->st, "password"),
                                  *b = tl_get(&f->st, "long_password");
    size_t n, m;
    const uint8_t *p = cas_secret_peek(a->data, &n), *q = cas_secret_peek(b->data, &m);

    assert_int_equal(a->kind, CAS_POLICY_KIND_ASCII);
    assert_int_equal(n, 20);
    assert_int_equal(m, 64);
    for (size_t i = 0; i < n; i++)
        assert_true(p[i] >= 0x21 && p[i] <= 0x7e);
    for (size_t i = 0; i < m; i++)
        assert_true(q[i] >= 0x21 && q[i] <= 0x7e);
    assert_true(a->is_generated);
}

static void
test_make_generates_binary_values_of_their_size_and_never_twice_the_same(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *a = tl_get(&f->st, "raw"), *b = tl_get(&f->st, "raw32");
    struct cas_secret_value *again = NULL;
    struct cas_err err = {0};

    assert_int_equal(cas_secret_len(a->data), 20);
    assert_int_equal(cas_secret_len(b->data), 32);
    assert_int_equal(
        cas_secrets_make(cas_policy_secret_find(f->p, "raw32"), TL_NOW, NULL, NULL, &again, &err),
        CAS_OK);
    assert_false(cas_secret_equal(again->data, b->data));
    cas_secrets_value_free(again);
}

static void
assert_key(const struct cas_secret_value *v, const char *type, int bits, const char *group)
{
    EVP_PKEY *k = tl_key(v->data);
    char g[32];
    size_t n;
    const uint8_t *p = cas_secret_peek(v->data, &n);

    assert_int_equal(v->kind, CAS_POLICY_KIND_PRIVATE_KEY);
    assert_memory_equal(p, "-----BEGIN PRIVATE KEY-----\n", 28);
    assert_true(EVP_PKEY_is_a(k, type));
    if (bits != 0)
        assert_int_equal(EVP_PKEY_get_bits(k), bits);
    if (group != NULL) {
        assert_int_equal(EVP_PKEY_get_utf8_string_param(k, "group", g, sizeof(g), NULL), 1);
        assert_string_equal(g, group);
    }
    EVP_PKEY_free(k);
}

static void
test_make_generates_private_keys_of_each_key_type_as_pkcs8(void **state)
{
    struct tl_fx *f = *state;
    struct cas_policy *p = tl_policy("name: k\nversion: \"0.3.11\"\nsecrets:\n"
                                     "  - {name: k3, kind: private-key, key_type: RSA-3072}\n");
    struct tl_store st = {0};
    struct cas_err err = {0};

    assert_key(tl_get(&f->st, "key"), "EC", 0, "prime256v1");
    assert_int_equal(tl_get(&f->st, "key")->key_type, CAS_POLICY_KEY_P256);
    assert_key(tl_get(&f->st, "root_key"), "EC", 0, "secp384r1");
    assert_key(tl_get(&f->st, "ed"), "ED25519", 0, NULL);
    assert_key(tl_get(&f->st, "rsa"), "RSA", 2048, NULL);
    assert_int_equal(tl_make_all(p, &st, TL_NOW, &err), CAS_OK);
    assert_key(tl_get(&st, "k3"), "RSA", 3072, NULL);
    assert_int_equal(tl_get(&st, "k3")->key_type, CAS_POLICY_KEY_RSA3072);
    tl_release(&st);
    cas_policy_free(p);
}

static void
test_make_derives_the_public_key_from_its_private_key(void **state)
{
    struct tl_fx *f = *state;
    EVP_PKEY *k = tl_key(tl_get(&f->st, "key")->data), *pub;
    BIO *bio = BIO_new_mem_buf(tl_get(&f->st, "pub")->pem, -1);
    unsigned char *a = NULL, *b = NULL;
    int na, nb;

    pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    assert_non_null(pub);
    na = i2d_PUBKEY(k, &a);
    nb = i2d_PUBKEY(pub, &b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
    OPENSSL_free(a);
    OPENSSL_free(b);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k);
    BIO_free(bio);
}

/* Verifies leaf against root, with untrusted intermediates, at TL_NOW. */
static int
verify(X509 *leaf, const char *chain_pem, X509 *root)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    BIO *bio = BIO_new_mem_buf(chain_pem, -1);
    X509 *c;
    int ok;

    while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        sk_X509_push(untrusted, c);
    X509_STORE_add_cert(store, root);
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)TL_NOW);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(untrusted, X509_free);
    BIO_free(bio);
    return ok;
}

static void
test_make_issues_a_server_certificate_whose_chain_verifies_to_its_root(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *web = tl_get(&f->st, "web"), *sub = tl_get(&f->st, "sub"),
                                  *root = tl_get(&f->st, "root");
    X509 *leaf = tl_cert(web->pem), *r = tl_cert(root->pem);
    char *want = NULL;

    assert_int_equal(verify(leaf, web->chain, r), 1);
    /* the chain is the issuer, then its chain, up to the root */
    want = tl_cert_and_chain(sub);
    assert_string_equal(web->chain, want);
    assert_null(root->chain);
    free(want);
    X509_free(leaf);
    X509_free(r);
}

static void
test_make_puts_sans_eku_and_the_default_common_name_into_a_server_certificate(void **state)
{
    struct tl_fx *f = *state;
    X509 *c = tl_cert(tl_get(&f->st, "web")->pem);
    GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
    char cn[128];
    const unsigned char ip4[4] = {10, 0, 0, 1};
    int dns = 0, ips = 0;

    assert_non_null(gens);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            assert_string_equal(ASN1_STRING_get0_data(g->d.dNSName), "www.example.com");
            dns++;
        } else if (g->type == GEN_IPADD) {
            int n = ASN1_STRING_length(g->d.iPAddress);
            assert_true(n == 4 || n == 16);
            if (n == 4)
                assert_memory_equal(ASN1_STRING_get0_data(g->d.iPAddress), ip4, 4);
            ips++;
        }
    }
    assert_int_equal(dns, 1);
    assert_int_equal(ips, 2);
    GENERAL_NAMES_free(gens);
    assert_true((X509_get_extended_key_usage(c) & XKU_SSL_SERVER) != 0);
    assert_false((X509_get_extended_key_usage(c) & XKU_SSL_CLIENT) != 0);
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, "www.example.com");
    /* RSA subject: digitalSignature and keyEncipherment */
    assert_int_equal(X509_get_key_usage(c), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    assert_int_equal(X509_check_ca(c), 0);
    X509_free(c);
}

static void
test_make_issues_a_client_certificate_named_after_its_secret(void **state)
{
    struct tl_fx *f = *state;
    X509 *c = tl_cert(tl_get(&f->st, "client")->pem), *r = tl_cert(tl_get(&f->st, "root")->pem);
    char cn[128];

    assert_true((X509_get_extended_key_usage(c) & XKU_SSL_CLIENT) != 0);
    assert_false((X509_get_extended_key_usage(c) & XKU_SSL_SERVER) != 0);
    X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "client");
    assert_int_equal(X509_get_key_usage(c), KU_DIGITAL_SIGNATURE);
    assert_int_equal(verify(c, tl_get(&f->st, "client")->chain, r), 1);
    /* signed by the P-384 root: ECDSA with SHA-384 */
    assert_int_equal(X509_get_signature_nid(c), NID_ecdsa_with_SHA384);
    X509_free(c);
    X509_free(r);
}

static void
test_make_issues_ca_certificates_with_the_spec_extensions(void **state)
{
    struct tl_fx *f = *state;
    X509 *root = tl_cert(tl_get(&f->st, "root")->pem), *sub = tl_cert(tl_get(&f->st, "sub")->pem);
    X509 *web = tl_cert(tl_get(&f->st, "web")->pem);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(root);
    char cn[128];

    assert_int_equal(X509_check_ca(root), 1);
    assert_int_equal(X509_check_ca(sub), 1);
    assert_int_equal(X509_get_key_usage(root),
                     KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
    assert_int_equal(X509_get_extension_flags(root) & EXFLAG_SS, EXFLAG_SS);
    assert_non_null(X509_get0_subject_key_id(root));
    assert_non_null(X509_get0_authority_key_id(sub));
    assert_int_equal(
        ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(sub), X509_get0_subject_key_id(root)), 0);
    X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "Example Root");
    assert_int_equal(ASN1_STRING_length(serial), 16);
    assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER); /* positive */
    assert_int_equal(X509_get_signature_nid(root), NID_ecdsa_with_SHA384);
    assert_int_equal(X509_get_signature_nid(web), NID_ED25519); /* sub's key is Ed25519 */
    X509_free(root);
    X509_free(sub);
    X509_free(web);
}

static void
test_make_sets_validity_and_renewal_from_valid_for(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *web = tl_get(&f->st, "web"), *sub = tl_get(&f->st, "sub");
    X509 *c = tl_cert(sub->pem);
    int day = 0, sec = 0;

    assert_int_equal(web->not_before, TL_NOW - 3600);
    assert_int_equal(web->not_after, TL_NOW + 90 * 86400);
    /* a third of (90 days + 1 hour) before notAfter */
    assert_int_equal(web->renew_at, web->not_after - (90 * 86400 + 3600) / 3);
    assert_int_equal(sub->not_after, CAS_SECRETS_NEVER);
    assert_int_equal(sub->renew_at, 0);
    assert_int_equal(ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(c)), 1);
    assert_string_equal((const char *)ASN1_STRING_get0_data(X509_get0_notAfter(c)),
                        "99991231235959Z");
    X509_free(c);
}

static void
test_make_carries_the_certificate_key_for_privatekey_formats(void **state)
{
    struct tl_fx *f = *state;

    assert_true(cas_secret_equal(tl_get(&f->st, "web")->key, tl_get(&f->st, "rsa")->data));
    assert_non_null(tl_get(&f->st, "root")->key);
}

static void
test_make_refuses_a_certificate_whose_issuer_has_no_value_yet(void **state)
{
    struct tl_fx *f = *state;
    struct tl_store empty = {0};
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};
    char line[2048];

    assert_int_equal(
        cas_secrets_make(cas_policy_secret_find(f->p, "sub"), TL_NOW, tl_resolve, &empty, &v, &err),
        CAS_E_INVALID);
    assert_null(v);
    cas_err_join(&err, line, sizeof(line));
    assert_non_null(strstr(line, "secret 'sub'"));
    assert_non_null(strstr(line, "'ed' has no value"));
}

static void
test_make_refuses_to_generate_a_config_fragment_or_an_imported_secret(void **state)
{
    struct cas_policy_secret frag = {.name = "frag", .kind = CAS_POLICY_KIND_CONFIG_FRAGMENT};
    struct cas_policy_secret imp = {
        .name = "imp", .kind = CAS_POLICY_KIND_ASCII, .source = CAS_POLICY_IMPORTED};
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    (void)state;
    assert_int_equal(cas_secrets_make(&frag, TL_NOW, NULL, NULL, &v, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "never generated"));
    assert_int_equal(cas_secrets_make(&imp, TL_NOW, NULL, NULL, &v, &err), CAS_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg[0], "imported"));
    assert_null(v);
}

static void
test_order_refuses_a_cycle_of_issuers(void **state)
{
    struct cas_policy *p = tl_policy("name: c\nversion: \"0.3.11\"\nsecrets:\n"
                                     "  - {name: k, kind: private-key}\n"
                                     "  - {name: a, kind: x509-ca, private_key: k, issuer: b}\n"
                                     "  - {name: b, kind: x509-ca, private_key: k, issuer: a}\n");
    size_t order[3];
    struct cas_err err = {0};

    (void)state;
    assert_int_equal(cas_secrets_order(p, order, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "cycle of issuers"));
    cas_policy_free(p);
}

static void
test_order_puts_keys_and_issuers_first(void **state)
{
    struct tl_fx *f = *state;
    size_t order[TL_MAX], pos[TL_MAX];
    struct cas_err err = {0};

    assert_int_equal(cas_secrets_order(f->p, order, &err), CAS_OK);
    for (size_t i = 0; i < f->p->secret_count; i++)
        pos[order[i]] = i;
    for (size_t i = 0; i < f->p->secret_count; i++) {
        const struct cas_policy_secret *s = &f->p->secrets[i];
        if (s->issuer != NULL)
            assert_true(pos[cas_policy_secret_find(f->p, s->issuer) - f->p->secrets] < pos[i]);
        if (s->private_key != NULL)
            assert_true(pos[cas_policy_secret_find(f->p, s->private_key) - f->p->secrets] < pos[i]);
    }
}

static void
test_make_gives_a_ca_without_private_key_a_fresh_p256_key(void **state)
{
    struct cas_policy_secret def = {.name = "lone", .kind = CAS_POLICY_KIND_X509_CA};
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};
    X509 *c;
    EVP_PKEY *k;

    (void)state;
    assert_int_equal(cas_secrets_make(&def, TL_NOW, NULL, NULL, &v, &err), CAS_OK);
    c = tl_cert(v->pem);
    k = tl_key(v->key);
    assert_int_equal(X509_check_private_key(c, k), 1);
    assert_int_equal(X509_verify(c, k), 1);
    assert_int_equal(EVP_PKEY_get_bits(k), 256);
    X509_free(c);
    EVP_PKEY_free(k);
    cas_secrets_value_free(v);
}

static void
test_make_refuses_a_public_key_whose_private_key_has_no_value(void **state)
{
    struct cas_policy_secret def = {
        .name = "pub", .kind = CAS_POLICY_KIND_PUBLIC_KEY, .private_key = "gone"};
    struct tl_store empty = {0};
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};
    char line[2048];

    (void)state;
    assert_int_equal(cas_secrets_make(&def, TL_NOW, tl_resolve, &empty, &v, &err), CAS_E_INVALID);
    cas_err_join(&err, line, sizeof(line));
    assert_non_null(strstr(line, "secret 'pub'"));
    assert_non_null(strstr(line, "private_key 'gone' has no value"));
    assert_null(v);
}

static void
test_make_survives_every_allocation_failure(void **state)
{
    struct cas_policy *p = tl_policy("name: m\nversion: \"0.3.11\"\nsecrets:\n"
                                     "  - {name: a, kind: ascii}\n"
                                     "  - {name: k, kind: private-key}\n"
                                     "  - {name: pub, kind: public-key, private_key: k}\n"
                                     "  - {name: ca, kind: x509-ca, private_key: k}\n"
                                     "  - {name: c, kind: x509, private_key: k, issuer: ca,\n"
                                     "     san: [\"dns:x.example\"]}\n"
                                     "  - {name: f, kind: config-fragment, value: {a: [b]}}\n");
    bool done = false;

    (void)state;
    for (long n = 0; !done; n++) {
        struct tl_store st = {0};
        struct cas_err err = {0};
        cas_rc rc;
        assert_true(n < 2000);
        cas_alloc_fail_after(n);
        rc = tl_make_all(p, &st, TL_NOW, &err);
        cas_alloc_fail_after(-1);
        if (rc == CAS_OK)
            done = true;
        else
            assert_int_equal(rc, CAS_E_NOMEM);
        tl_release(&st);
    }
    cas_policy_free(p);
}

/* ---- explicit values (definitions built by hand: the parser already refuses some) ---- */

static cas_rc
make_explicit(enum cas_policy_kind kind, const char *private_key, const void *value, size_t len,
              struct tl_store *st, struct cas_secret_value **out, struct cas_err *err)
{
    struct cas_policy_secret def = {
        .name = "given", .kind = kind, .source = CAS_POLICY_EXPLICIT, .private_key = private_key};
    struct cas_err e2 = {0};
    cas_rc rc;

    assert_int_equal(cas_secret_from(value, len, &def.value, &e2), CAS_OK);
    if (kind == CAS_POLICY_KIND_PRIVATE_KEY)
        def.key_type = CAS_POLICY_KEY_P256;
    rc = cas_secrets_make(&def, TL_NOW, tl_resolve, st, out, err);
    cas_secret_free(def.value);
    return rc;
}

static void
test_make_takes_explicit_ascii_binary_and_canonical_config_fragments(void **state)
{
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};
    const char frag[] = "{\"b\":[1,null,\"x\\u0001\"],\"a\":{\"\\u00e9\":1,\"z\":\"y\"}}";
    char *t;

    (void)state;
    assert_int_equal(make_explicit(CAS_POLICY_KIND_ASCII, NULL, "héllo", 6, NULL, &v, &err),
                     CAS_OK);
    assert_false(v->is_generated);
    assert_int_equal(cas_secret_len(v->data), 6);
    cas_secrets_value_free(v);
    assert_int_equal(make_explicit(CAS_POLICY_KIND_BINARY, NULL, "\0\1\2", 3, NULL, &v, &err),
                     CAS_OK);
    assert_int_equal(cas_secret_len(v->data), 3);
    cas_secrets_value_free(v);
    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_CONFIG_FRAGMENT, NULL, frag, strlen(frag), NULL, &v, &err),
        CAS_OK);
    t = tl_text(v->data, NULL);
    assert_string_equal(t, "{\"a\":{\"z\":\"y\",\"\xc3\xa9\":1},\"b\":[1,null,\"x\\u0001\"]}");
    free(t);
    cas_secrets_value_free(v);
}

static void
test_make_refuses_explicit_ascii_with_nul_or_invalid_utf8(void **state)
{
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    (void)state;
    assert_int_equal(make_explicit(CAS_POLICY_KIND_ASCII, NULL, "a\0b", 3, NULL, &v, &err),
                     CAS_E_INVALID);
    assert_int_equal(make_explicit(CAS_POLICY_KIND_ASCII, NULL, "\xc3(", 2, NULL, &v, &err),
                     CAS_E_INVALID);
    assert_int_equal(make_explicit(CAS_POLICY_KIND_ASCII, NULL, "\xed\xa0\x80", 3, NULL, &v, &err),
                     CAS_E_INVALID);
    assert_null(v);
    assert_non_null(strstr(cas_err_get(&err, 0), "secret 'given'"));
}

static void
test_make_takes_an_explicit_certificate_chain_and_its_matching_key(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *web = tl_get(&f->st, "web");
    char *pem = tl_cert_and_chain(web);
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    assert_int_equal(make_explicit(CAS_POLICY_KIND_X509, "rsa", pem, strlen(pem), &f->st, &v, &err),
                     CAS_OK);
    assert_string_equal(v->pem, web->pem);
    assert_string_equal(v->chain, web->chain);
    assert_true(cas_secret_equal(v->key, tl_get(&f->st, "rsa")->data));
    assert_int_equal(v->not_after, web->not_after);
    assert_int_equal(v->renew_at, 0); /* explicit: never re-issued */
    cas_secrets_value_free(v);
    free(pem);
}

static void
test_make_refuses_an_explicit_certificate_that_does_not_match_its_explicit_key(void **state)
{
    struct tl_fx *f = *state;
    struct tl_store st = {0};
    struct cas_secret_value *key = NULL, *v = NULL;
    const struct cas_secret_value *web = tl_get(&f->st, "web");
    struct cas_err err = {0};
    size_t n;
    const uint8_t *k = cas_secret_peek(tl_get(&f->st, "key")->data, &n);
    char line[2048];

    /* an explicit (not generated) key that is not the certificate's */
    assert_int_equal(make_explicit(CAS_POLICY_KIND_PRIVATE_KEY, NULL, k, n, NULL, &key, &err),
                     CAS_OK);
    tl_put(&st, "other", key);
    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_X509, "other", web->pem, strlen(web->pem), &st, &v, &err),
        CAS_E_INVALID);
    assert_null(v);
    cas_err_join(&err, line, sizeof(line));
    assert_non_null(strstr(line, "explicit value of secret 'given'"));
    assert_non_null(strstr(line, "does not match private_key 'other'"));
    assert_null(strstr(line, "BEGIN"));
    tl_release(&st);
}

static void
test_make_leaves_out_a_generated_key_that_cannot_match(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *web = tl_get(&f->st, "web");
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_X509, "key", web->pem, strlen(web->pem), &f->st, &v, &err),
        CAS_OK);
    assert_null(v->key);
    assert_null(v->chain);
    cas_secrets_value_free(v);
}

static void
test_make_refuses_wrong_pem_for_each_kind(void **state)
{
    struct tl_fx *f = *state;
    const char *pub = tl_get(&f->st, "pub")->pem, *crt = tl_get(&f->st, "web")->pem;
    const char garbage[] = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    const char encrypted[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n"
                             "-----END ENCRYPTED PRIVATE KEY-----\n";
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    assert_int_equal(make_explicit(CAS_POLICY_KIND_X509, NULL, pub, strlen(pub), NULL, &v, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "expected 'CERTIFICATE'"));
    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_X509, NULL, garbage, strlen(garbage), NULL, &v, &err),
        CAS_E_INVALID);
    assert_int_equal(make_explicit(CAS_POLICY_KIND_X509, NULL, "", 0, NULL, &v, &err),
                     CAS_E_INVALID);
    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_PUBLIC_KEY, NULL, crt, strlen(crt), NULL, &v, &err),
        CAS_E_INVALID);
    assert_int_equal(make_explicit(CAS_POLICY_KIND_PRIVATE_KEY, NULL, encrypted, strlen(encrypted),
                                   NULL, &v, &err),
                     CAS_E_INVALID);
    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_PRIVATE_KEY, NULL, pub, strlen(pub), NULL, &v, &err),
        CAS_E_INVALID);
    assert_null(v);
}

static void
test_make_refuses_a_chain_out_of_order_and_a_ca_value_that_is_no_ca(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *web = tl_get(&f->st, "web");
    size_t a = strlen(web->pem), b = strlen(web->chain);
    char *rev = malloc(a + b + 1);
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    memcpy(rev, web->chain, b);
    memcpy(rev + b, web->pem, a + 1);
    assert_int_equal(make_explicit(CAS_POLICY_KIND_X509, NULL, rev, a + b, NULL, &v, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "is not issued by"));
    assert_int_equal(make_explicit(CAS_POLICY_KIND_X509_CA, NULL, web->pem, a, NULL, &v, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "CA certificate"));
    assert_null(v);
    free(rev);
}

static void
test_make_normalises_an_explicit_public_key(void **state)
{
    struct tl_fx *f = *state;
    const char *pub = tl_get(&f->st, "pub")->pem;
    char *messy = malloc(strlen(pub) + 32);
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};

    snprintf(messy, strlen(pub) + 32, "\n\n%s", pub);
    assert_int_equal(
        make_explicit(CAS_POLICY_KIND_PUBLIC_KEY, NULL, messy, strlen(messy), NULL, &v, &err),
        CAS_OK);
    assert_string_equal(v->pem, pub);
    cas_secrets_value_free(v);
    free(messy);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_generates_ascii_of_the_default_size_from_printable_characters),
        cmocka_unit_test(test_make_generates_binary_values_of_their_size_and_never_twice_the_same),
        cmocka_unit_test(test_make_generates_private_keys_of_each_key_type_as_pkcs8),
        cmocka_unit_test(test_make_derives_the_public_key_from_its_private_key),
        cmocka_unit_test(test_make_issues_a_server_certificate_whose_chain_verifies_to_its_root),
        cmocka_unit_test(
            test_make_puts_sans_eku_and_the_default_common_name_into_a_server_certificate),
        cmocka_unit_test(test_make_issues_a_client_certificate_named_after_its_secret),
        cmocka_unit_test(test_make_issues_ca_certificates_with_the_spec_extensions),
        cmocka_unit_test(test_make_sets_validity_and_renewal_from_valid_for),
        cmocka_unit_test(test_make_carries_the_certificate_key_for_privatekey_formats),
        cmocka_unit_test(test_make_refuses_a_certificate_whose_issuer_has_no_value_yet),
        cmocka_unit_test(test_make_refuses_to_generate_a_config_fragment_or_an_imported_secret),
        cmocka_unit_test(test_make_gives_a_ca_without_private_key_a_fresh_p256_key),
        cmocka_unit_test(test_make_refuses_a_public_key_whose_private_key_has_no_value),
        cmocka_unit_test(test_make_survives_every_allocation_failure),
        cmocka_unit_test(test_order_refuses_a_cycle_of_issuers),
        cmocka_unit_test(test_order_puts_keys_and_issuers_first),
        cmocka_unit_test(test_make_takes_explicit_ascii_binary_and_canonical_config_fragments),
        cmocka_unit_test(test_make_refuses_explicit_ascii_with_nul_or_invalid_utf8),
        cmocka_unit_test(test_make_takes_an_explicit_certificate_chain_and_its_matching_key),
        cmocka_unit_test(
            test_make_refuses_an_explicit_certificate_that_does_not_match_its_explicit_key),
        cmocka_unit_test(test_make_leaves_out_a_generated_key_that_cannot_match),
        cmocka_unit_test(test_make_refuses_wrong_pem_for_each_kind),
        cmocka_unit_test(test_make_refuses_a_chain_out_of_order_and_a_ca_value_that_is_no_ca),
        cmocka_unit_test(test_make_normalises_an_explicit_public_key),
    };
    return cmocka_run_group_tests(tests, setup, tl_fx_teardown);
}
