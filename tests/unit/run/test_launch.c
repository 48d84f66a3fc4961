/* test_launch.c - the program's argv (@@N host arguments) and environment (policy.md §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "run_test.h"
#include "util/alloc.h"

static void
test_argv_fills_host_arguments_by_number(void **state)
{
    struct cas_run_answer a;
    struct cas_err err = {0};
    char *args[] = {"first", "second", "third"};
    char **v = NULL;
    size_t unused = 9;
    (void)state;

    run_test_answer(&a, "[\"srv\", \"@@2\", \"--x\", \"@@1\", \"@@2\"]", "{}", "[]", "[]");
    assert_int_equal(cas_run_fill_argv(&a, args, 3, &v, &unused, &err), CAS_OK);
    assert_string_equal(v[0], "srv");
    assert_string_equal(v[1], "second");
    assert_string_equal(v[2], "--x");
    assert_string_equal(v[3], "first");
    assert_string_equal(v[4], "second");
    assert_null(v[5]);
    assert_int_equal(unused, 1); /* "third" is dropped */
    free(v);
    cas_run_answer_release(&a);
}

static void
test_argv_keeps_what_is_not_exactly_a_host_argument(void **state)
{
    struct cas_run_answer a;
    struct cas_err err = {0};
    char *args[] = {"one"};
    char **v = NULL;
    size_t unused = 0;
    (void)state;

    run_test_answer(&a,
                    "[\"p\", \"x@@1\", \"@@1x\", \"@@0\", \"@@01\", \"@@\", \"@1\", \"@@1000\"]",
                    "{}", "[]", "[]");
    assert_int_equal(cas_run_fill_argv(&a, args, 1, &v, &unused, &err), CAS_OK);
    assert_string_equal(v[1], "x@@1");
    assert_string_equal(v[2], "@@1x");
    assert_string_equal(v[3], "@@0");
    assert_string_equal(v[4], "@@01");
    assert_string_equal(v[5], "@@");
    assert_string_equal(v[6], "@1");
    assert_string_equal(v[7], "@@1000");
    assert_int_equal(unused, 1);
    free(v);
    cas_run_answer_release(&a);
}

static void
test_argv_fails_on_a_missing_host_argument(void **state)
{
    struct cas_run_answer a;
    struct cas_err err = {0};
    char *args[] = {"one"};
    char **v = NULL;
    size_t unused = 0;
    (void)state;

    run_test_answer(&a, "[\"p\", \"@@1\", \"@@999\"]", "{}", "[]", "[]");
    assert_int_equal(cas_run_fill_argv(&a, args, 1, &v, &unused, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "needs host argument @@999, but 1 was given"));
    assert_null(v);
    assert_int_equal(cas_run_fill_argv(&a, NULL, 0, &v, &unused, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "@@1, but 0 were given"));
    cas_run_answer_release(&a);
}

static void
test_env_is_the_sessions_plus_named_host_variables(void **state)
{
    struct cas_run_answer a;
    struct cas_err err = {0};
    char *host[] = {"HOSTNAME=box", "PATH=/host/bin", "SECRET_OF_HOST=x", "NAME=host", NULL};
    char **env = NULL;
    (void)state;

    run_test_answer(&a, "[\"p\"]", "{\"A\": \"1\", \"NAME\": \"session\"}",
                    "[\"HOSTNAME\", \"UNSET\", \"NAME\"]", "[]");
    assert_int_equal(cas_run_build_env(&a, host, &env, &err), CAS_OK);
    assert_string_equal(env[0], "A=1");
    assert_string_equal(env[1], "NAME=host"); /* a host variable wins over the session value */
    assert_string_equal(env[2], "HOSTNAME=box");
    assert_string_equal(env[3], "UNSET="); /* empty when unset */
    assert_null(env[4]);                   /* PATH and SECRET_OF_HOST are not passed */
    cas_run_env_free(env);
    cas_run_answer_release(&a);
}

static void
test_env_without_host_variables_is_exactly_the_sessions(void **state)
{
    struct cas_run_answer a;
    struct cas_err err = {0};
    char *host[] = {"A=host", "B=2", NULL};
    char **env = NULL;
    (void)state;

    run_test_answer(&a, "[\"p\"]", "{\"A\": \"x=y\"}", "[]", "[]");
    assert_int_equal(cas_run_build_env(&a, host, &env, &err), CAS_OK);
    assert_string_equal(env[0], "A=x=y");
    assert_null(env[1]);
    cas_run_env_free(env);
    cas_run_answer_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv_fills_host_arguments_by_number),
        cmocka_unit_test(test_argv_keeps_what_is_not_exactly_a_host_argument),
        cmocka_unit_test(test_argv_fails_on_a_missing_host_argument),
        cmocka_unit_test(test_env_is_the_sessions_plus_named_host_variables),
        cmocka_unit_test(test_env_without_host_variables_is_exactly_the_sessions),
    };
    return cmocka_run_group_tests(tests, run_test_setup, NULL);
}
