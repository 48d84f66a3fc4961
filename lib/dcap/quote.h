/*
 * quote.h - Intel DCAP quotes split into their parts: SGX quote v3 (ISV enclave report), TDX
 * quote v4 (TD report 1.0) and v5 (TD report 1.0 or 1.5 behind a body type), with the ECDSA
 * signature data and the certification data nested as they come (type 6, QE report
 * certification data, wrapping type 5, the PEM PCK chain; or type 5 directly in v3).
 *
 * cas_dcap_quote_parse() checks lengths and layout only: it verifies nothing and allocates
 * nothing; every span in the result borrows from the caller's buffer, which must outlive it.
 * Bytes after the quote's own length (fixed-size capture buffers) are ignored when they are
 * zero and refused otherwise. Thread safe (no state).
 */
#ifndef CAS_DCAP_QUOTE_H
#define CAS_DCAP_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"
#include "util/reader.h"

#define CAS_DCAP_QUOTE_MAX (64 * 1024) /* largest quote accepted, padding included */
#define CAS_DCAP_TEE_SGX 0x00000000u
#define CAS_DCAP_TEE_TDX 0x00000081u

enum cas_dcap_body { CAS_DCAP_BODY_SGX = 1, CAS_DCAP_BODY_TD10 = 2, CAS_DCAP_BODY_TD15 = 3 };

/* The 384-byte SGX report body (ISV enclave report and QE report), Intel's layout. */
struct cas_sgx_report {
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t isvextprodid[16];
    uint8_t attributes[16];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint8_t configid[64];
    uint16_t isvprodid, isvsvn, configsvn;
    uint8_t isvfamilyid[16];
    uint8_t report_data[64];
};

/* The TD report: 584 bytes (TD 1.0), 648 with TEE_TCB_SVN2 and MRSERVICETD (TD 1.5). */
struct cas_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48], mrsignerseam[48];
    uint8_t seam_attributes[8], td_attributes[8], xfam[8];
    uint8_t mrtd[48], mrconfigid[48], mrowner[48], mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    uint8_t tee_tcb_svn2[16]; /* TD 1.5 only, else zero */
    uint8_t mrservicetd[48];  /* TD 1.5 only, else zero */
};

struct cas_quote {
    uint16_t version;      /* 3, 4 or 5 */
    uint16_t att_key_type; /* 2: ECDSA-256-with-P-256 */
    uint32_t tee_type;     /* CAS_DCAP_TEE_SGX or CAS_DCAP_TEE_TDX */
    uint16_t qe_svn, pce_svn;
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    enum cas_dcap_body body_type;
    struct cas_sgx_report sgx;       /* body_type CAS_DCAP_BODY_SGX */
    struct cas_td_report td;         /* body_type TD10 / TD15 */
    struct cas_span signed_part;     /* header and body: what the attestation key signs */
    uint8_t signature[64];           /* r||s by the attestation key */
    uint8_t attest_key[64];          /* x||y, P-256 */
    struct cas_span qe_report_bytes; /* the 384 bytes the PCK key signs */
    struct cas_sgx_report qe_report; /* the same, decoded */
    uint8_t qe_report_signature[64]; /* r||s by the PCK key */
    struct cas_span qe_auth_data;
    uint16_t cert_type;        /* innermost certification data type: 5 */
    struct cas_span cert_data; /* PEM PCK chain: leaf, PCK CA, root */
    size_t quote_len;          /* the structural length, without padding */
};

/* Splits quote (len bytes, at most CAS_DCAP_QUOTE_MAX) into q. CAS_E_INVALID names the byte. */
cas_rc cas_dcap_quote_parse(const uint8_t *quote, size_t len, struct cas_quote *q,
                            struct cas_err *err) CAS_MUST_CHECK;

/* "sgx-dcap-v3", "tdx-v4", "tdx-v5": the evidence type of api.md §1. */
const char *cas_dcap_quote_evidence_type(const struct cas_quote *q);

#endif
