/*
 * dcap_quote.c - split SGX v3 and TDX v4/v5 quotes, straight from the network, into struct
 * cas_quote (Intel SGX ECDSA Quote Library API, "Quote Format" appendix; TDX DCAP Quoting
 * Library API, quote v4 and v5). Checks lengths and layout only: verifies no signature or
 * certificate (dcap_verify.c does) and allocates nothing; spans borrow from the caller's buffer.
 */
#include <stdint.h>

#include <string.h>

#include "dcap/quote.h"

#define HEADER_LEN 48
#define SGX_REPORT_LEN 384
#define TD10_REPORT_LEN 584
#define TD15_REPORT_LEN 648
#define ATT_KEY_ECDSA_P256 2
#define CERT_PCK_CHAIN 5
#define CERT_QE_REPORT 6

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static cas_rc
malformed(struct cas_err *err, const struct cas_reader *r, const char *what)
{
    return cas_err_set(err, CAS_E_INVALID, "Quote is malformed at byte %zu: %s", r->off, what);
}

/* The SGX report body: Intel's layout, reserved fields skipped (they are signed, not read). */
static bool
read_sgx_report(struct cas_reader *r, struct cas_sgx_report *s)
{
    return cas_rd_bytes(r, s->cpusvn, 16) && cas_rd_u32le(r, &s->miscselect) &&
           cas_rd_skip(r, 12) && cas_rd_bytes(r, s->isvextprodid, 16) &&
           cas_rd_bytes(r, s->attributes, 16) && cas_rd_bytes(r, s->mrenclave, 32) &&
           cas_rd_skip(r, 32) && cas_rd_bytes(r, s->mrsigner, 32) && cas_rd_skip(r, 32) &&
           cas_rd_bytes(r, s->configid, 64) && cas_rd_u16le(r, &s->isvprodid) &&
           cas_rd_u16le(r, &s->isvsvn) && cas_rd_u16le(r, &s->configsvn) && cas_rd_skip(r, 42) &&
           cas_rd_bytes(r, s->isvfamilyid, 16) && cas_rd_bytes(r, s->report_data, 64);
}

static bool
read_td_report(struct cas_reader *r, bool td15, struct cas_td_report *t)
{
    bool ok = cas_rd_bytes(r, t->tee_tcb_svn, 16) && cas_rd_bytes(r, t->mrseam, 48) &&
              cas_rd_bytes(r, t->mrsignerseam, 48) && cas_rd_bytes(r, t->seam_attributes, 8) &&
              cas_rd_bytes(r, t->td_attributes, 8) && cas_rd_bytes(r, t->xfam, 8) &&
              cas_rd_bytes(r, t->mrtd, 48) && cas_rd_bytes(r, t->mrconfigid, 48) &&
              cas_rd_bytes(r, t->mrowner, 48) && cas_rd_bytes(r, t->mrownerconfig, 48) &&
              cas_rd_bytes(r, t->rtmr[0], 48) && cas_rd_bytes(r, t->rtmr[1], 48) &&
              cas_rd_bytes(r, t->rtmr[2], 48) && cas_rd_bytes(r, t->rtmr[3], 48) &&
              cas_rd_bytes(r, t->report_data, 64);

    if (ok && td15)
        ok = cas_rd_bytes(r, t->tee_tcb_svn2, 16) && cas_rd_bytes(r, t->mrservicetd, 48);
    return ok;
}

static cas_rc
parse_header(struct cas_reader *r, struct cas_quote *q, struct cas_err *err)
{
    if (!cas_rd_u16le(r, &q->version) || !cas_rd_u16le(r, &q->att_key_type) ||
        !cas_rd_u32le(r, &q->tee_type) || !cas_rd_u16le(r, &q->qe_svn) ||
        !cas_rd_u16le(r, &q->pce_svn) || !cas_rd_bytes(r, q->qe_vendor_id, 16) ||
        !cas_rd_bytes(r, q->user_data, 20))
        return malformed(err, r, "the header is cut short");
    if (q->version < 3 || q->version > 5)
        return cas_err_set(err, CAS_E_INVALID, "Quote version %u is not supported (3, 4 or 5)",
                           q->version);
    if (q->att_key_type != ATT_KEY_ECDSA_P256)
        return cas_err_set(err, CAS_E_INVALID,
                           "Quote attestation key type %u is not supported (2, ECDSA P-256)",
                           q->att_key_type);
    /* v3 has a reserved field where v4 has the TEE type: both read 0 for SGX. */
    if (!(q->version == 3 && q->tee_type == CAS_DCAP_TEE_SGX) &&
        !(q->version >= 4 && q->tee_type == CAS_DCAP_TEE_TDX))
        return cas_err_set(err, CAS_E_INVALID, "Quote v%u has TEE type 0x%x, which it cannot hold",
                           q->version, q->tee_type);
    if (memcmp(q->qe_vendor_id, intel_qe_vendor_id, 16) != 0)
        return cas_err_set(err, CAS_E_INVALID, "Quote QE vendor ID is not Intel's");
    return CAS_OK;
}

