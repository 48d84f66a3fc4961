/*
 * values.h - casd's secret values: generating, keeping and re-issuing them when a session is
 * created or updated, and reading public ones (the values API). Values are sealed under the
 * sealing key with the session and secret names as associated data before they reach the store.
 */
#ifndef CASD_VALUES_H
#define CASD_VALUES_H

#include <stdint.h>

#include <jansson.h>

#include "cas/err.h"

struct casd;
struct cas_tx;
struct cas_policy;
struct cas_policy_secret;

/*
 * Bringing the stored values of session `name` in line with policy p (old: the predecessor's
 * policy, or NULL on creation) takes three steps, so that no key is generated while the
 * database's write lock is held:
 *   casd_values_plan   in a read transaction: loads the values that survive per policy.md §8.2
 *                      and notes which are made anew;
 *   casd_values_make   in no transaction: generates (or checks explicit) values, in
 *                      cas_secrets_order() order;
 *   casd_values_store  in the write transaction: checks that every value kept is still the
 *                      stored one (CAS_E_CONFLICT "changed meanwhile; try again" if not, so a
 *                      mix is never stored), then seals and stores the new values and drops
 *                      those of removed secrets.
 * The plan borrows p until casd_values_plan_free (NULL is fine).
 */
struct casd_values_plan;
cas_rc casd_values_plan(struct casd *d, struct cas_tx *tx, const char *name,
                        const struct cas_policy *p, const struct cas_policy *old,
                        struct casd_values_plan **out, struct cas_err *err) CAS_MUST_CHECK;
cas_rc casd_values_make(struct casd_values_plan *pl, int64_t now,
                        struct cas_err *err) CAS_MUST_CHECK;
cas_rc casd_values_store(struct casd *d, struct cas_tx *tx, const char *name,
                         const struct casd_values_plan *pl, int64_t now,
                         struct cas_err *err) CAS_MUST_CHECK;
void casd_values_plan_free(struct casd_values_plan *pl);
/*
 * Re-issues the certificates of session name (current version `hash`, policy p) that are due at
 * now, and those they issued (policy.md §8.1): reads the values in a read transaction, makes the
 * new certificates outside any transaction, and stores them in a write transaction of its own.
 * Does nothing when the session or any of its values changed meanwhile (its update, or a
 * renewal that ran at the same time, re-issued them).
 */
cas_rc casd_values_renew(struct casd *d, const char *name, const char *hash,
                         const struct cas_policy *p, int64_t now,
                         struct cas_err *err) CAS_MUST_CHECK;
/*
 * The value of secret `secret` of session `session` (policy p) for a service: its own stored
 * value, or for an import the exporter's, checked again (policy.md §8.3: resolved at every use;
 * a certificate's key comes only when its key secret is exported to the importer too).
 * CAS_E_NOTFOUND when it has none; CAS_E_DENIED naming the import when it no longer resolves.
 */
struct cas_secret_value;
cas_rc casd_values_get(struct casd *d, struct cas_tx *tx, const char *session,
                       const struct cas_policy *p, const char *secret,
                       struct cas_secret_value **out, struct cas_err *err) CAS_MUST_CHECK;
/* The values API object of secret s of session name ({"kind","value","expires","renew"}). */
cas_rc casd_values_public(struct casd *d, struct cas_tx *tx, const char *name,
                          const struct cas_policy_secret *s, int64_t now, json_t **out,
                          struct cas_err *err) CAS_MUST_CHECK;

#endif
