/*
 * provider.c - the evidence provider interface (provider.h): picks the provider by name, runs
 * the simulator's, and reads an Intel quote's header for its type and report data offset.
 * The hardware providers' file I/O is in hw.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provider_internal.h"
#include "util/alloc.h"
#include "util/reader.h"

/* Intel quote layouts ("SGX ECDSA Quote Library API", "TDX DCAP Quoting Library API"). */
#define QUOTE_HEADER_LEN 48
#define SGX_BODY_LEN 384
#define SGX_REPORT_DATA_OFF 320
#define TD10_BODY_LEN 584
#define TD_REPORT_DATA_OFF 520
#define TEE_TYPE_SGX 0x00000000u
#define TEE_TYPE_TDX 0x00000081u

void
cas_tee_evidence_release(struct cas_tee_evidence *ev)
{
    free(ev->quote);
    free(ev->collateral);
    memset(ev, 0, sizeof(*ev));
}

void
cas_tee_options_init(struct cas_tee_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->tee = "sim";
    opt->root = "";
    cas_tee_sim_config_init(&opt->sim);
}

cas_rc
cas_tee_quote_type(const uint8_t *quote, size_t len, const char **type, size_t *report_data_off,
                   struct cas_err *err)
{
    struct cas_reader r;
    uint16_t version = 0, body_type = 0;
    uint32_t tee_type = 0, body_len = 0;

    *type = NULL;
    *report_data_off = 0;
    cas_rd_init(&r, quote, len);
    if (!cas_rd_u16le(&r, &version) || !cas_rd_skip(&r, 2) || !cas_rd_u32le(&r, &tee_type) ||
        !cas_rd_skip(&r, QUOTE_HEADER_LEN - 8))
        return cas_err_set(err, CAS_E_INVALID, "Quote of %zu bytes is shorter than its header",
                           len);
    if (version == 3 && tee_type == TEE_TYPE_SGX && cas_rd_left(&r) >= SGX_BODY_LEN) {
        *type = "sgx-dcap-v3";
        *report_data_off = r.off + SGX_REPORT_DATA_OFF;
    } else if (version == 4 && tee_type == TEE_TYPE_TDX && cas_rd_left(&r) >= TD10_BODY_LEN) {
        *type = "tdx-v4";
        *report_data_off = r.off + TD_REPORT_DATA_OFF;
    } else if (version == 5 && tee_type == TEE_TYPE_TDX && cas_rd_u16le(&r, &body_type) &&
               cas_rd_u32le(&r, &body_len) && body_len >= TD10_BODY_LEN &&
               cas_rd_left(&r) >= body_len) {
        *type = "tdx-v5";
        *report_data_off = r.off + TD_REPORT_DATA_OFF;
    } else {
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "Quote version %u with TEE type 0x%x (%zu bytes) is not an SGX v3 or "
                           "TDX v4/v5 quote",
                           (unsigned)version, (unsigned)tee_type, len);
    }
    return CAS_OK;
}

static int64_t
wall_clock(void)
{
    return (int64_t)time(NULL);
}

static cas_rc
sim_get_evidence(struct cas_tee_provider *p, const uint8_t report_data[64],
                 struct cas_tee_evidence *ev, struct cas_err *err)
{
    cas_rc rc;

    if ((rc = cas_tee_sim_quote(p->sim, &p->enclave, report_data, &ev->quote, &ev->quote_len,
                                err)) != CAS_OK ||
        (rc = cas_tee_sim_collateral(p->sim, p->now(), &ev->collateral, &ev->collateral_len,
                                     err)) != CAS_OK)
        return rc;
    ev->type = "sgx-dcap-v3";
    return CAS_OK;
}

cas_rc
cas_tee_provider_new(const struct cas_tee_options *opt, struct cas_tee_provider **out,
                     struct cas_err *err)
{
    struct cas_tee_provider *p = NULL;
    const char *tee = opt->tee != NULL ? opt->tee : "sim";
    cas_rc rc = CAS_OK;

    *out = NULL;
    if ((p = cas_calloc(1, sizeof(*p))) == NULL ||
        (p->root = cas_strdup(opt->root != NULL ? opt->root : "")) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory making the TEE provider");
        goto out;
    }
    p->enclave = opt->enclave;
    p->now = opt->now != NULL ? opt->now : wall_clock;
    p->tsm_hook = opt->tsm_hook;
    p->tsm_hook_arg = opt->tsm_hook_arg;
    if (strcmp(tee, "sim") == 0) {
        p->name = "sim";
        p->get_evidence = sim_get_evidence;
        rc = cas_tee_sim_new(&opt->sim, &p->sim, err);
    } else if (strcmp(tee, "gramine") == 0) {
        p->name = "gramine";
        p->get_evidence = tee_gramine_get_evidence;
    } else if (strcmp(tee, "tsm") == 0) {
        p->name = "tsm";
        p->get_evidence = tee_tsm_get_evidence;
    } else {
        rc = cas_err_set(err, CAS_E_INVALID, "Unknown TEE '%.64s' - Expected sim, gramine or tsm",
                         tee);
    }
    if (rc != CAS_OK)
        goto out;
    *out = p;
    p = NULL;
out:
    cas_tee_provider_free(p);
    return rc;
}

const char *
cas_tee_provider_name(const struct cas_tee_provider *p)
{
    return p->name;
}

cas_rc
cas_tee_provider_get_evidence(struct cas_tee_provider *p,
                              const uint8_t report_data[CAS_TEE_REPORT_DATA_LEN],
                              struct cas_tee_evidence *ev, struct cas_err *err)
{
    struct cas_tee_evidence got = {0};

    memset(ev, 0, sizeof(*ev));
    if (p->get_evidence(p, report_data, &got, err) != CAS_OK) {
        cas_tee_evidence_release(&got);
        return cas_err_wrap(err, "Failed to obtain evidence from the '%s' TEE", p->name);
    }
    *ev = got;
    return CAS_OK;
}

void
cas_tee_provider_free(struct cas_tee_provider *p)
{
    if (p == NULL)
        return;
    cas_tee_sim_free(p->sim);
    free(p->root);
    free(p);
}
