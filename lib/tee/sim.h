/*
 * sim.h - the software TEE simulator (api.md §1.1): SGX v3 quotes in Intel's exact format, issued
 * from a provisioning hierarchy published in lib/tee/sim/, with the simulator-signed collateral
 * that lets lib/dcap verify them unchanged (the simulator root in place of Intel's).
 *
 * Everything the simulator signs with is public: anyone can forge its evidence. Its quotes always
 * carry the DEBUG attribute, so a verifier accepts them only where debug is tolerated. The
 * attestation key and the PCK key are fresh per struct cas_tee_sim, never logged or written.
 */
#ifndef CAS_TEE_SIM_H
#define CAS_TEE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"

/* TCB statuses a simulator can be configured to produce (api.md §1, policy.md §11). */
enum cas_tee_tcb_status {
    CAS_TEE_TCB_UP_TO_DATE = 0,
    CAS_TEE_TCB_SW_HARDENING_NEEDED,
    CAS_TEE_TCB_CONFIGURATION_NEEDED,
    CAS_TEE_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    CAS_TEE_TCB_OUT_OF_DATE,
    CAS_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    CAS_TEE_TCB_REVOKED,
};
#define CAS_TEE_TCB_STATUS_COUNT 7

/* Intel's spelling ("OutOfDate", ...); NULL for a value outside the enum. */
const char *cas_tee_tcb_status_name(enum cas_tee_tcb_status s);
/* Parses Intel's spelling, exactly (case-sensitive). */
cas_rc cas_tee_tcb_status_parse(const char *s, enum cas_tee_tcb_status *out,
                                struct cas_err *err) CAS_MUST_CHECK;

#define CAS_TEE_SIM_MAX_ADVISORIES 32
#define CAS_TEE_SIM_ADVISORY_LEN 64 /* including the terminator */

/* The simulator's FMSPC: simulator-only (no Intel FMSPC starts with 0xCA). */
#define CAS_TEE_SIM_FMSPC_HEX "CA55E1000000"

struct cas_tee_sim_config {
    enum cas_tee_tcb_status tcb_status; /* default CAS_TEE_TCB_OUT_OF_DATE */
    size_t advisory_count;              /* default 2: INTEL-SA-00828, INTEL-SA-00837 */
    char advisories[CAS_TEE_SIM_MAX_ADVISORIES][CAS_TEE_SIM_ADVISORY_LEN];
    const char *machine_id_path; /* borrowed; NULL: /etc/machine-id (PPID, §1.1) */
};

/* The defaults of api.md §1.1. */
void cas_tee_sim_config_init(struct cas_tee_sim_config *cfg);
/* Empties the advisory list (before adding the configured ones). */
void cas_tee_sim_config_clear_advisories(struct cas_tee_sim_config *cfg);
/* Appends an advisory ID: 1..63 characters of [A-Za-z0-9-], at most 32 of them. */
cas_rc cas_tee_sim_config_add_advisory(struct cas_tee_sim_config *cfg, const char *id,
                                       struct cas_err *err) CAS_MUST_CHECK;

/* What the simulated ISV enclave reports. */
struct cas_tee_sim_enclave {
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    uint16_t isvsvn;
};

struct cas_tee_sim;

/*
 * A simulator: loads the published hierarchy, derives the PPID, makes a fresh PCK key and issues
 * this platform's PCK certificate, makes a fresh attestation key. cfg is copied (its
 * machine_id_path is read here and not kept). Thread safe once made: quote and collateral calls
 * may run from several threads.
 */
cas_rc cas_tee_sim_new(const struct cas_tee_sim_config *cfg, struct cas_tee_sim **out,
                       struct cas_err *err) CAS_MUST_CHECK;
void cas_tee_sim_free(struct cas_tee_sim *sim);

/*
 * An SGX quote v3 for enc with report_data: ISV report body with DEBUG set, signed by the
 * attestation key; QE report binding that key, signed by the PCK key; certification data type 5
 * (PEM: PCK certificate, PCK CA, root; NUL-terminated, as Intel's). *quote is malloc'd.
 */
cas_rc cas_tee_sim_quote(struct cas_tee_sim *sim, const struct cas_tee_sim_enclave *enc,
                         const uint8_t report_data[64], uint8_t **quote, size_t *quote_len,
                         struct cas_err *err) CAS_MUST_CHECK;

/*
 * The collateral of api.md §1 as one JSON object (malloc'd, terminated): tcb_info and
 * qe_identity as the exact signed PCS bodies, the three issuer chains as PEM, pck_crl and
 * root_ca_crl as base64 DER. Dated by the UTC day of now (Unix seconds): issueDate/thisUpdate at
 * that day's midnight, nextUpdate 30 days later; cached per day, so a day's calls sign once.
 */
cas_rc cas_tee_sim_collateral(struct cas_tee_sim *sim, int64_t now, char **json, size_t *json_len,
                              struct cas_err *err) CAS_MUST_CHECK;

/*
 * Writes a quote and its collateral JSON (api.md §1 shape, from any producer) as a directory laid
 * out like tests/data/dcap/<case>/: quote.bin, tcb_info.json, qe_identity.json,
 * tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem, pck_crl_issuer_chain.pem,
 * pck_crl.der, root_ca_crl.der (mode 0644; dir made 0755 if missing).
 */
cas_rc cas_tee_collateral_write_dir(const char *dir, const uint8_t *quote, size_t quote_len,
                                    const char *json, size_t json_len,
                                    struct cas_err *err) CAS_MUST_CHECK;

/* The published simulator root certificate (PEM, terminated) and SHA-256 of its DER. */
const char *cas_tee_sim_root_pem(void);
const uint8_t *cas_tee_sim_root_sha256(void);
/* The published RSA-3072 simulator signing key (PEM), the default MRSIGNER source. */
const char *cas_tee_sim_signing_key_pem(void);

/*
 * MRENCLAVE = SHA-256("CAS-SIM-MRENCLAVE-1" || 0x00 || every byte of the file). Reads fd from
 * offset 0 to its end with pread, so the descriptor's offset is untouched (cas-run fexecve's it).
 */
cas_rc cas_tee_sim_measure_fd(int fd, uint8_t mrenclave[32], struct cas_err *err) CAS_MUST_CHECK;
/* MRSIGNER = SHA-256 of the 384-byte little-endian modulus of an RSA-3072 public or private key. */
cas_rc cas_tee_sim_mrsigner_from_pem(const char *pem, size_t pem_len, uint8_t mrsigner[32],
                                     struct cas_err *err) CAS_MUST_CHECK;
/* MRSIGNER of the published simulator signing key (the default of casd and cas-run). */
cas_rc cas_tee_sim_mrsigner_default(uint8_t mrsigner[32], struct cas_err *err) CAS_MUST_CHECK;
/* The same from a PEM file (read into a struct cas_secret: it may be a private key). */
cas_rc cas_tee_sim_mrsigner_from_file(const char *path, uint8_t mrsigner[32],
                                      struct cas_err *err) CAS_MUST_CHECK;
/* PPID = first 16 bytes of SHA-256 of the machine-id file; 16 zero bytes if it does not exist. */
cas_rc cas_tee_sim_ppid(const char *machine_id_path, uint8_t ppid[16],
                        struct cas_err *err) CAS_MUST_CHECK;

#endif
