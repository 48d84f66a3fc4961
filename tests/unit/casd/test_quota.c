/* test_quota.c - casd's quotas (src/casd/quota.c): the cost estimate of a session from its
 * policy, the check against the limits, and the upload token buckets with an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "quota.h"
#include "util/buf.h"

static struct cas_policy *
policy(const char *yaml)
{
    struct cas_policy_options opt = {0};
    struct cas_policy_diags d;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    cas_rc rc;

    cas_policy_diags_init(&d);
    rc = cas_policy_parse((const uint8_t *)yaml, strlen(yaml), &opt, &p, &d, &err);
    for (size_t i = 0; i < d.count; i++)
        if (d.items[i].severity == CAS_POLICY_ERROR)
            fprintf(stderr, "%u:%u: %s\n", d.items[i].line, d.items[i].column, d.items[i].text);
    cas_policy_diags_release(&d);
    assert_int_equal(rc, CAS_OK);
    return p;
}

/* n secrets of `kind` with `extra` lines each. */
static struct cas_policy *
many(size_t n, const char *kind, const char *extra)
{
    struct cas_buf b;
    struct cas_policy *p;

    cas_buf_init(&b, 4 * 1024 * 1024);
    cas_buf_adds(&b, "name: s\nversion: \"0.3\"\nsecrets:\n");
    for (size_t i = 0; i < n; i++)
        cas_buf_addf(&b, "  - name: s%zu\n    kind: %s\n%s", i, kind, extra);
    assert_false(b.failed);
    p = policy(b.buf);
    cas_buf_release(&b);
    return p;
}

static const struct casd_quota_limits defaults = {
    .max_session_secrets = CASD_QUOTA_DEFAULT_SECRETS,
    .max_session_rsa_keys = CASD_QUOTA_DEFAULT_RSA_KEYS,
    .max_session_generated_bytes = CASD_QUOTA_DEFAULT_GENERATED,
    .uploads_per_minute = CASD_QUOTA_DEFAULT_UPLOADS,
    .max_values_answer = CASD_QUOTA_DEFAULT_VALUES_ANSWER,
};

static void
test_the_attack_of_2048_secrets_of_64_kib_is_over_the_secret_count(void **state)
{
    struct cas_policy *p = many(2048, "binary", "    size: 65536\n");
    struct casd_session_cost c;
    uint64_t value, max;

    (void)state;
    casd_quota_session_cost(p, &c);
    assert_int_equal(c.secrets, 2048);
    assert_int_equal(c.rsa_keys, 0);
    assert_true(c.generated_bytes >= 2048ull * 65536);
    assert_int_equal(casd_quota_check_session(&c, &defaults, &value, &max), CASD_LIMIT_SECRETS);
    assert_int_equal(value, 2048);
    assert_int_equal(max, 512);
    assert_string_equal(casd_quota_setting(CASD_LIMIT_SECRETS), "max_session_secrets");
    cas_policy_free(p);
}

static void
test_500_secrets_of_64_kib_are_over_the_generated_bytes(void **state)
{
    struct cas_policy *p = many(500, "binary", "    size: 65536\n");
    struct casd_session_cost c;
    uint64_t value, max;

    (void)state;
    casd_quota_session_cost(p, &c);
    assert_int_equal(casd_quota_check_session(&c, &defaults, &value, &max), CASD_LIMIT_GENERATED);
    assert_int_equal(value, c.generated_bytes);
    assert_int_equal(max, 4u * 1024 * 1024);
    cas_policy_free(p);
}

static void
test_ascii_without_size_costs_its_default_20_bytes_and_a_row(void **state)
{
    struct cas_policy *p = many(1, "ascii", "");
    struct casd_session_cost c;

    (void)state;
    casd_quota_session_cost(p, &c);
    assert_int_equal(c.secrets, 1);
    assert_int_equal(c.generated_bytes, 20 + 128);
    cas_policy_free(p);
}

