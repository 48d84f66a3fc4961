/* test_limits.c - the limits of policy.md §1 on hostile input, and out-of-memory paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_testlib.h"
#include "util/alloc.h"
#include "util/buf.h"

#define MR "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static char *
secrets_doc(size_t n, size_t *len)
{
    struct cas_buf b;

    cas_buf_init(&b, 8u << 20);
    cas_buf_adds(&b, "name: s\nversion: \"0.3\"\naccess_policy: {read: [NONE], update: "
                     "[NONE]}\nsecrets:\n");
    for (size_t i = 0; i < n; i++)
        cas_buf_addf(&b, "  - {name: s%zu, kind: ascii}\n", i);
    return cas_buf_detach(&b, len);
}

static void
test_a_document_over_one_mebibyte_is_refused_before_parsing(void **state)
{
    size_t len = CAS_POLICY_MAX_DOC + 1;
    char *doc = malloc(len), *lines = NULL;
    struct cas_policy *p = NULL;

    (void)state;
    assert_non_null(doc);
    memset(doc, '#', len);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "1:1: error: the file has 1048577 bytes; a session is limited "
                                  "to 1048576"));
    free(lines);
    free(doc);
}

static void
test_ten_thousand_secrets_parse_and_sixteen_thousand_and_one_are_refused(void **state)
{
    size_t len;
    char *doc = secrets_doc(10000, &len), *lines = NULL;
    struct cas_policy *p = NULL;

    (void)state;
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_OK);
    assert_int_equal(p->secret_count, 10000);
    assert_non_null(cas_policy_secret_find(p, "s9999"));
    assert_null(cas_policy_secret_find(p, "s10000"));
    cas_policy_free(p);
    free(lines);
    free(doc);
    doc = secrets_doc(CAS_POLICY_MAX_SECRETS + 1, &len);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "secrets: has 16385 secrets; a session may have at most "
                                  "16384"));
    free(lines);
    free(doc);
}

static void
test_nesting_at_the_limit_parses_and_one_deeper_is_refused(void **state)
{
    char doc[512], *lines = NULL;
    struct cas_policy *p = NULL;
    int n;

    (void)state;
    /* the top mapping is level 1, so 63 more sequences reach the limit of 64 */
    n = snprintf(doc, sizeof(doc), "name: s\nversion: \"0.3\"\nx: %.*s%.*s\n", 63,
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 63,
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_int_equal(tl_parse(doc, (size_t)n, NULL, &p, &lines), CAS_E_INVALID);
    assert_null(strstr(lines, "nests deeper"));
    assert_non_null(strstr(lines, "unknown key 'x'"));
    free(lines);
    n = snprintf(doc, sizeof(doc), "name: s\nversion: \"0.3\"\nx: %.*s%.*s\n", 64,
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 64,
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_int_equal(tl_parse(doc, (size_t)n, NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "nests deeper than 64 levels"));
    free(lines);
}

static void
test_aliases_count_every_node_they_expand_to(void **state)
{
    struct cas_buf b;
    char *doc, *lines = NULL;
    struct cas_policy *p = NULL;
    size_t len;

    (void)state;
    /* 10 x 10 x 10 x 10 x 10 x 10 = 10^6 expanded nodes from a few hundred bytes */
    cas_buf_init(&b, 1 << 20);
    cas_buf_adds(&b, "name: s\nversion: \"0.3\"\nx:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n");
    for (char c = 'b'; c <= 'f'; c++)
        cas_buf_addf(&b, "  %c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, c - 1,
                     c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    doc = cas_buf_detach(&b, &len);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "more than 500000 nodes after expanding aliases"));
    free(lines);
    free(doc);
}

