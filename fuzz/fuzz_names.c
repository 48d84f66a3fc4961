/*
 * fuzz_names.c - session names from request paths: percent-decoding, the name check, and
 * resolving a reference from a session. Properties: a decoded text has no NUL and is no longer
 * than its input; whatever resolves is itself a valid name and fits its buffer.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "policy/names.h"
#include "policy/policy.h"
#include "util/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char decoded[CAS_POLICY_MAX_NAME * 3 + 1], out[CAS_POLICY_MAX_NAME + 1], from[256];
    const uint8_t *split = memchr(data, '\n', size);
    size_t first = split != NULL ? (size_t)(split - data) : size;

    /* The first line is a path part; the rest, a reference from it. */
    if (cas_pct_decode((const char *)data, first, decoded, sizeof(decoded))) {
        if (strlen(decoded) > first || memchr(decoded, '\0', strlen(decoded)) != NULL)
            abort();
        if (cas_policy_name_valid(decoded) && split != NULL) {
            size_t rl = size - first - 1;
            char ref[CAS_POLICY_MAX_NAME + 1];
            if (rl < sizeof(ref) && memchr(split + 1, '\0', rl) == NULL) {
                memcpy(ref, split + 1, rl);
                ref[rl] = '\0';
                if (cas_policy_resolve_ref(decoded, ref, out, sizeof(out)) &&
                    !cas_policy_name_valid(out))
                    abort();
                /* A buffer too small must fail, not truncate into another name. */
                if (cas_policy_resolve_ref(decoded, ref, from, 8) &&
                    (strlen(from) >= 8 || !cas_policy_name_valid(from)))
                    abort();
            }
        }
    }
    return 0;
}
