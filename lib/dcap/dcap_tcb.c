/*
 * dcap_tcb.c - Intel's TCB level algorithm (SGX: PCK component SVNs and PCESVN; TDX: also
 * TEE_TCB_SVN and the TDX module identity; TD 1.5: the relaunch advice) and the QE identity
 * check, as documented in Intel's PCS API ("TCB Info" evaluation) and implemented by Intel's
 * QVL (TcbLevelCheck, TdxModuleCheck, TDRelaunchCheck, EnclaveReportVerifier).
 */
#include <stdint.h>

#include <stdio.h>
#include <string.h>

#include "dcap/tcb.h"

static bool
config_needed(enum cas_dcap_status s)
{
    return s == CAS_DCAP_CONFIGURATION_NEEDED || s == CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED ||
           s == CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* An out-of-date QE or TDX module makes the platform out of date, keeping "configuration". */
static enum cas_dcap_status
converge(enum cas_dcap_status level, enum cas_dcap_status part)
{
    if (part == CAS_DCAP_REVOKED)
        return CAS_DCAP_REVOKED;
    if (part != CAS_DCAP_OUT_OF_DATE)
        return level;
    if (level == CAS_DCAP_UP_TO_DATE || level == CAS_DCAP_SW_HARDENING_NEEDED)
        return CAS_DCAP_OUT_OF_DATE;
    if (level == CAS_DCAP_CONFIGURATION_NEEDED ||
        level == CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED)
        return CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED;
    return level;
}

cas_rc
cas_dcap_qe_identity_check(const struct cas_dcap_qe_identity *qi, const struct cas_sgx_report *qe,
                           enum cas_dcap_status *status, struct cas_err *err)
{
    if (memcmp(qi->mrsigner, qe->mrsigner, 32) != 0)
        return cas_err_set(err, CAS_E_DENIED, "QE MRSIGNER is not the one of the QE identity");
    if (qi->isvprodid != qe->isvprodid)
        return cas_err_set(err, CAS_E_DENIED, "QE ISVPRODID %u is not the QE identity's %u",
                           qe->isvprodid, qi->isvprodid);
    if ((qe->miscselect & qi->miscselect_mask) != qi->miscselect)
        return cas_err_set(err, CAS_E_DENIED, "QE MISCSELECT does not match the QE identity");
    for (unsigned i = 0; i < 16; i++) {
        if ((qe->attributes[i] & qi->attributes_mask[i]) != qi->attributes[i])
            return cas_err_set(err, CAS_E_DENIED, "QE attributes do not match the QE identity");
    }
    for (unsigned i = 0; i < qi->level_count; i++) {
        if (qe->isvsvn >= qi->levels[i].isvsvn) {
            *status = qi->levels[i].status;
            return CAS_OK;
        }
    }
    return cas_err_set(err, CAS_E_DENIED,
                       "TcbNotSupported: QE ISVSVN %u is below every level of the QE identity",
                       qe->isvsvn);
}

static bool
sgx_reaches(const struct cas_dcap_pck_tcb *pck, const struct cas_dcap_tcb_level *l)
{
    for (unsigned i = 0; i < 16; i++) {
        if (pck->comp[i] < l->sgx[i])
            return false;
    }
    return pck->pcesvn >= l->pcesvn;
}

/* TEE_TCB_SVN[0..1] are the TDX module's SVN and version when [1] > 0: judged apart. */
static bool
tdx_reaches(const uint8_t svn[16], const struct cas_dcap_tcb_level *l)
{
    for (unsigned i = svn[1] > 0 ? 2 : 0; i < 16; i++) {
        if (svn[i] < l->tdx[i])
            return false;
    }
    return true;
}

static const struct cas_dcap_tdx_module *
find_module(const struct cas_dcap_tcb_info *ti, uint8_t version)
{
    char want[16];

    (void)snprintf(want, sizeof(want), "TDX_%02X", version);
    for (unsigned i = 0; i < ti->module_count; i++) {
        char id[16];
        for (unsigned k = 0; k < sizeof(id); k++)
            id[k] = (char)(ti->modules[i].id[k] >= 'a' && ti->modules[i].id[k] <= 'z'
                               ? ti->modules[i].id[k] - 'a' + 'A'
                               : ti->modules[i].id[k]);
        if (strcmp(id, want) == 0)
            return &ti->modules[i];
    }
    return NULL;
}

static cas_rc
add_advisories(struct cas_dcap_advisories *to, const struct cas_dcap_advisories *from,
               struct cas_err *err)
{
    for (unsigned i = 0; i < from->count; i++) {
        if (!cas_dcap_advisories_add(to, from->id[i]))
            return cas_err_set(err, CAS_E_INVALID, "Too many advisory IDs");
    }
    return CAS_OK;
}

/* The module identity TDX_<version> and its first level the module's SVN reaches. */
static cas_rc
module_status(const struct cas_dcap_tcb_info *ti, const uint8_t svn[16],
              const struct cas_dcap_module_level **out, struct cas_err *err)
{
    const struct cas_dcap_tdx_module *m = find_module(ti, svn[1]);

    *out = NULL;
    if (m == NULL)
        return cas_err_set(err, CAS_E_DENIED, "TDX module TDX_%02X has no identity in the TCB info",
                           svn[1]);
    for (unsigned i = 0; i < m->level_count; i++) {
        if (svn[0] >= m->levels[i].isvsvn) {
            *out = &m->levels[i];
            return CAS_OK;
        }
    }
    return cas_err_set(err, CAS_E_DENIED,
                       "TcbNotSupported: TDX module SVN %u is below every level of %s", svn[0],
                       m->id);
}

/* TD 1.5: a TD whose TDX part is out of date only for want of a relaunch is told so. */
static enum cas_dcap_status
relaunch(const struct cas_dcap_tcb_info *ti, const uint8_t svn2[16], enum cas_dcap_status sgx,
         enum cas_dcap_status tdx, bool module_out_of_date, enum cas_dcap_status qe)
{
    const struct cas_dcap_tcb_level *latest = &ti->levels[0];
    uint8_t need0 = latest->tdx[0];

    if (qe == CAS_DCAP_OUT_OF_DATE || qe == CAS_DCAP_REVOKED)
        return tdx;
    if (sgx != CAS_DCAP_UP_TO_DATE && sgx != CAS_DCAP_SW_HARDENING_NEEDED &&
        sgx != CAS_DCAP_CONFIGURATION_NEEDED &&
        sgx != CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED)
        return tdx;
    if ((tdx != CAS_DCAP_OUT_OF_DATE && tdx != CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED) ||
        !module_out_of_date)
        return tdx;
    if (svn2[1] != 0) {
        const struct cas_dcap_tdx_module *m = find_module(ti, svn2[1]);
        if (m == NULL || m->level_count == 0)
            return tdx;
        need0 = m->levels[0].isvsvn;
    }
    if (svn2[0] < need0 || svn2[2] < latest->tdx[2])
        return tdx;
    return config_needed(sgx) || config_needed(tdx)
               ? CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
               : CAS_DCAP_TD_RELAUNCH_ADVISED;
}

static cas_rc
evaluate_tdx(const struct cas_dcap_tcb_info *ti, const struct cas_quote *q,
             const struct cas_dcap_tcb_level *sgx_level, const struct cas_dcap_tcb_level *tdx_level,
             enum cas_dcap_status qe_status, struct cas_dcap_tcb_result *out, struct cas_err *err)
{
    const uint8_t *svn = q->td.tee_tcb_svn;
    const struct cas_dcap_module_level *ml = NULL;
    enum cas_dcap_status st;
    cas_rc rc;

    if (tdx_level == NULL)
        return cas_err_set(err, CAS_E_DENIED,
                           "TcbNotSupported: the TEE TCB SVN is below every level the PCK reaches");
    st = tdx_level->status;
    if ((rc = add_advisories(&out->advisories, &tdx_level->advisories, err)) != CAS_OK)
        return rc;
    if (svn[1] != 0) {
        if ((rc = module_status(ti, svn, &ml, err)) != CAS_OK)
            return rc;
        out->has_module_status = true;
        out->module_status = ml->status;
        st = converge(st, ml->status);
        if ((rc = add_advisories(&out->advisories, &ml->advisories, err)) != CAS_OK)
            return rc;
    }
    if (st != CAS_DCAP_REVOKED && q->body_type == CAS_DCAP_BODY_TD15)
        st = relaunch(ti, q->td.tee_tcb_svn2, sgx_level->status, st,
                      ml != NULL && ml->status == CAS_DCAP_OUT_OF_DATE, qe_status);
    out->platform_status = tdx_level->status;
    out->tcb_date = tdx_level->tcb_date;
    out->status = st;
    return CAS_OK;
}

cas_rc
cas_dcap_tcb_evaluate(const struct cas_dcap_tcb_info *ti, const struct cas_dcap_pck_tcb *pck,
                      const struct cas_quote *q, enum cas_dcap_status qe_status,
                      struct cas_dcap_tcb_result *out, struct cas_err *err)
{
    const struct cas_dcap_tcb_level *sgx_level = NULL, *tdx_level = NULL;
    bool is_tdx = ti->is_tdx && q->tee_type == CAS_DCAP_TEE_TDX;
    cas_rc rc;

    memset(out, 0, sizeof(*out));
    out->qe_status = qe_status;
    for (unsigned i = 0; i < ti->level_count; i++) {
        const struct cas_dcap_tcb_level *l = &ti->levels[i];
        if (!sgx_reaches(pck, l))
            continue;
        if (sgx_level == NULL)
            sgx_level = l;
        if (!is_tdx)
            break;
        if (tdx_reaches(q->td.tee_tcb_svn, l)) {
            tdx_level = l;
            break;
        }
    }
    if (sgx_level == NULL)
        return cas_err_set(err, CAS_E_DENIED,
                           "TcbNotSupported: the PCK's SGX TCB is below every level of the TCB "
                           "info");
    if (is_tdx) {
        if ((rc = evaluate_tdx(ti, q, sgx_level, tdx_level, qe_status, out, err)) != CAS_OK)
            return rc;
    } else {
        out->platform_status = sgx_level->status;
        out->tcb_date = sgx_level->tcb_date;
        out->status = sgx_level->status;
        if ((rc = add_advisories(&out->advisories, &sgx_level->advisories, err)) != CAS_OK)
            return rc;
    }
    out->status = converge(out->status, qe_status);
    return CAS_OK;
}
