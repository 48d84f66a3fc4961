/*
 * quota.c - casd's quotas (quota.h): the cost estimate of a session, the upload token buckets,
 * and the refusal counters. The estimate reads only the policy, so an upload is refused before
 * a single key is generated; its constants are documented in docs/operations.md ("Quotas").
 */
#include "quota.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "util/buf.h"
#include "util/secret.h"

/* Bytes stored besides a value: sealing (nonce, tag), the encoding's header, the row's names. */
#define ROW_OVERHEAD 128u
/* A certificate's PEM without its names, and one issuer's in a chain. */
#define CERT_BYTES 2048u
/* The PEM of a generated public key (an RSA-3072 one is about 650 bytes). */
#define PUBKEY_BYTES 1024u
/* ascii and binary without a size (policy.md §8). */
#define DEFAULT_SIZE 20u
/* The deepest issuer chain lib/secrets builds. */
#define CHAIN_MAX 16u

static const char *const setting_names[CASD_LIMIT_COUNT] = {
    [CASD_LIMIT_NONE] = "none",
    [CASD_LIMIT_SECRETS] = "max_session_secrets",
    [CASD_LIMIT_RSA_KEYS] = "max_session_rsa_keys",
    [CASD_LIMIT_GENERATED] = "max_session_generated_bytes",
    [CASD_LIMIT_UPLOADS] = "uploads_per_minute",
    [CASD_LIMIT_VALUES_ANSWER] = "max_values_answer",
};

const char *
casd_quota_setting(enum casd_quota_limit l)
{
    return l < CASD_LIMIT_COUNT ? setting_names[l] : "unknown";
}

/* The PKCS#8 PEM of a private key of type t, rounded up. */
static uint64_t
key_bytes(enum cas_policy_key_type t)
{
    switch (t) {
    case CAS_POLICY_KEY_RSA2048:
        return 1800;
    case CAS_POLICY_KEY_RSA3072:
        return 2600;
    case CAS_POLICY_KEY_P384:
        return 400;
    case CAS_POLICY_KEY_P256:
        return 300;
    case CAS_POLICY_KEY_ED25519:
        return 200;
    }
    return 2600;
}

static bool
is_rsa(enum cas_policy_key_type t)
{
    return t == CAS_POLICY_KEY_RSA2048 || t == CAS_POLICY_KEY_RSA3072;
}

static const struct cas_policy_secret *
find(const struct cas_policy *p, const char *name)
{
    for (size_t i = 0; name != NULL && i < p->secret_count; i++) {
        if (strcmp(p->secrets[i].name, name) == 0)
            return &p->secrets[i];
    }
    return NULL;
}

/* A generated certificate: itself, its names, its key (a copy of private_key's, or a fresh
 * P-256 one) and its issuers' certificates. */
static uint64_t
cert_bytes(const struct cas_policy *p, const struct cas_policy_secret *s)
{
    const struct cas_policy_secret *key = find(p, s->private_key), *at = s;
    uint64_t n = CERT_BYTES;
    unsigned depth = 0;

    if (s->common_name != NULL)
        n += strlen(s->common_name);
    for (size_t i = 0; i < s->dns_count; i++)
        n += 2 * strlen(s->dns[i]); /* subjectAltName, and the value's JSON */
    for (size_t i = 0; i < s->san_count; i++)
        n += 2 * strlen(s->san[i]);
    if (key == NULL)
        n += key_bytes(CAS_POLICY_KEY_P256);
    else if (key->source == CAS_POLICY_EXPLICIT && key->value != NULL)
        n += cas_secret_len(key->value);
    else
        n += key_bytes(key->key_type);
    while (at->issuer != NULL && depth < CHAIN_MAX && (at = find(p, at->issuer)) != NULL) {
        n += CERT_BYTES;
        depth++;
    }
    return n;
}

static uint64_t
secret_bytes(const struct cas_policy *p, const struct cas_policy_secret *s)
{
    if (s->source == CAS_POLICY_IMPORTED)
        return 0; /* resolved from its exporter at every use: nothing stored */
    if (s->source == CAS_POLICY_EXPLICIT && s->value != NULL)
        return ROW_OVERHEAD + cas_secret_len(s->value) +
               (s->kind == CAS_POLICY_KIND_X509 || s->kind == CAS_POLICY_KIND_X509_CA
                    ? CERT_BYTES /* a generated-looking chain or key may come along */
                    : 0);
    switch (s->kind) {
    case CAS_POLICY_KIND_ASCII:
    case CAS_POLICY_KIND_BINARY:
        return ROW_OVERHEAD + (s->size != 0 ? s->size : DEFAULT_SIZE);
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return ROW_OVERHEAD + key_bytes(s->key_type);
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return ROW_OVERHEAD + PUBKEY_BYTES;
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return ROW_OVERHEAD + cert_bytes(p, s);
    case CAS_POLICY_KIND_CONFIG_FRAGMENT:
    case CAS_POLICY_KIND_UNKNOWN:
        break;
    }
    return ROW_OVERHEAD;
}

void
casd_quota_session_cost(const struct cas_policy *p, struct casd_session_cost *c)
{
    memset(c, 0, sizeof(*c));
    c->secrets = p->secret_count;
    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *s = &p->secrets[i];
        if (s->source == CAS_POLICY_GENERATED && s->kind == CAS_POLICY_KIND_PRIVATE_KEY &&
            is_rsa(s->key_type))
            c->rsa_keys++;
        c->generated_bytes += secret_bytes(p, s);
    }
}

