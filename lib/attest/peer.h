/*
 * peer.h - the attested join's decision (docs/operations.md, "Attested join"): may this casd
 * instance trust the evidence of another instance of the same CAS? A running instance asks it of
 * a newcomer before handing over the sealing key; the newcomer asks it of the running instance
 * before accepting a key from it. Pure: no I/O, no clock, no storage.
 *
 * The CAS's own policy: the same MRENCLAVE, or the same MRSIGNER and ISVPRODID with an ISVSVN not
 * lower than the one deciding (a running instance hands its key to an upgrade, never to an older
 * release; a newcomer accepts the key from an older release of its own signer, since only that
 * release's enclave could have sealed what the database holds). TD evidence: the same MRTD.
 * Simulated evidence only when this instance runs on the simulator itself, debug only when this
 * instance is in debug mode, never a Revoked platform, and a TCB status that an update cannot
 * fix (UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded) or
 * the very status of this instance's own platform.
 */
#ifndef CAS_ATTEST_PEER_H
#define CAS_ATTEST_PEER_H

#include <stdint.h>

#include <stdbool.h>

#include "attest/attest.h"
#include "dcap/tcb.h"

/* What an instance verified of its own evidence at start. */
struct cas_attest_self {
    enum cas_dcap_body body; /* CAS_DCAP_BODY_SGX, or a TD body */
    uint8_t mrenclave[32], mrsigner[32];
    uint8_t mrtd[48];
    unsigned isvprodid, isvsvn;
    bool simulator; /* this instance runs on the software TEE simulator */
    bool debug;
    enum cas_dcap_status status;
};

enum cas_attest_peer_role {
    CAS_PEER_NEWCOMER, /* the peer asks for the key: its ISVSVN must not be lower */
    CAS_PEER_SOURCE,   /* the peer hands over the key: any ISVSVN of the same signer */
};

/*
 * Decides whether ev (verified by the caller, or not: ev->failure then says why) is of an
 * instance of the same CAS as self. out->n is 0 when it is, else one problem line per failed
 * factor, in the words of service attestation ("Unexpected enclave measurement (MRENCLAVE, <seen>)
 * - Expected <want>").
 */
void cas_attest_peer(const struct cas_attest_self *self, const struct cas_attest_evidence *ev,
                     enum cas_attest_peer_role role, struct cas_attest_decision *out);

#endif
