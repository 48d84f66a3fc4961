/*
 * session_cache.c - built objects of session versions, keyed by (name, hash) (session_cache.h).
 * The current hash is read from the database on every lookup (never remembered), so the cache
 * only ever saves rebuilding an immutable version. A small table scanned under one lock: the
 * lock covers lookups, inserts and reference counts, never the query or the build.
 */
#include "store/session_cache.h"

#include <stdint.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct cas_session_ref {
    char *name;
    char hash[65];
    void *obj;
    unsigned refs; /* users, plus one while in the table */
    uint64_t used; /* tick of the last lookup, for LRU eviction */
};

struct cas_session_cache {
    pthread_mutex_t lock;
    struct cas_session_ref **slot; /* capacity entries, NULL when free */
    size_t capacity;
    uint64_t tick;
    unsigned long hits, misses;
    cas_session_build_fn build;
    cas_session_drop_fn drop;
    void *arg;
};

struct cas_session_cache *
cas_session_cache_new(size_t capacity, cas_session_build_fn build, cas_session_drop_fn drop,
                      void *arg)
{
    struct cas_session_cache *c = cas_calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->capacity = capacity > 0 ? capacity : 1;
    if ((c->slot = cas_calloc(c->capacity, sizeof(*c->slot))) == NULL) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->build = build;
    c->drop = drop;
    c->arg = arg;
    return c;
}

static void
entry_free(struct cas_session_cache *c, struct cas_session_ref *e)
{
    if (e->obj != NULL)
        c->drop(e->obj);
    free(e->name);
    free(e);
}

/* Drops the table's reference; returns the entry when that was the last one (free it unlocked). */
static struct cas_session_ref *
unlink_slot(struct cas_session_cache *c, size_t i)
{
    struct cas_session_ref *e = c->slot[i];

    c->slot[i] = NULL;
    return --e->refs == 0 ? e : NULL;
}

void
cas_session_cache_free(struct cas_session_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->capacity; i++) {
        if (c->slot[i] != NULL) {
            struct cas_session_ref *e = unlink_slot(c, i);
            if (e != NULL)
                entry_free(c, e);
        }
    }
    pthread_mutex_destroy(&c->lock);
    free(c->slot);
    free(c);
}

void
cas_session_ref_release(struct cas_session_cache *c, struct cas_session_ref *ref)
{
    bool last;

    if (ref == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    last = --ref->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        entry_free(c, ref);
}

void
cas_session_cache_stats(struct cas_session_cache *c, unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&c->lock);
    *hits = c->hits;
    *misses = c->misses;
    pthread_mutex_unlock(&c->lock);
}

/* Under the lock: the entry for (name, hash) with a reference taken for the caller, or NULL. */
static struct cas_session_ref *
lookup(struct cas_session_cache *c, const char *name, const char *hash)
{
    for (size_t i = 0; i < c->capacity; i++) {
        struct cas_session_ref *e = c->slot[i];
        if (e != NULL && memcmp(e->hash, hash, 65) == 0 && strcmp(e->name, name) == 0) {
            e->refs++;
            e->used = ++c->tick;
            return e;
        }
    }
    return NULL;
}

/*
 * Under the lock: puts e in the table (taking the table's reference). Older versions of the same
 * name go first (no lookup can ask for them again unless they become current again, which a
 * rebuild serves), then the least recently used entry when the table is full. Entries whose
 * last reference this drops are chained on *dead for the caller to free unlocked.
 */
static void
insert(struct cas_session_cache *c, struct cas_session_ref *e, struct cas_session_ref **dead,
       size_t *n_dead)
{
    size_t free_i = c->capacity, lru_i = c->capacity;

    for (size_t i = 0; i < c->capacity; i++) {
        struct cas_session_ref *o = c->slot[i];
        if (o != NULL && strcmp(o->name, e->name) == 0) {
            if ((dead[*n_dead] = unlink_slot(c, i)) != NULL)
                (*n_dead)++;
            o = NULL;
        }
        if (o == NULL) {
            if (free_i == c->capacity)
                free_i = i;
        } else if (lru_i == c->capacity || o->used < c->slot[lru_i]->used) {
            lru_i = i;
        }
    }
    if (free_i == c->capacity) {
        if ((dead[*n_dead] = unlink_slot(c, lru_i)) != NULL)
            (*n_dead)++;
        free_i = lru_i;
    }
    e->refs++;
    e->used = ++c->tick;
    c->slot[free_i] = e;
}

cas_rc
cas_session_cache_current(struct cas_session_cache *c, struct cas_tx *tx, const char *name,
                          char hash[65], const void **obj, struct cas_session_ref **ref,
                          bool *found, struct cas_err *err)
{
    struct cas_session_row row = {0};
    struct cas_session_ref *e, *raced, *dead[2];
    size_t n_dead = 0;
    bool have_row = false;
    cas_rc rc;

    *obj = NULL;
    *ref = NULL;
    *found = false;
    if ((rc = cas_store_session_current_hash(tx, name, hash, err)) != CAS_OK)
        return rc;
    if (hash[0] == '\0')
        return CAS_OK;
    pthread_mutex_lock(&c->lock);
    e = lookup(c, name, hash);
    if (e != NULL)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    if (e == NULL) {
        if ((rc = cas_store_session_version(tx, name, hash, &row, &have_row, err)) != CAS_OK)
            return rc;
        if (!have_row) /* cas_session names a version that is gone: no current version */
            return CAS_OK;
        if ((e = cas_calloc(1, sizeof(*e))) == NULL || (e->name = cas_strdup(name)) == NULL) {
            free(e);
            cas_session_row_release(&row);
            return cas_err_set(err, CAS_E_NOMEM, "out of memory for the session cache");
        }
        memcpy(e->hash, hash, 65);
        e->refs = 1; /* the caller's */
        rc = c->build(&row, c->arg, &e->obj, err);
        cas_session_row_release(&row);
        if (rc != CAS_OK) {
            e->obj = NULL;
            entry_free(c, e);
            return rc;
        }
        pthread_mutex_lock(&c->lock);
        raced = lookup(c, name, hash); /* another thread built the same version meanwhile */
        if (raced == NULL)
            insert(c, e, dead, &n_dead);
        pthread_mutex_unlock(&c->lock);
        if (raced != NULL) {
            entry_free(c, e);
            e = raced;
        }
        for (size_t i = 0; i < n_dead; i++)
            entry_free(c, dead[i]);
    }
    *obj = e->obj;
    *ref = e;
    *found = true;
    return CAS_OK;
}
