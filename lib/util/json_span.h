/*
 * json_span.h - where one top-level member's value sits in a JSON object's text, without parsing
 * it: casd hands the large, repeated collateral of a service attestation to a cache keyed by its
 * exact bytes, and parses the rest of the body as usual.
 *
 * Not a validator: it only walks strings (with their escapes) and bracket depth. A caller must
 * still parse everything outside the span, and must trust the span's bytes only as far as it
 * checked them itself (a cache that learnt them from a full parse).
 */
#ifndef CAS_UTIL_JSON_SPAN_H
#define CAS_UTIL_JSON_SPAN_H

#include <stddef.h>

#include <stdbool.h>

/*
 * In text[0..len), a JSON object, the value of the first top-level member whose key is written
 * exactly as key (no escapes): *start is its first byte, *end one past its last. False when text
 * does not begin as an object, no such member comes before the object ends, or anything
 * unexpected is met; the caller then parses the whole text.
 */
bool cas_json_member_span(const char *text, size_t len, const char *key, size_t *start,
                          size_t *end);

#endif
