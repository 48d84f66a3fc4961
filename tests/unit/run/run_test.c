/* run_test.c - helpers shared by cas-run's unit tests (run_test.h). */
#include "run_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"

int
run_test_setup(void **state)
{
    (void)state;
    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free);
    return 0;
}

void
run_test_answer(struct cas_run_answer *a, const char *argv_json, const char *env_json,
                const char *host_env_json, const char *files_json)
{
    char json[4096];
    struct cas_err err = {0};
    int n = snprintf(json, sizeof(json),
                     "{\"session_hash\": \"%064d\", \"argv\": %s, \"env\": %s, \"host_env\": %s, "
                     "\"pwd\": \"/\", \"files\": %s, \"templates\": []}",
                     0, argv_json, env_json, host_env_json, files_json);

    assert_true(n > 0 && (size_t)n < sizeof(json));
    assert_int_equal(cas_run_answer_parse((const uint8_t *)json, strlen(json), a, &err), CAS_OK);
}
