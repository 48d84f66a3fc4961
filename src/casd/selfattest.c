/*
 * selfattest.c - casd attesting itself (selfattest.h). Under the simulator casd measures its own
 * executable (/proc/self/exe), reports the release's ISVPRODID and ISVSVN and the signer of
 * sim_signing_key, and sends the simulator-signed collateral with every quote.
 */
#include "selfattest.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cas/version.h"
#include "casd.h"
#include "client/evjson.h"
#include "crypto/binding.h"
#include "crypto/pki.h"
#include "dcap/verify.h"
#include "tee/provider.h"
#include "tee/sim.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/log.h"

#define NONCE_MIN 16
#define NONCE_MAX 64

static cas_rc
sim_options(const struct cas_config *cfg, struct cas_tee_options *opt, struct cas_err *err)
{
    const char *st = cas_config_get(cfg, "sim_tcb_status");
    const char *key = cas_config_get(cfg, "sim_signing_key");
    const char *const *adv;
    size_t n_adv = 0;
    int fd;
    cas_rc rc;

    if ((rc = cas_tee_tcb_status_parse(st, &opt->sim.tcb_status, err)) != CAS_OK)
        return cas_err_wrap(err, "sim_tcb_status");
    adv = cas_config_get_list(cfg, "sim_advisories", &n_adv);
    if (n_adv > 0) {
        cas_tee_sim_config_clear_advisories(&opt->sim);
        for (size_t i = 0; i < n_adv; i++) {
            if (strcmp(adv[i], "none") == 0)
                continue;
            if ((rc = cas_tee_sim_config_add_advisory(&opt->sim, adv[i], err)) != CAS_OK)
                return cas_err_wrap(err, "sim_advisories");
        }
    }
    /* MRENCLAVE: casd's own executable, as cas-run --measure would print it (api.md §1.1). */
    if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
        return cas_err_set(err, CAS_E_IO, "cannot open casd's own executable to measure it");
    rc = cas_tee_sim_measure_fd(fd, opt->enclave.mrenclave, err);
    close(fd);
    if (rc != CAS_OK)
        return rc;
    if (key != NULL)
        rc = cas_tee_sim_mrsigner_from_file(key, opt->enclave.mrsigner, err);
    else
        rc = cas_tee_sim_mrsigner_from_pem(cas_tee_sim_signing_key_pem(),
                                           strlen(cas_tee_sim_signing_key_pem()),
                                           opt->enclave.mrsigner, err);
    if (rc != CAS_OK)
        return cas_err_wrap(err, "sim_signing_key");
    opt->enclave.isvprodid = CAS_RELEASE_ISVPRODID;
    opt->enclave.isvsvn = CAS_RELEASE_ISVSVN;
    return CAS_OK;
}

static cas_rc
make_verifier(struct casd_tee *t, struct cas_err *err)
{
    struct cas_dcap_anchor a[2];
    const char *pem = cas_tee_sim_root_pem();
    cas_rc rc;

    cas_dcap_anchor_intel(&a[0]);
    if ((rc = cas_dcap_anchor_from_pem((const uint8_t *)pem, strlen(pem), CASD_SIM_ROOT_NAME, &a[1],
                                       err)) != CAS_OK)
        return rc;
    return cas_dcap_verifier_new(a, 2, &t->verifier, err);
}

/* Verifies casd's own evidence once, so the status page shows what a client will see. */
static cas_rc
measure_self(struct casd_tee *t, struct cas_err *err)
{
    struct cas_tee_evidence ev = {0};
    struct cas_dcap_collateral c;
    struct cas_dcap_verdict vd;
    uint8_t rd[64] = {0};
    size_t off = 0;
    cas_rc rc;

    cas_dcap_collateral_init(&c);
    if ((rc = cas_tee_provider_get_evidence(t->provider, rd, &ev, err)) != CAS_OK)
        goto out;
    if (ev.collateral == NULL) {
        /* Hardware evidence: the verdict needs collateral casd fetches (issue 8). */
        rc = CAS_OK;
        goto out;
    }
    if ((rc = cas_dcap_collateral_from_json(ev.collateral, ev.collateral_len, &c, err)) != CAS_OK ||
        (rc = cas_dcap_verify(t->verifier, ev.quote, ev.quote_len, &c, (int64_t)time(NULL), &vd,
                              err)) != CAS_OK) {
        if (vd.failed != CAS_DCAP_CHECK_TCB_REVOKED)
            goto out;
        rc = CAS_OK; /* a revoked simulated platform is a configuration casd can show */
    }
    cas_hex_encode(vd.quote.sgx.mrenclave, 32, t->mrenclave);
    cas_hex_encode(vd.quote.sgx.mrsigner, 32, t->mrsigner);
    t->isvprodid = vd.quote.sgx.isvprodid;
    t->isvsvn = vd.quote.sgx.isvsvn;
    t->debug = vd.debug;
    (void)snprintf(t->tcb_status, sizeof(t->tcb_status), "%s",
                   vd.failed == CAS_DCAP_CHECK_TCB_REVOKED ? "Revoked"
                                                           : cas_dcap_status_name(vd.status));
    t->advisories[0] = '\0';
    for (unsigned i = 0; i < vd.advisories.count; i++) {
        off += (size_t)snprintf(t->advisories + off, sizeof(t->advisories) - off, "%s%s",
                                i ? ", " : "", vd.advisories.id[i]);
        if (off >= sizeof(t->advisories))
            break;
    }
    if (vd.advisories.count == 0)
        (void)snprintf(t->advisories, sizeof(t->advisories), "none");
    t->self.body = vd.quote.body_type;
    memcpy(t->self.mrenclave, vd.quote.sgx.mrenclave, 32);
    memcpy(t->self.mrsigner, vd.quote.sgx.mrsigner, 32);
    memcpy(t->self.mrtd, vd.quote.td.mrtd, 48);
    t->self.isvprodid = vd.quote.sgx.isvprodid;
    t->self.isvsvn = vd.quote.sgx.isvsvn;
    t->self.simulator = strcmp(vd.root, CASD_SIM_ROOT_NAME) == 0;
    t->self.debug = vd.debug;
    t->self.status = vd.status;
    t->measured = true;
out:
    cas_tee_evidence_release(&ev);
    cas_dcap_collateral_release(&c);
    return rc;
}