static void
test_only_generated_rsa_private_keys_count_as_rsa_keys(void **state)
{
    struct cas_policy *p = policy("name: s\nversion: \"0.3\"\nsecrets:\n"
                                  "  - name: a\n    kind: private-key\n    key_type: RSA-3072\n"
                                  "  - name: b\n    kind: private-key\n    key_type: RSA-2048\n"
                                  "  - name: c\n    kind: private-key\n"
                                  "  - name: d\n    kind: private-key\n    key_type: P-384\n");
    struct casd_session_cost c;

    (void)state;
    casd_quota_session_cost(p, &c);
    assert_int_equal(c.rsa_keys, 2);
    assert_true(c.generated_bytes >= 2600 + 1800);
    cas_policy_free(p);
}

static void
test_33_rsa_keys_are_over_max_session_rsa_keys(void **state)
{
    struct cas_policy *p = many(33, "private-key", "    key_type: RSA-3072\n");
    struct casd_session_cost c;
    uint64_t value, max;

    (void)state;
    casd_quota_session_cost(p, &c);
    assert_int_equal(casd_quota_check_session(&c, &defaults, &value, &max), CASD_LIMIT_RSA_KEYS);
    assert_int_equal(value, 33);
    assert_int_equal(max, 32);
    cas_policy_free(p);
}

static void
test_a_certificate_costs_its_issuers_too(void **state)
{
    struct cas_policy *alone = policy("name: s\nversion: \"0.3\"\nsecrets:\n"
                                      "  - name: k\n    kind: private-key\n"
                                      "  - name: leaf\n    kind: x509\n    private_key: k\n");
    struct cas_policy *chained =
        policy("name: s\nversion: \"0.3\"\nsecrets:\n"
               "  - name: k\n    kind: private-key\n"
               "  - name: root\n    kind: x509-ca\n    private_key: k\n"
               "  - name: mid\n    kind: x509-ca\n    private_key: k\n    issuer: root\n"
               "  - name: leaf\n    kind: x509\n    private_key: k\n    issuer: mid\n");
    struct casd_session_cost a, c;
    uint64_t leaf;

    (void)state;
    casd_quota_session_cost(alone, &a);
    casd_quota_session_cost(chained, &c);
    leaf = a.generated_bytes - (128 + 300); /* beside the P-256 key's row */
    /* root (no issuer), mid (one), leaf (two): three issuer certificates of 2048 bytes more */
    assert_int_equal(c.generated_bytes, (128 + 300) + 3 * leaf + 3 * 2048);
    cas_policy_free(alone);
    cas_policy_free(chained);
}

static void
test_a_limit_of_zero_is_off(void **state)
{
    struct casd_session_cost c = {.secrets = 100000, .rsa_keys = 1000, .generated_bytes = 1u << 30};
    struct casd_quota_limits off = {0};
    uint64_t value = 1, max = 1;

    (void)state;
    assert_int_equal(casd_quota_check_session(&c, &off, &value, &max), CASD_LIMIT_NONE);
    assert_int_equal(value, 0);
    assert_int_equal(max, 0);
}

static void
test_a_session_within_every_limit_passes(void **state)
{
    struct cas_policy *p = policy("name: s\nversion: \"0.3\"\nsecrets:\n"
                                  "  - name: k\n    kind: private-key\n    key_type: RSA-3072\n"
                                  "  - name: c\n    kind: x509\n    private_key: k\n"
                                  "  - name: v\n    kind: ascii\n    value: \"42\"\n");
    struct casd_session_cost c;
    uint64_t value, max;

    (void)state;
    casd_quota_session_cost(p, &c);
    assert_int_equal(casd_quota_check_session(&c, &defaults, &value, &max), CASD_LIMIT_NONE);
    assert_true(c.generated_bytes < 16 * 1024);
    cas_policy_free(p);
}

/* ---- token buckets ---- */

static void
key_of(uint8_t key[32], uint8_t tag, uint8_t set)
{
    memset(key, 0, 32);
    key[0] = set; /* the first bytes choose the ways */
    key[31] = tag;
}

