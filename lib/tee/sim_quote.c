/*
 * sim_quote.c - the simulator object and its SGX quotes v3, laid out as Intel's "SGX ECDSA Quote
 * Library API" specifies (Appendix A, "Quote Format"): a 48-byte header, the 384-byte ISV
 * enclave report body, then the signature data (ISV signature, attestation key, QE report body,
 * QE report signature, QE authentication data, certification data type 5).
 * Never logs or exports the attestation or PCK private key.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/err_openssl.h"

#define QUOTE_VERSION 3
#define ATT_KEY_TYPE_ECDSA_P256 2
#define CERT_DATA_TYPE_PCK_CHAIN 5
#define QUOTE_MAX ((size_t)64 * 1024)

/* SGX ATTRIBUTES.FLAGS bits (Intel SDM Vol. 3D, "SECS"): INIT, DEBUG, MODE64BIT, PROVISIONKEY. */
#define SGX_FLAG_INIT 0x01
#define SGX_FLAG_DEBUG 0x02
#define SGX_FLAG_MODE64BIT 0x04
#define SGX_FLAG_PROVISIONKEY 0x10
#define SGX_XFRM_LEGACY_AVX 0x07 /* x87, SSE, AVX */

/* Intel's QE vendor ID, which verifiers expect in every ECDSA quote header. */
static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                               0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

static void
put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An SGX REPORT body (Intel SDM, "REPORT"): offsets 0 CPUSVN, 16 MISCSELECT, 48 ATTRIBUTES,
 * 64 MRENCLAVE, 128 MRSIGNER, 256 ISVPRODID, 258 ISVSVN, 320 REPORTDATA; the rest reserved. */
struct report_fields {
    uint8_t flags;
    const uint8_t *mrenclave, *mrsigner, *report_data;
    uint16_t isvprodid, isvsvn;
};

static void
build_report_body(const struct report_fields *f, uint8_t body[SGX_REPORT_BODY_LEN])
{
    memset(body, 0, SGX_REPORT_BODY_LEN);
    memcpy(body, sim_tcb_comps, SIM_TCB_COMP_COUNT);
    body[48] = f->flags;
    body[56] = SGX_XFRM_LEGACY_AVX;
    memcpy(body + 64, f->mrenclave, 32);
    memcpy(body + 128, f->mrsigner, 32);
    put_u16le(body + 256, f->isvprodid);
    put_u16le(body + 258, f->isvsvn);
    memcpy(body + 320, f->report_data, 64);
}

void
cas_tee_sim_free(struct cas_tee_sim *sim)
{
    if (sim == NULL)
        return;
    X509_free(sim->root);
    X509_free(sim->pck_ca);
    X509_free(sim->tcb_cert);
    EVP_PKEY_free(sim->root_key);
    EVP_PKEY_free(sim->pck_ca_key);
    EVP_PKEY_free(sim->tcb_key);
    EVP_PKEY_free(sim->pck_key);
    EVP_PKEY_free(sim->att_key);
    free(sim->cert_data);
    free(sim->cached_json);
    pthread_mutex_destroy(&sim->lock);
    free(sim);
}

/* A config filled in by hand (not through the config calls) is checked like one that was. */
static cas_rc
check_config(const struct cas_tee_sim_config *cfg, struct cas_err *err)
{
    if (cas_tee_tcb_status_name(cfg->tcb_status) == NULL)
        return cas_err_set(err, CAS_E_INVALID, "Unknown TCB status %d", (int)cfg->tcb_status);
    if (cfg->advisory_count > CAS_TEE_SIM_MAX_ADVISORIES)
        return cas_err_set(err, CAS_E_INVALID, "More than %d advisory IDs",
                           CAS_TEE_SIM_MAX_ADVISORIES);
    for (size_t i = 0; i < cfg->advisory_count; i++)
        if (memchr(cfg->advisories[i], '\0', CAS_TEE_SIM_ADVISORY_LEN) == NULL ||
            cfg->advisories[i][0] == '\0')
            return cas_err_set(err, CAS_E_INVALID, "Advisory ID %zu is empty or unterminated", i);
    return CAS_OK;
}

