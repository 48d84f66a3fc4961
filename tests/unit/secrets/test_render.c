/* test_render.c - cas_secrets_render(): every format of policy.md §9 for each kind, decoded back
 * and compared; escape(json); formats a kind lacks; the binary flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/pkcs12.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_testlib.h"
#include "util/codec.h"
#include "util/secret.h"

static const char g_session[] = "name: s\n"
                                "version: \"0.3.11\"\n"
                                "secrets:\n"
                                "  - {name: text, kind: ascii, value: \"a\\\"b\\n\\u0001\"}\n"
                                "  - {name: raw, kind: binary, size: 33}\n"
                                "  - {name: key, kind: private-key}\n"
                                "  - {name: pub, kind: public-key, private_key: key}\n"
                                "  - {name: root, kind: x509-ca, private_key: key}\n"
                                "  - {name: sub, kind: x509-ca, private_key: key, issuer: root}\n"
                                "  - {name: leaf, kind: x509, private_key: key, issuer: sub}\n"
                                "  - {name: word, kind: config-fragment, value: hello}\n"
                                "  - {name: map, kind: config-fragment, value: {b: [x], a: y}}\n";

static int
setup(void **state)
{
    *state = tl_fx_new(g_session);
    return 0;
}

/* The rendering as a malloc'd terminated string; asserts success and the binary flag. */
static char *
render(const struct cas_secret_value *v, enum cas_policy_format fmt, bool esc, bool binary,
       size_t *len)
{
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    bool is_binary = !binary;
    char *t;

    assert_int_equal(cas_secrets_render(v, fmt, esc, &s, &is_binary, &err), CAS_OK);
    assert_int_equal(is_binary, binary);
    t = tl_text(s, len);
    cas_secret_free(s);
    return t;
}

static void
test_render_gives_ascii_text_as_is_and_escaped_as_json(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "text");
    char *t = render(v, CAS_FMT_DEFAULT, false, false, NULL);

    assert_string_equal(t, "a\"b\n\x01");
    free(t);
    t = render(v, CAS_FMT_DEFAULT, true, false, NULL);
    assert_string_equal(t, "a\\\"b\\n\\u0001");
    free(t);
}

static void
test_render_gives_binary_in_each_encoding(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "raw");
    size_t n, len, got;
    const uint8_t *raw = cas_secret_peek(v->data, &n);
    uint8_t back[64];
    char *t;

    t = render(v, CAS_FMT_DEFAULT, false, true, &len);
    assert_int_equal(len, n);
    assert_memory_equal(t, raw, n);
    free(t);
    t = render(v, CAS_FMT_BIN, false, true, &len);
    assert_memory_equal(t, raw, n);
    free(t);
    t = render(v, CAS_FMT_HEX, false, false, &len);
    assert_int_equal(len, 66);
    assert_true(cas_hex_decode_exact(t, len, back, n));
    assert_memory_equal(back, raw, n);
    free(t);
    t = render(v, CAS_FMT_BASE64, false, false, &len);
    assert_true(cas_b64_decode(t, len, back, sizeof(back), &got, false));
    assert_int_equal(got, n);
    assert_memory_equal(back, raw, n);
    free(t);
    t = render(v, CAS_FMT_BASE64URL, false, false, &len);
    assert_null(strpbrk(t, "+/="));
    assert_true(cas_b64_decode(t, len, back, sizeof(back), &got, true));
    assert_memory_equal(back, raw, n);
    free(t);
}

static void
test_render_gives_base32_as_rfc4648_test_vectors(void **state)
{
    static const char *const in[] = {"f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const pad[] = {
        "MY======", "MZXQ====", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};
    static const char *const nopad[] = {"MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    struct cas_err err = {0};

    (void)state;
    for (size_t i = 0; i < 6; i++) {
        struct cas_secret_value v = {.kind = CAS_POLICY_KIND_BINARY};
        char *t;
        assert_int_equal(cas_secret_from(in[i], strlen(in[i]), &v.data, &err), CAS_OK);
        t = render(&v, CAS_FMT_BASE32, false, false, NULL);
        assert_string_equal(t, pad[i]);
        free(t);
        t = render(&v, CAS_FMT_BASE32NOPAD, false, false, NULL);
        assert_string_equal(t, nopad[i]);
        free(t);
        cas_secret_free(v.data);
    }
}

static void
test_render_gives_private_keys_as_pkcs8_pem_and_der(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "key");
    EVP_PKEY *want = tl_key(v->data), *got;
    const unsigned char *p;
    size_t len;
    char *t = render(v, CAS_FMT_DEFAULT, false, false, &len), *d;

    assert_int_equal(len, cas_secret_len(v->data));
    assert_memory_equal(t, cas_secret_peek(v->data, &len), len);
    d = render(v, CAS_FMT_PKCS8_DER, false, true, &len);
    p = (const unsigned char *)d;
    got = d2i_AutoPrivateKey(NULL, &p, (long)len);
    assert_non_null(got);
    assert_int_equal(EVP_PKEY_eq(want, got), 1);
    free(t);
    free(d);
    EVP_PKEY_free(want);
    EVP_PKEY_free(got);
}

