/* fixture.h - shared helpers of the dcap tests: files, case folders, hex, case.json. */
#ifndef CAS_TEST_DCAP_FIXTURE_H
#define CAS_TEST_DCAP_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <stdbool.h>

#include "dcap/verify.h"

#define DCAP_DIR CAS_TESTDATA "/dcap"

/* The whole file (malloc'd, NUL-terminated) or NULL; *len its size. */
uint8_t *fx_read(const char *path, size_t *len);
/* dir/name into a static-free buffer of 4096. */
void fx_path(char out[4096], const char *dir, const char *name);
/* Folders under parent holding `marker` (e.g. "case.json"), sorted; returns the count. */
size_t fx_list(const char *parent, const char *marker, char ***out);
void fx_list_free(char **list, size_t n);
/* JSON document at path, or NULL. */
json_t *fx_json(const char *path);
/* hex (lowercase) of n bytes equals the string s, either case. */
bool fx_hex_eq(const uint8_t *p, size_t n, const char *s);
/* A verifier trusting Intel's root. */
struct cas_dcap_verifier *fx_intel_verifier(void);

#endif