cas_rc
cas_tee_sim_new(const struct cas_tee_sim_config *cfg, struct cas_tee_sim **out, struct cas_err *err)
{
    static const char qe_mrenclave_label[] = "CAS-SIM-QE-MRENCLAVE-1";
    static const char qe_mrsigner_label[] = "CAS-SIM-QE-MRSIGNER-1";
    static const char qe_id_label[] = "CAS-SIM-QEID-1";
    struct cas_tee_sim *sim = NULL;
    uint8_t qe_id[32];
    cas_rc rc;

    *out = NULL;
    if ((rc = check_config(cfg, err)) != CAS_OK)
        return cas_err_wrap(err, "Failed to start the TEE simulator");
    if ((sim = cas_calloc(1, sizeof(*sim))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory making the simulator");
    if (pthread_mutex_init(&sim->lock, NULL) != 0) {
        free(sim);
        return cas_err_set(err, CAS_E_INTERNAL, "cannot make the simulator's lock");
    }
    sim->cfg = *cfg;
    sim->cfg.machine_id_path = NULL; /* read below, not kept */
    sim->cached_day = -1;
    if (!cas_hex_decode_exact(CAS_TEE_SIM_FMSPC_HEX, strlen(CAS_TEE_SIM_FMSPC_HEX), sim->fmspc,
                              sizeof(sim->fmspc))) {
        rc = cas_err_set(err, CAS_E_INTERNAL, "simulator FMSPC is not 12 hex digits");
        goto out;
    }
    if ((rc = cas_tee_sim_ppid(cfg->machine_id_path, sim->ppid, err)) != CAS_OK ||
        (rc = sim_sha256_2(qe_mrenclave_label, sizeof(qe_mrenclave_label), "", 0, sim->qe_mrenclave,
                           err)) != CAS_OK ||
        (rc = sim_sha256_2(qe_mrsigner_label, sizeof(qe_mrsigner_label), "", 0, sim->qe_mrsigner,
                           err)) != CAS_OK ||
        (rc = sim_sha256_2(qe_id_label, sizeof(qe_id_label), sim->ppid, sizeof(sim->ppid), qe_id,
                           err)) != CAS_OK ||
        (rc = sim_load_hierarchy(sim, err)) != CAS_OK)
        goto out;
    memcpy(sim->qe_id, qe_id, sizeof(sim->qe_id));
    if ((sim->pck_key = EVP_EC_gen("P-256")) == NULL ||
        (sim->att_key = EVP_EC_gen("P-256")) == NULL) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot make a P-256 key");
        goto out;
    }
    if ((rc = sim_pubkey_xy(sim->att_key, sim->att_pub, err)) != CAS_OK ||
        (rc = sim_issue_pck(sim, err)) != CAS_OK)
        goto out;
    *out = sim;
    sim = NULL;
out:
    cas_tee_sim_free(sim);
    if (rc != CAS_OK)
        cas_err_wrap(err, "Failed to start the TEE simulator");
    return rc;
}

/* The QE report: the simulated QE's identity, its report data binding the attestation key. */
static cas_rc
build_qe_report(const struct cas_tee_sim *sim, const uint8_t auth[SIM_QUOTE_AUTH_LEN],
                uint8_t body[SGX_REPORT_BODY_LEN], struct cas_err *err)
{
    uint8_t report_data[64] = {0};
    struct report_fields f = {
        .flags = SGX_FLAG_INIT | SGX_FLAG_MODE64BIT | SGX_FLAG_PROVISIONKEY,
        .mrenclave = sim->qe_mrenclave,
        .mrsigner = sim->qe_mrsigner,
        .report_data = report_data,
        .isvprodid = SIM_QE_ISVPRODID,
        .isvsvn = SIM_QE_ISVSVN,
    };
    cas_rc rc;

    /* QE report data = SHA-256(attestation key || QE authentication data) || 32 zero bytes. */
    if ((rc = sim_sha256_2(sim->att_pub, sizeof(sim->att_pub), auth, SIM_QUOTE_AUTH_LEN,
                           report_data, err)) != CAS_OK)
        return rc;
    build_report_body(&f, body);
    return CAS_OK;
}

static void
build_header(const struct cas_tee_sim *sim, uint8_t hdr[SGX_QUOTE_HEADER_LEN])
{
    memset(hdr, 0, SGX_QUOTE_HEADER_LEN);
    put_u16le(hdr, QUOTE_VERSION);
    put_u16le(hdr + 2, ATT_KEY_TYPE_ECDSA_P256);
    /* 4: TEE type 0 (SGX) */
    put_u16le(hdr + 8, SIM_QE_ISVSVN);
    put_u16le(hdr + 10, SIM_PCESVN);
    memcpy(hdr + 12, intel_qe_vendor_id, sizeof(intel_qe_vendor_id));
    /* 28: user data, the first 16 bytes of which Intel's QE fills with its QE ID. */
    memcpy(hdr + 28, sim->qe_id, sizeof(sim->qe_id));
}

cas_rc
cas_tee_sim_quote(struct cas_tee_sim *sim, const struct cas_tee_sim_enclave *enc,
                  const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                  struct cas_err *err)
{
    uint8_t signed_part[SGX_QUOTE_HEADER_LEN + SGX_REPORT_BODY_LEN];
    uint8_t qe_body[SGX_REPORT_BODY_LEN], auth[SIM_QUOTE_AUTH_LEN], sig[64], qe_sig[64], n[6];
    struct report_fields f = {
        .flags = SGX_FLAG_INIT | SGX_FLAG_DEBUG | SGX_FLAG_MODE64BIT,
        .mrenclave = enc->mrenclave,
        .mrsigner = enc->mrsigner,
        .report_data = report_data,
        .isvprodid = enc->isvprodid,
        .isvsvn = enc->isvsvn,
    };
    struct cas_buf q;
    size_t sig_len;
    cas_rc rc;

    *quote = NULL;
    *quote_len = 0;
    cas_buf_init(&q, QUOTE_MAX);
    for (size_t i = 0; i < sizeof(auth); i++)
        auth[i] = (uint8_t)i; /* Intel's QE sends 0..31 too */
    build_header(sim, signed_part);
    build_report_body(&f, signed_part + SGX_QUOTE_HEADER_LEN);
    if ((rc = sim_sign_raw(sim->att_key, signed_part, sizeof(signed_part), sig, err)) != CAS_OK ||
        (rc = build_qe_report(sim, auth, qe_body, err)) != CAS_OK ||
        (rc = sim_sign_raw(sim->pck_key, qe_body, sizeof(qe_body), qe_sig, err)) != CAS_OK)
        goto out;
    sig_len = sizeof(sig) + sizeof(sim->att_pub) + sizeof(qe_body) + sizeof(qe_sig) + 2 +
              sizeof(auth) + 6 + sim->cert_len;
    if (sig_len > QUOTE_MAX) {
        rc = cas_err_set(err, CAS_E_INTERNAL, "quote would exceed %zu bytes", QUOTE_MAX);
        goto out;
    }
    cas_buf_add(&q, signed_part, sizeof(signed_part));
    put_u32le(n, (uint32_t)sig_len);
    cas_buf_add(&q, n, 4);
    cas_buf_add(&q, sig, sizeof(sig));
    cas_buf_add(&q, sim->att_pub, sizeof(sim->att_pub));
    cas_buf_add(&q, qe_body, sizeof(qe_body));
    cas_buf_add(&q, qe_sig, sizeof(qe_sig));
    put_u16le(n, (uint16_t)sizeof(auth));
    cas_buf_add(&q, n, 2);
    cas_buf_add(&q, auth, sizeof(auth));
    put_u16le(n, CERT_DATA_TYPE_PCK_CHAIN);
    put_u32le(n + 2, (uint32_t)sim->cert_len);
    cas_buf_add(&q, n, 6);
    cas_buf_add(&q, sim->cert_data, sim->cert_len);
    if (q.failed) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory building a quote");
        goto out;
    }
    *quote = (uint8_t *)cas_buf_detach(&q, quote_len);
    if (*quote == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory building a quote");
out:
    cas_buf_release(&q);
    if (rc != CAS_OK)
        cas_err_wrap(err, "Failed to make a simulator quote");
    return rc;
}
