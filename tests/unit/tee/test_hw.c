/*
 * test_hw.c - the Gramine and configfs-tsm providers against directory trees built here, which
 * carry real captured quotes from tests/data/dcap: the exact bytes written and read, and
 * what a missing, short, oversized, foreign or raced answer does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tee/provider.h"
#include "tee_test.h"
#include "util/alloc.h"

struct tsm_kernel {
    const uint8_t *outblob; /* NULL: the kernel makes none */
    size_t outblob_len;
    const char *provider;
    const char *generation;
    char entry[4096];
    int calls;
};

struct fixture {
    char *root;
    uint8_t *sgx_quote, *tdx_quote;
    size_t sgx_len, tdx_len;
    uint8_t sgx_rd[64], tdx_rd[64];
    struct tsm_kernel kernel;
};

static void
path_in(char *out, size_t cap, const char *root, const char *rel)
{
    snprintf(out, cap, "%s%s", root, rel);
}

static void
report_data_of(const char *name, uint8_t rd[64])
{
    char path[512];
    json_t *c;

    snprintf(path, sizeof(path), "%s/dcap/%s/case.json", CAS_TESTDATA, name);
    c = json_load_file(path, 0, NULL);
    hex_to_bytes(json_string_value(json_object_get(json_object_get(c, "report"), "report_data")),
                 rd, 64);
    json_decref(c);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char p[4200];

    f->root = make_temp_dir();
    f->sgx_quote = read_file(CAS_TESTDATA "/dcap/phala-sgx-v3/quote.bin", &f->sgx_len);
    f->tdx_quote = read_file(CAS_TESTDATA "/dcap/phala-tdx-v4/quote.bin", &f->tdx_len);
    if (f->root == NULL || f->sgx_quote == NULL || f->tdx_quote == NULL)
        return -1;
    report_data_of("phala-sgx-v3", f->sgx_rd);
    report_data_of("phala-tdx-v4", f->tdx_rd);
    const char *dirs[] = {"/dev",
                          "/dev/attestation",
                          "/sys",
                          "/sys/kernel",
                          "/sys/kernel/config",
                          "/sys/kernel/config/tsm",
                          "/sys/kernel/config/tsm/report"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        path_in(p, sizeof(p), f->root, dirs[i]);
        if (mkdir(p, 0700) != 0)
            return -1;
    }
    path_in(p, sizeof(p), f->root, "/dev/attestation/attestation_type");
    write_file(p, "dcap\n", 5);
    path_in(p, sizeof(p), f->root, "/dev/attestation/user_report_data");
    write_file(p, NULL, 0);
    path_in(p, sizeof(p), f->root, "/dev/attestation/quote");
    write_file(p, f->sgx_quote, f->sgx_len);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    rm_tree(f->root);
    free(f->root);
    free(f->sgx_quote);
    free(f->tdx_quote);
    free(f);
    return 0;
}

/* Stands in for the kernel: fills the entry cas made, as configfs would. */
static void
tsm_kernel_fill(const char *entry, void *arg)
{
    struct tsm_kernel *k = arg;
    char p[4200];

    k->calls++;
    snprintf(k->entry, sizeof(k->entry), "%s", entry);
    snprintf(p, sizeof(p), "%s/inblob", entry);
    write_file(p, NULL, 0);
    snprintf(p, sizeof(p), "%s/provider", entry);
    write_file(p, k->provider, strlen(k->provider));
    snprintf(p, sizeof(p), "%s/generation", entry);
    write_file(p, k->generation, strlen(k->generation));
    if (k->outblob != NULL) {
        snprintf(p, sizeof(p), "%s/outblob", entry);
        write_file(p, k->outblob, k->outblob_len);
    }
}

static struct cas_tee_provider *
provider(struct fixture *f, const char *tee)
{
    struct cas_tee_options opt;
    struct cas_tee_provider *p = NULL;
    struct cas_err err = {0};

    cas_tee_options_init(&opt);
    opt.tee = tee;
    opt.root = f->root;
    opt.tsm_hook = tsm_kernel_fill;
    opt.tsm_hook_arg = &f->kernel;
    f->kernel.outblob = f->tdx_quote;
    f->kernel.outblob_len = f->tdx_len;
    f->kernel.provider = "tdx_guest\n";
    f->kernel.generation = "1\n";
    f->kernel.calls = 0;
    assert_int_equal(cas_tee_provider_new(&opt, &p, &err), CAS_OK);
    return p;
}

static void
set_gramine_file(struct fixture *f, const char *name, const void *p, size_t len)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/dev/attestation/%s", f->root, name);
    write_file(path, p, len);
}

