/*
 * attest.h - the pure decision of service attestation (policy.md §5.1, §11; api.md §2.4): does
 * a verified piece of evidence satisfy a service's attestation variants, platforms, the session's
 * security section and its access token? Every failed factor becomes one problem line in the
 * spec's words, naming what was seen, what was expected, and the tolerance or mode that would
 * allow it. No I/O, no clock, no storage; config-fragment placeholders are resolved through a
 * callback the caller supplies.
 */
#ifndef CAS_ATTEST_ATTEST_H
#define CAS_ATTEST_ATTEST_H

#include <stddef.h>

#include <jansson.h>
#include <stdbool.h>

#include "cas/err.h"
#include "dcap/verify.h"
#include "policy/policy.h"

#define CAS_ATTEST_PROBLEMS 32
#define CAS_ATTEST_PROBLEM_LEN 768

struct cas_attest_evidence {
    bool present;                      /* evidence was sent */
    bool verified;                     /* the chain and collateral verified (Revoked included) */
    bool revoked;                      /* TCB status Revoked */
    const struct cas_dcap_verdict *vd; /* measurements and status, when verified */
    bool simulator;                    /* signed by the software TEE simulator's root */
    const char *failure;               /* why it did not verify, when present && !verified */
};

struct cas_attest_decision {
    bool wrong_token; /* the session wants an access token and the one given (or none) is wrong */
    unsigned n;
    char problems[CAS_ATTEST_PROBLEMS][CAS_ATTEST_PROBLEM_LEN];
};

/* The JSON value of config-fragment secret `secret` (borrowed), or NULL when it has none. */
typedef const json_t *(*cas_attest_fragment_fn)(void *ctx, const char *secret);

/*
 * Decides for service svc of session p. CAS_OK: out->n is 0 when everything holds, else the
 * problems in order (variants first, one line per failed factor; then platform, debug, mode,
 * TCB, access token). Other codes only for out-of-memory.
 */
cas_rc cas_attest_decide(const struct cas_policy *p, const struct cas_policy_service *svc,
                         const struct cas_attest_evidence *ev, const char *access_token,
                         cas_attest_fragment_fn fragment, void *ctx,
                         struct cas_attest_decision *out, struct cas_err *err) CAS_MUST_CHECK;

/* Appends one problem line (dropped once CAS_ATTEST_PROBLEMS are there). */
void cas_attest_problem(struct cas_attest_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
