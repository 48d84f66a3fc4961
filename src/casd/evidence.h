/*
 * evidence.h - what the enclave API's handlers share: verifying a caller's evidence bound to its
 * connection, and the audit log of every attempt (time, caller key hash, what was asked, verdict;
 * never a secret).
 */
#ifndef CASD_EVIDENCE_H
#define CASD_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/attest.h"
#include "dcap/collateral.h"
#include "dcap/verify.h"
#include "store/store.h"

struct casd;

/*
 * The collateral for a piece of evidence: the JSON object sent with it, else the files of
 * collateral_dir when configured, else CAS_E_INVALID saying neither is there.
 */
cas_rc casd_evidence_collateral(struct casd *d, const json_t *sent, struct cas_dcap_collateral *col,
                                struct cas_err *err) CAS_MUST_CHECK;

/*
 * Verifies quote (len bytes) at now against col (col_rc: how obtaining it went, col_err why it
 * failed) and checks that its 64 bytes of report data equal want_rd. Fills *ev for lib/attest:
 * ev->vd points to vd, which borrows quote and col (both live as long as ev is used); a failure
 * is described in failure[cap].
 */
void casd_evidence_verify(struct casd *d, const uint8_t *quote, size_t len, cas_rc col_rc,
                          const struct cas_err *col_err, const struct cas_dcap_collateral *col,
                          const uint8_t want_rd[64], int64_t now, struct cas_dcap_verdict *vd,
                          struct cas_attest_evidence *ev, char *failure, size_t cap);

/* Both: the collateral sent (or collateral_dir), then the verification. */
void casd_evidence_check(struct casd *d, const uint8_t *quote, size_t len, const json_t *collateral,
                         const uint8_t want_rd[64], int64_t now, struct cas_dcap_collateral *col,
                         struct cas_dcap_verdict *vd, struct cas_attest_evidence *ev, char *failure,
                         size_t cap);

enum casd_outcome { CASD_AUDIT_OK, CASD_AUDIT_DENIED, CASD_AUDIT_OTHER };
enum casd_audit_kind {
    CASD_AUDIT_SERVICE, /* a service attestation: ev=casd.service_attestation */
    CASD_AUDIT_JOIN,    /* an instance asking to join: ev=casd.join */
    CASD_AUDIT_SESSION, /* a refused session change: ev=casd.session_refused */
};

/*
 * The record of an attempt about to succeed: CAS_OK once it is committed (CAS_TX_RECORD), and
 * only then may the caller hand anything over. Otherwise the error (what the database said) is
 * returned, logged (casd.audit_failed) and counted (audit_failures, db_errors), the attempt counts
 * as "other", and the caller must refuse it (503): the audit fails closed.
 */
cas_rc casd_audit_ok(struct casd *d, enum casd_audit_kind kind, const uint8_t caller[32],
                     const char *config_id, const char *verdict,
                     struct cas_err *err) CAS_MUST_CHECK;
/* Why casd_audit_ok failed, on one line, for the 503's message (buf[cap], always terminated). */
void casd_audit_cause(const struct cas_err *err, char *buf, size_t cap);
/* Logs, stores and counts the record of a refusal (o is not CASD_AUDIT_OK). A record that cannot
 * be written is logged (casd.audit_failed) and counted; the refusal stands either way. */
void casd_audit(struct casd *d, enum casd_audit_kind kind, const uint8_t caller[32],
                const char *config_id, enum casd_outcome o, const char *verdict);
/* The record of a session change, in the transaction that makes it: both or neither last. */
cas_rc casd_audit_in(struct cas_tx *tx, const uint8_t caller[32], const char *session,
                     const char *verdict, struct cas_err *err) CAS_MUST_CHECK;

#endif
