/* test_value.c - the storage encoding (round trips of every kind, hostile inputs) and the values
 * API JSON of api.md §2.2, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_testlib.h"
#include "util/alloc.h"
#include "util/secret.h"

static const char g_session[] = "name: s\n"
                                "version: \"0.3.11\"\n"
                                "secrets:\n"
                                "  - {name: text, kind: ascii}\n"
                                "  - {name: raw, kind: binary, size: 3}\n"
                                "  - {name: key, kind: private-key}\n"
                                "  - {name: pub, kind: public-key, private_key: key}\n"
                                "  - {name: ca, kind: x509-ca, private_key: key}\n"
                                "  - {name: crt, kind: x509, private_key: key, issuer: ca,\n"
                                "     dns: a.example, valid_for: 30d}\n"
                                "  - name: frag\n"
                                "    kind: config-fragment\n"
                                "    value: {b: [x, y], a: null}\n";

static int
setup(void **state)
{
    *state = tl_fx_new(g_session);
    return 0;
}

static void
assert_same_secret(const struct cas_secret *a, const struct cas_secret *b)
{
    if (a == NULL || b == NULL) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_int_equal(cas_secret_len(a), cas_secret_len(b));
    assert_true(cas_secret_equal(a, b));
}

static void
assert_same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void
test_encode_round_trips_every_kind_to_the_same_bytes(void **state)
{
    struct tl_fx *f = *state;

    for (size_t i = 0; i < f->st.n; i++) {
        const struct cas_secret_value *v = f->st.vals[i];
        struct cas_secret *enc = NULL, *again = NULL;
        struct cas_secret_value *back = NULL;
        struct cas_err err = {0};
        size_t n;
        const uint8_t *p;

        assert_int_equal(cas_secrets_encode(v, &enc, &err), CAS_OK);
        p = cas_secret_peek(enc, &n);
        assert_int_equal(cas_secrets_decode(p, n, &back, &err), CAS_OK);
        assert_int_equal(back->kind, v->kind);
        assert_int_equal(back->key_type, v->key_type);
        assert_int_equal(back->is_generated, v->is_generated);
        assert_int_equal(back->not_before, v->not_before);
        assert_int_equal(back->not_after, v->not_after);
        assert_int_equal(back->renew_at, v->renew_at);
        assert_same_secret(back->data, v->data);
        assert_same_secret(back->key, v->key);
        assert_same_str(back->pem, v->pem);
        assert_same_str(back->chain, v->chain);
        assert_int_equal(cas_secrets_encode(back, &again, &err), CAS_OK);
        assert_true(cas_secret_equal(enc, again));
        cas_secret_free(enc);
        cas_secret_free(again);
        cas_secrets_value_free(back);
    }
}

/* The encoding of the x509 value, copied out for tampering. */
static uint8_t *
encoded(struct tl_fx *f, const char *name, size_t *len)
{
    struct cas_secret *enc = NULL;
    struct cas_err err = {0};
    const uint8_t *p;
    uint8_t *copy;

    assert_int_equal(cas_secrets_encode(tl_get(&f->st, name), &enc, &err), CAS_OK);
    p = cas_secret_peek(enc, len);
    copy = malloc(*len + 8);
    memcpy(copy, p, *len);
    cas_secret_free(enc);
    return copy;
}

static cas_rc
decode(const uint8_t *p, size_t len, struct cas_err *err)
{
    struct cas_secret_value *v = NULL;
    cas_rc rc = cas_secrets_decode(p, len, &v, err);

    if (rc != CAS_OK)
        assert_null(v);
    cas_secrets_value_free(v);
    return rc;
}

static void
test_decode_refuses_every_truncation(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "crt", &len);
    struct cas_err err = {0};

    for (size_t n = 0; n < len; n++)
        assert_int_equal(decode(p, n, &err), CAS_E_INVALID);
    assert_int_equal(decode(p, len, &err), CAS_OK);
    free(p);
}

