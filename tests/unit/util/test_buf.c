/* test_buf.c - struct cas_buf: ceilings, sticky failure, detach, secret wiping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"

static void
test_appends_build_a_terminated_string(void **state)
{
    struct cas_buf b;
    (void)state;
    cas_buf_init(&b, 1024);
    assert_string_equal(b.buf, "");
    cas_buf_adds(&b, "CAS ");
    cas_buf_addf(&b, "%s at %d", "x", 8081);
    cas_buf_addc(&b, '!');
    cas_buf_add_hex(&b, (const uint8_t *)"\x01\xff", 2);
    assert_false(b.failed);
    assert_string_equal(b.buf, "CAS x at 8081!01ff");
    assert_int_equal(b.len, strlen(b.buf));
    cas_buf_release(&b);
}

static void
test_the_ceiling_fails_the_append_and_sticks(void **state)
{
    struct cas_buf b;
    (void)state;
    cas_buf_init(&b, 8);
    cas_buf_adds(&b, "12345678");
    assert_false(b.failed);
    cas_buf_addc(&b, '9');
    assert_true(b.failed);
    cas_buf_adds(&b, "");
    cas_buf_addf(&b, "%d", 1);
    assert_true(b.failed);
    assert_string_equal(b.buf, "12345678");
    assert_null(cas_buf_detach(&b, NULL));
    cas_buf_release(&b);
}

static void
test_addf_grows_for_long_output(void **state)
{
    struct cas_buf b;
    char big[3000];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cas_buf_init(&b, 1 << 20);
    cas_buf_addf(&b, "[%s]", big);
    assert_int_equal(b.len, sizeof(big) + 1);
    assert_int_equal(b.buf[b.len - 1], ']');
    cas_buf_release(&b);
}

static void
test_detach_hands_over_and_empties(void **state)
{
    struct cas_buf b;
    size_t len = 99;
    char *p;
    (void)state;
    cas_buf_init(&b, 100);
    p = cas_buf_detach(&b, &len);
    assert_non_null(p);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    cas_buf_adds(&b, "abc");
    p = cas_buf_detach(&b, &len);
    assert_string_equal(p, "abc");
    assert_int_equal(len, 3);
    assert_int_equal(b.len, 0);
    free(p);
}

static void
test_out_of_memory_fails_the_buffer_not_the_process(void **state)
{
    struct cas_buf b;
    (void)state;
    cas_buf_init(&b, 100);
    cas_alloc_fail_after(0);
    cas_buf_adds(&b, "abc");
    cas_alloc_fail_after(-1);
    assert_true(b.failed);
    cas_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_build_a_terminated_string),
        cmocka_unit_test(test_the_ceiling_fails_the_append_and_sticks),
        cmocka_unit_test(test_addf_grows_for_long_output),
        cmocka_unit_test(test_detach_hands_over_and_empties),
        cmocka_unit_test(test_out_of_memory_fails_the_buffer_not_the_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
