/*
 * test_dcap_quote.c - cas_dcap_quote_parse() on real quotes (every case and parse-only quote
 * of tests/data/dcap) and on hostile ones: cut short at every length, padded with
 * non-zero bytes, oversized, wrong version, key type, TEE type, vendor, body type,
 * certification data type, and length fields that run past the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fixture.h"

struct fx {
    uint8_t *q;
    size_t len;
};

static int
load(void **state, const char *path)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->q = fx_read(path, &f->len);
    *state = f;
    return f->q == NULL ? -1 : 0;
}

static int
load_v3(void **state)
{
    return load(state, DCAP_DIR "/phala-sgx-v3/quote.bin");
}

static int
load_v4(void **state)
{
    return load(state, DCAP_DIR "/phala-tdx-v4/quote.bin"); /* 70 zero bytes of padding */
}

static int
load_v5(void **state)
{
    return load(state, DCAP_DIR "/gotdx-v5-tdx/quote.bin");
}

static int
unload(void **state)
{
    struct fx *f = *state;

    free(f->q);
    free(f);
    return 0;
}

static cas_rc
parse(const struct fx *f, size_t len, struct cas_quote *q, struct cas_err *err)
{
    return cas_dcap_quote_parse(f->q, len, q, err);
}

/* A copy of the quote with one little-endian field set. */
static cas_rc
parse_with(const struct fx *f, size_t off, unsigned width, uint32_t value, struct cas_err *err)
{
    uint8_t *copy = malloc(f->len);
    struct cas_quote q;
    cas_rc rc;

    memcpy(copy, f->q, f->len);
    for (unsigned i = 0; i < width; i++)
        copy[off + i] = (uint8_t)(value >> (8 * i));
    rc = cas_dcap_quote_parse(copy, f->len, &q, err);
    free(copy);
    return rc;
}

static void
test_every_real_quote_parses_to_its_structural_length(void **state)
{
    const char *parents[] = {DCAP_DIR, DCAP_DIR "/parse-only"};
    (void)state;

    for (int p = 0; p < 2; p++) {
        char **dirs;
        size_t n = fx_list(parents[p], "quote.bin", &dirs);
        assert_true(n >= 3);
        for (size_t i = 0; i < n; i++) {
            char path[4096], js[4096];
            struct cas_err err = {0};
            struct cas_quote q;
            json_t *doc;
            size_t len;
            uint8_t *buf;
            fx_path(path, dirs[i], "quote.bin");
            fx_path(js, dirs[i], p == 0 ? "case.json" : "note.json");
            assert_non_null(buf = fx_read(path, &len));
            assert_non_null(doc = fx_json(js));
            if (cas_dcap_quote_parse(buf, len, &q, &err) != CAS_OK)
                fail_msg("%s: %s", dirs[i], err.msg[0]);
            assert_int_equal(q.quote_len, json_integer_value(
                                              json_object_get(doc, "quote_length_from_structure")));
            assert_int_equal(q.version, json_integer_value(json_object_get(doc, "quote_version")));
            assert_int_equal(q.cert_type, 5);
            assert_true(q.cert_data.buf + q.cert_data.len <= buf + q.quote_len);
            json_decref(doc);
            free(buf);
        }
        fx_list_free(dirs, n);
    }
}

static void
test_a_quote_cut_short_anywhere_is_refused_as_malformed(void **state)
{
    const struct fx *f = *state;
    struct cas_quote q;
    struct cas_err err = {0};

    assert_int_equal(parse(f, f->len, &q, &err), CAS_OK);
    for (size_t len = 0; len < q.quote_len; len++) {
        struct cas_err e = {0};
        struct cas_quote tmp;
        if (parse(f, len, &tmp, &e) != CAS_E_INVALID)
            fail_msg("a quote of %zu of %zu bytes was accepted", len, q.quote_len);
    }
}

static void
test_zero_padding_after_the_quote_is_ignored_but_other_bytes_are_refused(void **state)
{
    const struct fx *f = *state;
    struct cas_quote q;
    struct cas_err err = {0};

    assert_int_equal(parse(f, f->len, &q, &err), CAS_OK);
    assert_true(q.quote_len < f->len);
    f->q[f->len - 1] = 0x01;
    assert_int_equal(parse(f, f->len, &q, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "non-zero bytes after its end"));
    f->q[f->len - 1] = 0;
}

static void
test_a_quote_over_the_size_limit_is_refused_before_reading(void **state)
{
    const struct fx *f = *state;
    struct cas_quote q;
    struct cas_err err = {0};

    assert_int_equal(cas_dcap_quote_parse(f->q, CAS_DCAP_QUOTE_MAX + 1, &q, &err), CAS_E_TOOBIG);
}