static void
test_render_gives_public_keys_as_spki_pem_and_der(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "pub");
    EVP_PKEY *priv = tl_key(tl_get(&f->st, "key")->data), *got;
    const unsigned char *p;
    size_t len;
    char *t = render(v, CAS_FMT_SPKI_PEM, false, false, NULL);
    char *d = render(v, CAS_FMT_SPKI_DER, false, true, &len);

    assert_string_equal(t, v->pem);
    p = (const unsigned char *)d;
    got = d2i_PUBKEY(NULL, &p, (long)len);
    assert_non_null(got);
    assert_int_equal(EVP_PKEY_eq(priv, got), 1);
    free(t);
    free(d);
    EVP_PKEY_free(priv);
    EVP_PKEY_free(got);
}

static void
test_render_gives_a_certificate_as_pem_der_and_its_key(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "leaf");
    X509 *want = tl_cert(v->pem), *got;
    EVP_PKEY *key = tl_key(v->key), *k2;
    const unsigned char *p;
    size_t len;
    char *t = render(v, CAS_FMT_DEFAULT, false, false, NULL);

    assert_string_equal(t, v->pem);
    free(t);
    t = render(v, CAS_FMT_CRT_DER, false, true, &len);
    p = (const unsigned char *)t;
    got = d2i_X509(NULL, &p, (long)len);
    assert_non_null(got);
    assert_int_equal(X509_cmp(want, got), 0);
    free(t);
    t = render(v, CAS_FMT_PRIVKEY_PEM, false, false, &len);
    assert_memory_equal(t, cas_secret_peek(tl_get(&f->st, "key")->data, &len), len);
    free(t);
    t = render(v, CAS_FMT_PRIVKEY_DER, false, true, &len);
    p = (const unsigned char *)t;
    k2 = d2i_AutoPrivateKey(NULL, &p, (long)len);
    assert_int_equal(EVP_PKEY_eq(key, k2), 1);
    free(t);
    X509_free(want);
    X509_free(got);
    EVP_PKEY_free(key);
    EVP_PKEY_free(k2);
}

static void
test_render_gives_the_chain_without_and_the_old_chain_with_the_certificate(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *leaf = tl_get(&f->st, "leaf"), *sub = tl_get(&f->st, "sub"),
                                  *root = tl_get(&f->st, "root");
    char *want = malloc(strlen(leaf->pem) * 4), *t;

    t = render(leaf, CAS_FMT_CHAIN, false, false, NULL);
    snprintf(want, strlen(leaf->pem) * 4, "%s%s", sub->pem, root->pem);
    assert_string_equal(t, want);
    free(t);
    t = render(leaf, CAS_FMT_OLD_CHAIN, false, false, NULL);
    snprintf(want, strlen(leaf->pem) * 4, "%s%s%s", root->pem, sub->pem, leaf->pem);
    assert_string_equal(t, want);
    free(t);
    t = render(root, CAS_FMT_CHAIN, false, false, NULL);
    assert_string_equal(t, ""); /* self-signed: empty */
    free(t);
    t = render(root, CAS_FMT_OLD_CHAIN, false, false, NULL);
    assert_string_equal(t, root->pem);
    free(t);
    free(want);
}

static void
test_render_gives_pkcs12_under_the_empty_password_with_key_and_chain(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "leaf");
    X509 *want = tl_cert(v->pem), *cert = NULL;
    EVP_PKEY *wkey = tl_key(v->key), *key = NULL;
    STACK_OF(X509) *ca = NULL;
    const ASN1_OBJECT *obj;
    const X509_ALGOR *alg;
    const unsigned char *p;
    PKCS12 *p12;
    size_t len;
    char *t = render(v, CAS_FMT_PKCS12, false, true, &len);

    p = (const unsigned char *)t;
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    assert_non_null(p12);
    assert_int_equal(PKCS12_verify_mac(p12, "", 0), 1);
    PKCS12_get0_mac(NULL, &alg, NULL, NULL, p12);
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    assert_int_equal(OBJ_obj2nid(obj), NID_sha256);
    assert_int_equal(PKCS12_parse(p12, "", &key, &cert, &ca), 1);
    assert_int_equal(X509_cmp(want, cert), 0);
    assert_int_equal(EVP_PKEY_eq(wkey, key), 1);
    assert_int_equal(sk_X509_num(ca), 2);
    free(t);
    PKCS12_free(p12);
    X509_free(want);
    X509_free(cert);
    EVP_PKEY_free(wkey);
    EVP_PKEY_free(key);
    sk_X509_pop_free(ca, X509_free);
}