enum casd_quota_limit
casd_quota_check_session(const struct casd_session_cost *c, const struct casd_quota_limits *lim,
                         uint64_t *value, uint64_t *max)
{
    *value = 0;
    *max = 0;
    if (lim->max_session_secrets != 0 && c->secrets > lim->max_session_secrets) {
        *value = c->secrets;
        *max = lim->max_session_secrets;
        return CASD_LIMIT_SECRETS;
    }
    if (lim->max_session_rsa_keys != 0 && c->rsa_keys > lim->max_session_rsa_keys) {
        *value = c->rsa_keys;
        *max = lim->max_session_rsa_keys;
        return CASD_LIMIT_RSA_KEYS;
    }
    if (lim->max_session_generated_bytes != 0 &&
        c->generated_bytes > lim->max_session_generated_bytes) {
        *value = c->generated_bytes;
        *max = lim->max_session_generated_bytes;
        return CASD_LIMIT_GENERATED;
    }
    return CASD_LIMIT_NONE;
}

/* ---- token buckets ---- */

static size_t
first_slot(const uint8_t key[32])
{
    uint32_t h =
        (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16 | (uint32_t)key[3] << 24;

    /* key is a SHA-256 hash: its bytes are already uniform. */
    return (size_t)(h % (CASD_RATE_SLOTS / CASD_RATE_WAYS)) * CASD_RATE_WAYS;
}

static void
refill(struct casd_rate_slot *s, int64_t now_ms, uint64_t per_minute)
{
    double cap = (double)per_minute;

    if (now_ms > s->at_ms) {
        s->tokens += (double)(now_ms - s->at_ms) * cap / 60000.0;
        s->at_ms = now_ms;
    }
    if (s->tokens > cap)
        s->tokens = cap;
}

bool
casd_rate_take(struct casd_rate_table *t, const uint8_t key[32], int64_t now_ms,
               uint64_t per_minute, uint64_t *retry_after_s)
{
    struct casd_rate_slot *ways = &t->slots[first_slot(key)], *s = NULL, *victim = NULL;
    double wait_ms;

    *retry_after_s = 0;
    if (per_minute == 0)
        return true;
    for (size_t i = 0; i < CASD_RATE_WAYS; i++) {
        if (ways[i].used && memcmp(ways[i].key, key, 32) == 0) {
            s = &ways[i];
            break;
        }
        if (victim == NULL || !ways[i].used || (victim->used && ways[i].at_ms < victim->at_ms))
            victim = &ways[i];
    }
    if (s == NULL) {
        s = victim;
        memcpy(s->key, key, 32);
        s->used = true;
        s->tokens = (double)per_minute;
        s->at_ms = now_ms;
    }
    refill(s, now_ms, per_minute);
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    wait_ms = (1.0 - s->tokens) * 60000.0 / (double)per_minute;
    *retry_after_s = (uint64_t)((wait_ms + 999.0) / 1000.0); /* whole seconds, rounded up */
    if (*retry_after_s == 0)
        *retry_after_s = 1;
    return false;
}

/* ---- casd's shared state ---- */

bool
casd_quota_init(struct casd_quota *q, const struct casd_quota_limits *lim)
{
    memset(q, 0, sizeof(*q));
    q->lim = *lim;
    if ((q->rate = calloc(1, sizeof(*q->rate))) == NULL)
        return false;
    pthread_mutex_init(&q->lock, NULL);
    for (size_t i = 0; i < CASD_LIMIT_COUNT; i++)
        atomic_init(&q->refused[i], 0);
    return true;
}

void
casd_quota_release(struct casd_quota *q)
{
    if (q->rate == NULL)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q->rate);
    q->rate = NULL;
}

static int64_t
monotonic_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
casd_quota_take_upload(struct casd_quota *q, const uint8_t key[32], uint64_t *retry_after_s)
{
    bool ok;

    pthread_mutex_lock(&q->lock);
    ok = casd_rate_take(q->rate, key, monotonic_ms(), q->lim.uploads_per_minute, retry_after_s);
    pthread_mutex_unlock(&q->lock);
    if (!ok)
        casd_quota_count(q, CASD_LIMIT_UPLOADS);
    return ok;
}

void
casd_quota_count(struct casd_quota *q, enum casd_quota_limit l)
{
    if (l > CASD_LIMIT_NONE && l < CASD_LIMIT_COUNT)
        atomic_fetch_add(&q->refused[l], 1);
}

void
casd_quota_metrics(struct casd_quota *q, struct cas_buf *b)
{
    const uint64_t lims[CASD_LIMIT_COUNT] = {
        [CASD_LIMIT_SECRETS] = q->lim.max_session_secrets,
        [CASD_LIMIT_RSA_KEYS] = q->lim.max_session_rsa_keys,
        [CASD_LIMIT_GENERATED] = q->lim.max_session_generated_bytes,
        [CASD_LIMIT_UPLOADS] = q->lim.uploads_per_minute,
        [CASD_LIMIT_VALUES_ANSWER] = q->lim.max_values_answer,
    };

    cas_buf_adds(b, "# HELP cas_quota_refusals_total Requests refused by a quota, by its setting.\n"
                    "# TYPE cas_quota_refusals_total counter\n");
    for (size_t l = CASD_LIMIT_NONE + 1; l < CASD_LIMIT_COUNT; l++)
        cas_buf_addf(b, "cas_quota_refusals_total{limit=\"%s\"} %lu\n", setting_names[l],
                     atomic_load(&q->refused[l]));
    cas_buf_adds(b, "# HELP cas_quota_limit The quota settings (0: off).\n"
                    "# TYPE cas_quota_limit gauge\n");
    for (size_t l = CASD_LIMIT_NONE + 1; l < CASD_LIMIT_COUNT; l++)
        cas_buf_addf(b, "cas_quota_limit{limit=\"%s\"} %llu\n", setting_names[l],
                     (unsigned long long)lims[l]);
}
