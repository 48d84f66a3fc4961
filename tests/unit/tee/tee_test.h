/*
 * tee_test.h - what the lib/tee tests share: an SGX v3 quote split at Intel's offsets with
 * struct cas_reader (independently of lib/tee), raw r || s signature checks, temporary trees.
 */
#ifndef CAS_TEE_TEST_H
#define CAS_TEE_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "tee/sim.h"

/* Intel, "SGX ECDSA Quote Library API", Appendix A: quote v3. */
struct quote_view {
    uint16_t version, att_key_type, qe_svn, pce_svn;
    uint32_t tee_type;
    const uint8_t *qe_vendor_id; /* 16 */
    const uint8_t *header;       /* 48 */
    const uint8_t *body;         /* 384: ISV enclave report */
    uint32_t sig_len;
    const uint8_t *isv_sig; /* 64 */
    const uint8_t *att_key; /* 64 */
    const uint8_t *qe_body; /* 384 */
    const uint8_t *qe_sig;  /* 64 */
    uint16_t auth_len;
    const uint8_t *auth;
    uint16_t cert_type;
    uint32_t cert_len;
    const uint8_t *cert; /* cert_len bytes */
};

/* Splits a quote; false unless every length adds up to exactly len. */
bool quote_view_parse(const uint8_t *q, size_t len, struct quote_view *v);

/* ECDSA P-256 SHA-256 check of a raw r || s signature. */
bool verify_raw_sig(EVP_PKEY *key, const void *msg, size_t len, const uint8_t sig[64]);
/* The P-256 public key x || y. */
EVP_PKEY *pubkey_from_xy(const uint8_t xy[64]);
/* Every certificate of a PEM text, in order. */
STACK_OF(X509) * certs_from_pem(const void *pem, size_t len);
/* X509_verify_cert of chain[0] with chain[1..] untrusted and root_pem the only trust anchor. */
bool chain_verifies_to(STACK_OF(X509) * chain, const char *root_pem);
/* The exact bytes of the signed inner object of a PCS body {"<key>":{...},"signature":"..."}. */
bool pcs_inner(const char *body, const char *key, const char **inner, size_t *inner_len,
               uint8_t sig[64]);

/* A simulator configured by cfg whose machine id is the file dir/machine-id holding machine_id;
 * NULL on failure. cfg->machine_id_path is left pointing nowhere. */
struct cas_tee_sim *sim_on_machine(const char *dir, const char *machine_id,
                                   struct cas_tee_sim_config *cfg);

/* A fresh directory under TMPDIR; rm_tree removes it and everything under it. */
char *make_temp_dir(void);
void rm_tree(const char *dir);
/* Writes a file (creating parents is the caller's job). */
void write_file(const char *path, const void *p, size_t len);
/* Reads a whole file (malloc'd, NUL-terminated); NULL if missing. */
uint8_t *read_file(const char *path, size_t *len);
/* Decodes 2n hex digits into out[n]. */
void hex_to_bytes(const char *hex, uint8_t *out, size_t n);

#endif