cas_rc
casd_tee_init(struct casd_tee *t, const struct cas_config *cfg, struct cas_err *err)
{
    struct cas_tee_options opt;
    cas_rc rc;

    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    cas_tee_options_init(&opt);
    opt.tee = cas_config_get(cfg, "tee");
    if (strcmp(opt.tee, "sim") == 0 && (rc = sim_options(cfg, &opt, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot set up the software TEE simulator");
    if ((rc = cas_tee_provider_new(&opt, &t->provider, err)) != CAS_OK ||
        (rc = make_verifier(t, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot set up the TEE provider '%s'", opt.tee);
    if ((rc = measure_self(t, err)) != CAS_OK)
        return cas_err_wrap(err, "casd's own evidence does not verify");
    return CAS_OK;
}

cas_rc
casd_tee_evidence(struct casd_tee *t, const uint8_t rd[64], struct cas_tee_evidence *ev,
                  struct cas_err *err)
{
    cas_rc rc;

    pthread_mutex_lock(&t->lock);
    rc = cas_tee_provider_get_evidence(t->provider, rd, ev, err);
    pthread_mutex_unlock(&t->lock);
    if (rc != CAS_OK)
        cas_log_err(CAS_LOG_ERROR, "casd.evidence_failed", err);
    return rc;
}

void
casd_tee_release(struct casd_tee *t)
{
    cas_tee_provider_free(t->provider);
    cas_dcap_verifier_free(t->verifier);
    pthread_mutex_destroy(&t->lock);
    memset(t, 0, sizeof(*t));
}

static bool
parse_nonce(const char *query, uint8_t *nonce, size_t *len)
{
    size_t hex;

    if (query == NULL || strncmp(query, "nonce=", 6) != 0)
        return false;
    query += 6;
    hex = strlen(query);
    if (hex < 2 * NONCE_MIN || hex > 2 * NONCE_MAX || hex % 2 != 0 ||
        !cas_hex_decode_exact(query, hex, nonce, hex / 2))
        return false;
    *len = hex / 2;
    return true;
}

void
casd_handle_attest(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_tee_evidence ev = {0};
    struct cas_err err = {0};
    uint8_t nonce[NONCE_MAX], rd[64];
    size_t nonce_len = 0;
    char *leaf_pem = NULL;
    json_t *evidence = NULL, *collateral = NULL, *answer;
    X509 *leaf;
    cas_rc rc;

    if (!parse_nonce(req->query, nonce, &nonce_len)) {
        const char *msgs[2] = {"Invalid nonce",
                               "give ?nonce= with 32 to 128 hex digits (16 to 64 bytes)"};
        cas_http_reply_msgs(req, 400, msgs, 2);
        return;
    }
    pthread_mutex_lock(&d->id_lock);
    leaf = d->identity.leaf;
    X509_up_ref(leaf);
    pthread_mutex_unlock(&d->id_lock);
    if (!cas_binding_cas(nonce, nonce_len, d->identity.root, d->identity.intermediate, leaf, rd) ||
        cas_cert_to_pem(leaf, &leaf_pem, &err) != CAS_OK) {
        X509_free(leaf);
        cas_err_set(&err, CAS_E_INTERNAL, "cannot compute the report data");
        cas_err_wrap(&err, "Failed to attest the CAS");
        cas_http_reply_err(req, &err);
        return;
    }
    X509_free(leaf);
    if ((rc = casd_tee_evidence(&d->tee, rd, &ev, &err)) != CAS_OK) {
        cas_err_wrap(&err, "Failed to attest the CAS");
        cas_http_reply_err(req, &err);
        free(leaf_pem);
        return;
    }
    if (cas_evidence_to_json(&ev, &evidence, &collateral, &err) != CAS_OK) {
        cas_tee_evidence_release(&ev);
        free(leaf_pem);
        cas_err_wrap(&err, "Failed to attest the CAS");
        cas_http_reply_err(req, &err);
        return;
    }
    answer = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s}", "version", CAS_VERSION,
                       "build_time", CAS_BUILD_TIME, "tee", d->tee_name, "evidence", evidence,
                       "collateral", collateral, "cas_certificate", d->identity.chain_pem,
                       "tls_certificate", leaf_pem, "cas_key_hash", d->identity.key_hash_b58);
    cas_http_reply_json(req, answer != NULL ? 200 : 500, answer);
    cas_tee_evidence_release(&ev);
    free(leaf_pem);
}
