/*
 * join.h - the attested join (docs/operations.md, "Several instances: the attested join"): how an
 * instance started on a database that already holds a CAS, without the sealing key, obtains it
 * from a running instance, and how a running instance decides to hand it over.
 *
 * Every running instance lists its enclave API address in cas_member. A newcomer takes a fresh
 * P-256 client key, and sends to one listed instance, over TLS that it trusts only with the CAS
 * root the database holds and DNS:cas (the enclave API's pin check):
 *   POST /v1/cas/join {"nonce": <64 hex>, "evidence": {"type", "quote": <base64>},
 *                      "collateral": {...} | null}
 * its quote's report data being SHA-256 of its client certificate's SubjectPublicKeyInfo and 32
 * zero bytes, as a service's. The running instance verifies it, applies the CAS's own policy
 * (attest/peer.h, role newcomer) and answers 403 {"msg": [...]} with every problem, or 200
 *   {"evidence": {"type", "quote"}, "collateral": {...} | null, "sealing_key": <base64>}
 * with its own evidence bound to the nonce, the newcomer's key and the CAS root
 * (cas_binding_join). The newcomer accepts the key only when that evidence satisfies the same
 * policy (role source) and the key opens the CAS root's sealed key in the database.
 */
#ifndef CASD_JOIN_H
#define CASD_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"

struct casd;
struct cas_store;
struct cas_secret;
struct cas_http_req;

/* Lists (or refreshes) this instance's enclave API address in cas_member, seen at now. */
cas_rc casd_member_register(struct cas_store *st, const char *instance_id, const char *addr,
                            int64_t now, struct cas_err *err) CAS_MUST_CHECK;
/* Removes this instance from cas_member (graceful stop); failures are logged only. */
void casd_member_unregister(struct cas_store *st, const char *instance_id);

/*
 * The address other instances reach this one's enclave API at: enclave_listen, with a wildcard
 * host (0.0.0.0, [::]) replaced by this machine's host name.
 */
void casd_member_address(const char *enclave_listen, char *out, size_t cap);

/*
 * The newcomer's side: asks the instances listed in the database, most recently seen first,
 * until one answers. CAS_OK: *key is the verified sealing key. CAS_E_DENIED: an instance refused
 * (err lists its problems) or one does not satisfy the CAS's policy itself; CAS_E_IO: none
 * answered (err names each address and why). d->tee and d->collateral_dir must be set up.
 */
cas_rc casd_join(struct casd *d, const char *instance_id, struct cas_secret **key,
                 struct cas_err *err) CAS_MUST_CHECK;

/* POST /v1/cas/join on the enclave API: the running instance's side. */
void casd_handle_join(struct cas_http_req *req);

#endif
