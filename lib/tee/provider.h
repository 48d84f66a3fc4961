/*
 * provider.h - one interface to a TEE's evidence (api.md §2 `tee`, §4 CAS_TEE): the software
 * simulator, Gramine's /dev/attestation, Linux configfs-tsm. A provider turns 64 bytes of
 * report data into a quote, plus collateral where the producer must send it (the simulator).
 *
 * Hardware paths sit under an injectable root ("" in production) so tests drive the providers
 * against a directory tree they build. Every read from a TEE interface is capped at
 * CAS_TEE_QUOTE_MAX bytes; a quote is checked to carry the report data asked for.
 * A provider is not thread safe: one caller at a time (configfs-tsm entries and Gramine's
 * user_report_data are per-request state).
 */
#ifndef CAS_TEE_PROVIDER_H
#define CAS_TEE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"
#include "tee/sim.h"

#define CAS_TEE_REPORT_DATA_LEN 64
#define CAS_TEE_QUOTE_MAX ((size_t)64 * 1024)

struct cas_tee_evidence {
    const char *type; /* static: "sgx-dcap-v3", "tdx-v4" or "tdx-v5" (api.md §1) */
    uint8_t *quote;   /* owned */
    size_t quote_len;
    char *collateral; /* owned, api.md §1 JSON; NULL when the verifier fetches it (hardware) */
    size_t collateral_len;
};

/* Frees what ev owns and clears it; a cleared ev is fine. */
void cas_tee_evidence_release(struct cas_tee_evidence *ev);

/* Test hook for configfs-tsm: called right after the report entry is made, standing in for the
 * kernel that fills it; arg is tsm_hook_arg. */
typedef void (*cas_tee_tsm_hook)(const char *entry_dir, void *arg);

struct cas_tee_options {
    const char *tee;  /* "sim" (default), "gramine" or "tsm"; borrowed */
    const char *root; /* prefix of /dev and /sys paths; "" (default) in production; borrowed */
    struct cas_tee_sim_config sim;      /* simulator settings */
    struct cas_tee_sim_enclave enclave; /* what the simulator reports (measured by the caller) */
    int64_t (*now)(void);               /* simulator collateral clock; NULL: the wall clock */
    cas_tee_tsm_hook tsm_hook;          /* NULL in production */
    void *tsm_hook_arg;
};

/* Defaults: the simulator with cas_tee_sim_config_init(), an all-zero enclave, root "". */
void cas_tee_options_init(struct cas_tee_options *opt);

struct cas_tee_provider;

/* Makes the provider named by opt->tee (the simulator starts here: keys, PCK certificate).
 * opt is copied; its borrowed strings are copied too. */
cas_rc cas_tee_provider_new(const struct cas_tee_options *opt, struct cas_tee_provider **out,
                            struct cas_err *err) CAS_MUST_CHECK;
/* "sim", "gramine" or "tsm". */
const char *cas_tee_provider_name(const struct cas_tee_provider *p);
/* Evidence binding report_data; ev is cleared first and filled on success only. */
cas_rc cas_tee_provider_get_evidence(struct cas_tee_provider *p,
                                     const uint8_t report_data[CAS_TEE_REPORT_DATA_LEN],
                                     struct cas_tee_evidence *ev,
                                     struct cas_err *err) CAS_MUST_CHECK;
void cas_tee_provider_free(struct cas_tee_provider *p);

/*
 * The evidence type of an Intel quote from its header (v3 SGX, v4 TDX, v5 TDX) and where its
 * 64 bytes of report data start; checks only that the quote is long enough to hold them.
 */
cas_rc cas_tee_quote_type(const uint8_t *quote, size_t len, const char **type,
                          size_t *report_data_off, struct cas_err *err) CAS_MUST_CHECK;

#endif
