/* test_update.c - policy.md §8.2 (what survives an update) and §8.1 (renewal when a third of the
 * life remains, and with the issuer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_testlib.h"

#define DAY 86400

/* The action for secret `name` from session old (made at TL_NOW) to session new. */
static enum cas_secrets_action
action(const char *old_secrets, const char *new_secrets, const char *name)
{
    char a[2048], b[2048];
    struct cas_policy *po, *pn;
    struct tl_store st = {0};
    struct cas_err err = {0};
    enum cas_secrets_action act;

    snprintf(a, sizeof(a), "name: s\nversion: \"0.3.11\"\nsecrets:\n%s", old_secrets);
    snprintf(b, sizeof(b), "name: s\nversion: \"0.3.11\"\nsecrets:\n%s", new_secrets);
    po = tl_policy(a);
    pn = tl_policy(b);
    assert_int_equal(tl_make_all(po, &st, TL_NOW, &err), CAS_OK);
    act = cas_secrets_on_update(cas_policy_secret_find(po, name), tl_get(&st, name),
                                cas_policy_secret_find(pn, name));
    tl_release(&st);
    cas_policy_free(po);
    cas_policy_free(pn);
    return act;
}

static void
test_update_keeps_ascii_and_binary_of_the_same_size(void **state)
{
    (void)state;
    assert_int_equal(
        action("  - {name: a, kind: ascii}\n", "  - {name: a, kind: ascii, size: 20}\n", "a"),
        CAS_SECRETS_KEEP);
    assert_int_equal(action("  - {name: a, kind: binary, size: 8}\n",
                            "  - {name: a, kind: binary, size: 8}\n", "a"),
                     CAS_SECRETS_KEEP);
}

static void
test_update_makes_ascii_and_binary_anew_when_the_size_changes(void **state)
{
    (void)state;
    assert_int_equal(
        action("  - {name: a, kind: ascii}\n", "  - {name: a, kind: ascii, size: 21}\n", "a"),
        CAS_SECRETS_MAKE);
    assert_int_equal(action("  - {name: a, kind: binary, size: 8}\n",
                            "  - {name: a, kind: binary, size: 9}\n", "a"),
                     CAS_SECRETS_MAKE);
}

static void
test_update_makes_a_value_anew_when_the_kind_changes(void **state)
{
    (void)state;
    assert_int_equal(action("  - {name: a, kind: ascii}\n", "  - {name: a, kind: binary}\n", "a"),
                     CAS_SECRETS_MAKE);
}

static void
test_update_keeps_a_private_key_only_when_both_sides_migrate_with_the_same_type(void **state)
{
    (void)state;
    assert_int_equal(action("  - {name: k, kind: private-key, migrate: true}\n",
                            "  - {name: k, kind: private-key, migrate: true}\n", "k"),
                     CAS_SECRETS_KEEP);
    assert_int_equal(action("  - {name: k, kind: private-key}\n",
                            "  - {name: k, kind: private-key, migrate: true}\n", "k"),
                     CAS_SECRETS_MAKE);
    assert_int_equal(action("  - {name: k, kind: private-key, migrate: true}\n",
                            "  - {name: k, kind: private-key}\n", "k"),
                     CAS_SECRETS_MAKE);
    assert_int_equal(action("  - {name: k, kind: private-key, migrate: true}\n",
                            "  - {name: k, kind: private-key, migrate: true, key_type: P-384}\n",
                            "k"),
                     CAS_SECRETS_MAKE);
}

static void
test_update_derives_public_keys_again_and_always_reissues_certificates(void **state)
{
    static const char s[] = "  - {name: k, kind: private-key, migrate: true}\n"
                            "  - {name: p, kind: public-key, private_key: k}\n"
                            "  - {name: c, kind: x509-ca, private_key: k}\n"
                            "  - {name: e, kind: x509, private_key: k, issuer: c}\n";

    (void)state;
    assert_int_equal(action(s, s, "k"), CAS_SECRETS_KEEP);
    assert_int_equal(action(s, s, "p"), CAS_SECRETS_MAKE);
    assert_int_equal(action(s, s, "c"), CAS_SECRETS_MAKE);
    assert_int_equal(action(s, s, "e"), CAS_SECRETS_MAKE);
}

