/* test_template.c - template variables (policy.md §4) and placeholder parsing (§9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/placeholder.h"
#include "policy_testlib.h"
#include "util/secret.h"

static cas_rc
expand(const char *in, const struct cas_policy_vars *v, char *out, size_t cap, char *missing)
{
    struct cas_buf b;
    struct cas_err err = {0};
    cas_rc rc;

    cas_buf_init(&b, 1024);
    rc = cas_policy_vars_expand(in, strlen(in), v, &b, missing, 64, &err);
    (void)snprintf(out, cap, "%s", b.buf);
    cas_buf_release(&b);
    return rc;
}

static void
test_variables_are_replaced_and_the_last_definition_wins(void **state)
{
    const char *defs[] = {"A=first", "B=bee", "A=second"};
    struct cas_policy_vars v = {defs, 3, NULL};
    char out[256], missing[64];

    (void)state;
    assert_int_equal(expand("x $A ${B}y $A_ ${A}_", &v, out, sizeof(out), missing), CAS_E_NOTFOUND);
    assert_string_equal(missing, "A_");
    assert_int_equal(expand("x $A ${B}y ${A}_", &v, out, sizeof(out), missing), CAS_OK);
    assert_string_equal(out, "x second beey second_");
}

static void
test_dollar_dollar_and_lone_dollars_stay_as_written(void **state)
{
    const char *defs[] = {"SCONE=no"};
    struct cas_policy_vars v = {defs, 1, NULL};
    char out[256], missing[64];

    (void)state;
    assert_int_equal(expand("$$SCONE::x$$ $1 $ ${ ${1} price$ $$", &v, out, sizeof(out), missing),
                     CAS_OK);
    assert_string_equal(out, "$$SCONE::x$$ $1 $ ${ ${1} price$ $$");
}

static void
test_e_definitions_beat_the_environment(void **state)
{
    const char *defs[] = {"HOME=from-e"};
    const char *env[] = {"HOME=/root", "USER=u", NULL};
    struct cas_policy_vars v = {defs, 1, env};
    char out[256], missing[64];

    (void)state;
    assert_int_equal(expand("$HOME $USER", &v, out, sizeof(out), missing), CAS_OK);
    assert_string_equal(out, "from-e u");
}

static void
test_an_inserted_value_cannot_add_yaml_structure(void **state)
{
    static const char s[] = "name: s\nversion: \"0.3\"\n"
                            "access_policy: {read: [NONE], update: [NONE]}\n"
                            "secrets: [{name: a, kind: ascii, value: $V}]\n";
    struct cas_policy *p = NULL;
    char *lines = NULL;
    const uint8_t *v;
    size_t len;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), "-e V=x}],b:[{", &p, &lines), CAS_OK);
    assert_int_equal(p->secret_count, 1);
    v = cas_secret_peek(p->secrets[0].value, &len);
    assert_int_equal(len, strlen("x}],b:[{"));
    assert_memory_equal(v, "x}],b:[{", len);
    cas_policy_free(p);
    free(lines);
}

static void
test_every_value_may_be_a_variable_even_the_version(void **state)
{
    static const char s[] = "name: $N\nversion: $V\n"
                            "access_policy: {read: [NONE], update: [NONE]}\n";
    struct cas_policy *p = NULL;
    char *lines = NULL;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), "-e N=a/b -e V=0.3.12", &p, &lines), CAS_OK);
    assert_string_equal(p->name, "a/b");
    assert_string_equal(p->version, "0.3.12");
    assert_int_equal(p->version_minor, 12);
    cas_policy_free(p);
    free(lines);
}

static void
test_keys_and_comments_are_never_substituted(void **state)
{
    static const char s[] = "name: s # $COMMENT\nversion: \"0.3\"\n"
                            "services: [{name: a, command: run, environment: {$KEY: v}, "
                            "attestation: {mrenclave: "
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}]\n";
    struct cas_policy *p = NULL;
    char *lines = NULL;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), NULL, &p, &lines), CAS_OK);
    assert_string_equal(p->services[0].env[0].name, "$KEY");
    cas_policy_free(p);
    free(lines);
}

static void
test_a_missing_variable_in_name_fails_even_with_n(void **state)
{
    static const char s[] = "name: $SESSION\nversion: \"0.3\"\n";
    struct cas_policy *p = NULL;
    char *lines = NULL;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), "-n other", &p, &lines), CAS_E_INVALID);
    assert_string_equal(lines, "1:7: error: name: value for variable $SESSION is missing (give "
                               "-e SESSION=VALUE or --use-env)\n");
    free(lines);
}

static void
parse_one(const char *text, struct cas_policy_placeholder *ph, cas_rc want)
{
    struct cas_err err = {0};
    size_t pos = 0;
    bool found = false;

    assert_int_equal(cas_policy_placeholder_next(text, strlen(text), &pos, &found, ph, &err), want);
    if (want == CAS_OK)
        assert_true(found);
}

static void
test_placeholders_parse_into_name_format_and_escape(void **state)
{
    struct cas_policy_placeholder ph;

    (void)state;
    parse_one("x $$SCONE::cert:privatekey:pkcs8:der$$ y", &ph, CAS_OK);
    assert_string_equal(ph.name, "cert");
    assert_int_equal(ph.format, CAS_FMT_PRIVKEY_DER);
    assert_int_equal(ph.offset, 2);
    assert_int_equal(ph.len, strlen("$$SCONE::cert:privatekey:pkcs8:der$$"));
    parse_one("$$CAS::a.b|escape(json)$$", &ph, CAS_OK);
    assert_true(ph.cas_prefix);
    assert_true(ph.escape_json);
    assert_string_equal(ph.name, "a.b");
    assert_int_equal(ph.format, CAS_FMT_DEFAULT);
    assert_true(cas_policy_is_whole_placeholder("$$SCONE::x$$", 12));
    assert_false(cas_policy_is_whole_placeholder(" $$SCONE::x$$", 13));
}

static void
test_malformed_and_later_placeholders_are_refused_with_the_reason(void **state)
{
    struct cas_policy_placeholder ph;

    (void)state;
    parse_one("$$SCONE::x", &ph, CAS_E_INVALID);
    parse_one("$$SCONE::$$", &ph, CAS_E_INVALID);
    parse_one("$$SCONE::x:nope$$", &ph, CAS_E_INVALID);
    parse_one("$$SCONE::x y$$", &ph, CAS_E_INVALID);
    parse_one("$$SCONE::self::name$$", &ph, CAS_E_UNSUPPORTED);
    parse_one("$$SCONE::k:privatekey:asciiarmored$$", &ph, CAS_E_UNSUPPORTED);
}

static void
test_a_dotted_name_is_a_secret_first_and_an_old_suffix_only_then(void **state)
{
    static const char s[] = "name: s\nversion: \"0.3\"\n"
                            "access_policy: {read: [NONE], update: [NONE]}\n"
                            "services: [{name: a, command: \"run $$SCONE::a.crt$$ "
                            "$$SCONE::c.crt$$\", attestation: {mrenclave: "
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}]\n"
                            "secrets: [{name: a.crt, kind: ascii}, {name: k, kind: private-key},"
                            " {name: c, kind: x509, private_key: k}]\n";
    struct cas_policy *p = NULL;
    char *lines = NULL;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), NULL, &p, &lines), CAS_OK);
    assert_int_equal(p->services[0].argc, 3);
    assert_string_equal(p->services[0].argv[1].ph[0].secret, "a.crt");
    assert_false(p->services[0].argv[1].ph[0].old_suffix);
    assert_string_equal(p->services[0].argv[2].ph[0].secret, "c");
    assert_true(p->services[0].argv[2].ph[0].old_suffix);
    assert_int_equal(p->services[0].argv[2].ph[0].format, CAS_FMT_CRT_PEM);
    cas_policy_free(p);
    free(lines);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables_are_replaced_and_the_last_definition_wins),
        cmocka_unit_test(test_dollar_dollar_and_lone_dollars_stay_as_written),
        cmocka_unit_test(test_e_definitions_beat_the_environment),
        cmocka_unit_test(test_an_inserted_value_cannot_add_yaml_structure),
        cmocka_unit_test(test_every_value_may_be_a_variable_even_the_version),
        cmocka_unit_test(test_keys_and_comments_are_never_substituted),
        cmocka_unit_test(test_a_missing_variable_in_name_fails_even_with_n),
        cmocka_unit_test(test_placeholders_parse_into_name_format_and_escape),
        cmocka_unit_test(test_malformed_and_later_placeholders_are_refused_with_the_reason),
        cmocka_unit_test(test_a_dotted_name_is_a_secret_first_and_an_old_suffix_only_then),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
