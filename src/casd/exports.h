/*
 * exports.h - casd's side of unpinned export grants (policy.md §8.3; docs/policy.md "Sharing
 * secrets"). Exports may name sessions that do not exist yet, as SCONE's do; so that a stranger
 * who creates such a name first is at least visible, and cannot take over a name later:
 *  - an upload warns about every unpinned export a stranger could claim: to a session that does
 *    not exist, or into a namespace, unless the exporter controls where the target is created;
 *  - the first import through an unpinned grant binds it to the importer's creator (logged as
 *    casd.export_bound); an importer of that name with another creator is refused, at upload
 *    (409) and at use; an update of the exporter that changes the secret's export, or its
 *    deletion, clears the bindings.
 * "Controls": the namespace the target would be created in (its nearest existing ancestor, or
 * the exporter itself) has a create_sessions list (default: as update, default [CREATOR]) that
 * admits nobody but the exporter's creator: CREATOR entries of a session it created, NONE, its
 * key hash or certificate. ANY, other keys and placeholders count as others.
 * All functions run inside the caller's transaction; none replies.
 */
#ifndef CASD_EXPORTS_H
#define CASD_EXPORTS_H

#include <stdint.h>

#include "cas/err.h"

struct casd;
struct cas_tx;
struct cas_policy;
struct cas_policy_secret;
struct cas_policy_diags;

/* Adds to diags one warning per unpinned export of p (created by `creator`) that a stranger
 * could claim, at the export's position. */
cas_rc casd_exports_warn(struct casd *d, struct cas_tx *tx, const struct cas_policy *p,
                         const uint8_t creator[32], struct cas_policy_diags *diags,
                         struct cas_err *err) CAS_MUST_CHECK;
/*
 * The upload of importer (its creator `creator`; uploader: who uploads it when it is created,
 * NULL on an update) imports secret theirs of exporter, which grants it: an unpinned grant binds
 * to creator if it is not bound yet (a write in tx), else must be bound to creator, and on
 * creation the uploader must be that creator. CAS_E_CONFLICT with the reason in err otherwise.
 */
cas_rc casd_exports_bind(struct cas_tx *tx, const char *exporter,
                         const struct cas_policy_secret *theirs, const char *importer,
                         const uint8_t creator[32], const uint8_t *uploader,
                         struct cas_err *err) CAS_MUST_CHECK;
/* At every use: CAS_E_DENIED when the grant is bound to another creator than the current
 * importer's (read only; an unbound grant stays unbound until the importer's next upload). */
cas_rc casd_exports_check_use(struct cas_tx *tx, const char *exporter,
                              const struct cas_policy_secret *theirs, const char *importer,
                              struct cas_err *err) CAS_MUST_CHECK;
/* The update of session name from old to p: clears the bindings of every secret whose export
 * list changed (or that is gone). */
cas_rc casd_exports_changed(struct cas_tx *tx, const char *name, const struct cas_policy *old,
                            const struct cas_policy *p, struct cas_err *err) CAS_MUST_CHECK;

#endif
