/*
 * fuzz_json_span.c - locating a top-level member's value in untrusted JSON text
 * (util/json_span.h), as casd does for the collateral of every service attestation body.
 * Properties: a found span lies inside the text and is not empty; when jansson accepts the text
 * as an object whose "collateral" member is an object, and the locator finds one, the span's
 * bytes parse as that same object.
 */
#include <stdint.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_span.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t start = 0, end = 0;
    json_t *all, *part;

    if (!cas_json_member_span((const char *)data, size, "collateral", &start, &end))
        return 0;
    if (start >= end || end > size)
        abort();
    all = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(json_object_get(all, "collateral"))) {
        part = json_loadb((const char *)data + start, end - start, 0, NULL);
        if (part == NULL || !json_equal(part, json_object_get(all, "collateral")))
            abort();
        json_decref(part);
    }
    json_decref(all);
    return 0;
}
