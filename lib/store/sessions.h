/*
 * sessions.h - the session tables (schema version 2): immutable versions keyed by hash with
 * their predecessor, creator and sealed normalised document; the current version of each name;
 * sealed secret values; who imports from whom; export bindings. Portable SQL over a caller's
 * transaction: the caller decides what runs in one transaction (create and update run entirely in
 * one write transaction, so of two updates from one predecessor exactly one wins).
 */
#ifndef CAS_STORE_SESSIONS_H
#define CAS_STORE_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"
#include "store/store.h"

struct cas_session_row {
    char *name;
    char hash[65];
    char predecessor[65]; /* "" for none */
    char creator[65];     /* key hash, lowercase hex */
    int64_t created_at;
    uint8_t *document; /* sealed */
    size_t document_len;
};

void cas_session_row_release(struct cas_session_row *r);

/* The current version of name (*found false when there is none). */
cas_rc cas_store_session_current(struct cas_tx *tx, const char *name, struct cas_session_row *out,
                                 bool *found, struct cas_err *err) CAS_MUST_CHECK;
/* Only the hash of name's current version: hash[0] is '\0' when there is none. */
cas_rc cas_store_session_current_hash(struct cas_tx *tx, const char *name, char hash[65],
                                      struct cas_err *err) CAS_MUST_CHECK;
/* A version of name by hash. */
cas_rc cas_store_session_version(struct cas_tx *tx, const char *name, const char *hash,
                                 struct cas_session_row *out, bool *found,
                                 struct cas_err *err) CAS_MUST_CHECK;
/* Stores a new version and makes it current; parent is the namespace ("" at the top). */
cas_rc cas_store_session_put(struct cas_tx *tx, const struct cas_session_row *r, const char *parent,
                             int64_t now, struct cas_err *err) CAS_MUST_CHECK;
/* Removes every version, secret and import record of name, and its export bindings. */
cas_rc cas_store_session_delete(struct cas_tx *tx, const char *name,
                                struct cas_err *err) CAS_MUST_CHECK;
/* Names of the sessions directly in namespace parent, sorted; fn is called once per name. */
cas_rc cas_store_session_children(struct cas_tx *tx, const char *parent,
                                  cas_rc (*fn)(const char *name, void *arg, struct cas_err *err),
                                  void *arg, struct cas_err *err) CAS_MUST_CHECK;
/* A session importing from exporter, if any (its name into out, "" when none). */
cas_rc cas_store_session_importer(struct cas_tx *tx, const char *exporter, char *out, size_t cap,
                                  struct cas_err *err) CAS_MUST_CHECK;
/* Replaces the import records of importer with its current exporters. */
cas_rc cas_store_session_set_imports(struct cas_tx *tx, const char *importer,
                                     const char *const *exporters, size_t n,
                                     struct cas_err *err) CAS_MUST_CHECK;

/*
 * Export bindings (schema version 5): an unpinned export of secret `secret` of session
 * `exporter` to session `importer` binds, when first resolved, to the importer's creator (a key
 * hash, lowercase hex); the grant then holds only for that creator. binding_get sets creator to
 * "" when there is no binding. binding_put keeps an existing binding. binding_clear removes the
 * bindings of exporter's secret `secret`, or of all its secrets when secret is NULL.
 */
cas_rc cas_store_binding_get(struct cas_tx *tx, const char *exporter, const char *secret,
                             const char *importer, char creator[65],
                             struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_store_binding_put(struct cas_tx *tx, const char *exporter, const char *secret,
                             const char *importer, const char *creator, int64_t now,
                             struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_store_binding_clear(struct cas_tx *tx, const char *exporter, const char *secret,
                               struct cas_err *err) CAS_MUST_CHECK;

/* A sealed secret value (*found false when none; *value malloc'd). */
cas_rc cas_store_secret_get(struct cas_tx *tx, const char *session, const char *name,
                            uint8_t **value, size_t *len, bool *found,
                            struct cas_err *err) CAS_MUST_CHECK;
/* Inserts or replaces a sealed secret value; expires/renew 0 for none. */
cas_rc cas_store_secret_put(struct cas_tx *tx, const char *session, const char *name,
                            const uint8_t *value, size_t len, int64_t expires_at, int64_t renew_at,
                            int64_t now, struct cas_err *err) CAS_MUST_CHECK;
/* Whether a value of session is due for renewal at now (renew_at <= now). */
cas_rc cas_store_secret_due(struct cas_tx *tx, const char *session, int64_t now, bool *due,
                            struct cas_err *err) CAS_MUST_CHECK;
/* Removes the secrets of session not named in keep[0..n). */
cas_rc cas_store_secret_prune(struct cas_tx *tx, const char *session, const char *const *keep,
                              size_t n, struct cas_err *err) CAS_MUST_CHECK;

/* One audit record (schema version 3): who (a key hash in base58), what (a config id or a session
 * name) and the verdict. Never a secret value. */
cas_rc cas_store_audit_add(struct cas_tx *tx, int64_t at, const char *caller, const char *what,
                           const char *verdict, struct cas_err *err) CAS_MUST_CHECK;

#endif
