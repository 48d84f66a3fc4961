/*
 * tcb.h - the signed collateral parsed (Intel PCS TCB Info v2/v3 for SGX and TDX, Enclave
 * Identity v2 for QE and TD_QE) and Intel's TCB level algorithm over it.
 *
 * The parsers take the PCS body ({"tcbInfo":{...},"signature":"<hex r||s>"}), find the exact
 * bytes of the inner object (what the signature covers: never re-serialised) and decode it with
 * jansson; they check shape and ceilings, not the signature (dcap_verify.c does). The results
 * own their memory (free with the _free calls, which accept NULL) and borrow nothing.
 * Evaluation is pure: no I/O, no clock, thread safe.
 */
#ifndef CAS_DCAP_TCB_H
#define CAS_DCAP_TCB_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"
#include "dcap/quote.h"

#define CAS_DCAP_BODY_MAX (512 * 1024) /* TCB info / QE identity body */
#define CAS_DCAP_MAX_LEVELS 128
#define CAS_DCAP_MAX_ADVISORIES 64
#define CAS_DCAP_ADVISORY_LEN 32 /* "INTEL-SA-00615" and its terminator fit with room */
#define CAS_DCAP_MAX_MODULES 16

enum cas_dcap_status {
    CAS_DCAP_UP_TO_DATE = 0,
    CAS_DCAP_SW_HARDENING_NEEDED,
    CAS_DCAP_CONFIGURATION_NEEDED,
    CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    CAS_DCAP_OUT_OF_DATE,
    CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED,
    CAS_DCAP_TD_RELAUNCH_ADVISED,
    CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    CAS_DCAP_REVOKED,
};

/* The PCS spelling ("UpToDate", ...). */
const char *cas_dcap_status_name(enum cas_dcap_status s);
/* The reverse; false for anything else. */
bool cas_dcap_status_parse(const char *s, enum cas_dcap_status *out);

struct cas_dcap_advisories {
    unsigned count;
    char id[CAS_DCAP_MAX_ADVISORIES][CAS_DCAP_ADVISORY_LEN];
};

struct cas_dcap_tcb_level {
    uint8_t sgx[16];
    uint16_t pcesvn;
    uint8_t tdx[16]; /* TDX TCB info only */
    enum cas_dcap_status status;
    int64_t tcb_date;
    struct cas_dcap_advisories advisories;
};

struct cas_dcap_module_level {
    uint8_t isvsvn;
    enum cas_dcap_status status;
    struct cas_dcap_advisories advisories;
};

/* tdxModule (id "") and each of tdxModuleIdentities ("TDX_01", ...). */
struct cas_dcap_tdx_module {
    char id[16];
    uint8_t mrsigner[48];
    uint8_t attributes[8], attributes_mask[8];
    unsigned level_count;
    struct cas_dcap_module_level *levels;
};

struct cas_dcap_tcb_info {
    bool is_tdx; /* id "TDX" (v3 only); v2 and id "SGX" are SGX */
    unsigned version;
    int64_t issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    unsigned tcb_type, eval_number;
    unsigned level_count;
    struct cas_dcap_tcb_level *levels; /* in the order given: Intel lists them highest first */
    bool has_module;
    struct cas_dcap_tdx_module module;
    unsigned module_count;
    struct cas_dcap_tdx_module modules[CAS_DCAP_MAX_MODULES];
    uint8_t signature[64];
    uint8_t signed_digest[32]; /* SHA-256 of the exact signed bytes */
};

struct cas_dcap_qe_level {
    uint16_t isvsvn;
    enum cas_dcap_status status;
    int64_t tcb_date;
    struct cas_dcap_advisories advisories;
};

struct cas_dcap_qe_identity {
    bool is_td_qe; /* id "TD_QE", else "QE" */
    unsigned version;
    int64_t issue_date, next_update;
    unsigned eval_number;
    uint32_t miscselect, miscselect_mask;
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    unsigned level_count;
    struct cas_dcap_qe_level *levels;
    uint8_t signature[64];
    uint8_t signed_digest[32];
};

cas_rc cas_dcap_tcb_info_parse(const uint8_t *body, size_t len, struct cas_dcap_tcb_info **out,
                               struct cas_err *err) CAS_MUST_CHECK;
void cas_dcap_tcb_info_free(struct cas_dcap_tcb_info *ti);
cas_rc cas_dcap_qe_identity_parse(const uint8_t *body, size_t len,
                                  struct cas_dcap_qe_identity **out,
                                  struct cas_err *err) CAS_MUST_CHECK;
void cas_dcap_qe_identity_free(struct cas_dcap_qe_identity *qi);

/* What the PCK certificate says of the platform (dcap/pck.h fills it). */
struct cas_dcap_pck_tcb {
    uint8_t comp[16];
    uint16_t pcesvn;
};

struct cas_dcap_tcb_result {
    enum cas_dcap_status status;
    enum cas_dcap_status platform_status, qe_status;
    bool has_module_status;
    enum cas_dcap_status module_status;
    int64_t tcb_date;
    struct cas_dcap_advisories advisories;
};

/*
 * The QE report against the QE identity (Intel QVL EnclaveReportVerifier): MRSIGNER, ISVPRODID,
 * MISCSELECT and attributes under their masks, then the status of the first level whose ISVSVN
 * the QE reaches. CAS_E_DENIED names the field that differs, or says no level matches.
 */
cas_rc cas_dcap_qe_identity_check(const struct cas_dcap_qe_identity *qi,
                                  const struct cas_sgx_report *qe, enum cas_dcap_status *status,
                                  struct cas_err *err) CAS_MUST_CHECK;

/*
 * Intel's TCB evaluation (QVL TcbLevelCheck, TdxModuleCheck, TDRelaunchCheck): the first level
 * the PCK's SGX components and PCESVN (and for TDX the TEE_TCB_SVN, from index 2 when
 * TEE_TCB_SVN[1] > 0) reach, the TDX module identity TDX_<TEE_TCB_SVN[1]>, and the QE status,
 * converged into one status; the advisories of the matched levels. CAS_E_DENIED when no level
 * matches ("TcbNotSupported") or the TDX module has no identity; the message says which.
 */
cas_rc cas_dcap_tcb_evaluate(const struct cas_dcap_tcb_info *ti, const struct cas_dcap_pck_tcb *pck,
                             const struct cas_quote *q, enum cas_dcap_status qe_status,
                             struct cas_dcap_tcb_result *out, struct cas_err *err) CAS_MUST_CHECK;

/* Adds id to a set (no duplicates); false when the set is full. */
bool cas_dcap_advisories_add(struct cas_dcap_advisories *a, const char *id);

#endif