static cas_rc
parse_body(struct cas_reader *r, struct cas_quote *q, struct cas_err *err)
{
    uint16_t type;
    uint32_t size;

    if (q->version == 3) {
        q->body_type = CAS_DCAP_BODY_SGX;
        if (!read_sgx_report(r, &q->sgx))
            return malformed(err, r, "the enclave report is cut short");
        return CAS_OK;
    }
    if (q->version == 4) {
        q->body_type = CAS_DCAP_BODY_TD10;
        if (!read_td_report(r, false, &q->td))
            return malformed(err, r, "the TD report is cut short");
        return CAS_OK;
    }
    if (!cas_rd_u16le(r, &type) || !cas_rd_u32le(r, &size))
        return malformed(err, r, "the body descriptor is cut short");
    if (type == CAS_DCAP_BODY_TD10 && size == TD10_REPORT_LEN)
        q->body_type = CAS_DCAP_BODY_TD10;
    else if (type == CAS_DCAP_BODY_TD15 && size == TD15_REPORT_LEN)
        q->body_type = CAS_DCAP_BODY_TD15;
    else
        return cas_err_set(err, CAS_E_INVALID,
                           "Quote v5 body type %u of %u bytes is not a TD report (2: 584, 3: 648)",
                           type, size);
    if (!read_td_report(r, q->body_type == CAS_DCAP_BODY_TD15, &q->td))
        return malformed(err, r, "the TD report is cut short");
    return CAS_OK;
}

/* QE report, its signature, the QE authentication data, then the PCK chain (type 5). */
static cas_rc
parse_qe_report_cert_data(struct cas_reader *r, struct cas_quote *q, struct cas_err *err)
{
    struct cas_reader rep;
    uint16_t auth_len;
    uint32_t cert_len;

    if (!cas_rd_span(r, SGX_REPORT_LEN, &q->qe_report_bytes))
        return malformed(err, r, "the QE report is cut short");
    cas_rd_init(&rep, q->qe_report_bytes.buf, q->qe_report_bytes.len);
    if (!read_sgx_report(&rep, &q->qe_report) || !cas_rd_bytes(r, q->qe_report_signature, 64))
        return malformed(err, r, "the QE report signature is cut short");
    if (!cas_rd_u16le(r, &auth_len) || !cas_rd_span(r, auth_len, &q->qe_auth_data))
        return malformed(err, r, "the QE authentication data is cut short");
    if (!cas_rd_u16le(r, &q->cert_type) || !cas_rd_u32le(r, &cert_len))
        return malformed(err, r, "the certification data header is cut short");
    if (q->cert_type != CERT_PCK_CHAIN)
        return cas_err_set(err, CAS_E_INVALID,
                           "Quote certification data type %u is not supported (5, PCK chain)",
                           q->cert_type);
    if (!cas_rd_span(r, cert_len, &q->cert_data))
        return malformed(err, r, "the PCK certificate chain is cut short");
    return CAS_OK;
}

static cas_rc
parse_signature_data(struct cas_reader *r, struct cas_quote *q, struct cas_err *err)
{
    struct cas_reader outer;
    uint16_t outer_type;
    uint32_t outer_len;
    cas_rc rc;

    if (!cas_rd_bytes(r, q->signature, 64) || !cas_rd_bytes(r, q->attest_key, 64))
        return malformed(err, r, "the quote signature or attestation key is cut short");
    if (q->version == 3)
        return parse_qe_report_cert_data(r, q, err);
    if (!cas_rd_u16le(r, &outer_type) || !cas_rd_u32le(r, &outer_len))
        return malformed(err, r, "the certification data header is cut short");
    if (outer_type != CERT_QE_REPORT)
        return cas_err_set(err, CAS_E_INVALID,
                           "Quote certification data type %u is not supported (6, QE report)",
                           outer_type);
    if (!cas_rd_sub(r, outer_len, &outer))
        return malformed(err, r, "the QE report certification data is cut short");
    if ((rc = parse_qe_report_cert_data(&outer, q, err)) != CAS_OK)
        return rc;
    if (cas_rd_left(&outer) != 0)
        return cas_err_set(err, CAS_E_INVALID,
                           "Quote QE report certification data has %zu bytes after the chain",
                           cas_rd_left(&outer));
    return CAS_OK;
}

cas_rc
cas_dcap_quote_parse(const uint8_t *quote, size_t len, struct cas_quote *q, struct cas_err *err)
{
    struct cas_reader r, sig;
    uint32_t sig_len;
    size_t body_end;
    cas_rc rc;

    memset(q, 0, sizeof(*q));
    if (len > CAS_DCAP_QUOTE_MAX)
        return cas_err_set(err, CAS_E_TOOBIG, "Quote of %zu bytes is over the %d-byte limit", len,
                           CAS_DCAP_QUOTE_MAX);
    cas_rd_init(&r, quote, len);
    if ((rc = parse_header(&r, q, err)) != CAS_OK || (rc = parse_body(&r, q, err)) != CAS_OK)
        return rc;
    body_end = r.off;
    q->signed_part.buf = quote;
    q->signed_part.len = body_end;
    if (!cas_rd_u32le(&r, &sig_len) || !cas_rd_sub(&r, sig_len, &sig))
        return malformed(err, &r, "the signature data is cut short");
    if ((rc = parse_signature_data(&sig, q, err)) != CAS_OK)
        return rc;
    if (cas_rd_left(&sig) != 0)
        return cas_err_set(err, CAS_E_INVALID, "Quote signature data has %zu bytes after the chain",
                           cas_rd_left(&sig));
    q->quote_len = r.off;
    /* Captures in fixed-size buffers pad with zeros; anything else after the quote is refused. */
    for (size_t i = r.off; i < len; i++) {
        if (quote[i] != 0)
            return cas_err_set(err, CAS_E_INVALID,
                               "Quote has non-zero bytes after its end at byte %zu", r.off);
    }
    return CAS_OK;
}

const char *
cas_dcap_quote_evidence_type(const struct cas_quote *q)
{
    if (q->version == 3)
        return "sgx-dcap-v3";
    return q->version == 4 ? "tdx-v4" : "tdx-v5";
}
