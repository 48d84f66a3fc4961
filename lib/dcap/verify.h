/*
 * verify.h - DCAP quote verification: a quote, its collateral, a verification time and the
 * trusted roots in; a verdict out (TCB status, advisories, platform, measurements) or the name
 * of the check that failed.
 *
 * Checks, in Intel QVL's order (docs/attestation.md): PCK chain to a trusted root, root CA CRL,
 * PCK CRL (issuer, signature, validity) and revocation; TCB info and QE identity (chain,
 * revocation, signature over the exact bytes, validity); collateral matching the quote (TEE
 * type, FMSPC, PCE ID); QE report signature by the PCK key; QE report data binding the
 * attestation key; the quote signature; QE identity; TCB level. Nothing reads the clock: the
 * time is an input.
 *
 * A struct cas_dcap_verifier holds the trusted roots and a cache of verified PCK chains and
 * verified collateral, each kept for the window in which every certificate, CRL and signed
 * collateral item it rests on is valid and dropped after it; a warm verification then costs
 * the two report signature checks. Thread safe: one verifier may serve many threads.
 */
#ifndef CAS_DCAP_VERIFY_H
#define CAS_DCAP_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <stdbool.h>

#include "cas/err.h"
#include "dcap/collateral.h"
#include "dcap/quote.h"
#include "dcap/tcb.h"

#define CAS_DCAP_MAX_ANCHORS 4
#define CAS_DCAP_CACHE_MAX 256 /* entries of each kind */

/* The checks a verification can fail, named in the verdict and the error message. */
enum cas_dcap_check {
    CAS_DCAP_CHECK_NONE = 0,
    CAS_DCAP_CHECK_QUOTE_FORMAT,
    CAS_DCAP_CHECK_COLLATERAL_FORMAT,
    CAS_DCAP_CHECK_PCK_CHAIN,
    CAS_DCAP_CHECK_ROOT_CA_CRL,
    CAS_DCAP_CHECK_PCK_CRL,
    CAS_DCAP_CHECK_PCK_REVOKED,
    CAS_DCAP_CHECK_TCB_INFO,
    CAS_DCAP_CHECK_QE_IDENTITY,
    CAS_DCAP_CHECK_TCB_INFO_MISMATCH,
    CAS_DCAP_CHECK_QE_REPORT_SIGNATURE,
    CAS_DCAP_CHECK_QE_REPORT_DATA,
    CAS_DCAP_CHECK_QUOTE_SIGNATURE,
    CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH,
    CAS_DCAP_CHECK_TCB_LEVEL,
    CAS_DCAP_CHECK_TCB_REVOKED,
    CAS_DCAP_CHECK_INTERNAL, /* out of memory or a library failure, not a verdict */
};

/* "pck-chain", "qe-report-data", ...: stable names for messages, JSON and tests. */
const char *cas_dcap_check_name(enum cas_dcap_check c);

/* A trusted root: the SHA-256 of its DER certificate and the name a verdict reports. */
struct cas_dcap_anchor {
    uint8_t sha256[32];
    char name[64];
};

/* Intel SGX Root CA, pinned by hash. */
void cas_dcap_anchor_intel(struct cas_dcap_anchor *a);
/* The first certificate of a PEM text (e.g. the simulator's root, or a test root). */
cas_rc cas_dcap_anchor_from_pem(const uint8_t *pem, size_t len, const char *name,
                                struct cas_dcap_anchor *a, struct cas_err *err) CAS_MUST_CHECK;

struct cas_dcap_verdict {
    enum cas_dcap_check failed; /* CAS_DCAP_CHECK_NONE when every check passed */
    const char *evidence_type;  /* "sgx-dcap-v3", "tdx-v4", "tdx-v5"; NULL before parsing */
    char root[64];              /* name of the anchor the chains end in */
    int64_t at;                 /* the verification time */
    bool has_status;            /* status and advisories are set */
    enum cas_dcap_status status;
    enum cas_dcap_status platform_status, qe_status;
    int64_t tcb_date;
    struct cas_dcap_advisories advisories;
    bool has_platform; /* fmspc, pce_id and platform_id are set */
    uint8_t fmspc[6], pce_id[2];
    uint8_t platform_id[32];    /* SHA-256(PPID || PCE ID), policy.md §5 */
    int64_t collateral_expires; /* the end of the window in which this verdict holds */
    bool debug;                 /* the SGX DEBUG attribute or the TD DEBUG attribute */
    struct cas_quote quote;     /* every measurement; its spans borrow the caller's quote */
};

struct cas_dcap_verifier;

/* A verifier trusting anchors[0..count) (1 to CAS_DCAP_MAX_ANCHORS). */
cas_rc cas_dcap_verifier_new(const struct cas_dcap_anchor *anchors, size_t count,
                             struct cas_dcap_verifier **out, struct cas_err *err) CAS_MUST_CHECK;
void cas_dcap_verifier_free(struct cas_dcap_verifier *v);
/* Cache counters since creation (for tests and benchmarks). */
void cas_dcap_verifier_stats(struct cas_dcap_verifier *v, unsigned long *hits,
                             unsigned long *misses);

/*
 * Verifies quote (len bytes) against the sealed collateral c at Unix time at. CAS_OK: out holds
 * the verdict, status determined and not Revoked. Otherwise out->failed names the check, err
 * says why (its outermost message starts "Check '<name>' failed"), and out keeps what was
 * learned before the failure (the quote's fields, the status of a Revoked TCB).
 */
cas_rc cas_dcap_verify(struct cas_dcap_verifier *v, const uint8_t *quote, size_t len,
                       const struct cas_dcap_collateral *c, int64_t at,
                       struct cas_dcap_verdict *out, struct cas_err *err) CAS_MUST_CHECK;

/*
 * The verdict as one JSON object, owned by the caller: failed_check (when a check failed),
 * evidence_type, debug, report (every measurement, lowercase hex), root, fmspc, platform_id,
 * tcb_status, advisory_ids, verified_at and, when verified, collateral_valid_until (RFC 3339).
 * Fields not learned before a failure are left out. NULL when out of memory.
 */
json_t *cas_dcap_verdict_json(const struct cas_dcap_verdict *v);

#endif
