/* evidence.c - checking bound evidence and the audit log (evidence.h). */
#include "evidence.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "casd.h"
#include "store/sessions.h"
#include "store/store.h"
#include "util/codec.h"
#include "util/log.h"

cas_rc
casd_evidence_collateral(struct casd *d, const json_t *sent, struct cas_dcap_collateral *col,
                         struct cas_err *err)
{
    if (sent != NULL)
        return cas_dcap_collateral_from_object(sent, col, err);
    if (d->collateral_dir != NULL)
        return cas_dcap_collateral_from_dir(d->collateral_dir, col, err);
    return cas_err_set(err, CAS_E_INVALID,
                       "no collateral came with the evidence and casd has none configured "
                       "(collateral_dir)");
}

void
casd_evidence_verify(struct casd *d, const uint8_t *quote, size_t len, cas_rc col_rc,
                     const struct cas_err *col_err, const struct cas_dcap_collateral *col,
                     const uint8_t want_rd[64], int64_t now, struct cas_dcap_verdict *vd,
                     struct cas_attest_evidence *ev, char *failure, size_t cap)
{
    struct cas_err err = {0};
    cas_rc rc = col_rc;
    const uint8_t *rd;

    memset(vd, 0, sizeof(*vd));
    *ev = (struct cas_attest_evidence){.present = true, .vd = vd};
    if (rc != CAS_OK)
        err = *col_err;
    else
        rc = cas_dcap_verify(d->tee.verifier, quote, len, col, now, vd, &err);
    ev->revoked = vd->failed == CAS_DCAP_CHECK_TCB_REVOKED;
    ev->verified = rc == CAS_OK || ev->revoked;
    ev->simulator = ev->verified && strcmp(vd->root, CASD_SIM_ROOT_NAME) == 0;
    if (!ev->verified) {
        cas_err_join(&err, failure, cap);
        ev->failure = failure;
        return;
    }
    rd = vd->quote.body_type == CAS_DCAP_BODY_SGX ? vd->quote.sgx.report_data
                                                  : vd->quote.td.report_data;
    if (CRYPTO_memcmp(rd, want_rd, 64) != 0) {
        ev->verified = false;
        (void)snprintf(failure, cap,
                       "its report data does not bind this connection's client certificate (a "
                       "copied quote is useless elsewhere)");
        ev->failure = failure;
    }
}

void
casd_evidence_check(struct casd *d, const uint8_t *quote, size_t len, const json_t *collateral,
                    const uint8_t want_rd[64], int64_t now, struct cas_dcap_collateral *col,
                    struct cas_dcap_verdict *vd, struct cas_attest_evidence *ev, char *failure,
                    size_t cap)
{
    struct cas_err err = {0};
    cas_rc rc = casd_evidence_collateral(d, collateral, col, &err);

    casd_evidence_verify(d, quote, len, rc, &err, col, want_rd, now, vd, ev, failure, cap);
}

static const char *const audit_event[] = {"casd.service_attestation", "casd.join",
                                          "casd.session_refused"};

static void
audit_count(struct casd *d, enum casd_audit_kind kind, enum casd_outcome o)
{
    atomic_ulong *count[3][3] = {{&d->attest_ok, &d->attest_denied, &d->attest_other},
                                 {&d->join_ok, &d->join_denied, &d->join_other},
                                 {NULL, &d->sessions_refused, &d->sessions_refused}};

    if (count[kind][o] != NULL)
        atomic_fetch_add(count[kind][o], 1);
}

static void
audit_log(enum casd_audit_kind kind, const char *config_id, const char *kh, const char *verdict)
{
    CAS_LOG(INFO, audit_event[kind],
            CAS_LF_STR(kind == CASD_AUDIT_SESSION ? "session" : "config_id", config_id),
            CAS_LF_STR("caller", kh), CAS_LF_STR("verdict", verdict));
}

/* One record in its own CAS_TX_RECORD transaction; a failure is logged and counted. */
static cas_rc
audit_store(struct casd *d, enum casd_audit_kind kind, const char *kh, const char *config_id,
            const char *verdict, struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    cas_rc rc;

    if ((rc = cas_store_begin(d->store, CAS_TX_RECORD, &tx, err)) == CAS_OK &&
        (rc = cas_store_audit_add(tx, time(NULL), kh, config_id, verdict, err)) == CAS_OK)
        rc = cas_tx_commit(tx, err);
    else if (tx != NULL)
        cas_tx_rollback(tx);
    if (rc != CAS_OK) {
        atomic_fetch_add(&d->db_errors, 1);
        atomic_fetch_add(&d->audit_failures, 1);
        CAS_LOG(ERROR, "casd.audit_failed", CAS_LF_STR("event", audit_event[kind]),
                CAS_LF_STR("config_id", config_id), CAS_LF_STR("caller", kh),
                CAS_LF_STR("error", cas_err_get(err, 0)));
    }
    return rc;
}

cas_rc
casd_audit_ok(struct casd *d, enum casd_audit_kind kind, const uint8_t caller[32],
              const char *config_id, const char *verdict, struct cas_err *err)
{
    char kh[51];
    cas_rc rc;

    cas_keyhash_to_b58(caller, kh);
    if ((rc = audit_store(d, kind, kh, config_id, verdict, err)) != CAS_OK) {
        audit_count(d, kind, CASD_AUDIT_OTHER);
        audit_log(kind, config_id, kh, "refused: its audit record could not be written");
        return rc;
    }
    audit_count(d, kind, CASD_AUDIT_OK);
    audit_log(kind, config_id, kh, verdict);
    return CAS_OK;
}

void
casd_audit_cause(const struct cas_err *err, char *buf, size_t cap)
{
    cas_err_join(err, buf, cap);
    for (char *c = buf; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20) /* PostgreSQL's messages run over several lines */
            *c = ' ';
    }
}

void
casd_audit(struct casd *d, enum casd_audit_kind kind, const uint8_t caller[32],
           const char *config_id, enum casd_outcome o, const char *verdict)
{
    char kh[51];
    struct cas_err err = {0};

    cas_keyhash_to_b58(caller, kh);
    audit_count(d, kind, o);
    audit_log(kind, config_id, kh, verdict);
    (void)audit_store(d, kind, kh, config_id, verdict, &err); /* logged and counted there */
}

cas_rc
casd_audit_in(struct cas_tx *tx, const uint8_t caller[32], const char *session, const char *verdict,
              struct cas_err *err)
{
    char kh[51];

    cas_keyhash_to_b58(caller, kh);
    return cas_store_audit_add(tx, time(NULL), kh, session, verdict, err);
}