static void
test_render_escapes_pem_as_json_and_refuses_to_escape_binary(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *v = tl_get(&f->st, "leaf");
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    bool bin;
    char *t = render(v, CAS_FMT_CRT_PEM, true, false, NULL);

    assert_null(strchr(t, '\n'));
    assert_memory_equal(t, "-----BEGIN CERTIFICATE-----\\n", 29);
    free(t);
    assert_int_equal(cas_secrets_render(v, CAS_FMT_CRT_DER, true, &s, &bin, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "binary"));
    assert_null(s);
}

static void
test_render_refuses_formats_the_kind_lacks(void **state)
{
    struct tl_fx *f = *state;
    static const struct {
        const char *name;
        enum cas_policy_format fmt;
    } cases[] = {
        {"text", CAS_FMT_HEX},     {"raw", CAS_FMT_CRT_PEM},   {"key", CAS_FMT_PRIVKEY_PEM},
        {"key", CAS_FMT_SPKI_PEM}, {"pub", CAS_FMT_PKCS8_PEM}, {"leaf", CAS_FMT_BASE64},
        {"word", CAS_FMT_BIN},     {"map", CAS_FMT_CHAIN},     {"pub", CAS_FMT_OLD_CHAIN},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cas_secret *s = NULL;
        struct cas_err err = {0};
        bool bin;
        assert_int_equal(
            cas_secrets_render(tl_get(&f->st, cases[i].name), cases[i].fmt, false, &s, &bin, &err),
            CAS_E_INVALID);
        assert_non_null(strstr(err.msg[0], "does not exist for this kind"));
        assert_null(s);
    }
}

static void
test_render_refuses_key_formats_of_a_certificate_without_its_key(void **state)
{
    struct tl_fx *f = *state;
    struct cas_secret_value *v = NULL;
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    bool bin;

    assert_int_equal(cas_secrets_value_dup(tl_get(&f->st, "leaf"), false, &v, &err), CAS_OK);
    assert_int_equal(cas_secrets_render(v, CAS_FMT_PRIVKEY_PEM, false, &s, &bin, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "private key"));
    assert_int_equal(cas_secrets_render(v, CAS_FMT_PKCS12, false, &s, &bin, &err), CAS_E_INVALID);
    assert_null(s);
    cas_secrets_value_free(v);
}

static void
test_render_gives_config_fragments_as_text_or_compact_json(void **state)
{
    struct tl_fx *f = *state;
    char *t = render(tl_get(&f->st, "word"), CAS_FMT_DEFAULT, false, false, NULL);

    assert_string_equal(t, "hello");
    free(t);
    t = render(tl_get(&f->st, "map"), CAS_FMT_DEFAULT, false, false, NULL);
    assert_string_equal(t, "{\"a\":\"y\",\"b\":[\"x\"]}");
    free(t);
    t = render(tl_get(&f->st, "map"), CAS_FMT_DEFAULT, true, false, NULL);
    assert_string_equal(t, "{\\\"a\\\":\\\"y\\\",\\\"b\\\":[\\\"x\\\"]}");
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_gives_ascii_text_as_is_and_escaped_as_json),
        cmocka_unit_test(test_render_gives_binary_in_each_encoding),
        cmocka_unit_test(test_render_gives_base32_as_rfc4648_test_vectors),
        cmocka_unit_test(test_render_gives_private_keys_as_pkcs8_pem_and_der),
        cmocka_unit_test(test_render_gives_public_keys_as_spki_pem_and_der),
        cmocka_unit_test(test_render_gives_a_certificate_as_pem_der_and_its_key),
        cmocka_unit_test(
            test_render_gives_the_chain_without_and_the_old_chain_with_the_certificate),
        cmocka_unit_test(test_render_gives_pkcs12_under_the_empty_password_with_key_and_chain),
        cmocka_unit_test(test_render_escapes_pem_as_json_and_refuses_to_escape_binary),
        cmocka_unit_test(test_render_refuses_formats_the_kind_lacks),
        cmocka_unit_test(test_render_refuses_key_formats_of_a_certificate_without_its_key),
        cmocka_unit_test(test_render_gives_config_fragments_as_text_or_compact_json),
    };
    return cmocka_run_group_tests(tests, setup, tl_fx_teardown);
}