static void
test_decode_refuses_trailing_bytes(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "text", &len);
    struct cas_err err = {0};

    p[len] = 0;
    assert_int_equal(decode(p, len + 1, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "trailing bytes"));
    free(p);
}

static void
test_decode_refuses_a_wrong_magic_version_or_flag(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "text", &len);
    struct cas_err err = {0};

    p[0] = 'X';
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "no value header"));
    p[0] = 'C';
    p[4] = 2;
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "unknown version"));
    p[4] = 1;
    p[7] = 0x81;
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "unknown flags"));
    free(p);
}

static void
test_decode_refuses_unknown_kinds_and_key_types(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "key", &len);
    struct cas_err err = {0};

    p[5] = 0;
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    p[5] = 99;
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    p[5] = CAS_POLICY_KIND_PRIVATE_KEY;
    p[6] = 5;
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "bad key type"));
    p[6] = 0;
    p[5] = CAS_POLICY_KIND_PUBLIC_KEY; /* data where a public key has only pem */
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "do not fit the kind"));
    free(p);
}

static void
test_decode_refuses_a_field_longer_than_its_ceiling(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "text", &len);
    const uint32_t big = CAS_SECRETS_FIELD_MAX + 1;
    struct cas_err err = {0};

    /* the data field's length sits right after the 32-byte header */
    p[32] = (uint8_t)big;
    p[33] = (uint8_t)(big >> 8);
    p[34] = (uint8_t)(big >> 16);
    p[35] = (uint8_t)(big >> 24);
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "truncated"));
    assert_int_equal(decode(p, CAS_SECRETS_ENCODED_MAX + 1, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "over"));
    free(p);
}

static void
test_decode_refuses_times_that_do_not_fit(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "crt", &len), *t = encoded(*state, "text", &len);
    size_t clen;
    struct cas_err err = {0};

    free(p);
    p = encoded(*state, "crt", &clen);
    /* renew_at (bytes 24..31) after notAfter */
    memset(p + 24, 0xff, 7);
    p[31] = 0x7f;
    assert_int_equal(decode(p, clen, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "inconsistent times"));
    /* a time on a kind without any */
    t[8] = 1;
    assert_int_equal(decode(t, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "times on a kind"));
    free(p);
    free(t);
}

static void
test_decode_refuses_nul_in_text_fields(void **state)
{
    size_t len;
    uint8_t *p = encoded(*state, "pub", &len);
    struct cas_err err = {0};

    p[len - 9] = 0; /* the PEM's last byte, before the empty chain and key fields */
    assert_int_equal(decode(p, len, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "NUL"));
    free(p);
}

/* ---- values JSON ---- */

static char *
dumped(const struct cas_secret_value *v)
{
    json_t *j = NULL;
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    char *t;

    assert_int_equal(cas_secrets_value_json(v, &j, &err), CAS_OK);
    assert_int_equal(cas_secrets_json_dump(j, &s, &err), CAS_OK);
    t = tl_text(s, NULL);
    json_decref(j);
    cas_secret_free(s);
    return t;
}

static struct cas_secret_value *
hand_value(enum cas_policy_kind kind, const char *data, size_t len, const char *pem)
{
    struct cas_secret_value *v = calloc(1, sizeof(*v));
    struct cas_err err = {0};

    v->kind = kind;
    if (data != NULL)
        assert_int_equal(cas_secret_from(data, len, &v->data, &err), CAS_OK);
    if (pem != NULL)
        v->pem = strdup(pem);
    return v;
}

