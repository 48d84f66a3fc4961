/*
 * ratelimit.h - a bounded table of failure counts with exponential backoff, for limiting guesses
 * (casd: wrong service access tokens, per caller key and per peer address). Keys are 32 bytes
 * (a hash); the table has a fixed number of slots chosen at creation and evicts the entry seen
 * longest ago when full, so memory never grows with the number of callers. No clock: every call
 * takes the time (milliseconds, any monotonic origin). Thread safe: one mutex inside.
 */
#ifndef CAS_UTIL_RATELIMIT_H
#define CAS_UTIL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

struct cas_ratelimit_cfg {
    size_t slots;           /* entries kept, rounded up to a multiple of 8; at least 8 */
    unsigned free_failures; /* failures allowed before the first backoff */
    int64_t first_ms;       /* the first backoff; each further failure doubles it */
    int64_t max_ms;         /* the longest backoff */
    int64_t forget_ms;      /* an entry without failures for this long starts afresh */
    int64_t report_ms;      /* refusals while backing off are reported at most once per this */
    uint64_t salt;          /* spreads keys over the table (random, so nobody aims at a slot) */
};

struct cas_ratelimit;

/* A new table, or NULL when out of memory or cfg is unusable (no slots, first_ms <= 0, ...). */
struct cas_ratelimit *cas_ratelimit_new(const struct cas_ratelimit_cfg *cfg);
void cas_ratelimit_free(struct cas_ratelimit *rl);

/* What cas_ratelimit_check says about an attempt. */
struct cas_ratelimit_verdict {
    int64_t wait_ms;   /* 0: go ahead and check; else refuse, and retry after this long */
    uint64_t reported; /* > 0: report now that this many attempts were refused since the last
                          report (at most once per report_ms per key); 0: stay silent */
};

/*
 * Before an attempt by key at now_ms: whether it is still backing off. A refused attempt is
 * counted for the reports, not as a failure (the backoff does not grow while nothing is tried).
 */
struct cas_ratelimit_verdict cas_ratelimit_check(struct cas_ratelimit *rl, const uint8_t key[32],
                                                 int64_t now_ms);
/*
 * After a failed attempt by key at now_ms: counts it, and returns the backoff it starts (0 while
 * failures are still free).
 */
int64_t cas_ratelimit_fail(struct cas_ratelimit *rl, const uint8_t key[32], int64_t now_ms);
/* After a successful attempt by key: forgets its failures. */
void cas_ratelimit_clear(struct cas_ratelimit *rl, const uint8_t key[32]);
/* Entries in use (for tests and /metrics). */
size_t cas_ratelimit_count(struct cas_ratelimit *rl);

#endif