static void
test_a_key_uploads_its_rate_at_once_and_the_next_waits(void **state)
{
    struct casd_rate_table *t = calloc(1, sizeof(*t));
    uint8_t k[32];
    uint64_t retry = 99;

    (void)state;
    key_of(k, 1, 1);
    for (int i = 0; i < 120; i++)
        assert_true(casd_rate_take(t, k, 1000, 120, &retry));
    assert_false(casd_rate_take(t, k, 1000, 120, &retry));
    assert_int_equal(retry, 1); /* one token every 500 ms */
    assert_false(casd_rate_take(t, k, 1499, 120, &retry));
    assert_true(casd_rate_take(t, k, 1500, 120, &retry));
    assert_int_equal(retry, 0);
    free(t);
}

static void
test_another_key_still_uploads_when_one_is_refused(void **state)
{
    struct casd_rate_table *t = calloc(1, sizeof(*t));
    uint8_t a[32], b[32];
    uint64_t retry;

    (void)state;
    key_of(a, 1, 7);
    key_of(b, 2, 7); /* the same ways */
    for (int i = 0; i < 3; i++)
        assert_true(casd_rate_take(t, a, 0, 3, &retry));
    assert_false(casd_rate_take(t, a, 0, 3, &retry));
    assert_int_equal(retry, 20); /* 3 a minute: one token every 20 s */
    assert_true(casd_rate_take(t, b, 0, 3, &retry));
    free(t);
}

static void
test_a_bucket_refills_to_its_rate_and_no_more(void **state)
{
    struct casd_rate_table *t = calloc(1, sizeof(*t));
    uint8_t k[32];
    uint64_t retry;
    int taken = 0;

    (void)state;
    key_of(k, 1, 3);
    assert_true(casd_rate_take(t, k, 0, 10, &retry));
    while (casd_rate_take(t, k, 3600000, 10, &retry))
        taken++;
    assert_int_equal(taken, 10);
    free(t);
}

static void
test_a_full_set_of_ways_reuses_the_slot_idle_longest(void **state)
{
    struct casd_rate_table *t = calloc(1, sizeof(*t));
    uint8_t k[32], first[32];
    uint64_t retry;

    (void)state;
    key_of(first, 0, 9);
    assert_true(casd_rate_take(t, first, 0, 1, &retry));
    assert_false(casd_rate_take(t, first, 0, 1, &retry));
    for (uint8_t i = 1; i < CASD_RATE_WAYS; i++) {
        key_of(k, i, 9);
        assert_true(casd_rate_take(t, k, 10 + i, 1, &retry));
    }
    /* Every way is taken; first is still followed and still empty. */
    assert_false(casd_rate_take(t, first, 0, 1, &retry));
    /* One more key takes the slot idle longest (first's), which then starts over full. */
    key_of(k, 200, 9);
    assert_true(casd_rate_take(t, k, 30, 1, &retry));
    assert_true(casd_rate_take(t, first, 40, 1, &retry));
    free(t);
}

static void
test_a_rate_of_zero_is_off(void **state)
{
    struct casd_rate_table *t = calloc(1, sizeof(*t));
    uint8_t k[32];
    uint64_t retry = 5;

    (void)state;
    key_of(k, 1, 1);
    for (int i = 0; i < 1000; i++)
        assert_true(casd_rate_take(t, k, 0, 0, &retry));
    assert_int_equal(retry, 0);
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_attack_of_2048_secrets_of_64_kib_is_over_the_secret_count),
        cmocka_unit_test(test_500_secrets_of_64_kib_are_over_the_generated_bytes),
        cmocka_unit_test(test_ascii_without_size_costs_its_default_20_bytes_and_a_row),
        cmocka_unit_test(test_only_generated_rsa_private_keys_count_as_rsa_keys),
        cmocka_unit_test(test_33_rsa_keys_are_over_max_session_rsa_keys),
        cmocka_unit_test(test_a_certificate_costs_its_issuers_too),
        cmocka_unit_test(test_a_limit_of_zero_is_off),
        cmocka_unit_test(test_a_session_within_every_limit_passes),
        cmocka_unit_test(test_a_key_uploads_its_rate_at_once_and_the_next_waits),
        cmocka_unit_test(test_another_key_still_uploads_when_one_is_refused),
        cmocka_unit_test(test_a_bucket_refills_to_its_rate_and_no_more),
        cmocka_unit_test(test_a_full_set_of_ways_reuses_the_slot_idle_longest),
        cmocka_unit_test(test_a_rate_of_zero_is_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