static void
test_an_absent_or_empty_body_is_an_empty_session_not_an_abort(void **state)
{
    static const uint8_t nothing[1] = {0};
    struct cas_policy_diags d;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};

    (void)state;
    /* what casd hands over for a request without a body: NULL at length 0 (libyaml asserts) */
    cas_policy_diags_init(&d);
    assert_int_equal(cas_policy_parse(NULL, 0, NULL, &p, &d, &err), CAS_E_INVALID);
    assert_null(p);
    assert_int_equal(d.errors, 1);
    assert_int_equal(d.items[0].line, 1);
    assert_non_null(strstr(d.items[0].text, "the session is empty"));
    cas_policy_diags_release(&d);
    cas_policy_diags_init(&d);
    assert_int_equal(cas_policy_parse(nothing, 0, NULL, &p, &d, &err), CAS_E_INVALID);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].text, "the session is empty"));
    cas_policy_diags_release(&d);
    cas_policy_diags_init(&d);
    assert_int_equal(cas_policy_parse((const uint8_t *)"\xef\xbb\xbf \n", 5, NULL, &p, &d, &err),
                     CAS_E_INVALID);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].text, "the session is empty"));
    cas_policy_diags_release(&d);
}

/* The classic chain a: &a [x...], b: &b [*a...]: 10^5 scalars of 15 bytes, under the node limit,
 * from a 420-byte file; as a config fragment it would become 1.8 MB of JSON. */
static char *
alias_bomb(size_t *len)
{
    struct cas_buf b;

    cas_buf_init(&b, 4096);
    cas_buf_adds(&b, "name: bomb\nversion: \"0.3\"\nsecrets:\n- name: f\n  kind: "
                     "config-fragment\n  value:\n    a: &a [");
    for (int i = 0; i < 10; i++)
        cas_buf_adds(&b, i ? ",xxxxxxxxxxxxxxx" : "xxxxxxxxxxxxxxx");
    cas_buf_adds(&b, "]\n");
    for (char c = 'b'; c <= 'e'; c++)
        cas_buf_addf(&b, "    %c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, c - 1,
                     c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    return cas_buf_detach(&b, len);
}

static void
test_a_420_byte_alias_bomb_is_refused_before_it_expands(void **state)
{
    size_t len;
    char *doc = alias_bomb(&len), *lines = NULL;
    struct cas_policy *p = NULL;

    (void)state;
    assert_true(len <= 420);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    assert_null(p);
    assert_non_null(strstr(lines, "error: aliases expand the file by more than 1048576 bytes"));
    assert_null(strstr(lines, "nodes after expanding"));
    free(lines);
    free(doc);
}

static void
test_a_config_fragment_over_one_mebibyte_of_json_is_refused(void **state)
{
    struct cas_buf b;
    char *doc, *lines = NULL;
    struct cas_policy *p = NULL;
    size_t len;

    (void)state;
    /* no alias: 400,000 one-letter items take 800 kB here and 1.6 MB as JSON ("x",) */
    cas_buf_init(&b, CAS_POLICY_MAX_DOC);
    cas_buf_adds(&b, "name: s\nversion: \"0.3\"\nsecrets:\n- name: f\n  kind: config-fragment\n"
                     "  value: [x");
    for (int i = 1; i < 400000; i++)
        cas_buf_adds(&b, ",x");
    cas_buf_adds(&b, "]\n");
    doc = cas_buf_detach(&b, &len);
    assert_non_null(doc);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "secrets[0].value: the config fragment has 1600001 bytes as "
                                  "JSON; a fragment is limited to 1048576"));
    free(lines);
    free(doc);
}

static void
test_eighty_thousand_injection_files_are_checked_for_duplicates_by_sorting(void **state)
{
    struct cas_buf b;
    char *doc, *lines = NULL;
    struct cas_policy *p = NULL;
    size_t len;

    (void)state;
    /* pairwise comparison would take 3.2e9 string compares here: the test would time out */
    cas_buf_init(&b, CAS_POLICY_MAX_DOC);
    cas_buf_adds(&b, "name: s\nversion: \"0.3\"\nimages:\n- name: i\n  injection_files:\n");
    for (int i = 0; i < 80000; i++)
        cas_buf_addf(&b, "  - /%d\n", i);
    cas_buf_adds(&b, "  - /17\n");
    doc = cas_buf_detach(&b, &len);
    assert_non_null(doc);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "images[0].injection_files[80000]: injection file '/17' appears "
                                  "twice in this image (also [17])"));
    free(lines);
    free(doc);
}

