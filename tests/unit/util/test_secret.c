/* test_secret.c - struct cas_secret: copies, wipes on free, excluded from dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/secret.h"

static int g_released;
static int g_all_zero;
static size_t g_cap;

static void
on_release(const uint8_t *p, size_t cap)
{
    g_released++;
    g_cap = cap;
    g_all_zero = 1;
    for (size_t i = 0; i < cap; i++)
        if (p[i] != 0)
            g_all_zero = 0;
}

static void
test_free_wipes_every_byte_of_the_block_before_unmapping(void **state)
{
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    uint8_t key[100];
    (void)state;
    memset(key, 0xA5, sizeof(key));
    assert_int_equal(cas_secret_from(key, sizeof(key), &s, &err), CAS_OK);
    cas_secret_set_release_hook(on_release);
    g_released = 0;
    cas_secret_free(s);
    cas_secret_set_release_hook(NULL);
    assert_int_equal(g_released, 1);
    assert_true(g_cap >= sizeof(key));
    assert_true(g_all_zero);
}

static void
test_from_copies_and_peek_returns_the_bytes(void **state)
{
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    size_t len = 0;
    (void)state;
    assert_int_equal(cas_secret_from("hunter2", 7, &s, &err), CAS_OK);
    assert_memory_equal(cas_secret_peek(s, &len), "hunter2", 7);
    assert_int_equal(len, 7);
    cas_secret_free(s);
}

static void
test_truncate_wipes_the_dropped_tail(void **state)
{
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    const uint8_t *p;
    (void)state;
    assert_int_equal(cas_secret_from("abcdef", 6, &s, &err), CAS_OK);
    cas_secret_truncate(s, 2);
    assert_int_equal(cas_secret_len(s), 2);
    p = cas_secret_peek(s, NULL);
    assert_int_equal(p[2], 0);
    assert_int_equal(p[5], 0);
    cas_secret_free(s);
}

static void
test_random_secrets_differ_and_equal_compares_contents(void **state)
{
    struct cas_secret *a = NULL, *b = NULL, *c = NULL;
    struct cas_err err = {0};
    (void)state;
    assert_int_equal(cas_secret_random(32, &a, &err), CAS_OK);
    assert_int_equal(cas_secret_random(32, &b, &err), CAS_OK);
    assert_false(cas_secret_equal(a, b));
    assert_int_equal(cas_secret_from(cas_secret_peek(a, NULL), 32, &c, &err), CAS_OK);
    assert_true(cas_secret_equal(a, c));
    cas_secret_free(a);
    cas_secret_free(b);
    cas_secret_free(c);
}

static void
test_the_block_is_marked_dontdump(void **state)
{
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    char line[512];
    unsigned long addr, start, end;
    int found = 0, in_block = 0;
    FILE *f;
    (void)state;
    assert_int_equal(cas_secret_new(10, &s, &err), CAS_OK);
    addr = (unsigned long)(uintptr_t)cas_secret_peek(s, NULL);
    f = fopen("/proc/self/smaps", "r");
    if (f == NULL) {
        cas_secret_free(s);
        skip();
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, ' ') != NULL &&
            line[strspn(line, "0123456789abcdef")] == '-')
            in_block = addr >= start && addr < end;
        else if (in_block && strncmp(line, "VmFlags:", 8) == 0)
            found = strstr(line, " dd") != NULL;
    }
    fclose(f);
    cas_secret_free(s);
    assert_true(found);
}

static void
test_a_reused_block_comes_back_wiped(void **state)
{
    struct cas_secret *s = NULL;
    struct cas_err err = {0};
    const uint8_t *first, *again;
    size_t len = 0;
    (void)state;
    assert_int_equal(cas_secret_new(1000, &s, &err), CAS_OK);
    first = cas_secret_peek(s, NULL);
    memset(cas_secret_data(s), 0xA5, 1000);
    cas_secret_free(s);
    assert_int_equal(cas_secret_new(3000, &s, &err), CAS_OK);
    again = cas_secret_peek(s, &len);
    assert_ptr_equal(again, first); /* the pool gave the page back, not mmap */
    assert_int_equal(len, 3000);
    for (size_t i = 0; i < 3000; i++)
        assert_int_equal(again[i], 0);
    cas_secret_free(s);
}

static void
test_free_accepts_null(void **state)
{
    (void)state;
    cas_secret_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_wipes_every_byte_of_the_block_before_unmapping),
        cmocka_unit_test(test_from_copies_and_peek_returns_the_bytes),
        cmocka_unit_test(test_truncate_wipes_the_dropped_tail),
        cmocka_unit_test(test_random_secrets_differ_and_equal_compares_contents),
        cmocka_unit_test(test_the_block_is_marked_dontdump),
        cmocka_unit_test(test_a_reused_block_comes_back_wiped),
        cmocka_unit_test(test_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
