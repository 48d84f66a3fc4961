/*
 * ratelimit.c - failure counts with exponential backoff in a fixed table (ratelimit.h). The table
 * is set-associative: a key hashes (with the salt) to one set of WAYS slots and lives in one of
 * them; a new key takes a free slot of its set, else the one seen longest ago. Lookups cost WAYS
 * comparisons whatever the table's size, and the memory is allocated once.
 */
#include "util/ratelimit.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define WAYS 8

struct entry {
    uint8_t key[32];
    bool used;
    unsigned failures;
    int64_t last_ms;  /* the last failure (or refusal) */
    int64_t until_ms; /* backing off until then */
    uint64_t refused; /* attempts refused since the last report */
    bool reported;    /* a report was made, at reported_ms */
    int64_t reported_ms;
};

struct cas_ratelimit {
    struct cas_ratelimit_cfg cfg;
    size_t sets;
    pthread_mutex_t lock;
    struct entry *e; /* sets * WAYS */
};

struct cas_ratelimit *
cas_ratelimit_new(const struct cas_ratelimit_cfg *cfg)
{
    struct cas_ratelimit *rl;

    if (cfg->slots == 0 || cfg->slots > SIZE_MAX / 2 / sizeof(struct entry) || cfg->first_ms <= 0 ||
        cfg->max_ms < cfg->first_ms || cfg->forget_ms <= 0 || cfg->report_ms <= 0)
        return NULL;
    if ((rl = cas_calloc(1, sizeof(*rl))) == NULL)
        return NULL;
    rl->cfg = *cfg;
    rl->sets = (cfg->slots + WAYS - 1) / WAYS;
    if ((rl->e = cas_calloc(rl->sets * WAYS, sizeof(*rl->e))) == NULL) {
        free(rl);
        return NULL;
    }
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void
cas_ratelimit_free(struct cas_ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->e);
    free(rl);
}

/* The first slot of key's set: FNV-1a over salt and key. */
static struct entry *
set_of(const struct cas_ratelimit *rl, const uint8_t key[32])
{
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < 8; i++) {
        h ^= (rl->cfg.salt >> (8 * i)) & 0xffu;
        h *= 0x100000001b3u;
    }
    for (size_t i = 0; i < 32; i++) {
        h ^= key[i];
        h *= 0x100000001b3u;
    }
    return &rl->e[(size_t)(h % rl->sets) * WAYS];
}

/* key's entry, or NULL; one whose failures are forgotten by now is cleared first. */
static struct entry *
find(struct cas_ratelimit *rl, const uint8_t key[32], int64_t now_ms)
{
    struct entry *set = set_of(rl, key);

    for (size_t i = 0; i < WAYS; i++) {
        struct entry *e = &set[i];
        if (!e->used || memcmp(e->key, key, 32) != 0)
            continue;
        if (now_ms >= e->until_ms && now_ms - e->last_ms >= rl->cfg.forget_ms) {
            memset(e, 0, sizeof(*e));
            return NULL;
        }
        return e;
    }
    return NULL;
}

/* A slot for key: a free one of its set, else the one seen longest ago. */
static struct entry *
take(struct cas_ratelimit *rl, const uint8_t key[32])
{
    struct entry *set = set_of(rl, key), *victim = &set[0];

    for (size_t i = 0; i < WAYS; i++) {
        if (!set[i].used) {
            victim = &set[i];
            break;
        }
        if (set[i].last_ms < victim->last_ms)
            victim = &set[i];
    }
    memset(victim, 0, sizeof(*victim));
    memcpy(victim->key, key, 32);
    victim->used = true;
    return victim;
}

struct cas_ratelimit_verdict
cas_ratelimit_check(struct cas_ratelimit *rl, const uint8_t key[32], int64_t now_ms)
{
    struct cas_ratelimit_verdict v = {0, 0};
    struct entry *e;

    pthread_mutex_lock(&rl->lock);
    e = find(rl, key, now_ms);
    if (e != NULL && now_ms < e->until_ms) {
        v.wait_ms = e->until_ms - now_ms;
        e->refused++;
        e->last_ms = now_ms;
        if (!e->reported || now_ms - e->reported_ms >= rl->cfg.report_ms) {
            v.reported = e->refused;
            e->refused = 0;
            e->reported = true;
            e->reported_ms = now_ms;
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return v;
}

int64_t
cas_ratelimit_fail(struct cas_ratelimit *rl, const uint8_t key[32], int64_t now_ms)
{
    struct entry *e;
    int64_t wait = 0;

    pthread_mutex_lock(&rl->lock);
    if ((e = find(rl, key, now_ms)) == NULL)
        e = take(rl, key);
    if (e->failures < UINT_MAX)
        e->failures++;
    e->last_ms = now_ms;
    if (e->failures > rl->cfg.free_failures) {
        unsigned doublings = e->failures - rl->cfg.free_failures - 1;
        wait = rl->cfg.first_ms;
        for (unsigned i = 0; i < doublings && wait < rl->cfg.max_ms; i++)
            wait *= 2;
        if (wait > rl->cfg.max_ms)
            wait = rl->cfg.max_ms;
        e->until_ms = now_ms + wait;
    }
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

void
cas_ratelimit_clear(struct cas_ratelimit *rl, const uint8_t key[32])
{
    struct entry *set;

    pthread_mutex_lock(&rl->lock);
    set = set_of(rl, key);
    for (size_t i = 0; i < WAYS; i++) {
        if (set[i].used && memcmp(set[i].key, key, 32) == 0)
            memset(&set[i], 0, sizeof(set[i]));
    }
    pthread_mutex_unlock(&rl->lock);
}

size_t
cas_ratelimit_count(struct cas_ratelimit *rl)
{
    size_t n = 0;

    pthread_mutex_lock(&rl->lock);
    for (size_t i = 0; i < rl->sets * WAYS; i++)
        n += rl->e[i].used;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
