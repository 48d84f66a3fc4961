/*
 * peer.c - the attested join's decision (peer.h): the CAS's own policy applied to the evidence of
 * another instance.
 */
#include "attest/peer.h"

#include <openssl/crypto.h>
#include <string.h>

#include "util/codec.h"

/* Statuses a platform cannot fix by a microcode or TCB update. */
static bool
status_final(enum cas_dcap_status s)
{
    return s == CAS_DCAP_UP_TO_DATE || s == CAS_DCAP_SW_HARDENING_NEEDED ||
           s == CAS_DCAP_CONFIGURATION_NEEDED ||
           s == CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED;
}

static void
check_sgx(const struct cas_attest_self *self, const struct cas_sgx_report *r,
          enum cas_attest_peer_role role, struct cas_attest_decision *d)
{
    char seen[65], want[65];

    if (CRYPTO_memcmp(r->mrenclave, self->mrenclave, 32) == 0)
        return;
    if (CRYPTO_memcmp(r->mrsigner, self->mrsigner, 32) == 0 && r->isvprodid == self->isvprodid &&
        (role == CAS_PEER_SOURCE || r->isvsvn >= self->isvsvn))
        return;
    cas_hex_encode(r->mrenclave, 32, seen);
    cas_hex_encode(self->mrenclave, 32, want);
    cas_attest_problem(d, "Unexpected enclave measurement (MRENCLAVE, %s) - Expected %s", seen,
                       want);
    if (CRYPTO_memcmp(r->mrsigner, self->mrsigner, 32) != 0) {
        cas_hex_encode(r->mrsigner, 32, seen);
        cas_hex_encode(self->mrsigner, 32, want);
        cas_attest_problem(d, "Unexpected enclave signer (MRSIGNER, %s) - Expected %s", seen, want);
        return;
    }
    if (r->isvprodid != self->isvprodid)
        cas_attest_problem(d, "Unexpected product (ISVPRODID, %u) - Expected %u", r->isvprodid,
                           self->isvprodid);
    else
        cas_attest_problem(d,
                           "Unexpected security version (ISVSVN, %u) - Expected at least %u (an "
                           "instance never hands its key to an older release)",
                           r->isvsvn, self->isvsvn);
}

void
cas_attest_peer(const struct cas_attest_self *self, const struct cas_attest_evidence *ev,
                enum cas_attest_peer_role role, struct cas_attest_decision *out)
{
    const struct cas_dcap_verdict *vd = ev->vd;

    memset(out, 0, sizeof(*out));
    if (!ev->present) {
        cas_attest_problem(out, "No evidence - Expected the evidence of a casd instance");
        return;
    }
    if (!ev->verified || vd == NULL) {
        cas_attest_problem(out, "Evidence does not verify: %s",
                           ev->failure != NULL ? ev->failure : "?");
        return;
    }
    if ((vd->quote.body_type == CAS_DCAP_BODY_SGX) != (self->body == CAS_DCAP_BODY_SGX)) {
        cas_attest_problem(out,
                           "Unexpected evidence type (%s) - Expected %s evidence, as this "
                           "instance's own",
                           vd->evidence_type != NULL ? vd->evidence_type : "?",
                           self->body == CAS_DCAP_BODY_SGX ? "SGX" : "TDX");
        return;
    }
    if (vd->quote.body_type == CAS_DCAP_BODY_SGX) {
        check_sgx(self, &vd->quote.sgx, role, out);
    } else if (CRYPTO_memcmp(vd->quote.td.mrtd, self->mrtd, 48) != 0) {
        char seen[97], want[97];
        cas_hex_encode(vd->quote.td.mrtd, 48, seen);
        cas_hex_encode(self->mrtd, 48, want);
        cas_attest_problem(out, "Unexpected TD measurement (MRTD, %s) - Expected %s", seen, want);
    }
    if (ev->simulator && !self->simulator)
        cas_attest_problem(out, "Evidence comes from the software TEE simulator - Expected "
                                "hardware evidence, as this instance runs on hardware");
    if (vd->debug && !self->debug)
        cas_attest_problem(out, "Enclave runs in debug mode - Expected a production enclave, as "
                                "this instance");
    if (ev->revoked)
        cas_attest_problem(out, "TCB status Revoked - no instance trusts a revoked platform");
    else if (!status_final(vd->status) && vd->status != self->status)
        cas_attest_problem(out,
                           "TCB status %s - Expected UpToDate, SWHardeningNeeded, "
                           "ConfigurationNeeded, ConfigurationAndSWHardeningNeeded or %s (this "
                           "instance's own): update the platform",
                           cas_dcap_status_name(vd->status), cas_dcap_status_name(self->status));
}
