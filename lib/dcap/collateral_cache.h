/*
 * collateral_cache.h - collateral parsed from api.md §1 JSON text, kept by the SHA-256 of that
 * exact text. A launcher sends the same collateral with every attestation (it changes when Intel
 * publishes new TCB info or CRLs, days apart) inside a request whose quote is new each time, so
 * casd parses that text once and, for identical bytes, takes a copy of what it parsed then.
 * Only parsing is saved: the verifier checks what the collateral says (its own cache, by the
 * collateral id) and every quote signature on every call.
 *
 * An entry is only ever made by parsing the text itself (cas_dcap_collateral_cache_learn), so a
 * hit returns exactly what cas_dcap_collateral_from_json would. Thread safe.
 */
#ifndef CAS_DCAP_COLLATERAL_CACHE_H
#define CAS_DCAP_COLLATERAL_CACHE_H

#include <stddef.h>

#include <stdbool.h>

#include "cas/err.h"
#include "dcap/collateral.h"

struct cas_dcap_collateral_cache;

/* capacity: collateral sets kept (at least 1). NULL when out of memory. */
struct cas_dcap_collateral_cache *cas_dcap_collateral_cache_new(size_t capacity);
void cas_dcap_collateral_cache_free(struct cas_dcap_collateral_cache *cc);

/* When text[0..len) was learnt: true, with a sealed copy of its collateral in c (initialised
 * here; release it). False otherwise (c initialised, empty) or when out of memory. */
bool cas_dcap_collateral_cache_get(struct cas_dcap_collateral_cache *cc, const char *text,
                                   size_t len, struct cas_dcap_collateral *c);
/*
 * Parses text[0..len) with cas_dcap_collateral_from_json and, when that succeeds and gives
 * collateral with the id of `expect` (the same set the caller parsed from its own copy of the
 * text), keeps it for later gets; the least recently used entry makes room. Anything else
 * leaves the cache as it was.
 */
void cas_dcap_collateral_cache_learn(struct cas_dcap_collateral_cache *cc, const char *text,
                                     size_t len, const struct cas_dcap_collateral *expect);
/* Gets answered from memory and not, since the cache was made. */
void cas_dcap_collateral_cache_stats(struct cas_dcap_collateral_cache *cc, unsigned long *hits,
                                     unsigned long *misses);

#endif
