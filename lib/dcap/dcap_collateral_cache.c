/*
 * dcap_collateral_cache.c - parsed collateral by the SHA-256 of its JSON text
 * (collateral_cache.h). A few entries scanned under one lock; a get copies the entry's bytes
 * out under the lock (a few tens of KiB at most), so no entry is ever shared with a caller.
 */
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dcap/collateral_cache.h"
#include "util/alloc.h"

struct entry {
    uint8_t digest[32]; /* SHA-256 of the JSON text */
    struct cas_dcap_collateral c;
    uint64_t used;
    bool full;
};

struct cas_dcap_collateral_cache {
    pthread_mutex_t lock;
    struct entry *e;
    size_t capacity;
    uint64_t tick;
    unsigned long hits, misses;
};

struct cas_dcap_collateral_cache *
cas_dcap_collateral_cache_new(size_t capacity)
{
    struct cas_dcap_collateral_cache *cc = cas_calloc(1, sizeof(*cc));

    if (cc == NULL)
        return NULL;
    cc->capacity = capacity > 0 ? capacity : 1;
    if ((cc->e = cas_calloc(cc->capacity, sizeof(*cc->e))) == NULL) {
        free(cc);
        return NULL;
    }
    for (size_t i = 0; i < cc->capacity; i++)
        cas_dcap_collateral_init(&cc->e[i].c);
    pthread_mutex_init(&cc->lock, NULL);
    return cc;
}

void
cas_dcap_collateral_cache_free(struct cas_dcap_collateral_cache *cc)
{
    if (cc == NULL)
        return;
    for (size_t i = 0; i < cc->capacity; i++)
        cas_dcap_collateral_release(&cc->e[i].c);
    pthread_mutex_destroy(&cc->lock);
    free(cc->e);
    free(cc);
}

static bool
digest_of(const char *text, size_t len, uint8_t out[32])
{
    return EVP_Digest(text, len, out, NULL, EVP_sha256(), NULL) == 1;
}

/* A sealed copy of src into dst (initialised here); false when out of memory. */
static bool
copy_collateral(const struct cas_dcap_collateral *src, struct cas_dcap_collateral *dst)
{
    struct cas_err err = {0};

    cas_dcap_collateral_init(dst);
    for (unsigned f = 0; f < CAS_DCAP_FIELD_COUNT; f++) {
        if (cas_dcap_collateral_set(dst, (enum cas_dcap_field)f, src->f[f].p, src->f[f].len,
                                    &err) != CAS_OK) {
            cas_dcap_collateral_release(dst);
            return false;
        }
    }
    memcpy(dst->id, src->id, sizeof(dst->id));
    dst->sealed = true;
    return true;
}

bool
cas_dcap_collateral_cache_get(struct cas_dcap_collateral_cache *cc, const char *text, size_t len,
                              struct cas_dcap_collateral *c)
{
    uint8_t d[32];
    bool hit = false;

    cas_dcap_collateral_init(c);
    if (!digest_of(text, len, d))
        return false;
    pthread_mutex_lock(&cc->lock);
    for (size_t i = 0; i < cc->capacity && !hit; i++) {
        struct entry *e = &cc->e[i];
        if (e->full && memcmp(e->digest, d, 32) == 0) {
            hit = copy_collateral(&e->c, c);
            e->used = ++cc->tick;
        }
    }
    if (hit)
        cc->hits++;
    else
        cc->misses++;
    pthread_mutex_unlock(&cc->lock);
    return hit;
}

void
cas_dcap_collateral_cache_learn(struct cas_dcap_collateral_cache *cc, const char *text, size_t len,
                                const struct cas_dcap_collateral *expect)
{
    struct cas_dcap_collateral parsed, old;
    struct cas_err err = {0};
    struct entry *slot = NULL, *free_e = NULL, *lru = NULL;
    bool known = false;
    uint8_t d[32];

    if (!expect->sealed || !digest_of(text, len, d))
        return;
    if (cas_dcap_collateral_from_json(text, len, &parsed, &err) != CAS_OK)
        return;
    if (memcmp(parsed.id, expect->id, sizeof(parsed.id)) != 0) {
        cas_dcap_collateral_release(&parsed);
        return;
    }
    cas_dcap_collateral_init(&old);
    pthread_mutex_lock(&cc->lock);
    for (size_t i = 0; i < cc->capacity && !known; i++) {
        struct entry *e = &cc->e[i];
        if (e->full && memcmp(e->digest, d, 32) == 0)
            known = true; /* another thread learnt it meanwhile */
        else if (!e->full && free_e == NULL)
            free_e = e;
        else if (e->full && (lru == NULL || e->used < lru->used))
            lru = e;
    }
    if (!known)
        slot = free_e != NULL ? free_e : lru;
    if (slot != NULL) {
        old = slot->c;
        slot->c = parsed;
        memcpy(slot->digest, d, 32);
        slot->used = ++cc->tick;
        slot->full = true;
        cas_dcap_collateral_init(&parsed);
    }
    pthread_mutex_unlock(&cc->lock);
    cas_dcap_collateral_release(&old);
    cas_dcap_collateral_release(&parsed);
}

void
cas_dcap_collateral_cache_stats(struct cas_dcap_collateral_cache *cc, unsigned long *hits,
                                unsigned long *misses)
{
    pthread_mutex_lock(&cc->lock);
    *hits = cc->hits;
    *misses = cc->misses;
    pthread_mutex_unlock(&cc->lock);
}
