/*
 * quota.h - casd's quotas (docs/operations.md, "Quotas"): what a session will cost before
 * anything of it is generated (an estimate from its policy alone), an upload rate per caller key
 * (a token bucket in a fixed-size table), and the counters of refusals by limit for /metrics.
 *
 * The cost estimate and the bucket table are pure: no clock (the caller passes now_ms), no I/O,
 * no locking. struct casd_quota adds the lock and the counters casd's workers share.
 */
#ifndef CASD_QUOTA_H
#define CASD_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct cas_policy;
struct cas_buf;

/* The limits, one per setting of casd (main.c); 0 turns a limit off. */
struct casd_quota_limits {
    uint64_t max_session_secrets;
    uint64_t max_session_rsa_keys;
    uint64_t max_session_generated_bytes;
    uint64_t uploads_per_minute;
    uint64_t max_values_answer;
};

/* Defaults: every real session we know passes them by an order of magnitude or more. */
#define CASD_QUOTA_DEFAULT_SECRETS 512
#define CASD_QUOTA_DEFAULT_RSA_KEYS 32
#define CASD_QUOTA_DEFAULT_GENERATED (4u * 1024u * 1024u)
#define CASD_QUOTA_DEFAULT_UPLOADS 120
#define CASD_QUOTA_DEFAULT_VALUES_ANSWER (8u * 1024u * 1024u)

/* Which limit refused a request; the names are the settings. */
enum casd_quota_limit {
    CASD_LIMIT_NONE,
    CASD_LIMIT_SECRETS,
    CASD_LIMIT_RSA_KEYS,
    CASD_LIMIT_GENERATED,
    CASD_LIMIT_UPLOADS,
    CASD_LIMIT_VALUES_ANSWER,
    CASD_LIMIT_COUNT
};

/* The setting's name of limit l ("max_session_secrets", ...). */
const char *casd_quota_setting(enum casd_quota_limit l);

/*
 * What storing the values of session p costs, estimated from the policy alone (no key is made):
 * secrets declared (imports included), RSA keys generated (private-key secrets of an RSA
 * key_type without a value), and bytes of values made or stored: ascii and binary their size
 * (20 when not given), keys their PEM size by type, certificates a fixed size plus their key
 * and issuer chain and names, explicit values their length, each plus a fixed row overhead.
 */
struct casd_session_cost {
    uint64_t secrets;
    uint64_t rsa_keys;
    uint64_t generated_bytes;
};
void casd_quota_session_cost(const struct cas_policy *p, struct casd_session_cost *c);

/*
 * The first limit of lim that cost c exceeds (CASD_LIMIT_NONE when none); *value and *max get
 * the estimate and the limit it exceeds.
 */
enum casd_quota_limit casd_quota_check_session(const struct casd_session_cost *c,
                                               const struct casd_quota_limits *lim, uint64_t *value,
                                               uint64_t *max);

/* ---- the upload rate: a token bucket per caller key, in a table of fixed size ---- */

#define CASD_RATE_SLOTS 4096u /* keys followed at once; an idle or the oldest is reused */
#define CASD_RATE_WAYS 8u     /* slots a key may take */

struct casd_rate_slot {
    uint8_t key[32]; /* a caller's key hash; all zero: free */
    bool used;
    double tokens; /* uploads left, at most the rate per minute */
    int64_t at_ms; /* when tokens was last brought up to date */
};

struct casd_rate_table {
    struct casd_rate_slot slots[CASD_RATE_SLOTS];
};

/*
 * Takes one upload from the bucket of key at now_ms (milliseconds of a monotonic clock), a
 * bucket of per_minute tokens refilled evenly over a minute; a new key starts full. Returns
 * false when it is empty, with *retry_after_s the whole seconds until one token is back (at
 * least 1). A key the table has no room for takes the slot of its ways idle longest.
 */
bool casd_rate_take(struct casd_rate_table *t, const uint8_t key[32], int64_t now_ms,
                    uint64_t per_minute, uint64_t *retry_after_s);

/* ---- casd's shared state ---- */

struct casd_quota {
    struct casd_quota_limits lim;
    pthread_mutex_t lock; /* guards rate */
    struct casd_rate_table *rate;
    atomic_ulong refused[CASD_LIMIT_COUNT];
};

/* Sets up q with lim; false when out of memory. casd_quota_release frees it. */
bool casd_quota_init(struct casd_quota *q, const struct casd_quota_limits *lim);
void casd_quota_release(struct casd_quota *q);

/* Takes one upload of key at the monotonic clock's now; counts a refusal. */
bool casd_quota_take_upload(struct casd_quota *q, const uint8_t key[32], uint64_t *retry_after_s);

/* Counts a refusal by limit l. */
void casd_quota_count(struct casd_quota *q, enum casd_quota_limit l);

/* Appends the refusals by limit, and the limits, to a /metrics answer. */
void casd_quota_metrics(struct casd_quota *q, struct cas_buf *b);

#endif
