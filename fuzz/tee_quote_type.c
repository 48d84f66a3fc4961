/* tee_quote_type.c - fuzz target for cas_tee_quote_type(), the header reader the hardware
 * providers run over whatever a TEE interface returns. Property: an accepted quote holds its
 * 64 bytes of report data inside the input, and its type is one api.md §1 names. */
#include <stddef.h>
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "tee/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *type = NULL;
    size_t off = 0;
    struct cas_err err = {0};

    if (cas_tee_quote_type(data, size, &type, &off, &err) != CAS_OK)
        return 0;
    if (off > size || size - off < CAS_TEE_REPORT_DATA_LEN)
        abort();
    if (strcmp(type, "sgx-dcap-v3") != 0 && strcmp(type, "tdx-v4") != 0 &&
        strcmp(type, "tdx-v5") != 0)
        abort();
    return 0;
}
