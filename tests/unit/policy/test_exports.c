/* test_exports.c - export grants (policy.md §8.3): which export grants a secret to an importer,
 * who controls the creation of sessions in a namespace, and the offline warning of
 * `cas session check` for unpinned exports outside the session's own namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy_testlib.h"

#define PIN "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char exporter[] = "name: shop/a\nversion: \"0.3\"\nsecrets:\n"
                               "  - {name: db_password, kind: ascii, export: {session: ../db}}\n"
                               "  - {name: pinned, kind: ascii, export: {session: x, "
                               "session_hash: " PIN "}}\n"
                               "  - {name: own, kind: ascii, export: [{session: ./c}, "
                               "{namespace: ./team}]}\n"
                               "  - {name: wide, kind: ascii, export: {namespace: ..}}\n";

static struct cas_policy *
parse(const char *text, bool warn, bool fail_on_warning, struct cas_policy_diags *d)
{
    struct cas_policy_options o = {.warn_exports = warn, .fail_on_warning = fail_on_warning};
    struct cas_policy *p = NULL;
    struct cas_err err = {0};

    cas_policy_diags_init(d);
    if (cas_policy_parse((const uint8_t *)text, strlen(text), &o, &p, d, &err) != CAS_OK)
        assert_null(p);
    return p;
}

static void
test_check_warns_about_unpinned_exports_outside_the_own_namespace_only(void **state)
{
    struct cas_policy_diags d;
    struct cas_policy *p = parse(exporter, true, false, &d);

    (void)state;
    assert_non_null(p);
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.warnings, 2);
    assert_int_equal(d.items[0].line, 4);
    assert_string_equal(d.items[0].text,
                        "secret 'db_password' is exported to session 'shop/db', outside this "
                        "session's namespace, without a session_hash pin: if that name does not "
                        "exist yet, whoever creates it first can import the secret; pin the "
                        "importer with session_hash, or export into a namespace whose "
                        "create_sessions only you control");
    assert_int_equal(d.items[1].line, 7);
    assert_non_null(strstr(d.items[1].text, "exported to namespace 'shop', outside this "
                                            "session's namespace, without a session_hash pin: "
                                            "whoever may create sessions there can import"));
    cas_policy_free(p);
    cas_policy_diags_release(&d);
}

static void
test_fail_on_warning_makes_an_unpinned_export_an_error(void **state)
{
    struct cas_policy_diags d;
    struct cas_policy *p = parse(exporter, true, true, &d);

    (void)state;
    assert_null(p);
    assert_int_equal(d.errors, 2);
    assert_non_null(strstr(d.items[0].text, "secret 'db_password' is exported to session"));
    cas_policy_diags_release(&d);
}

static void
test_the_server_parse_leaves_exports_to_casd(void **state)
{
    struct cas_policy_diags d;
    struct cas_policy *p = parse(exporter, false, false, &d);

    (void)state;
    assert_non_null(p);
    assert_int_equal(d.warnings, 0);
    cas_policy_free(p);
    cas_policy_diags_release(&d);
}

static void
test_an_export_matches_its_session_or_anything_in_its_namespace(void **state)
{
    struct cas_policy_diags d;
    struct cas_policy *p = parse(exporter, false, false, &d);
    const struct cas_policy_secret *s;
    const struct cas_policy_ref *r;

    (void)state;
    assert_non_null(p);
    s = cas_policy_secret_find(p, "db_password");
    assert_non_null(r = cas_policy_export_match("shop/a", s, "shop/db"));
    assert_false(r->has_hash);
    assert_null(cas_policy_export_match("shop/a", s, "shop/db/x"));
    assert_null(cas_policy_export_match("shop/a", s, "db"));
    s = cas_policy_secret_find(p, "pinned");
    assert_non_null(r = cas_policy_export_match("shop/a", s, "x"));
    assert_true(r->has_hash);
    s = cas_policy_secret_find(p, "own");
    assert_non_null(cas_policy_export_match("shop/a", s, "shop/a/c"));
    assert_non_null(cas_policy_export_match("shop/a", s, "shop/a/team"));
    assert_non_null(r = cas_policy_export_match("shop/a", s, "shop/a/team/deep/er"));
    assert_non_null(r->namespace);
    assert_null(cas_policy_export_match("shop/a", s, "shop/a/teamx"));
    assert_true(cas_policy_name_within("a/b", "a"));
    assert_false(cas_policy_name_within("ab", "a"));
    assert_false(cas_policy_name_within("a", "a"));
    assert_false(cas_policy_name_within("a", ""));
    cas_policy_free(p);
    cas_policy_diags_release(&d);
}

static void
test_only_a_list_of_the_exporter_alone_controls_creation(void **state)
{
    static const char *const docs[] = {
        "name: n\nversion: \"0.3\"\n",                                     /* default */
        "name: n\nversion: \"0.3\"\naccess_policy: {update: [CREATOR]}\n", /* as update */
        "name: n\nversion: \"0.3\"\naccess_policy: {create_sessions: [ANY]}\n",
        "name: n\nversion: \"0.3\"\naccess_policy: {update: [NONE], create_sessions: [CREATOR, "
        "\"2222222222222222222222222222222222222222222222222222222222222222\"]}\n",
        "name: n\nversion: \"0.3\"\naccess_policy: {update: [ANY], create_sessions: [\""
        "1111111111111111111111111111111111111111111111111111111111111111\"]}\n",
        "name: n\nversion: \"0.3\"\naccess_policy: {create_sessions: [NONE]}\n",
    };
    static const bool mine[] = {true, true, false, false, true, true};
    uint8_t me[32], other[32];

    (void)state;
    memset(me, 0x11, sizeof(me));
    memset(other, 0x22, sizeof(other));
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct cas_policy_diags d;
        struct cas_policy *p = parse(docs[i], false, false, &d);
        assert_non_null(p);
        assert_int_equal(cas_policy_only_creates(p, me, me), mine[i]);
        assert_false(cas_policy_only_creates(p, other, me) && i < 2);
        cas_policy_free(p);
        cas_policy_diags_release(&d);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_warns_about_unpinned_exports_outside_the_own_namespace_only),
        cmocka_unit_test(test_fail_on_warning_makes_an_unpinned_export_an_error),
        cmocka_unit_test(test_the_server_parse_leaves_exports_to_casd),
        cmocka_unit_test(test_an_export_matches_its_session_or_anything_in_its_namespace),
        cmocka_unit_test(test_only_a_list_of_the_exporter_alone_controls_creation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