static void
test_values_json_matches_api_md_for_each_kind(void **state)
{
    static const struct {
        enum cas_policy_kind kind;
        const char *data;
        size_t len;
        const char *pem;
        const char *want;
    } cases[] = {
        {CAS_POLICY_KIND_ASCII, "42", 2, NULL,
         "{\"kind\": \"string\", \"value\": \"42\", \"expires\": null, \"renew\": null}"},
        {CAS_POLICY_KIND_BINARY, "\xde\xad\x00\x01", 4, NULL,
         "{\"kind\": \"binary\", \"value\": \"dead0001\", \"expires\": null, \"renew\": null}"},
        {CAS_POLICY_KIND_PRIVATE_KEY, "-----BEGIN PRIVATE KEY-----\nAA==\n", 33, NULL,
         "{\"kind\": \"private-key\", \"value\": \"-----BEGIN PRIVATE KEY-----\\nAA==\\n\", "
         "\"expires\": null, \"renew\": null}"},
        {CAS_POLICY_KIND_PUBLIC_KEY, NULL, 0, "-----BEGIN PUBLIC KEY-----\n",
         "{\"kind\": \"public-key\", \"value\": \"-----BEGIN PUBLIC KEY-----\\n\", "
         "\"expires\": null, \"renew\": null}"},
        {CAS_POLICY_KIND_CONFIG_FRAGMENT, "{\"a\":[\"b\",null]}", 16, NULL,
         "{\"kind\": \"config-fragment\", \"value\": \"{\\\"a\\\":[\\\"b\\\",null]}\", "
         "\"expires\": null, \"renew\": null}"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cas_secret_value *v =
            hand_value(cases[i].kind, cases[i].data, cases[i].len, cases[i].pem);
        char *t = dumped(v);
        assert_string_equal(t, cases[i].want);
        free(t);
        cas_secrets_value_free(v);
    }
}

static void
test_values_json_gives_a_certificate_its_expiry_and_renewal_in_rfc3339(void **state)
{
    struct cas_secret_value *v = hand_value(CAS_POLICY_KIND_X509_CA, NULL, 0, "C\n");
    char *t;

    (void)state;
    v->chain = strdup("not in the value\n");
    v->not_before = 1790000000;
    v->not_after = 1800000000;
    v->renew_at = 1790000000;
    t = dumped(v);
    assert_string_equal(t, "{\"kind\": \"x509\", \"value\": \"C\\n\", \"expires\": "
                           "\"2027-01-15T08:00:00Z\", \"renew\": \"2026-09-21T14:13:20Z\"}");
    free(t);
    v->not_after = CAS_SECRETS_NEVER;
    v->renew_at = 0;
    t = dumped(v);
    assert_string_equal(
        t, "{\"kind\": \"x509\", \"value\": \"C\\n\", \"expires\": null, \"renew\": null}");
    free(t);
    cas_secrets_value_free(v);
}

static void
test_values_json_of_a_generated_certificate_holds_no_chain_or_key(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *crt = tl_get(&f->st, "crt");
    json_t *j = NULL;
    struct cas_err err = {0};

    assert_int_equal(cas_secrets_value_json(crt, &j, &err), CAS_OK);
    assert_string_equal(json_string_value(json_object_get(j, "value")), crt->pem);
    assert_string_equal(json_string_value(json_object_get(j, "expires")), "2026-12-22T12:00:00Z");
    assert_true(json_is_string(json_object_get(j, "renew")));
    json_decref(j);
}

static void
test_values_json_refuses_ascii_that_is_not_utf8(void **state)
{
    struct cas_secret_value *v = hand_value(CAS_POLICY_KIND_ASCII, "\xff", 1, NULL);
    json_t *j = NULL;
    struct cas_err err = {0};

    (void)state;
    assert_int_equal(cas_secrets_value_json(v, &j, &err), CAS_E_NOMEM);
    assert_null(j);
    cas_secrets_value_free(v);
}

static void
test_dup_without_key_leaves_the_certificate_key_out(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *crt = tl_get(&f->st, "crt");
    struct cas_secret_value *a = NULL, *b = NULL;
    struct cas_err err = {0};

    assert_int_equal(cas_secrets_value_dup(crt, true, &a, &err), CAS_OK);
    assert_int_equal(cas_secrets_value_dup(crt, false, &b, &err), CAS_OK);
    assert_true(cas_secret_equal(a->key, crt->key));
    assert_null(b->key);
    assert_string_equal(b->chain, crt->chain);
    cas_secrets_value_free(a);
    cas_secrets_value_free(b);
}

/* Fails the nth allocation and onwards, upward from 0, until the call succeeds: every failure on
 * the way is CAS_E_NOMEM and (under ASan) leaks nothing. */
static void
test_encode_decode_and_json_survive_every_allocation_failure(void **state)
{
    struct tl_fx *f = *state;
    const struct cas_secret_value *crt = tl_get(&f->st, "crt");
    bool done = false;

    for (long n = 0; !done; n++) {
        struct cas_secret *enc = NULL, *dump = NULL;
        struct cas_secret_value *back = NULL, *copy = NULL;
        struct cas_err err = {0};
        json_t *j = NULL;
        const uint8_t *p;
        size_t len;
        cas_rc rc;

        assert_true(n < 1000);
        cas_alloc_fail_after(n);
        if ((rc = cas_secrets_encode(crt, &enc, &err)) == CAS_OK) {
            p = cas_secret_peek(enc, &len);
            if ((rc = cas_secrets_decode(p, len, &back, &err)) == CAS_OK &&
                (rc = cas_secrets_value_dup(back, true, &copy, &err)) == CAS_OK &&
                (rc = cas_secrets_value_json(copy, &j, &err)) == CAS_OK)
                rc = cas_secrets_json_dump(j, &dump, &err);
        }
        cas_alloc_fail_after(-1);
        if (rc == CAS_OK)
            done = true;
        else
            assert_int_equal(rc, CAS_E_NOMEM);
        json_decref(j);
        cas_secret_free(dump);
        cas_secret_free(enc);
        cas_secrets_value_free(back);
        cas_secrets_value_free(copy);
    }
}

static void
test_decode_accepts_every_fuzz_seed(void **state)
{
    static const char *const seeds[] = {"ascii",           "ascii_utf8",  "binary",
                                        "config_fragment", "private_key", "private_key_p384",
                                        "public_key",      "x509_ca",     "x509_explicit",
                                        "x509_leaf"};
    struct cas_err err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        char path[512];
        uint8_t buf[16384];
        FILE *f;
        size_t n;
        snprintf(path, sizeof(path), "%s/fuzz/corpus/secrets_value/%s", CAS_SOURCE_DIR, seeds[i]);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (decode(buf, n, &err) != CAS_OK)
            fail_msg("seed %s: %s", seeds[i], err.msg[0]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_round_trips_every_kind_to_the_same_bytes),
        cmocka_unit_test(test_decode_refuses_every_truncation),
        cmocka_unit_test(test_decode_refuses_trailing_bytes),
        cmocka_unit_test(test_decode_refuses_a_wrong_magic_version_or_flag),
        cmocka_unit_test(test_decode_refuses_unknown_kinds_and_key_types),
        cmocka_unit_test(test_decode_refuses_a_field_longer_than_its_ceiling),
        cmocka_unit_test(test_decode_refuses_times_that_do_not_fit),
        cmocka_unit_test(test_decode_refuses_nul_in_text_fields),
        cmocka_unit_test(test_values_json_matches_api_md_for_each_kind),
        cmocka_unit_test(test_values_json_gives_a_certificate_its_expiry_and_renewal_in_rfc3339),
        cmocka_unit_test(test_values_json_of_a_generated_certificate_holds_no_chain_or_key),
        cmocka_unit_test(test_values_json_refuses_ascii_that_is_not_utf8),
        cmocka_unit_test(test_dup_without_key_leaves_the_certificate_key_out),
        cmocka_unit_test(test_decode_accepts_every_fuzz_seed),
        cmocka_unit_test(test_encode_decode_and_json_survive_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, setup, tl_fx_teardown);
}
