/*
 * collateral.h - the collateral a DCAP quote is verified against, as bytes: the PCS bodies of
 * TCB info and QE identity (exact bytes: their signatures cover them), three PEM issuer chains
 * and two DER CRLs (api.md §1). Built from a folder laid out like tests/data/dcap/<case>/,
 * from the api.md §1 JSON object, or field by field (lib/client/pccs.c); nothing here parses
 * or verifies what the bytes say (dcap_verify.c does).
 *
 * A struct cas_dcap_collateral owns copies of its bytes; cas_dcap_collateral_seal() checks that
 * every field is present and within its ceiling and computes `id`, the SHA-256 that identifies
 * the set in the verifier's cache. Not thread safe while being built; read-only afterwards.
 */
#ifndef CAS_DCAP_COLLATERAL_H
#define CAS_DCAP_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <stdbool.h>

#include "cas/err.h"

enum cas_dcap_field {
    CAS_DCAP_TCB_INFO = 0,
    CAS_DCAP_QE_IDENTITY,
    CAS_DCAP_TCB_INFO_ISSUER_CHAIN,
    CAS_DCAP_QE_IDENTITY_ISSUER_CHAIN,
    CAS_DCAP_PCK_CRL_ISSUER_CHAIN,
    CAS_DCAP_PCK_CRL,
    CAS_DCAP_ROOT_CA_CRL,
    CAS_DCAP_FIELD_COUNT
};

#define CAS_DCAP_FIELD_MAX (512 * 1024) /* any one collateral item */

struct cas_dcap_blob {
    uint8_t *p; /* NUL-terminated copy (the terminator is not counted in len) */
    size_t len;
};

struct cas_dcap_collateral {
    struct cas_dcap_blob f[CAS_DCAP_FIELD_COUNT];
    uint8_t id[32]; /* set by cas_dcap_collateral_seal() */
    bool sealed;
};

/* The api.md §1 JSON key of a field ("tcb_info", ...), also the file name without extension. */
const char *cas_dcap_field_name(enum cas_dcap_field f);
/* The file name in a testdata-style folder ("tcb_info.json", "pck_crl.der", ...). */
const char *cas_dcap_field_file(enum cas_dcap_field f);

void cas_dcap_collateral_init(struct cas_dcap_collateral *c);
void cas_dcap_collateral_release(struct cas_dcap_collateral *c);
/* Copies len bytes into field f (replacing it); unseals c. */
cas_rc cas_dcap_collateral_set(struct cas_dcap_collateral *c, enum cas_dcap_field f, const void *p,
                               size_t len, struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_dcap_collateral_seal(struct cas_dcap_collateral *c, struct cas_err *err) CAS_MUST_CHECK;

/* Reads the seven files of dir into c (initialised here) and seals it. */
cas_rc cas_dcap_collateral_from_dir(const char *dir, struct cas_dcap_collateral *c,
                                    struct cas_err *err) CAS_MUST_CHECK;
/* Parses the api.md §1 JSON object (CRLs in base64 DER) into c (initialised here), sealed. */
cas_rc cas_dcap_collateral_from_json(const char *text, size_t len, struct cas_dcap_collateral *c,
                                     struct cas_err *err) CAS_MUST_CHECK;
/* The same from an already parsed JSON object (borrowed). */
cas_rc cas_dcap_collateral_from_object(const json_t *root, struct cas_dcap_collateral *c,
                                       struct cas_err *err) CAS_MUST_CHECK;
/* The api.md §1 JSON object of a sealed c: a malloc'd, terminated string in *out. */
cas_rc cas_dcap_collateral_to_json(const struct cas_dcap_collateral *c, char **out,
                                   struct cas_err *err) CAS_MUST_CHECK;

/*
 * Times: "2025-06-19T10:56:11Z" (PCS fields; RFC 3339 with optional fraction and numeric
 * offset) or, when unix_ok, decimal Unix seconds. False for anything else.
 */
bool cas_dcap_time_parse(const char *s, size_t len, bool unix_ok, int64_t *out);
/* Seconds since the epoch of a UTC civil time (year >= 0; fields not range-checked). */
int64_t cas_dcap_time_from_civil(int64_t year, unsigned month, unsigned day, unsigned hour,
                                 unsigned min, unsigned sec);
/* "2025-06-19T10:56:11Z" into out[21]. */
void cas_dcap_time_format(int64_t t, char out[21]);

#endif
