/*
 * evjson.h - evidence in the JSON of the APIs (api.md §1, §2.3, §2.4): {"type", "quote": base64}
 * and its collateral, as casd's /v1/attest, the launcher and the attested join send them.
 */
#ifndef CAS_CLIENT_EVJSON_H
#define CAS_CLIENT_EVJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cas/err.h"
#include "tee/provider.h"

/* Base64 of p as a JSON string (NULL when out of memory); the temporary text is wiped. */
json_t *cas_json_b64(const uint8_t *p, size_t n);

/*
 * *evidence = {"type", "quote"} of ev; *collateral = its collateral parsed, or JSON null for
 * hardware evidence (the verifier fetches it). Both new references; nothing is set on failure.
 */
cas_rc cas_evidence_to_json(const struct cas_tee_evidence *ev, json_t **evidence,
                            json_t **collateral, struct cas_err *err) CAS_MUST_CHECK;

#endif