static void
test_gramine_writes_the_report_data_and_returns_the_quote_byte_for_byte(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    char path[4200];
    uint8_t *written;
    size_t len = 0;

    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_OK);
    assert_string_equal(ev.type, "sgx-dcap-v3");
    assert_int_equal(ev.quote_len, f->sgx_len);
    assert_memory_equal(ev.quote, f->sgx_quote, f->sgx_len);
    assert_null(ev.collateral);
    path_in(path, sizeof(path), f->root, "/dev/attestation/user_report_data");
    written = read_file(path, &len);
    assert_int_equal(len, 64);
    assert_memory_equal(written, f->sgx_rd, 64);
    free(written);
    cas_tee_evidence_release(&ev);
    cas_tee_provider_free(p);
}

static void
test_gramine_refuses_a_quote_that_does_not_carry_the_report_data(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    uint8_t rd[64];

    memcpy(rd, f->sgx_rd, 64);
    rd[63] ^= 1;
    assert_int_equal(cas_tee_provider_get_evidence(p, rd, &ev, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "does not carry the report data"));
    assert_null(ev.quote);
    cas_tee_provider_free(p);
}

static void
test_gramine_without_attestation_files_says_it_is_not_inside_gramine(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    char path[4200];

    path_in(path, sizeof(path), f->root, "/dev/attestation/attestation_type");
    remove(path);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_E_NOTFOUND);
    assert_non_null(strstr(cas_err_get(&err, 1), "Not running inside Gramine"));
    set_gramine_file(f, "attestation_type", "dcap\n", 5);
    cas_tee_provider_free(p);
}

static void
test_gramine_with_epid_or_no_attestation_is_unsupported(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};

    set_gramine_file(f, "attestation_type", "none\n", 5);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg[0], "'none'"));
    set_gramine_file(f, "attestation_type", "dcap\n", 5);
    cas_tee_provider_free(p);
}

static void
test_gramine_without_a_quote_file_names_the_missing_path(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    char path[4200];

    path_in(path, sizeof(path), f->root, "/dev/attestation/quote");
    remove(path);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_E_NOTFOUND);
    assert_non_null(strstr(err.msg[0], "/dev/attestation/quote"));
    set_gramine_file(f, "quote", f->sgx_quote, f->sgx_len);
    cas_tee_provider_free(p);
}

static void
test_gramine_refuses_a_short_quote(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};

    set_gramine_file(f, "quote", f->sgx_quote, 40);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "shorter than its header"));
    set_gramine_file(f, "quote", f->sgx_quote, 48 + 300); /* header, part of the body */
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_E_UNSUPPORTED);
    set_gramine_file(f, "quote", f->sgx_quote, f->sgx_len);
    cas_tee_provider_free(p);
}

static void
test_gramine_refuses_a_quote_over_64_kib_without_truncating_it(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    uint8_t *big = calloc(1, CAS_TEE_QUOTE_MAX + 1);

    memcpy(big, f->sgx_quote, f->sgx_len);
    set_gramine_file(f, "quote", big, CAS_TEE_QUOTE_MAX); /* exactly the cap: accepted */
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_OK);
    assert_int_equal(ev.quote_len, CAS_TEE_QUOTE_MAX);
    cas_tee_evidence_release(&ev);
    set_gramine_file(f, "quote", big, CAS_TEE_QUOTE_MAX + 1);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->sgx_rd, &ev, &err), CAS_E_TOOBIG);
    assert_null(ev.quote);
    set_gramine_file(f, "quote", f->sgx_quote, f->sgx_len);
    free(big);
    cas_tee_provider_free(p);
}

static void
test_gramine_refuses_a_tdx_quote(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "gramine");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};

    set_gramine_file(f, "quote", f->tdx_quote, f->tdx_len);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_UNSUPPORTED);
    set_gramine_file(f, "quote", f->sgx_quote, f->sgx_len);
    cas_tee_provider_free(p);
}

static void
test_tsm_makes_an_entry_writes_inblob_and_returns_outblob_byte_for_byte(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "tsm");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    char path[4200];
    uint8_t *inblob;
    size_t len = 0;

    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_OK);
    assert_int_equal(f->kernel.calls, 1);
    assert_string_equal(ev.type, "tdx-v4");
    assert_int_equal(ev.quote_len, f->tdx_len);
    assert_memory_equal(ev.quote, f->tdx_quote, f->tdx_len);
    assert_null(ev.collateral);
    path_in(path, sizeof(path), f->root, "/sys/kernel/config/tsm/report/cas-");
    assert_memory_equal(f->kernel.entry, path, strlen(path));
    snprintf(path, sizeof(path), "%s/inblob", f->kernel.entry);
    inblob = read_file(path, &len);
    assert_int_equal(len, 64);
    assert_memory_equal(inblob, f->tdx_rd, 64);
    free(inblob);
    cas_tee_evidence_release(&ev);
    cas_tee_provider_free(p);
}

