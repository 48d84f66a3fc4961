/* test_json_span.c - a top-level member's value located in JSON text, hostile text included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/json_span.h"

/* The value of key in text as a string ("" with false when not found). */
static bool
span_of(const char *text, const char *key, char *out, size_t cap)
{
    size_t s = 0, e = 0;
    bool ok = cas_json_member_span(text, strlen(text), key, &s, &e);

    out[0] = '\0';
    if (ok) {
        assert_true(s < e && e <= strlen(text) && e - s < cap);
        memcpy(out, text + s, e - s);
        out[e - s] = '\0';
    }
    return ok;
}

static void
test_finds_an_object_value_among_other_members(void **state)
{
    char v[128];
    (void)state;
    assert_true(
        span_of("{\"a\":1, \"col\" : {\"x\":[1,{\"y\":\"}\"}]} ,\"b\":null}", "col", v, sizeof(v)));
    assert_string_equal(v, "{\"x\":[1,{\"y\":\"}\"}]}");
}

static void
test_finds_strings_numbers_and_literals(void **state)
{
    char v[64];
    (void)state;
    assert_true(span_of("{\"a\":\"x\\\"y\\\\\",\"b\":-1.5e3,\"c\":true}", "a", v, sizeof(v)));
    assert_string_equal(v, "\"x\\\"y\\\\\"");
    assert_true(span_of("{\"a\":\"x\",\"b\":-1.5e3,\"c\":true}", "b", v, sizeof(v)));
    assert_string_equal(v, "-1.5e3");
    assert_true(span_of(" \n{\"c\":true}", "c", v, sizeof(v)));
    assert_string_equal(v, "true");
}

static void
test_ignores_a_member_of_the_same_name_nested_deeper(void **state)
{
    char v[64];
    (void)state;
    assert_true(
        span_of("{\"e\":{\"col\":1},\"l\":[\"col\",{\"col\":2}],\"col\":3}", "col", v, sizeof(v)));
    assert_string_equal(v, "3");
    assert_false(span_of("{\"e\":{\"col\":1}}", "col", v, sizeof(v)));
}

static void
test_ignores_the_name_inside_a_string_value(void **state)
{
    char v[64];
    (void)state;
    assert_true(span_of("{\"a\":\"\\\",\\\"col\\\":9\",\"col\":4}", "col", v, sizeof(v)));
    assert_string_equal(v, "4");
}

static void
test_does_not_match_a_key_written_with_escapes(void **state)
{
    char v[64];
    (void)state;
    assert_false(span_of("{\"c\\u006fl\":1}", "col", v, sizeof(v)));
}

static void
test_refuses_truncated_and_malformed_text(void **state)
{
    const char *bad[] = {"",
                         "[\"col\",1]",
                         "{\"col\"",
                         "{\"col\":",
                         "{\"col\":{\"a\":\"}",
                         "{\"col\":\"abc",
                         "{\"a\":1 \"col\":2}",
                         "{\"a\" 1,\"col\":2}",
                         "{\"a\":1}",
                         "{\"a\":\"\\\"}",
                         "{col:1}",
                         "{\"col\":,}"};
    size_t s, e;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(cas_json_member_span(bad[i], strlen(bad[i]), "col", &s, &e));
}

static void
test_never_reads_past_len(void **state)
{
    /* The text goes on past len; a scanner reading beyond it would find the member. */
    const char *t = "{\"a\":\"xx\",\"col\":1}";
    size_t s, e;
    (void)state;
    for (size_t n = 0; n < strlen(t) - 1; n++)
        assert_false(cas_json_member_span(t, n, "col", &s, &e));
    assert_true(cas_json_member_span(t, strlen(t), "col", &s, &e));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_an_object_value_among_other_members),
        cmocka_unit_test(test_finds_strings_numbers_and_literals),
        cmocka_unit_test(test_ignores_a_member_of_the_same_name_nested_deeper),
        cmocka_unit_test(test_ignores_the_name_inside_a_string_value),
        cmocka_unit_test(test_does_not_match_a_key_written_with_escapes),
        cmocka_unit_test(test_refuses_truncated_and_malformed_text),
        cmocka_unit_test(test_never_reads_past_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
