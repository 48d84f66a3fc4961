/*
 * selfattest.h - casd's own evidence (api.md §2.3): the TEE provider, what casd measured of
 * itself (verified once at start through the same DCAP verifier clients use, so the status page
 * shows the verifier's verdict, never an invented value), and GET /v1/attest.
 */
#ifndef CASD_SELFATTEST_H
#define CASD_SELFATTEST_H

#include <stdint.h>

#include <pthread.h>
#include <stdbool.h>

#include "attest/peer.h"
#include "cas/err.h"
#include "util/config.h"

/* The name casd's verifier gives the simulator's root (cas_dcap_verdict.root). */
#define CASD_SIM_ROOT_NAME "CAS TEE Simulator Root CA"

struct cas_tee_provider;
struct cas_tee_evidence;
struct cas_dcap_verifier;
struct cas_http_req;
struct casd;

struct casd_tee {
    struct cas_tee_provider *provider; /* not thread safe: under lock */
    pthread_mutex_t lock;
    struct cas_dcap_verifier *verifier; /* Intel's root and the simulator's; thread safe */
    bool measured;
    struct cas_attest_self self; /* the same, for the attested join's decision */
    char mrenclave[65], mrsigner[65];
    unsigned isvprodid, isvsvn;
    bool debug;
    char tcb_status[64];
    char advisories[1024]; /* "INTEL-SA-00828, INTEL-SA-00837" or "none" */
};

/* Sets up the provider named by `tee` with the sim_* settings of cfg and verifies casd's own
 * evidence once. */
cas_rc casd_tee_init(struct casd_tee *t, const struct cas_config *cfg,
                     struct cas_err *err) CAS_MUST_CHECK;
void casd_tee_release(struct casd_tee *t);

/* casd's evidence for report data rd, from the provider under its lock; a failure is logged. */
cas_rc casd_tee_evidence(struct casd_tee *t, const uint8_t rd[64], struct cas_tee_evidence *ev,
                         struct cas_err *err) CAS_MUST_CHECK;

/* GET /v1/attest?nonce=<hex> */
void casd_handle_attest(struct cas_http_req *req);

#endif
