/* provider_internal.h - struct cas_tee_provider and the hardware providers of hw.c. */
#ifndef CAS_TEE_PROVIDER_INTERNAL_H
#define CAS_TEE_PROVIDER_INTERNAL_H

#include "tee/provider.h"

typedef cas_rc (*tee_get_evidence_fn)(struct cas_tee_provider *p, const uint8_t report_data[64],
                                      struct cas_tee_evidence *ev, struct cas_err *err);

struct cas_tee_provider {
    const char *name; /* static */
    tee_get_evidence_fn get_evidence;
    char *root; /* owned copy of the options' root */
    struct cas_tee_sim *sim;
    struct cas_tee_sim_enclave enclave;
    int64_t (*now)(void);
    cas_tee_tsm_hook tsm_hook;
    void *tsm_hook_arg;
    unsigned tsm_serial; /* makes each configfs-tsm entry name unique within the process */
};

cas_rc tee_gramine_get_evidence(struct cas_tee_provider *p, const uint8_t report_data[64],
                                struct cas_tee_evidence *ev, struct cas_err *err) CAS_MUST_CHECK;
cas_rc tee_tsm_get_evidence(struct cas_tee_provider *p, const uint8_t report_data[64],
                            struct cas_tee_evidence *ev, struct cas_err *err) CAS_MUST_CHECK;

#endif