static void
test_tsm_uses_a_new_entry_for_each_report(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "tsm");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    char first[4096];

    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_OK);
    cas_tee_evidence_release(&ev);
    snprintf(first, sizeof(first), "%s", f->kernel.entry);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_OK);
    cas_tee_evidence_release(&ev);
    assert_string_not_equal(first, f->kernel.entry);
    cas_tee_provider_free(p);
}

static void
test_tsm_without_configfs_says_where_it_looked(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_options opt;
    struct cas_tee_provider *p = NULL;
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    char root[4200];

    path_in(root, sizeof(root), f->root, "/dev"); /* a root without sys/kernel/config */
    cas_tee_options_init(&opt);
    opt.tee = "tsm";
    opt.root = root;
    assert_int_equal(cas_tee_provider_new(&opt, &p, &err), CAS_OK);
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_NOTFOUND);
    assert_non_null(strstr(err.msg[0], "configfs-tsm is not available"));
    cas_tee_provider_free(p);
}

static void
test_tsm_refuses_a_provider_that_does_not_issue_intel_quotes(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "tsm");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};

    f->kernel.provider = "sev_guest\n";
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg[0], "'sev_guest'"));
    cas_tee_provider_free(p);
}

static void
test_tsm_detects_a_racing_writer_by_the_generation(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "tsm");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};

    f->kernel.generation = "2\n";
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_CONFLICT);
    f->kernel.generation = "x\n";
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_INVALID);
    f->kernel.generation = "1\n";
    cas_tee_provider_free(p);
}

static void
test_tsm_refuses_an_outblob_over_64_kib(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "tsm");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    uint8_t *big = calloc(1, CAS_TEE_QUOTE_MAX + 1);

    memcpy(big, f->tdx_quote, f->tdx_len);
    f->kernel.outblob = big;
    f->kernel.outblob_len = CAS_TEE_QUOTE_MAX + 1;
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_TOOBIG);
    assert_null(ev.quote);
    free(big);
    cas_tee_provider_free(p);
}

static void
test_tsm_without_an_outblob_is_an_error_naming_it(void **state)
{
    struct fixture *f = *state;
    struct cas_tee_provider *p = provider(f, "tsm");
    struct cas_tee_evidence ev;
    struct cas_err err = {0};

    f->kernel.outblob = NULL;
    assert_int_equal(cas_tee_provider_get_evidence(p, f->tdx_rd, &ev, &err), CAS_E_NOTFOUND);
    assert_non_null(strstr(err.msg[0], "outblob"));
    cas_tee_provider_free(p);
}

static void
walk_allocation_failures(struct fixture *f, const char *tee, const uint8_t rd[64])
{
    struct cas_tee_provider *p = provider(f, tee);
    long n;

    for (n = 0; n < 1000; n++) {
        struct cas_tee_evidence ev = {0};
        struct cas_err err = {0};
        cas_rc rc;

        cas_alloc_fail_after(n);
        rc = cas_tee_provider_get_evidence(p, rd, &ev, &err);
        cas_alloc_fail_after(-1);
        cas_tee_evidence_release(&ev);
        if (rc == CAS_OK)
            break;
        assert_int_equal(rc, CAS_E_NOMEM);
    }
    assert_true(n > 0 && n < 1000);
    cas_tee_provider_free(p);
}

static void
test_every_allocation_failure_in_the_hardware_providers_is_out_of_memory(void **state)
{
    struct fixture *f = *state;

    walk_allocation_failures(f, "gramine", f->sgx_rd);
    walk_allocation_failures(f, "tsm", f->tdx_rd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gramine_writes_the_report_data_and_returns_the_quote_byte_for_byte),
        cmocka_unit_test(test_gramine_refuses_a_quote_that_does_not_carry_the_report_data),
        cmocka_unit_test(test_gramine_without_attestation_files_says_it_is_not_inside_gramine),
        cmocka_unit_test(test_gramine_with_epid_or_no_attestation_is_unsupported),
        cmocka_unit_test(test_gramine_without_a_quote_file_names_the_missing_path),
        cmocka_unit_test(test_gramine_refuses_a_short_quote),
        cmocka_unit_test(test_gramine_refuses_a_quote_over_64_kib_without_truncating_it),
        cmocka_unit_test(test_gramine_refuses_a_tdx_quote),
        cmocka_unit_test(test_tsm_makes_an_entry_writes_inblob_and_returns_outblob_byte_for_byte),
        cmocka_unit_test(test_tsm_uses_a_new_entry_for_each_report),
        cmocka_unit_test(test_tsm_without_configfs_says_where_it_looked),
        cmocka_unit_test(test_tsm_refuses_a_provider_that_does_not_issue_intel_quotes),
        cmocka_unit_test(test_tsm_detects_a_racing_writer_by_the_generation),
        cmocka_unit_test(test_tsm_refuses_an_outblob_over_64_kib),
        cmocka_unit_test(test_tsm_without_an_outblob_is_an_error_naming_it),
        cmocka_unit_test(test_every_allocation_failure_in_the_hardware_providers_is_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
