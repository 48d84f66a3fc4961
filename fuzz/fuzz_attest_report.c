/*
 * fuzz_attest_report.c - cas attest's parser of a CAS's /v1/attest answer (api.md §2.3).
 * Property: an accepted answer has every required field and a quote of the length decoded.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "client/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cas_attest_report r;
    struct cas_err err = {0};

    if (cas_attest_report_parse((const char *)data, size, &r, &err) == CAS_OK) {
        if (r.version == NULL || r.build_time == NULL || r.cas_certificate == NULL ||
            r.tls_certificate == NULL || r.cas_key_hash == NULL || r.evidence_type == NULL ||
            (r.quote_len > 0 && r.quote == NULL))
            abort();
        cas_attest_report_release(&r);
    }
    return 0;
}