static void
test_unsupported_versions_key_types_and_vendors_are_refused(void **state)
{
    const struct fx *f = *state;
    struct cas_err err = {0};

    assert_int_equal(parse_with(f, 0, 2, 2, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "version 2"));
    assert_int_equal(parse_with(f, 0, 2, 6, &err), CAS_E_INVALID);
    assert_int_equal(parse_with(f, 2, 2, 3, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "key type 3"));
    assert_int_equal(parse_with(f, 4, 4, 0x81, &err), CAS_E_INVALID); /* v3 claiming TDX */
    assert_non_null(strstr(err.msg[0], "TEE type"));
    assert_int_equal(parse_with(f, 12, 1, 0, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "vendor"));
}

static void
test_a_tdx_quote_claiming_sgx_is_refused(void **state)
{
    const struct fx *f = *state;
    struct cas_err err = {0};

    assert_int_equal(parse_with(f, 4, 4, 0, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "TEE type"));
}

static void
test_length_fields_running_past_the_buffer_are_refused(void **state)
{
    const struct fx *f = *state;
    struct cas_err err = {0};

    assert_int_equal(parse_with(f, 432, 4, 0xffffffffu, &err), CAS_E_INVALID); /* sig data */
    assert_non_null(strstr(err.msg[0], "malformed"));
    assert_int_equal(parse_with(f, 432, 4, 4600 - 436 - 1, &err), CAS_E_INVALID);
    assert_int_equal(parse_with(f, 1012, 2, 0xffff, &err), CAS_E_INVALID);      /* QE auth data */
    assert_int_equal(parse_with(f, 1048, 4, 0xffffffffu, &err), CAS_E_INVALID); /* cert data */
}

static void
test_certification_data_of_another_type_is_refused(void **state)
{
    const struct fx *f = *state;
    struct cas_err err = {0};

    assert_int_equal(parse_with(f, 1046, 2, 3, &err), CAS_E_INVALID); /* PPID only */
    assert_non_null(strstr(err.msg[0], "type 3"));
}

static void
test_tdx_certification_data_must_wrap_the_chain_in_type_6(void **state)
{
    const struct fx *f = *state;
    struct cas_err err = {0};

    assert_int_equal(parse_with(f, 764, 2, 5, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "type 5"));
    assert_int_equal(parse_with(f, 766, 4, 10, &err), CAS_E_INVALID); /* outer size too small */
    assert_int_equal(parse_with(f, 1252, 2, 6, &err), CAS_E_INVALID); /* inner is not 5 */
}

static void
test_v5_body_types_other_than_td_reports_are_refused(void **state)
{
    const struct fx *f = *state;
    struct cas_quote q;
    struct cas_err err = {0};

    assert_int_equal(parse(f, f->len, &q, &err), CAS_OK);
    assert_int_equal(q.body_type, CAS_DCAP_BODY_TD15);
    assert_string_equal(cas_dcap_quote_evidence_type(&q), "tdx-v5");
    assert_int_equal(parse_with(f, 48, 2, 1, &err), CAS_E_INVALID); /* SGX body in v5 */
    assert_int_equal(parse_with(f, 48, 2, 4, &err), CAS_E_INVALID);
    assert_int_equal(parse_with(f, 50, 4, 584, &err), CAS_E_INVALID); /* type 3, TD 1.0 size */
    assert_non_null(strstr(err.msg[0], "body type 3"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_real_quote_parses_to_its_structural_length),
        cmocka_unit_test_setup_teardown(test_a_quote_cut_short_anywhere_is_refused_as_malformed,
                                        load_v3, unload),
        cmocka_unit_test_setup_teardown(test_a_quote_cut_short_anywhere_is_refused_as_malformed,
                                        load_v5, unload),
        cmocka_unit_test_setup_teardown(
            test_zero_padding_after_the_quote_is_ignored_but_other_bytes_are_refused, load_v4,
            unload),
        cmocka_unit_test_setup_teardown(test_a_quote_over_the_size_limit_is_refused_before_reading,
                                        load_v4, unload),
        cmocka_unit_test_setup_teardown(test_unsupported_versions_key_types_and_vendors_are_refused,
                                        load_v3, unload),
        cmocka_unit_test_setup_teardown(test_a_tdx_quote_claiming_sgx_is_refused, load_v4, unload),
        cmocka_unit_test_setup_teardown(test_length_fields_running_past_the_buffer_are_refused,
                                        load_v3, unload),
        cmocka_unit_test_setup_teardown(test_certification_data_of_another_type_is_refused, load_v3,
                                        unload),
        cmocka_unit_test_setup_teardown(test_tdx_certification_data_must_wrap_the_chain_in_type_6,
                                        load_v4, unload),
        cmocka_unit_test_setup_teardown(test_v5_body_types_other_than_td_reports_are_refused,
                                        load_v5, unload),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
