/* test_ratelimit.c - struct cas_ratelimit: free failures, doubling backoff up to its ceiling,
 * reports once per window, forgetting, clearing, and a table that never grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/alloc.h"
#include "util/ratelimit.h"

static const struct cas_ratelimit_cfg CFG = {
    .slots = 64,
    .free_failures = 5,
    .first_ms = 1000,
    .max_ms = 300000,
    .forget_ms = 3600000,
    .report_ms = 60000,
    .salt = 0x1234,
};

static void
key_of(unsigned n, uint8_t key[32])
{
    memset(key, 0, 32);
    memcpy(key, &n, sizeof(n));
}

static int
make(void **state)
{
    *state = cas_ratelimit_new(&CFG);
    return *state == NULL ? -1 : 0;
}

static int
drop(void **state)
{
    cas_ratelimit_free(*state);
    return 0;
}

static void
test_five_failures_are_free_then_the_sixth_waits_one_second(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t k[32];

    key_of(1, k);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cas_ratelimit_check(rl, k, 100).wait_ms, 0);
        assert_int_equal(cas_ratelimit_fail(rl, k, 100), 0);
    }
    assert_int_equal(cas_ratelimit_check(rl, k, 100).wait_ms, 0);
    assert_int_equal(cas_ratelimit_fail(rl, k, 100), 1000);
    assert_int_equal(cas_ratelimit_check(rl, k, 100).wait_ms, 1000);
    assert_int_equal(cas_ratelimit_check(rl, k, 1099).wait_ms, 1);
    assert_int_equal(cas_ratelimit_check(rl, k, 1100).wait_ms, 0);
}

static void
test_the_backoff_doubles_and_stops_at_five_minutes(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t k[32];
    int64_t now = 0, wait = 0, want = 1000;

    key_of(2, k);
    for (int i = 0; i < 5; i++)
        (void)cas_ratelimit_fail(rl, k, now);
    for (int i = 0; i < 12; i++) {
        wait = cas_ratelimit_fail(rl, k, now);
        assert_int_equal(wait, want < 300000 ? want : 300000);
        want *= 2;
        now += wait;
    }
    assert_int_equal(wait, 300000);
}

static void
test_refusals_do_not_grow_the_backoff(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t k[32];

    key_of(3, k);
    for (int i = 0; i < 6; i++)
        (void)cas_ratelimit_fail(rl, k, 0);
    for (int i = 0; i < 100; i++)
        assert_true(cas_ratelimit_check(rl, k, 10).wait_ms > 0);
    assert_int_equal(cas_ratelimit_check(rl, k, 1000).wait_ms, 0);
    assert_int_equal(cas_ratelimit_fail(rl, k, 1000), 2000);
}

static void
test_refusals_are_reported_once_per_window_with_their_count(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t k[32];

    key_of(4, k);
    for (int i = 0; i < 5; i++)
        (void)cas_ratelimit_fail(rl, k, 0);
    for (int i = 0; i < 20; i++)
        (void)cas_ratelimit_fail(rl, k, 0); /* backing off for 5 minutes now */
    assert_int_equal(cas_ratelimit_check(rl, k, 1).reported, 1);
    for (int i = 0; i < 99; i++)
        assert_int_equal(cas_ratelimit_check(rl, k, 2 + i).reported, 0);
    assert_int_equal(cas_ratelimit_check(rl, k, 60001).reported, 100);
    assert_int_equal(cas_ratelimit_check(rl, k, 60002).reported, 0);
}

static void
test_a_success_clears_the_key_and_no_other(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t a[32], b[32];

    key_of(5, a);
    key_of(6, b);
    for (int i = 0; i < 6; i++) {
        (void)cas_ratelimit_fail(rl, a, 0);
        (void)cas_ratelimit_fail(rl, b, 0);
    }
    cas_ratelimit_clear(rl, a);
    assert_int_equal(cas_ratelimit_check(rl, a, 1).wait_ms, 0);
    assert_int_equal(cas_ratelimit_check(rl, b, 1).wait_ms, 999);
    assert_int_equal(cas_ratelimit_fail(rl, a, 1), 0);
}

static void
test_failures_are_forgotten_after_a_quiet_hour(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t k[32];

    key_of(7, k);
    for (int i = 0; i < 5; i++)
        (void)cas_ratelimit_fail(rl, k, 0);
    assert_int_equal(cas_ratelimit_fail(rl, k, 3599999), 1000);
    for (int i = 0; i < 5; i++)
        (void)cas_ratelimit_fail(rl, k, 7200000);
    assert_int_equal(cas_ratelimit_fail(rl, k, 7200000), 1000);
}

static void
test_the_table_never_grows_and_evicts_the_oldest(void **state)
{
    struct cas_ratelimit *rl = *state;
    uint8_t k[32];

    for (unsigned n = 100; n < 10100; n++) {
        key_of(n, k);
        (void)cas_ratelimit_fail(rl, k, (int64_t)n);
    }
    assert_int_equal(cas_ratelimit_count(rl), 64);
    key_of(10099, k); /* the newest is kept */
    for (int i = 0; i < 5; i++)
        (void)cas_ratelimit_fail(rl, k, 20000);
    assert_int_equal(cas_ratelimit_check(rl, k, 20000).wait_ms, 1000);
}

static void
test_an_unusable_configuration_or_no_memory_gives_null(void **state)
{
    struct cas_ratelimit_cfg c = CFG;
    (void)state;

    c.slots = 0;
    assert_null(cas_ratelimit_new(&c));
    c = CFG;
    c.first_ms = 0;
    assert_null(cas_ratelimit_new(&c));
    c = CFG;
    c.max_ms = 10;
    assert_null(cas_ratelimit_new(&c));
    for (long n = 0; n < 2; n++) {
        cas_alloc_fail_after(n);
        assert_null(cas_ratelimit_new(&CFG));
    }
    cas_alloc_fail_after(-1);
    cas_ratelimit_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_five_failures_are_free_then_the_sixth_waits_one_second,
                                        make, drop),
        cmocka_unit_test_setup_teardown(test_the_backoff_doubles_and_stops_at_five_minutes, make,
                                        drop),
        cmocka_unit_test_setup_teardown(test_refusals_do_not_grow_the_backoff, make, drop),
        cmocka_unit_test_setup_teardown(test_refusals_are_reported_once_per_window_with_their_count,
                                        make, drop),
        cmocka_unit_test_setup_teardown(test_a_success_clears_the_key_and_no_other, make, drop),
        cmocka_unit_test_setup_teardown(test_failures_are_forgotten_after_a_quiet_hour, make, drop),
        cmocka_unit_test_setup_teardown(test_the_table_never_grows_and_evicts_the_oldest, make,
                                        drop),
        cmocka_unit_test(test_an_unusable_configuration_or_no_memory_gives_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
