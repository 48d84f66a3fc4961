/* test_reader.c - struct cas_reader: every out-of-bounds read refused, nothing moved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/reader.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

static void
test_reads_little_and_big_endian_values_in_order(void **state)
{
    struct cas_reader r;
    uint8_t b;
    uint16_t h;
    uint32_t w;
    (void)state;
    cas_rd_init(&r, bytes, sizeof(bytes));
    assert_true(cas_rd_u8(&r, &b));
    assert_int_equal(b, 0x01);
    assert_true(cas_rd_u16le(&r, &h));
    assert_int_equal(h, 0x0302);
    assert_true(cas_rd_u16be(&r, &h));
    assert_int_equal(h, 0x0405);
    assert_true(cas_rd_u32le(&r, &w));
    assert_int_equal(w, 0x09080706);
    assert_int_equal(cas_rd_left(&r), 0);
}

static void
test_u64le_reads_eight_bytes(void **state)
{
    struct cas_reader r;
    uint64_t v;
    (void)state;
    cas_rd_init(&r, bytes, 8);
    assert_true(cas_rd_u64le(&r, &v));
    assert_true(v == 0x0807060504030201ULL);
}

/* Each read, asked for one byte more than is left, fails and leaves the cursor where it was. */
static void
test_every_read_past_the_end_is_refused_and_moves_nothing(void **state)
{
    uint8_t out[16];
    struct cas_reader r, sub;
    struct cas_span sp;
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t q;
    (void)state;
    for (size_t len = 0; len < 9; len++) {
        for (size_t start = 0; start <= len; start++) {
            size_t left = len - start;
            cas_rd_init(&r, bytes, len);
            r.off = start;
            if (left < 1)
                assert_false(cas_rd_u8(&r, &b));
            if (left < 2) {
                assert_false(cas_rd_u16le(&r, &h));
                assert_false(cas_rd_u16be(&r, &h));
            }
            if (left < 4)
                assert_false(cas_rd_u32le(&r, &w));
            if (left < 8)
                assert_false(cas_rd_u64le(&r, &q));
            assert_false(cas_rd_bytes(&r, out, left + 1));
            assert_false(cas_rd_span(&r, left + 1, &sp));
            assert_false(cas_rd_sub(&r, left + 1, &sub));
            assert_false(cas_rd_skip(&r, left + 1));
            assert_int_equal(r.off, start);
        }
    }
}

static void
test_a_huge_length_does_not_wrap_around(void **state)
{
    struct cas_reader r;
    struct cas_span sp;
    (void)state;
    cas_rd_init(&r, bytes, sizeof(bytes));
    r.off = 4;
    assert_false(cas_rd_span(&r, SIZE_MAX, &sp));
    assert_false(cas_rd_skip(&r, SIZE_MAX - 2));
    assert_int_equal(r.off, 4);
}

static void
test_a_sub_reader_is_bounded_by_its_slice(void **state)
{
    struct cas_reader r, sub;
    uint32_t w;
    uint8_t b;
    (void)state;
    cas_rd_init(&r, bytes, sizeof(bytes));
    assert_true(cas_rd_sub(&r, 3, &sub));
    assert_false(cas_rd_u32le(&sub, &w));
    assert_true(cas_rd_u8(&sub, &b));
    assert_int_equal(cas_rd_left(&sub), 2);
    assert_int_equal(r.off, 3);
}

static void
test_an_empty_or_null_buffer_reads_nothing(void **state)
{
    struct cas_reader r;
    uint8_t b;
    (void)state;
    cas_rd_init(&r, NULL, 100);
    assert_int_equal(cas_rd_left(&r), 0);
    assert_false(cas_rd_u8(&r, &b));
    assert_true(cas_rd_skip(&r, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_little_and_big_endian_values_in_order),
        cmocka_unit_test(test_u64le_reads_eight_bytes),
        cmocka_unit_test(test_every_read_past_the_end_is_refused_and_moves_nothing),
        cmocka_unit_test(test_a_huge_length_does_not_wrap_around),
        cmocka_unit_test(test_a_sub_reader_is_bounded_by_its_slice),
        cmocka_unit_test(test_an_empty_or_null_buffer_reads_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