static void
test_update_takes_new_explicit_values_and_leaves_imports_to_their_exporter(void **state)
{
    (void)state;
    assert_int_equal(
        action("  - {name: a, kind: ascii}\n", "  - {name: a, kind: ascii, value: x}\n", "a"),
        CAS_SECRETS_MAKE);
    assert_int_equal(action("  - {name: a, kind: ascii, value: x}\n",
                            "  - {name: a, kind: ascii, size: 20}\n", "a"),
                     CAS_SECRETS_MAKE);
    assert_int_equal(action("  - {name: a, kind: ascii}\n",
                            "  - {name: a, import: {session: o, secret: a}}\n", "a"),
                     CAS_SECRETS_IMPORT);
    assert_int_equal(action("  - {name: b, kind: ascii}\n", "  - {name: a, kind: ascii}\n", "a"),
                     CAS_SECRETS_MAKE);
}

static void
test_is_due_when_a_third_of_the_life_remains(void **state)
{
    struct cas_policy *p = tl_policy("name: s\nversion: \"0.3.11\"\nsecrets:\n"
                                     "  - {name: k, kind: private-key}\n"
                                     "  - {name: c, kind: x509-ca, private_key: k, "
                                     "valid_for: 30d}\n"
                                     "  - {name: n, kind: x509-ca, private_key: k}\n");
    struct tl_store st = {0};
    struct cas_err err = {0};
    const struct cas_secret_value *c, *n;

    (void)state;
    assert_int_equal(tl_make_all(p, &st, TL_NOW, &err), CAS_OK);
    c = tl_get(&st, "c");
    n = tl_get(&st, "n");
    assert_false(cas_secrets_is_due(c, TL_NOW));
    assert_false(cas_secrets_is_due(c, c->renew_at - 1));
    assert_true(cas_secrets_is_due(c, c->renew_at));
    assert_true(c->not_after - c->renew_at <= (c->not_after - c->not_before) / 3 + 1);
    assert_false(cas_secrets_is_due(n, CAS_SECRETS_NEVER));
    tl_release(&st);
    cas_policy_free(p);
}

static void
test_renewals_reissue_certificates_with_their_due_issuer_only(void **state)
{
    struct cas_policy *p = tl_policy("name: s\nversion: \"0.3.11\"\nsecrets:\n"
                                     "  - {name: k, kind: private-key}\n"
                                     "  - {name: leaf, kind: x509, private_key: k, issuer: ca}\n"
                                     "  - {name: ca, kind: x509-ca, private_key: k, "
                                     "valid_for: 30d}\n"
                                     "  - {name: other, kind: x509-ca, private_key: k}\n"
                                     "  - {name: leaf2, kind: x509, private_key: k, "
                                     "issuer: other}\n");
    struct tl_store st = {0};
    struct cas_err err = {0};
    bool re[5];
    size_t leaf = (size_t)(cas_policy_secret_find(p, "leaf") - p->secrets),
           ca = (size_t)(cas_policy_secret_find(p, "ca") - p->secrets),
           other = (size_t)(cas_policy_secret_find(p, "other") - p->secrets),
           leaf2 = (size_t)(cas_policy_secret_find(p, "leaf2") - p->secrets);

    (void)state;
    assert_int_equal(tl_make_all(p, &st, TL_NOW, &err), CAS_OK);
    assert_int_equal(cas_secrets_renewals(p, tl_resolve, &st, TL_NOW + DAY, re, &err), CAS_OK);
    for (size_t i = 0; i < 5; i++)
        assert_false(re[i]);
    assert_int_equal(cas_secrets_renewals(p, tl_resolve, &st, TL_NOW + 25 * DAY, re, &err), CAS_OK);
    assert_true(re[ca]);
    assert_true(re[leaf]);
    assert_false(re[other]);
    assert_false(re[leaf2]);
    tl_release(&st);
    cas_policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_keeps_ascii_and_binary_of_the_same_size),
        cmocka_unit_test(test_update_makes_ascii_and_binary_anew_when_the_size_changes),
        cmocka_unit_test(test_update_makes_a_value_anew_when_the_kind_changes),
        cmocka_unit_test(
            test_update_keeps_a_private_key_only_when_both_sides_migrate_with_the_same_type),
        cmocka_unit_test(test_update_derives_public_keys_again_and_always_reissues_certificates),
        cmocka_unit_test(
            test_update_takes_new_explicit_values_and_leaves_imports_to_their_exporter),
        cmocka_unit_test(test_is_due_when_a_third_of_the_life_remains),
        cmocka_unit_test(test_renewals_reissue_certificates_with_their_due_issuer_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