static void
test_a_hundred_problems_are_all_reported(void **state)
{
    struct cas_buf b;
    char *doc, *lines = NULL;
    struct cas_policy *p = NULL;
    size_t len, count = 0;

    (void)state;
    cas_buf_init(&b, 1 << 20);
    cas_buf_adds(&b, "name: s\nversion: \"0.3\"\nsecrets:\n");
    for (int i = 0; i < 100; i++)
        cas_buf_addf(&b, "  - {name: s%d, kind: ascii, size: 0}\n", i);
    doc = cas_buf_detach(&b, &len);
    assert_int_equal(tl_parse(doc, len, NULL, &p, &lines), CAS_E_INVALID);
    for (const char *q = lines; (q = strstr(q, "must be from 1 to 65536")) != NULL; q++)
        count++;
    assert_int_equal(count, 100);
    free(lines);
    free(doc);
}

static void
test_secret_values_never_appear_in_problems(void **state)
{
    static const char s[] = "name: s\nversion: \"0.3\"\naccess_policy: {read: ANY}\n"
                            "secrets:\n"
                            "  - {name: a, kind: binary, value: SECRETVALUEX}\n"
                            "  - {name: b, kind: private-key, value: SECRETVALUEY}\n"
                            "  - {name: c, kind: ascii, value: SECRETVALUEZ, size: 0}\n"
                            "  - {name: d, kind: ascii, value: \"$$SCONE::SECRETVALUEW\"}\n";
    char *lines = NULL;
    struct cas_policy *p = NULL;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), NULL, &p, &lines), CAS_E_INVALID);
    assert_non_null(strstr(lines, "secrets[0].value"));
    assert_null(strstr(lines, "SECRETVALUE"));
    free(lines);
}

static void
test_every_allocation_failure_is_reported_and_leaks_nothing(void **state)
{
    char *text = tl_read(CORPUS_DIR "/v_images_injection_files.yaml", NULL);
    unsigned nomem = 0;

    (void)state;
    assert_non_null(text);
    for (long n = 0;; n++) {
        struct cas_policy *p = NULL;
        char *lines = NULL;
        cas_rc rc;
        cas_alloc_fail_after(n);
        rc = tl_parse(text, strlen(text), NULL, &p, &lines);
        cas_alloc_fail_after(-1);
        free(lines);
        cas_policy_free(p);
        if (rc == CAS_OK)
            break;
        assert_true(rc == CAS_E_NOMEM || rc == CAS_E_INVALID);
        nomem++;
        assert_true(n < 100000);
    }
    assert_true(nomem > 10);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_document_over_one_mebibyte_is_refused_before_parsing),
        cmocka_unit_test(test_ten_thousand_secrets_parse_and_sixteen_thousand_and_one_are_refused),
        cmocka_unit_test(test_nesting_at_the_limit_parses_and_one_deeper_is_refused),
        cmocka_unit_test(test_aliases_count_every_node_they_expand_to),
        cmocka_unit_test(test_an_absent_or_empty_body_is_an_empty_session_not_an_abort),
        cmocka_unit_test(test_a_420_byte_alias_bomb_is_refused_before_it_expands),
        cmocka_unit_test(test_a_config_fragment_over_one_mebibyte_of_json_is_refused),
        cmocka_unit_test(
            test_eighty_thousand_injection_files_are_checked_for_duplicates_by_sorting),
        cmocka_unit_test(test_a_hundred_problems_are_all_reported),
        cmocka_unit_test(test_secret_values_never_appear_in_problems),
        cmocka_unit_test(test_every_allocation_failure_is_reported_and_leaks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
