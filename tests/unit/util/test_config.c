/* test_config.c - the settings table: file keys, flags over the file, errors with lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/config.h"

static const struct cas_opt opts[] = {
    {"data_dir", "data-dir", "DIR", CAS_OPT_STR, "./cas-data", "state"},
    {"threads", "threads", "N", CAS_OPT_INT, NULL, "workers"},
    {"metrics", "metrics", "on|off", CAS_OPT_SWITCH, "on", "metrics"},
    {"dns_names", "dns-name", "NAME", CAS_OPT_LIST, NULL, "names"},
};

static char g_path[64];

static int
write_file(void **state)
{
    static const char text[] = "# casd configuration\n"
                               "data_dir = /var/lib/cas   # trailing comment\n"
                               "\n"
                               "threads=4\n"
                               "dns_names = a.example\n"
                               "dns_names = b.example\n";
    int fd;
    (void)state;
    strcpy(g_path, "/tmp/cas-config-test-XXXXXX");
    fd = mkstemp(g_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
    close(fd);
    return 0;
}

static int
remove_file(void **state)
{
    (void)state;
    unlink(g_path);
    return 0;
}

static void
test_defaults_apply_without_file_or_flags(void **state)
{
    struct cas_config cfg;
    size_t n;
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_string_equal(cas_config_get(&cfg, "data_dir"), "./cas-data");
    assert_true(cas_config_get_switch(&cfg, "metrics"));
    assert_null(cas_config_get(&cfg, "threads"));
    assert_null(cas_config_get_list(&cfg, "dns_names", &n));
    assert_int_equal(n, 0);
    cas_config_release(&cfg);
}

static void
test_a_flag_overrides_the_file(void **state)
{
    struct cas_config cfg;
    struct cas_err err = {0};
    enum cas_config_action action;
    char *argv[] = {"casd", "--threads", "8", "--config", g_path, "--dns-name=c.example", NULL};
    const char *const *list;
    size_t n;
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_int_equal(cas_config_from_args(&cfg, 6, argv, &action, &err), CAS_OK);
    assert_int_equal(action, CAS_CONFIG_RUN);
    assert_string_equal(cas_config_get(&cfg, "data_dir"), "/var/lib/cas");
    assert_int_equal(cas_config_get_int(&cfg, "threads"), 8);
    list = cas_config_get_list(&cfg, "dns_names", &n);
    assert_int_equal(n, 1); /* the flag replaces the file's whole list */
    assert_string_equal(list[0], "c.example");
    cas_config_release(&cfg);
}

static void
test_a_repeated_list_key_in_the_file_collects_items(void **state)
{
    struct cas_config cfg;
    struct cas_err err = {0};
    const char *const *list;
    size_t n;
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_int_equal(cas_config_load_file(&cfg, g_path, &err), CAS_OK);
    list = cas_config_get_list(&cfg, "dns_names", &n);
    assert_int_equal(n, 2);
    assert_string_equal(list[1], "b.example");
    cas_config_release(&cfg);
}

static void
test_an_unknown_key_is_rejected_with_its_line(void **state)
{
    static const char text[] = "data_dir = x\n\n# note\nlisten_port = 9\n";
    struct cas_config cfg;
    struct cas_err err = {0};
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_int_equal(cas_config_load_text(&cfg, "casd.conf", text, sizeof(text) - 1, &err),
                     CAS_E_INVALID);
    assert_string_equal(cas_err_get(&err, 0), "casd.conf:4: unknown key 'listen_port'");
    cas_config_release(&cfg);
}

static void
test_bad_values_and_lines_are_rejected_with_their_line(void **state)
{
    struct cas_config cfg;
    struct cas_err err = {0};
    char msg[512];
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_int_equal(cas_config_load_text(&cfg, "f", "threads = many\n", 15, &err), CAS_E_INVALID);
    cas_err_join(&err, msg, sizeof(msg));
    assert_non_null(strstr(msg, "f:1"));
    assert_non_null(strstr(msg, "whole number"));
    assert_int_equal(cas_config_load_text(&cfg, "f", "\nmetrics = yes\n", 14, &err), CAS_E_INVALID);
    cas_err_join(&err, msg, sizeof(msg));
    assert_non_null(strstr(msg, "f:2"));
    assert_int_equal(cas_config_load_text(&cfg, "f", "data_dir\n", 9, &err), CAS_E_INVALID);
    assert_string_equal(cas_err_get(&err, 0), "f:1: expected 'key = value'");
    assert_int_equal(cas_config_load_text(&cfg, "f", "a\0b", 3, &err), CAS_E_INVALID);
    cas_config_release(&cfg);
}

static void
test_unknown_flags_and_operands_are_usage_errors(void **state)
{
    struct cas_config cfg;
    struct cas_err err = {0};
    enum cas_config_action action;
    char *bad_flag[] = {"casd", "--no-such-flag", NULL};
    char *operand[] = {"casd", "extra", NULL};
    char *missing[] = {"casd", "--threads", NULL};
    char *help[] = {"casd", "--threads", "2", "--help", NULL};
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_int_equal(cas_config_from_args(&cfg, 2, bad_flag, &action, &err), CAS_E_INVALID);
    assert_non_null(strstr(cas_err_get(&err, 0), "--no-such-flag"));
    assert_int_equal(cas_config_from_args(&cfg, 2, operand, &action, &err), CAS_E_INVALID);
    assert_int_equal(cas_config_from_args(&cfg, 2, missing, &action, &err), CAS_E_INVALID);
    assert_int_equal(cas_config_from_args(&cfg, 4, help, &action, &err), CAS_OK);
    assert_int_equal(action, CAS_CONFIG_HELP);
    cas_config_release(&cfg);
}

static void
test_a_missing_config_file_is_an_error_naming_it(void **state)
{
    struct cas_config cfg;
    struct cas_err err = {0};
    enum cas_config_action action;
    char *argv[] = {"casd", "--config", "/nonexistent/casd.conf", NULL};
    (void)state;
    cas_config_init(&cfg, opts, 4);
    assert_int_equal(cas_config_from_args(&cfg, 3, argv, &action, &err), CAS_E_IO);
    assert_non_null(strstr(cas_err_get(&err, 0), "/nonexistent/casd.conf"));
    cas_config_release(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_apply_without_file_or_flags),
        cmocka_unit_test_setup_teardown(test_a_flag_overrides_the_file, write_file, remove_file),
        cmocka_unit_test_setup_teardown(test_a_repeated_list_key_in_the_file_collects_items,
                                        write_file, remove_file),
        cmocka_unit_test(test_an_unknown_key_is_rejected_with_its_line),
        cmocka_unit_test(test_bad_values_and_lines_are_rejected_with_their_line),
        cmocka_unit_test(test_unknown_flags_and_operands_are_usage_errors),
        cmocka_unit_test(test_a_missing_config_file_is_an_error_naming_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
