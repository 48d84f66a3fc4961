/*
 * pck.h - the Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1: PPID, TCB
 * component SVNs, PCESVN, CPUSVN, PCE ID, FMSPC, SGX type), read with a bounded DER reader
 * (Intel SGX PCK Certificate and CRL Profile). Pure, allocation-free, thread safe.
 */
#ifndef CAS_DCAP_PCK_H
#define CAS_DCAP_PCK_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"
#include "dcap/tcb.h"

struct cas_dcap_pck_info {
    uint8_t ppid[16];
    struct cas_dcap_pck_tcb tcb; /* the 16 SGX TCB component SVNs and PCESVN */
    uint8_t cpusvn[16];
    uint8_t pce_id[2];
    uint8_t fmspc[6];
    unsigned sgx_type;
};

/* The DER value of the extension (the SEQUENCE inside its OCTET STRING). */
cas_rc cas_dcap_pck_ext_parse(const uint8_t *der, size_t len, struct cas_dcap_pck_info *out,
                              struct cas_err *err) CAS_MUST_CHECK;

struct cas_quote;

/*
 * The SGX extensions of the PCK certificate in a parsed quote, and whether the Platform CA
 * (else the Processor CA) issued it: what a collateral source needs to pick the TCB info and
 * PCK CRL. Verifies nothing.
 */
cas_rc cas_dcap_quote_pck(const struct cas_quote *q, struct cas_dcap_pck_info *out,
                          bool *platform_ca, struct cas_err *err) CAS_MUST_CHECK;

/* policy.md §5: SHA-256(PPID || PCE ID). */
void cas_dcap_platform_id(const struct cas_dcap_pck_info *pck, uint8_t out[32]);

#endif
