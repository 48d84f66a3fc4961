/*
 * fuzz_policy.c - cas_policy_parse on arbitrary bytes, with template variables on. Property: an
 * accepted session prints as YAML that parses again to the same hash (the read-back promise of
 * policy.md §12), and a refused one reports at least one error.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vars[] = {"SESSION=fuzz/s", "X=${", "Y=$$SCONE::a$$", "Z="};
    struct cas_policy_options o = {.substitute = true, .vars = vars, .var_count = 4};
    struct cas_policy_diags d, d2;
    struct cas_policy *p = NULL, *q = NULL;
    struct cas_err err = {0};
    uint8_t up[32], h1[32], h2[32];
    char *yaml = NULL;
    size_t len = 0;
    cas_rc rc;

    memset(up, 0x5a, sizeof(up));
    cas_policy_diags_init(&d);
    cas_policy_diags_init(&d2);
    rc = cas_policy_parse(data, size, &o, &p, &d, &err);
    if (rc == CAS_E_INVALID && d.errors == 0)
        abort(); /* refused without saying why */
    if (rc == CAS_OK) {
        if (cas_policy_hash(p, up, h1, NULL, &err) != CAS_OK ||
            cas_policy_emit_yaml(p, up, &yaml, &len, &err) != CAS_OK)
            abort();
        o.substitute = false; /* the read-back is what a server gets */
        if (cas_policy_parse((const uint8_t *)yaml, len, &o, &q, &d2, &err) != CAS_OK ||
            cas_policy_hash(q, NULL, h2, NULL, &err) != CAS_OK || memcmp(h1, h2, 32) != 0)
            abort(); /* the printed session must read back to the same hash */
    }
    free(yaml);
    cas_policy_free(p);
    cas_policy_free(q);
    cas_policy_diags_release(&d);
    cas_policy_diags_release(&d2);
    return 0;
}
