/*
 * pccs.h - DCAP collateral from a PCCS-compatible service (Intel PCS / PCCS API v4 paths:
 * /{sgx,tdx}/certification/v4/tcb, /qe/identity, /sgx/certification/v4/pckcrl and /rootcacrl,
 * issuer chains in the response headers) over HTTPS with libcurl; plain http only to a
 * loopback address (tests). What it fetches is cached in memory by what identifies it (TEE,
 * FMSPC, PCK CA) and dropped at the earliest nextUpdate of its parts; nothing fetched is
 * trusted: lib/dcap verifies it. Thread safe: one client may serve many threads.
 */
#ifndef CAS_CLIENT_PCCS_H
#define CAS_CLIENT_PCCS_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"
#include "dcap/collateral.h"
#include "dcap/quote.h"

#define CAS_PCCS_BODY_MAX (1024 * 1024)
#define CAS_PCCS_TIMEOUT_MS 15000L

struct cas_pccs;

/* base_url: "https://host[:port]" with an optional path prefix, no trailing slash needed. */
cas_rc cas_pccs_new(const char *base_url, struct cas_pccs **out,
                    struct cas_err *err) CAS_MUST_CHECK;
void cas_pccs_free(struct cas_pccs *p);

/*
 * The collateral for quote q (its TEE, and the FMSPC and CA of its PCK certificate), from the
 * cache while at is before its earliest nextUpdate, else fetched. out is initialised here and
 * sealed; release it with cas_dcap_collateral_release().
 */
cas_rc cas_pccs_collateral(struct cas_pccs *p, const struct cas_quote *q, int64_t at,
                           struct cas_dcap_collateral *out, struct cas_err *err) CAS_MUST_CHECK;

/* Requests sent so far (tests check that the cache spares them). */
unsigned long cas_pccs_requests(struct cas_pccs *p);

#endif
