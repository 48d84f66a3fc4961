/* policy_testlib.h - helpers shared by the lib/policy tests: files, parsing with args. */
#ifndef CAS_TEST_POLICY_TESTLIB_H
#define CAS_TEST_POLICY_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define CORPUS_DIR CAS_SOURCE_DIR "/tests/policy/corpus"

/* The whole file (malloc'd, terminated), or NULL. */
char *tl_read(const char *path, size_t *len);
/* Parses text as `cas session check` does (export warnings included) with "-e NAME=VALUE", "-n
 * NAME" and "--fail-on-warning" from args (may be NULL).
 * Returns the result code; diags are rendered as "L:C: severity: text" lines into *lines. */
cas_rc tl_parse(const char *text, size_t len, const char *args, struct cas_policy **out,
                char **lines);
/* Hash of text parsed without args; uploader key hash all 0x11. Returns hex (static buffer). */
const char *tl_hash(const char *text);

#endif
