/*
 * fuzz_secrets_value.c - the storage encoding of secret values, read back from the database.
 * Property: an accepted input encodes back to exactly the same bytes; its values JSON and its
 * default rendering never crash.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "secrets/secrets.h"
#include "util/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cas_secret_value *v = NULL;
    struct cas_secret *enc = NULL, *out = NULL;
    struct cas_err err = {0};
    json_t *j = NULL;
    const uint8_t *p;
    size_t n;
    bool bin;

    if (cas_secrets_decode(data, size, &v, &err) != CAS_OK)
        return 0;
    if (cas_secrets_encode(v, &enc, &err) != CAS_OK)
        abort(); /* an accepted value always encodes */
    p = cas_secret_peek(enc, &n);
    if (n != size || memcmp(p, data, size) != 0)
        abort(); /* and to the very bytes it came from */
    if (cas_secrets_value_json(v, &j, &err) == CAS_OK)
        json_decref(j);
    if (cas_secrets_render(v, CAS_FMT_DEFAULT, true, &out, &bin, &err) == CAS_OK)
        cas_secret_free(out);
    cas_secret_free(enc);
    cas_secrets_value_free(v);
    return 0;
}
