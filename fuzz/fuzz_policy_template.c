/*
 * fuzz_policy_template.c - template variables and placeholders on arbitrary text. Properties:
 * every placeholder found lies inside the text, starts and ends with `$$`, and the scan always
 * moves forward; expansion without any definition changes nothing or reports a missing name.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "policy/placeholder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const defs[] = {"A=1", "B=$$SCONE::x$$", "C=${A}"};
    const struct cas_policy_vars vars = {defs, 3, NULL}, none = {NULL, 0, NULL};
    const char *s = (const char *)data;
    struct cas_buf b;
    struct cas_err err = {0};
    char missing[64];
    size_t pos = 0;
    cas_rc rc;

    while (pos < size) {
        struct cas_policy_placeholder ph;
        size_t before = pos;
        bool found = false;
        rc = cas_policy_placeholder_next(s, size, &pos, &found, &ph, &err);
        if (pos <= before && pos < size)
            abort(); /* no progress */
        if (rc == CAS_OK && found &&
            (ph.offset + ph.len > size || ph.len < 4 || memcmp(s + ph.offset, "$$", 2) != 0 ||
             memcmp(s + ph.offset + ph.len - 2, "$$", 2) != 0))
            abort();
        if (rc == CAS_OK && !found)
            break;
    }
    cas_buf_init(&b, 1u << 20);
    rc = cas_policy_vars_expand(s, size, &none, &b, missing, sizeof(missing), &err);
    if (rc == CAS_OK && (b.len != size || memcmp(b.buf, s, size) != 0))
        abort(); /* nothing to substitute: the text stays */
    if (rc == CAS_OK && cas_policy_vars_present(s, size))
        abort(); /* a reference without a value must fail */
    cas_buf_reset(&b);
    if (cas_policy_vars_expand(s, size, &vars, &b, missing, sizeof(missing), &err) == CAS_OK &&
        b.failed)
        abort(); /* success means the whole result is there */
    cas_buf_release(&b);
    return 0;
}
