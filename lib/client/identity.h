/*
 * identity.h - the CLI's identity (api.md §3 "Identity"): a P-256 key and a self-signed
 * certificate (CN "cas cli", notAfter 99991231235959Z), kept in the state file as SCONE lays it
 * out: the PEM PKCS#8 key followed by the certificate. `--identity FILE` (key and certificate in
 * either order; they must match) replaces it for one command.
 */
#ifndef CAS_CLIENT_IDENTITY_H
#define CAS_CLIENT_IDENTITY_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "cas/err.h"

struct cas_cli_state;
struct cas_secret;

struct cas_cli_identity {
    EVP_PKEY *key; /* NULL when only a certificate was given (calculate-hash) */
    X509 *cert;
    uint8_t key_hash[32];
};

/* Parses PEM text holding a certificate and, unless key_optional, its private key. */
cas_rc cas_cli_identity_parse(const struct cas_secret *pem, bool key_optional,
                              struct cas_cli_identity *id, struct cas_err *err) CAS_MUST_CHECK;
/* Reads --identity FILE (at most 1 MiB). */
cas_rc cas_cli_identity_load_file(const char *path, bool key_optional, struct cas_cli_identity *id,
                                  struct cas_err *err) CAS_MUST_CHECK;
/* The state's identity, created (and the state saved) on first use. */
cas_rc cas_cli_identity_ensure(struct cas_cli_state *st, struct cas_cli_identity *id,
                               struct cas_err *err) CAS_MUST_CHECK;
/* The PEM of the certificate (malloc'd). */
cas_rc cas_cli_identity_cert_pem(const struct cas_cli_identity *id, char **out,
                                 struct cas_err *err) CAS_MUST_CHECK;
void cas_cli_identity_release(struct cas_cli_identity *id);

#endif
