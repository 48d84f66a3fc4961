/* run_test.h - helpers shared by cas-run's unit tests. */
#ifndef CAS_RUN_TEST_H
#define CAS_RUN_TEST_H

#include "run.h"

/* cmocka group setup: jansson allocates as cas-run's main() makes it (wiping). */
int run_test_setup(void **state);

/* Parses an attest answer made of the given JSON parts (asserting success); pwd is "/". */
void run_test_answer(struct cas_run_answer *a, const char *argv_json, const char *env_json,
                     const char *host_env_json, const char *files_json);

#endif
