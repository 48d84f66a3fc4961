/*
 * identity.h - casd's own PKI (api.md §2.1): the CAS root CA "cas" shared by every instance of
 * one CAS, this instance's intermediate "cas-instance", and the TLS leaf it issues. Keys are
 * kept in the store sealed under the sealing key; certificates in PEM. The CAS key hash is the
 * SHA-256 of the root's SubjectPublicKeyInfo.
 */
#ifndef CASD_IDENTITY_H
#define CASD_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "cas/err.h"

struct cas_store;
struct cas_secret;

#define CASD_LEAF_DAYS 90

struct casd_identity {
    X509 *root, *intermediate, *leaf;
    EVP_PKEY *intermediate_key, *leaf_key;
    uint8_t key_hash[32];
    char key_hash_b58[51];
    char *chain_pem; /* intermediate then root: DATA_DIR/cas-chain.pem */
    time_t leaf_not_before, leaf_not_after;
};

/*
 * Loads the identity of this CAS and instance, creating what is missing (the root on the first
 * start of the CAS, the intermediate on the first start of the instance), and issues a fresh
 * TLS leaf with the SANs DNS:cas, DNS:localhost, IP:127.0.0.1 and extra_names.
 */
cas_rc casd_identity_load(struct cas_store *st, const struct cas_secret *sealing_key,
                          const char *instance_id, const char *const *extra_names,
                          size_t extra_count, time_t now, struct casd_identity *id,
                          struct cas_err *err) CAS_MUST_CHECK;
/* Whether the database already holds a CAS identity (so its sealing key must exist). */
cas_rc casd_identity_exists(struct cas_store *st, bool *exists, struct cas_err *err) CAS_MUST_CHECK;
/* The CAS root certificate the database holds (public): CAS_E_NOTFOUND when there is none. */
cas_rc casd_identity_root_cert(struct cas_store *st, X509 **root,
                               struct cas_err *err) CAS_MUST_CHECK;
/* Issues a new leaf (same names) and stores it; id->leaf and id->leaf_key are replaced. */
cas_rc casd_identity_renew_leaf(struct cas_store *st, const struct cas_secret *sealing_key,
                                const char *instance_id, const char *const *extra_names,
                                size_t extra_count, time_t now, struct casd_identity *id,
                                struct cas_err *err) CAS_MUST_CHECK;
/* True when less than a third of the leaf's life remains at now. */
int casd_identity_leaf_due(const struct casd_identity *id, time_t now);
void casd_identity_release(struct casd_identity *id);

#endif
