/* test_settings.c - cas-run's variables, SCONE aliases and the enclave API address (api.md §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "run.h"

static void
test_settings_take_the_cas_names(void **state)
{
    char *env[] = {"CAS_ADDR=cas.example:1",
                   "CAS_CERT=/c.pem",
                   "CAS_CONFIG_ID=s/svc",
                   "CAS_ACCESS_TOKEN=t0k",
                   "CAS_TEE=gramine",
                   "CAS_SIM_ISVSVN=3",
                   NULL};
    struct cas_run_settings s;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_run_settings_from_env(env, &s, &err), CAS_OK);
    assert_string_equal(s.cas_addr, "cas.example:1");
    assert_string_equal(s.cas_cert, "/c.pem");
    assert_string_equal(s.config_id, "s/svc");
    assert_string_equal(s.access_token, "t0k");
    assert_string_equal(s.tee, "gramine");
    assert_string_equal(s.sim_isvsvn, "3");
    assert_null(s.sim_isvprodid);
    assert_null(s.access_token_file);
}

static void
test_settings_take_the_scone_aliases(void **state)
{
    char *env[] = {"SCONE_CAS_ADDR=h", "SCONE_CONFIG_ID=a/b", "SCONE_SERVICE_ACCESS_TOKEN=x",
                   "SCONE_LAS_ADDR=ignored:1", NULL};
    struct cas_run_settings s;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_run_settings_from_env(env, &s, &err), CAS_OK);
    assert_string_equal(s.cas_addr, "h");
    assert_string_equal(s.config_id, "a/b");
    assert_string_equal(s.access_token, "x");
    assert_string_equal(s.tee, "sim");
}

static void
test_settings_accept_a_name_and_its_alias_with_equal_values(void **state)
{
    char *env[] = {"CAS_CONFIG_ID=a/b", "SCONE_CONFIG_ID=a/b", NULL};
    struct cas_run_settings s;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_run_settings_from_env(env, &s, &err), CAS_OK);
    assert_string_equal(s.config_id, "a/b");
}

static void
test_settings_refuse_a_name_and_its_alias_with_different_values(void **state)
{
    char *addr[] = {"CAS_ADDR=a", "SCONE_CAS_ADDR=b", NULL};
    char *token[] = {"CAS_ACCESS_TOKEN=secret-one", "SCONE_SERVICE_ACCESS_TOKEN=secret-two", NULL};
    struct cas_run_settings s;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_run_settings_from_env(addr, &s, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "CAS_ADDR and SCONE_CAS_ADDR"));
    assert_int_equal(cas_run_settings_from_env(token, &s, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "SCONE_SERVICE_ACCESS_TOKEN"));
    assert_null(strstr(err.msg[0], "secret-")); /* the values are never printed */
}

static void
test_getenv_matches_whole_names_only(void **state)
{
    char *env[] = {"CAS_ADDRESS=x", "CAS_ADDR", "CAS_ADDR=y", NULL};
    (void)state;

    assert_string_equal(cas_run_getenv(env, "CAS_ADDR"), "y");
    assert_null(cas_run_getenv(env, "CAS"));
    assert_null(cas_run_getenv(NULL, "CAS_ADDR"));
}

static void
test_enclave_url_adds_the_default_port(void **state)
{
    char url[300];
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_run_enclave_url("127.0.0.1", url, sizeof(url), &err), CAS_OK);
    assert_string_equal(url, "https://127.0.0.1:18765");
    assert_int_equal(cas_run_enclave_url("cas.example:443", url, sizeof(url), &err), CAS_OK);
    assert_string_equal(url, "https://cas.example:443");
    assert_int_equal(cas_run_enclave_url("[::1]", url, sizeof(url), &err), CAS_OK);
    assert_string_equal(url, "https://[::1]:18765");
    assert_int_equal(cas_run_enclave_url("[::1]:9", url, sizeof(url), &err), CAS_OK);
    assert_string_equal(url, "https://[::1]:9");
}

static void
test_enclave_url_refuses_what_is_no_address(void **state)
{
    const char *bad[] = {"",     ":1", "h:",     "h:0", "h:65536", "h:1x",   "h:-1",
                         "[::1", "[]", "[::1]x", "a/b", "h:1:2",   "user@h", "h h"};
    char url[300];
    struct cas_err err = {0};
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cas_run_enclave_url(bad[i], url, sizeof(url), &err), CAS_E_INVALID);
        assert_non_null(strstr(err.msg[0], "CAS_ADDR"));
    }
    assert_int_equal(cas_run_enclave_url(NULL, url, sizeof(url), &err), CAS_E_INVALID);
    assert_int_equal(cas_run_enclave_url("a-very-long-host-name", url, 20, &err), CAS_E_INVALID);
}

static void
test_u16_parses_0_to_65535_only(void **state)
{
    uint16_t v = 7;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_run_parse_u16("CAS_SIM_ISVSVN", NULL, &v, &err), CAS_OK);
    assert_int_equal(v, 0);
    assert_int_equal(cas_run_parse_u16("CAS_SIM_ISVSVN", "65535", &v, &err), CAS_OK);
    assert_int_equal(v, 65535);
    assert_int_equal(cas_run_parse_u16("CAS_SIM_ISVSVN", "65536", &v, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "CAS_SIM_ISVSVN '65536'"));
    assert_int_equal(cas_run_parse_u16("X", "", &v, &err), CAS_E_INVALID);
    assert_int_equal(cas_run_parse_u16("X", "-1", &v, &err), CAS_E_INVALID);
    assert_int_equal(cas_run_parse_u16("X", "1 ", &v, &err), CAS_E_INVALID);
    assert_int_equal(cas_run_parse_u16("X", "99999999999999999999", &v, &err), CAS_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_take_the_cas_names),
        cmocka_unit_test(test_settings_take_the_scone_aliases),
        cmocka_unit_test(test_settings_accept_a_name_and_its_alias_with_equal_values),
        cmocka_unit_test(test_settings_refuse_a_name_and_its_alias_with_different_values),
        cmocka_unit_test(test_getenv_matches_whole_names_only),
        cmocka_unit_test(test_enclave_url_adds_the_default_port),
        cmocka_unit_test(test_enclave_url_refuses_what_is_no_address),
        cmocka_unit_test(test_u16_parses_0_to_65535_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
