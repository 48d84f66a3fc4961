/* test_codec.c - hex, base64 and Base58Check key hashes, strict both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/codec.h"

static void
test_hex_round_trips_and_refuses_bad_text(void **state)
{
    uint8_t out[3];
    char text[7];
    (void)state;
    cas_hex_encode((const uint8_t *)"\x00\xab\xff", 3, text);
    assert_string_equal(text, "00abff");
    assert_true(cas_hex_decode_exact("00ABff", 6, out, 3));
    assert_memory_equal(out, "\x00\xab\xff", 3);
    assert_false(cas_hex_decode_exact("00abf", 5, out, 3));
    assert_false(cas_hex_decode_exact("00abfg", 6, out, 3));
    assert_false(cas_hex_decode_exact("00ab\0f", 6, out, 3));
}

static void
test_base64_matches_rfc4648_vectors(void **state)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const std[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char text[16];
    uint8_t out[8];
    size_t n;
    (void)state;
    for (int i = 0; i < 7; i++) {
        cas_b64_encode((const uint8_t *)in[i], strlen(in[i]), text, false);
        assert_string_equal(text, std[i]);
        assert_true(cas_b64_decode(std[i], strlen(std[i]), out, sizeof(out), &n, false));
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(out, in[i], n);
    }
}

static void
test_base64_refuses_malformed_text(void **state)
{
    uint8_t out[16];
    size_t n;
    (void)state;
    assert_false(cas_b64_decode("Zg=", 3, out, sizeof(out), &n, false));  /* bad length */
    assert_false(cas_b64_decode("Zh==", 4, out, sizeof(out), &n, false)); /* stray bits */
    assert_false(cas_b64_decode("Z!==", 4, out, sizeof(out), &n, false)); /* bad char */
    assert_false(cas_b64_decode("Zm9vYmFy", 8, out, 5, &n, false));       /* no room */
    assert_false(cas_b64_decode("Zm9v\nYmFy", 9, out, sizeof(out), &n, false));
    assert_true(cas_b64_decode("_-8", 3, out, sizeof(out), &n, true)); /* url, no pad */
    assert_int_equal(n, 2);
    assert_memory_equal(out, "\xff\xef", 2);
}

static void
test_key_hash_base58_is_50_characters_and_parses_back(void **state)
{
    uint8_t d[32], back[32];
    char b58[51];
    struct cas_err err = {0};
    (void)state;
    for (int v = 0; v < 256; v += 17) {
        memset(d, v, sizeof(d));
        cas_keyhash_to_b58(d, b58);
        assert_int_equal(strlen(b58), 50);
        assert_int_equal(cas_keyhash_parse(b58, back, &err), CAS_OK);
        assert_memory_equal(d, back, 32);
    }
}

static void
test_key_hash_parse_takes_hex_and_refuses_bad_checksums(void **state)
{
    uint8_t d[32], back[32];
    char b58[51], hex[65];
    struct cas_err err = {0};
    (void)state;
    memset(d, 0x5a, sizeof(d));
    cas_hex_encode(d, 32, hex);
    assert_int_equal(cas_keyhash_parse(hex, back, &err), CAS_OK);
    assert_memory_equal(d, back, 32);
    cas_keyhash_to_b58(d, b58);
    b58[10] = b58[10] == 'a' ? 'b' : 'a';
    assert_int_equal(cas_keyhash_parse(b58, back, &err), CAS_E_INVALID);
    assert_non_null(strstr(cas_err_get(&err, 0), "checksum"));
    assert_int_equal(cas_keyhash_parse("0OIl", back, &err), CAS_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_round_trips_and_refuses_bad_text),
        cmocka_unit_test(test_base64_matches_rfc4648_vectors),
        cmocka_unit_test(test_base64_refuses_malformed_text),
        cmocka_unit_test(test_key_hash_base58_is_50_characters_and_parses_back),
        cmocka_unit_test(test_key_hash_parse_takes_hex_and_refuses_bad_checksums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
