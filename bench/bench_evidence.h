/* bench_evidence.h - the client side of a simulated service attestation, for the bench/
 * programs that attest (bench_service, bench_soak): a fresh P-256 client key, its self-signed
 * certificate, and the POST /v1/service/attest body whose simulated quote binds that key's hash,
 * as cas-run sends it. Header-only; its programs link cas_tee, cas_crypto, cas_util, jansson. */
#ifndef CAS_BENCH_EVIDENCE_H
#define CAS_BENCH_EVIDENCE_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pki.h"
#include "tee/provider.h"
#include "util/codec.h"

/* *body (malloc'd JSON text, "access_token" null) for config_id and a quote of the simulated
 * enclave mrenclave; *key and *cert are the caller's to free. False with err set on failure. */
static inline bool
bench_client_evidence(const uint8_t mrenclave[32], const char *config_id, const char *cn,
                      EVP_PKEY **key, X509 **cert, char **body, struct cas_err *err)
{
    struct cas_tee_options opt;
    struct cas_tee_provider *prov = NULL;
    struct cas_tee_evidence ev = {0};
    const struct cas_cert_spec spec = {CAS_CERT_TLS_CLIENT, cn, NULL, 0, 0, CAS_NOT_AFTER_NEVER};
    uint8_t rd[64] = {0};
    char *qb64 = NULL;
    json_t *doc = NULL;

    *key = NULL;
    *cert = NULL;
    *body = NULL;
    cas_tee_options_init(&opt);
    memcpy(opt.enclave.mrenclave, mrenclave, 32);
    if (cas_key_new_p256(key, err) == CAS_OK &&
        cas_cert_issue(&spec, *key, NULL, *key, cert, err) == CAS_OK &&
        cas_cert_key_hash(*cert, rd, err) == CAS_OK &&
        cas_tee_provider_new(&opt, &prov, err) == CAS_OK &&
        cas_tee_provider_get_evidence(prov, rd, &ev, err) == CAS_OK &&
        (qb64 = malloc(cas_b64_encoded_len(ev.quote_len) + 1)) != NULL) {
        cas_b64_encode(ev.quote, ev.quote_len, qb64, false);
        doc = json_pack("{s:s, s:{s:s, s:s}, s:o, s:n, s:[]}", "config_id", config_id, "evidence",
                        "type", ev.type, "quote", qb64, "collateral",
                        json_loadb(ev.collateral, ev.collateral_len, 0, NULL), "access_token",
                        "features");
        *body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    }
    json_decref(doc);
    free(qb64);
    cas_tee_evidence_release(&ev);
    cas_tee_provider_free(prov);
    if (*body == NULL && err->rc == CAS_OK)
        cas_err_set(err, CAS_E_NOMEM, "out of memory");
    return *body != NULL;
}

#endif
