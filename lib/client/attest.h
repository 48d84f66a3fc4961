/*
 * attest.h - deciding whether a CAS is trustworthy from its /v1/attest answer (api.md §2.3,
 * §3.1): the evidence through the DCAP verifier, the binding of the nonce and of the very
 * certificates that served the connection, the CAS key hash, the signer, MRENCLAVE, debug, the
 * TCB status against the tolerance flags. Every failing check adds one problem line in the
 * spec's words; nothing here does I/O or touches the CLI state.
 */
#ifndef CAS_CLIENT_ATTEST_H
#define CAS_CLIENT_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <stdbool.h>

#include "cas/err.h"

struct cas_dcap_verifier;

#define CAS_ATTEST_MAX_MRENCLAVES 16
#define CAS_ATTEST_MAX_PROBLEMS 12
#define CAS_ATTEST_LINE 1024

/* A parsed /v1/attest answer; strings are owned. */
struct cas_attest_report {
    char *version, *build_time, *tee, *evidence_type;
    uint8_t *quote;
    size_t quote_len;
    char *collateral; /* the collateral object as JSON text, or NULL when null */
    char *cas_certificate, *tls_certificate, *cas_key_hash;
};

struct cas_attest_expect {
    uint8_t mrenclaves[CAS_ATTEST_MAX_MRENCLAVES][32];
    size_t n_mrenclaves;
    bool ignore_signer;
    uint8_t mrsigner[32];
    unsigned isvprodid;
    bool has_isvsvn_min;
    unsigned isvsvn_min;
    bool has_key_hash;
    uint8_t key_hash[32];
    bool accept_out_of_date, accept_configuration, accept_sw_hardening; /* -G, -C, -S */
    bool debug, trust_any;                                              /* --only_for_testing */
};

struct cas_attest_outcome {
    unsigned n_problems;
    char problems[CAS_ATTEST_MAX_PROBLEMS][CAS_ATTEST_LINE];
    unsigned n_warnings;
    char warnings[4][CAS_ATTEST_LINE];
    /* What is pinned on success. */
    char mrenclave[65], mrsigner[65], tcb_status[64], root[64], evidence_type[16];
    unsigned isvprodid, isvsvn;
    bool debug, simulator;
    char *chain_pem; /* intermediate then root (owned) */
    char key_hash_b58[51];
};

cas_rc cas_attest_report_parse(const char *json, size_t len, struct cas_attest_report *r,
                               struct cas_err *err) CAS_MUST_CHECK;
void cas_attest_report_release(struct cas_attest_report *r);

/*
 * Runs every check. served: the chain that served the connection (leaf first), or NULL for an
 * offline report (the report's own certificates are bound then). nonce_len 0 skips the nonce.
 * cas: the CAS's name for messages. Returns CAS_OK when no problem was found; CAS_E_DENIED with
 * out->problems otherwise; another code only for failures that are not verdicts.
 */
cas_rc cas_attest_check(const struct cas_attest_report *r, const uint8_t *nonce, size_t nonce_len,
                        STACK_OF(X509) * served, const struct cas_attest_expect *e, int64_t at,
                        struct cas_dcap_verifier *v, const char *cas,
                        struct cas_attest_outcome *out, struct cas_err *err) CAS_MUST_CHECK;
void cas_attest_outcome_release(struct cas_attest_outcome *o);

/* A verifier trusting Intel's root and the simulator's (whose evidence the debug check judges). */
cas_rc cas_attest_verifier_new(struct cas_dcap_verifier **out, struct cas_err *err) CAS_MUST_CHECK;

#endif
