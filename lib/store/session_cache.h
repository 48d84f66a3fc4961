/*
 * session_cache.h - what a caller builds from a stored session version (casd: the unsealed,
 * parsed policy), kept in memory and keyed by (name, hash). A version is immutable (its hash
 * names its content), so a built object never goes stale; which version is current does change,
 * possibly on another instance sharing the database. The cache therefore asks the database, in
 * the caller's transaction, for the current hash of the name on every lookup, and only the
 * unsealing and parsing of that version are saved: a write committed anywhere is seen by the
 * next lookup anywhere.
 *
 * Thread safe: entries are reference counted, so one thread may use an object while another
 * evicts it; objects are shared read-only between threads.
 */
#ifndef CAS_STORE_SESSION_CACHE_H
#define CAS_STORE_SESSION_CACHE_H

#include <stddef.h>

#include <stdbool.h>

#include "cas/err.h"
#include "store/sessions.h"
#include "store/store.h"

struct cas_session_cache;
struct cas_session_ref;

/* Builds the object of a version from its row (the sealed document); arg is the cache's. */
typedef cas_rc (*cas_session_build_fn)(const struct cas_session_row *row, void *arg, void **obj,
                                       struct cas_err *err);
typedef void (*cas_session_drop_fn)(void *obj);

/* capacity: versions kept (at least 1). NULL when out of memory. */
struct cas_session_cache *cas_session_cache_new(size_t capacity, cas_session_build_fn build,
                                                cas_session_drop_fn drop, void *arg);
/* Every reference must have been released. NULL is fine. */
void cas_session_cache_free(struct cas_session_cache *c);

/*
 * The current version of name as seen by tx: its hash into hash, and the built object (*obj,
 * held until cas_session_ref_release(*ref)). *found false (and *ref NULL) when name has no
 * current version. One indexed query of the current hash runs every time; the version's row is
 * read and built only when that version is not cached.
 */
cas_rc cas_session_cache_current(struct cas_session_cache *c, struct cas_tx *tx, const char *name,
                                 char hash[65], const void **obj, struct cas_session_ref **ref,
                                 bool *found, struct cas_err *err) CAS_MUST_CHECK;
/* NULL is fine. */
void cas_session_ref_release(struct cas_session_cache *c, struct cas_session_ref *ref);

/* Lookups answered from memory and built anew, since the cache was made. */
void cas_session_cache_stats(struct cas_session_cache *c, unsigned long *hits,
                             unsigned long *misses);

#endif
