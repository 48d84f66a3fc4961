/*
 * identity.c - creating, sealing, storing and loading casd's PKI (identity.h). Everything is read
 * and written in one write transaction, so two instances starting together on one database
 * create one root between them.
 */
#include "identity.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pki.h"
#include "crypto/seal.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/secret.h"

struct loaded {
    char *cert;
    uint8_t *sealed;
    size_t sealed_len;
    char *cert2;
    uint8_t *sealed2;
    size_t sealed2_len;
    int found;
};

static void
loaded_release(struct loaded *l)
{
    free(l->cert);
    free(l->sealed);
    free(l->cert2);
    free(l->sealed2);
    memset(l, 0, sizeof(*l));
}

static cas_rc
copy_col(const struct cas_row *row, int col, char **text, uint8_t **blob, size_t *blob_len,
         struct cas_err *err)
{
    if (text != NULL) {
        const char *t = cas_row_text(row, col);
        if ((*text = cas_strdup(t != NULL ? t : "")) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    } else {
        size_t n;
        const uint8_t *p = cas_row_blob(row, col, &n);
        if ((*blob = cas_malloc(n)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory");
        if (n > 0)
            memcpy(*blob, p, n);
        *blob_len = n;
    }
    return CAS_OK;
}

static cas_rc
read_root(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct loaded *l = arg;
    cas_rc rc;

    l->found = 1;
    if ((rc = copy_col(row, 0, &l->cert, NULL, NULL, err)) != CAS_OK)
        return rc;
    return copy_col(row, 1, NULL, &l->sealed, &l->sealed_len, err);
}

static cas_rc
read_instance(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct loaded *l = arg;
    cas_rc rc;

    l->found = 1;
    if ((rc = copy_col(row, 0, &l->cert, NULL, NULL, err)) != CAS_OK ||
        (rc = copy_col(row, 1, NULL, &l->sealed, &l->sealed_len, err)) != CAS_OK ||
        (rc = copy_col(row, 2, &l->cert2, NULL, NULL, err)) != CAS_OK)
        return rc;
    return copy_col(row, 3, NULL, &l->sealed2, &l->sealed2_len, err);
}

/* Seals a key's PEM under the sealing key with aad naming its role. */
static cas_rc
seal_key(const struct cas_secret *sk, const char *aad, EVP_PKEY *key, uint8_t **out,
         size_t *out_len, struct cas_err *err)
{
    struct cas_secret *pem = NULL;
    cas_rc rc;

    if ((rc = cas_key_to_pem(key, &pem, err)) == CAS_OK)
        rc = cas_seal(sk, aad, strlen(aad), pem, out, out_len, err);
    cas_secret_free(pem);
    return rc;
}

static cas_rc
unseal_key(const struct cas_secret *sk, const char *aad, const uint8_t *sealed, size_t len,
           EVP_PKEY **out, struct cas_err *err)
{
    struct cas_secret *pem = NULL;
    cas_rc rc;

    if ((rc = cas_unseal(sk, aad, strlen(aad), sealed, len, &pem, err)) == CAS_OK)
        rc = cas_key_from_pem(pem, out, err);
    cas_secret_free(pem);
    if (rc != CAS_OK)
        cas_err_wrap(err, "cannot open the sealed key '%s'", aad);
    return rc;
}

static cas_rc
ensure_root(struct cas_tx *tx, const struct cas_secret *sk, time_t now, X509 **root,
            EVP_PKEY **root_key, struct cas_err *err)
{
    struct loaded l = {0};
    struct cas_param p[4];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    char *pem = NULL;
    cas_rc rc;
    const struct cas_cert_spec spec = {CAS_CERT_ROOT_CA,   "cas", NULL, 0, now - 3600,
                                       CAS_NOT_AFTER_NEVER};

    *root = NULL;
    *root_key = NULL;
    if ((rc = cas_tx_exec(tx, "SELECT cert, sealed_key FROM cas_identity WHERE name = 'root'", NULL,
                          0, read_root, &l, NULL, err)) != CAS_OK)
        goto out;
    if (l.found) {
        if ((rc = cas_cert_from_pem(l.cert, strlen(l.cert), root, err)) == CAS_OK)
            rc = unseal_key(sk, "cas-identity:root", l.sealed, l.sealed_len, root_key, err);
        goto out;
    }
    if ((rc = cas_key_new_p256(root_key, err)) != CAS_OK ||
        (rc = cas_cert_issue(&spec, *root_key, NULL, *root_key, root, err)) != CAS_OK ||
        (rc = cas_cert_to_pem(*root, &pem, err)) != CAS_OK ||
        (rc = seal_key(sk, "cas-identity:root", *root_key, &sealed, &sealed_len, err)) != CAS_OK)
        goto out;
    p[0] = CAS_PTEXT(pem);
    p[1] = CAS_PBLOB(sealed, sealed_len);
    p[2] = CAS_PINT(now);
    rc = cas_tx_exec(tx,
                     "INSERT INTO cas_identity (name, cert, sealed_key, created_at)"
                     " VALUES ('root', $1, $2, $3)",
                     p, 3, NULL, NULL, NULL, err);
    if (rc == CAS_OK)
        CAS_LOG(INFO, "casd.identity_created", CAS_LF_STR("what", "CAS root CA"));
out:
    loaded_release(&l);
    free(pem);
    free(sealed);
    return rc;
}

static cas_rc
issue_leaf(struct casd_identity *id, const char *const *extra, size_t n_extra, time_t now,
           X509 **leaf, EVP_PKEY **key, struct cas_err *err)
{
    const char *names[64];
    size_t n = 0;
    struct cas_cert_spec spec = {
        CAS_CERT_TLS_SERVER, "cas", names, 0, now - 300, now + (time_t)CASD_LEAF_DAYS * 86400};
    cas_rc rc;

    names[n++] = "cas";
    names[n++] = "localhost";
    names[n++] = "127.0.0.1";
    for (size_t i = 0; i < n_extra && n < 64; i++)
        names[n++] = extra[i];
    spec.dns_count = n;
    *leaf = NULL;
    if ((rc = cas_key_new_p256(key, err)) != CAS_OK)
        return rc;
    if ((rc = cas_cert_issue(&spec, *key, id->intermediate, id->intermediate_key, leaf, err)) !=
        CAS_OK) {
        EVP_PKEY_free(*key);
        *key = NULL;
    }
    return rc;
}

static cas_rc
store_instance(struct cas_tx *tx, const struct cas_secret *sk, const char *instance_id,
               const struct casd_identity *id, bool insert, time_t now, struct cas_err *err)
{
    char aad_i[256], aad_l[256];
    char *ipem = NULL, *lpem = NULL;
    uint8_t *si = NULL, *sl = NULL;
    size_t si_len = 0, sl_len = 0;
    struct cas_param p[7];
    cas_rc rc;

    (void)snprintf(aad_i, sizeof(aad_i), "cas-instance:%s:intermediate", instance_id);
    (void)snprintf(aad_l, sizeof(aad_l), "cas-instance:%s:leaf", instance_id);
    if ((rc = cas_cert_to_pem(id->intermediate, &ipem, err)) != CAS_OK ||
        (rc = cas_cert_to_pem(id->leaf, &lpem, err)) != CAS_OK ||
        (rc = seal_key(sk, aad_i, id->intermediate_key, &si, &si_len, err)) != CAS_OK ||
        (rc = seal_key(sk, aad_l, id->leaf_key, &sl, &sl_len, err)) != CAS_OK)
        goto out;
    p[0] = CAS_PTEXT(instance_id);
    p[1] = CAS_PTEXT(ipem);
    p[2] = CAS_PBLOB(si, si_len);
    p[3] = CAS_PTEXT(lpem);
    p[4] = CAS_PBLOB(sl, sl_len);
    p[5] = CAS_PINT(now);
    rc = cas_tx_exec(tx,
                     insert ? "INSERT INTO cas_instance (id, intermediate_cert, intermediate_key,"
                              " leaf_cert, leaf_key, created_at, updated_at)"
                              " VALUES ($1, $2, $3, $4, $5, $6, $6)"
                            : "UPDATE cas_instance SET intermediate_cert = $2,"
                              " intermediate_key = $3, leaf_cert = $4, leaf_key = $5,"
                              " updated_at = $6 WHERE id = $1",
                     p, 6, NULL, NULL, NULL, err);
out:
    free(ipem);
    free(lpem);
    free(si);
    free(sl);
    return rc;
}

static cas_rc
finish(struct casd_identity *id, struct cas_err *err)
{
    struct cas_buf b;
    char *ipem = NULL, *rpem = NULL;
    cas_rc rc;

    if ((rc = cas_cert_key_hash(id->root, id->key_hash, err)) != CAS_OK ||
        (rc = cas_cert_to_pem(id->intermediate, &ipem, err)) != CAS_OK ||
        (rc = cas_cert_to_pem(id->root, &rpem, err)) != CAS_OK)
        goto out;
    cas_keyhash_to_b58(id->key_hash, id->key_hash_b58);
    cas_buf_init(&b, 1 << 20);
    cas_buf_adds(&b, ipem);
    cas_buf_adds(&b, rpem);
    free(id->chain_pem);
    if ((id->chain_pem = cas_buf_detach(&b, NULL)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
out:
    free(ipem);
    free(rpem);
    return rc;
}

static void
set_leaf_times(struct casd_identity *id)
{
    struct cas_err err = {0};
    struct tm tm;

    if (ASN1_TIME_to_tm(X509_get0_notBefore(id->leaf), &tm) == 1)
        id->leaf_not_before = timegm(&tm);
    if (cas_cert_not_after(id->leaf, &id->leaf_not_after, &err) != CAS_OK)
        id->leaf_not_after = id->leaf_not_before;
}

cas_rc
casd_identity_load(struct cas_store *st, const struct cas_secret *sealing_key,
                   const char *instance_id, const char *const *extra_names, size_t extra_count,
                   time_t now, struct casd_identity *id, struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    struct loaded l = {0};
    EVP_PKEY *root_key = NULL;
    struct cas_param p = CAS_PTEXT(instance_id);
    char aad[256];
    bool insert;
    cas_rc rc;

    memset(id, 0, sizeof(*id));
    if ((rc = cas_store_begin(st, CAS_TX_WRITE, &tx, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot load the CAS identity");
    if ((rc = ensure_root(tx, sealing_key, now, &id->root, &root_key, err)) != CAS_OK ||
        (rc = cas_tx_exec(tx,
                          "SELECT intermediate_cert, intermediate_key, leaf_cert, leaf_key"
                          " FROM cas_instance WHERE id = $1",
                          &p, 1, read_instance, &l, NULL, err)) != CAS_OK)
        goto fail;
    insert = !l.found;
    if (l.found) {
        (void)snprintf(aad, sizeof(aad), "cas-instance:%s:intermediate", instance_id);
        if ((rc = cas_cert_from_pem(l.cert, strlen(l.cert), &id->intermediate, err)) != CAS_OK ||
            (rc = unseal_key(sealing_key, aad, l.sealed, l.sealed_len, &id->intermediate_key,
                             err)) != CAS_OK)
            goto fail;
    } else {
        const struct cas_cert_spec spec = {
            CAS_CERT_INTERMEDIATE_CA, "cas-instance", NULL, 0, now - 3600, CAS_NOT_AFTER_NEVER};
        if ((rc = cas_key_new_p256(&id->intermediate_key, err)) != CAS_OK ||
            (rc = cas_cert_issue(&spec, id->intermediate_key, id->root, root_key, &id->intermediate,
                                 err)) != CAS_OK)
            goto fail;
        CAS_LOG(INFO, "casd.identity_created", CAS_LF_STR("what", "instance intermediate CA"),
                CAS_LF_STR("instance", instance_id));
    }
    /* A fresh leaf at every start (api.md §2.1): it also picks up changed dns_names. */
    if ((rc = issue_leaf(id, extra_names, extra_count, now, &id->leaf, &id->leaf_key, err)) !=
            CAS_OK ||
        (rc = store_instance(tx, sealing_key, instance_id, id, insert, now, err)) != CAS_OK)
        goto fail;
    rc = cas_tx_commit(tx, err); /* releases tx either way */
    tx = NULL;
    if (rc != CAS_OK)
        goto fail;
    set_leaf_times(id);
    rc = finish(id, err);
    goto out;
fail:
    cas_tx_rollback(tx);
    cas_err_wrap(err, "cannot load the CAS identity");
    casd_identity_release(id);
out:
    EVP_PKEY_free(root_key);
    loaded_release(&l);
    return rc;
}

cas_rc
casd_identity_renew_leaf(struct cas_store *st, const struct cas_secret *sealing_key,
                         const char *instance_id, const char *const *extra_names,
                         size_t extra_count, time_t now, struct casd_identity *id,
                         struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    X509 *leaf = NULL, *old_leaf = id->leaf;
    EVP_PKEY *key = NULL, *old_key = id->leaf_key;
    cas_rc rc;

    if ((rc = issue_leaf(id, extra_names, extra_count, now, &leaf, &key, err)) != CAS_OK)
        return rc;
    id->leaf = leaf;
    id->leaf_key = key;
    if ((rc = cas_store_begin(st, CAS_TX_WRITE, &tx, err)) != CAS_OK ||
        (rc = store_instance(tx, sealing_key, instance_id, id, false, now, err)) != CAS_OK) {
        cas_tx_rollback(tx);
        goto undo;
    }
    if ((rc = cas_tx_commit(tx, err)) != CAS_OK)
        goto undo;
    X509_free(old_leaf);
    EVP_PKEY_free(old_key);
    set_leaf_times(id);
    return CAS_OK;
undo:
    id->leaf = old_leaf;
    id->leaf_key = old_key;
    X509_free(leaf);
    EVP_PKEY_free(key);
    return cas_err_wrap(err, "cannot renew the TLS certificate");
}

int
casd_identity_leaf_due(const struct casd_identity *id, time_t now)
{
    time_t life = id->leaf_not_after - id->leaf_not_before;

    return now >= id->leaf_not_after - life / 3;
}

void
casd_identity_release(struct casd_identity *id)
{
    X509_free(id->root);
    X509_free(id->intermediate);
    X509_free(id->leaf);
    EVP_PKEY_free(id->intermediate_key);
    EVP_PKEY_free(id->leaf_key);
    free(id->chain_pem);
    memset(id, 0, sizeof(*id));
}

static cas_rc
mark(const struct cas_row *row, void *arg, struct cas_err *err)
{
    (void)row;
    (void)err;
    *(bool *)arg = true;
    return CAS_OK;
}

cas_rc
casd_identity_exists(struct cas_store *st, bool *exists, struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    cas_rc rc;

    *exists = false;
    if ((rc = cas_store_begin(st, CAS_TX_READ, &tx, err)) != CAS_OK)
        return rc;
    rc = cas_tx_exec(tx, "SELECT 1 FROM cas_identity WHERE name = 'root'", NULL, 0, mark, exists,
                     NULL, err);
    cas_tx_rollback(tx);
    return rc;
}

cas_rc
casd_identity_root_cert(struct cas_store *st, X509 **root, struct cas_err *err)
{
    struct loaded l = {0};
    struct cas_tx *tx = NULL;
    cas_rc rc;

    *root = NULL;
    if ((rc = cas_store_begin(st, CAS_TX_READ, &tx, err)) != CAS_OK)
        return rc;
    rc = cas_tx_exec(tx, "SELECT cert, sealed_key FROM cas_identity WHERE name = 'root'", NULL, 0,
                     read_root, &l, NULL, err);
    cas_tx_rollback(tx);
    if (rc == CAS_OK && !l.found)
        rc = cas_err_set(err, CAS_E_NOTFOUND, "the database holds no CAS identity");
    if (rc == CAS_OK)
        rc = cas_cert_from_pem(l.cert, strlen(l.cert), root, err);
    loaded_release(&l);
    return rc;
}
