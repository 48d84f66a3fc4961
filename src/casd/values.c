/*
 * values.c - secret values at rest (values.h): made with lib/secrets, encoded, sealed under the
 * sealing key with "secret:<session>:<name>" as associated data (a value copied to another row
 * does not open), stored one row per secret. Imported secrets store nothing: they are resolved
 * from their exporter at every use (policy.md §8.3).
 */
#include "values.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casd.h"
#include "crypto/seal.h"
#include "exports.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "secrets/secrets.h"
#include "store/sessions.h"
#include "util/alloc.h"
#include "util/err_openssl.h"
#include "util/log.h"
#include "util/secret.h"

#define AAD_MAX 1400

/* The values of one session being made, by secret name, for the resolver. */
struct made {
    const struct cas_policy *p;
    struct cas_secret_value **v; /* per p->secrets index */
};

static cas_rc
resolve(void *ctx, const char *name, const struct cas_secret_value **out, struct cas_err *err)
{
    struct made *m = ctx;

    (void)err;
    *out = NULL;
    for (size_t i = 0; i < m->p->secret_count; i++) {
        if (strcmp(m->p->secrets[i].name, name) == 0) {
            *out = m->v[i];
            return CAS_OK;
        }
    }
    return CAS_E_NOTFOUND;
}

static void
aad_of(char *aad, size_t cap, const char *session, const char *name)
{
    (void)snprintf(aad, cap, "secret:%s:%s", session, name);
}

/* The stored value of session/name (*out NULL when there is none). */
static cas_rc
load(struct casd *d, struct cas_tx *tx, const char *session, const char *name,
     struct cas_secret_value **out, struct cas_err *err)
{
    uint8_t *sealed = NULL;
    size_t len = 0, plen;
    bool found = false;
    struct cas_secret *plain = NULL;
    char aad[AAD_MAX];
    const uint8_t *pp;
    cas_rc rc;

    *out = NULL;
    if ((rc = cas_store_secret_get(tx, session, name, &sealed, &len, &found, err)) != CAS_OK ||
        !found)
        goto out;
    aad_of(aad, sizeof(aad), session, name);
    if ((rc = cas_unseal(d->sealing_key, aad, strlen(aad), sealed, len, &plain, err)) != CAS_OK)
        goto out;
    pp = cas_secret_peek(plain, &plen);
    rc = cas_secrets_decode(pp, plen, out, err);
out:
    free(sealed);
    cas_secret_free(plain);
    if (rc != CAS_OK)
        cas_err_wrap(err, "stored value of secret '%s' of session '%s' is not usable", name,
                     session);
    return rc;
}

static cas_rc
save(struct casd *d, struct cas_tx *tx, const char *session, const char *name,
     const struct cas_secret_value *v, int64_t now, struct cas_err *err)
{
    struct cas_secret *enc = NULL;
    uint8_t *sealed = NULL;
    size_t len = 0;
    char aad[AAD_MAX];
    cas_rc rc;

    aad_of(aad, sizeof(aad), session, name);
    if ((rc = cas_secrets_encode(v, &enc, err)) == CAS_OK &&
        (rc = cas_seal(d->sealing_key, aad, strlen(aad), enc, &sealed, &len, err)) == CAS_OK)
        rc = cas_store_secret_put(
            tx, session, name, sealed, len,
            v->not_after != 0 && v->not_after != CAS_SECRETS_NEVER ? v->not_after : 0, v->renew_at,
            now, err);
    cas_secret_free(enc);
    free(sealed);
    return rc;
}

/* SHA-256 of the sealed row of session/name as stored now (all zero when there is none): what
 * a later transaction compares to see whether the value changed meanwhile. */
static cas_rc
row_digest(struct cas_tx *tx, const char *session, const char *name, uint8_t out[32],
           struct cas_err *err)
{
    uint8_t *sealed = NULL;
    size_t len = 0;
    bool found = false;
    cas_rc rc;

    memset(out, 0, 32);
    if ((rc = cas_store_secret_get(tx, session, name, &sealed, &len, &found, err)) != CAS_OK ||
        !found)
        goto out;
    if (EVP_Digest(sealed, len, out, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot hash a stored value");
out:
    free(sealed);
    return rc;
}

/* Loads the stored value of session/name with the digest of its sealed row. */
static cas_rc
load_seen(struct casd *d, struct cas_tx *tx, const char *session, const char *name,
          struct cas_secret_value **out, uint8_t seen[32], struct cas_err *err)
{
    cas_rc rc;

    *out = NULL;
    if ((rc = row_digest(tx, session, name, seen, err)) != CAS_OK)
        return rc;
    return load(d, tx, session, name, out, err);
}

/* Whether the sealed rows of the secrets marked in check still are those seen when planning. */
static cas_rc
still_seen(struct cas_tx *tx, const char *session, const struct cas_policy *p, const bool *check,
           uint8_t (*seen)[32], bool *same, struct cas_err *err)
{
    uint8_t now_seen[32];
    cas_rc rc;

    *same = true;
    for (size_t i = 0; i < p->secret_count && *same; i++) {
        if (!check[i])
            continue;
        if ((rc = row_digest(tx, session, p->secrets[i].name, now_seen, err)) != CAS_OK)
            return rc;
        *same = CRYPTO_memcmp(now_seen, seen[i], 32) == 0;
    }
    return CAS_OK;
}

struct casd_values_plan {
    struct made m;       /* m.v[i]: the kept value, then the made one */
    size_t *order;       /* cas_secrets_order() */
    bool *make;          /* per secret: made anew by casd_values_make */
    bool *kept;          /* per secret: the predecessor's value, re-checked when storing */
    uint8_t (*seen)[32]; /* per secret: digest of the sealed row read when planning */
};

void
casd_values_plan_free(struct casd_values_plan *pl)
{
    if (pl == NULL)
        return;
    for (size_t i = 0; pl->m.v != NULL && i < pl->m.p->secret_count; i++)
        cas_secrets_value_free(pl->m.v[i]);
    free(pl->m.v);
    free(pl->order);
    free(pl->make);
    free(pl->kept);
    free(pl->seen);
    free(pl);
}

static cas_rc
plan_new(const struct cas_policy *p, struct casd_values_plan **out, struct cas_err *err)
{
    struct casd_values_plan *pl = NULL;
    size_t n = p->secret_count > 0 ? p->secret_count : 1;

    *out = NULL;
    if ((pl = cas_calloc(1, sizeof(*pl))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    pl->m.p = p;
    if ((pl->m.v = cas_calloc(n, sizeof(*pl->m.v))) == NULL ||
        (pl->order = cas_calloc(n, sizeof(*pl->order))) == NULL ||
        (pl->make = cas_calloc(n, sizeof(*pl->make))) == NULL ||
        (pl->kept = cas_calloc(n, sizeof(*pl->kept))) == NULL ||
        (pl->seen = cas_calloc(n, sizeof(*pl->seen))) == NULL) {
        casd_values_plan_free(pl);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    *out = pl;
    return CAS_OK;
}

cas_rc
casd_values_plan(struct casd *d, struct cas_tx *tx, const char *name, const struct cas_policy *p,
                 const struct cas_policy *old, struct casd_values_plan **out, struct cas_err *err)
{
    struct casd_values_plan *pl = NULL;
    cas_rc rc;

    *out = NULL;
    if ((rc = plan_new(p, &pl, err)) != CAS_OK)
        return rc;
    if ((rc = cas_secrets_order(p, pl->order, err)) != CAS_OK)
        goto out;
    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *def = &p->secrets[i];
        const struct cas_policy_secret *old_def =
            old != NULL ? cas_policy_secret_find(old, def->name) : NULL;
        struct cas_secret_value *old_value = NULL;

        if (def->source == CAS_POLICY_IMPORTED)
            continue;
        if (old_def != NULL &&
            (rc = load_seen(d, tx, name, def->name, &old_value, pl->seen[i], err)) != CAS_OK)
            goto out;
        if (cas_secrets_on_update(old_def, old_value, def) == CAS_SECRETS_KEEP &&
            old_value != NULL) {
            pl->m.v[i] = old_value;
            pl->kept[i] = true;
        } else {
            cas_secrets_value_free(old_value);
            pl->make[i] = true;
        }
    }
    *out = pl;
    pl = NULL;
out:
    casd_values_plan_free(pl);
    return rc;
}

cas_rc
casd_values_make(struct casd_values_plan *pl, int64_t now, struct cas_err *err)
{
    const struct cas_policy *p = pl->m.p;
    cas_rc rc;

    for (size_t k = 0; k < p->secret_count; k++) {
        size_t i = pl->order[k];
        if (!pl->make[i] || pl->m.v[i] != NULL)
            continue;
        if ((rc = cas_secrets_make(&p->secrets[i], now, resolve, &pl->m, &pl->m.v[i], err)) !=
            CAS_OK) {
            if (rc == CAS_E_CRYPTO || rc == CAS_E_NOMEM)
                return rc;
            return cas_err_wrap(err, "secret '%s'", p->secrets[i].name);
        }
    }
    return CAS_OK;
}

cas_rc
casd_values_store(struct casd *d, struct cas_tx *tx, const char *name,
                  const struct casd_values_plan *pl, int64_t now, struct cas_err *err)
{
    const struct cas_policy *p = pl->m.p;
    const char **keep = NULL;
    size_t n_keep = 0;
    bool same = false;
    cas_rc rc;

    if ((rc = still_seen(tx, name, p, pl->kept, pl->seen, &same, err)) != CAS_OK)
        return rc;
    if (!same)
        return cas_err_set(err, CAS_E_CONFLICT,
                           "the stored values of session '%s' changed meanwhile; try again", name);
    if (p->secret_count > 0 && (keep = cas_calloc(p->secret_count, sizeof(*keep))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < p->secret_count; i++) {
        if (p->secrets[i].source == CAS_POLICY_IMPORTED)
            continue;
        if (pl->make[i] &&
            (rc = save(d, tx, name, p->secrets[i].name, pl->m.v[i], now, err)) != CAS_OK)
            goto out;
        keep[n_keep++] = p->secrets[i].name;
    }
    rc = cas_store_secret_prune(tx, name, keep, n_keep, err);
out:
    free(keep);
    return rc;
}

cas_rc
casd_values_public(struct casd *d, struct cas_tx *tx, const char *name,
                   const struct cas_policy_secret *s, int64_t now, json_t **out,
                   struct cas_err *err)
{
    struct cas_secret_value *v = NULL;
    cas_rc rc;

    (void)now;
    *out = NULL;
    if ((rc = load(d, tx, name, s->name, &v, err)) != CAS_OK)
        return rc;
    if (v == NULL)
        return cas_err_set(err, CAS_E_NOTFOUND, "secret '%s' has no value", s->name);
    rc = cas_secrets_value_json(v, out, err);
    cas_secrets_value_free(v);
    return rc;
}

cas_rc
casd_values_renew(struct casd *d, const char *name, const char *hash, const struct cas_policy *p,
                  int64_t now, struct cas_err *err)
{
    struct casd_values_plan *pl = NULL;
    struct cas_tx *tx = NULL;
    bool *loaded = NULL, same = false;
    char cur[65];
    unsigned renewed = 0;
    cas_rc rc;

    if (p->secret_count == 0)
        return CAS_OK;
    if ((rc = plan_new(p, &pl, err)) != CAS_OK)
        return rc;
    if ((loaded = cas_calloc(p->secret_count, sizeof(*loaded))) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
        goto out;
    }
    /* Read what the renewal needs, then make the new certificates outside any transaction: the
     * write transaction below holds no key generation or signing. */
    if ((rc = cas_store_begin(d->store, CAS_TX_READ, &tx, err)) != CAS_OK ||
        (rc = cas_store_session_current_hash(tx, name, cur, err)) != CAS_OK)
        goto out;
    if (strcmp(cur, hash) != 0)
        goto out; /* deleted or updated meanwhile */
    for (size_t i = 0; i < p->secret_count; i++) {
        if (p->secrets[i].source == CAS_POLICY_IMPORTED)
            continue;
        if ((rc = load_seen(d, tx, name, p->secrets[i].name, &pl->m.v[i], pl->seen[i], err)) !=
            CAS_OK)
            goto out;
        loaded[i] = true;
    }
    cas_tx_rollback(tx);
    tx = NULL;
    if ((rc = cas_secrets_order(p, pl->order, err)) != CAS_OK ||
        (rc = cas_secrets_renewals(p, resolve, &pl->m, now, pl->make, err)) != CAS_OK)
        goto out;
    for (size_t i = 0; i < p->secret_count; i++) {
        if (pl->make[i]) {
            cas_secrets_value_free(pl->m.v[i]);
            pl->m.v[i] = NULL;
            renewed++;
        }
    }
    if (renewed == 0)
        goto out;
    if ((rc = casd_values_make(pl, now, err)) != CAS_OK)
        goto out;
    /* Store them only if the session and every value read are still those: a renewal that ran
     * meanwhile (another read or attestation) already did this one's work. */
    if ((rc = cas_store_begin(d->store, CAS_TX_WRITE, &tx, err)) != CAS_OK ||
        (rc = cas_store_session_current_hash(tx, name, cur, err)) != CAS_OK)
        goto out;
    if (strcmp(cur, hash) != 0)
        goto out;
    if ((rc = still_seen(tx, name, p, loaded, pl->seen, &same, err)) != CAS_OK)
        goto out;
    if (!same) {
        CAS_LOG(DEBUG, "casd.renewal_superseded", CAS_LF_STR("session", name));
        goto out;
    }
    for (size_t i = 0; i < p->secret_count; i++) {
        if (pl->make[i] &&
            (rc = save(d, tx, name, p->secrets[i].name, pl->m.v[i], now, err)) != CAS_OK)
            goto out;
    }
    rc = cas_tx_commit(tx, err);
    tx = NULL;
    if (rc == CAS_OK)
        CAS_LOG(INFO, "casd.certificates_renewed", CAS_LF_STR("session", name),
                CAS_LF_INT("count", renewed));
out:
    cas_tx_rollback(tx);
    free(loaded);
    casd_values_plan_free(pl);
    return rc;
}

cas_rc
casd_values_get(struct casd *d, struct cas_tx *tx, const char *session, const struct cas_policy *p,
                const char *secret, struct cas_secret_value **out, struct cas_err *err)
{
    const struct cas_policy_secret *def = cas_policy_secret_find(p, secret);
    const struct cas_policy_secret *theirs, *key_def;
    struct cas_session_row row = {0};
    struct cas_policy *ep = NULL;
    struct cas_secret_value *v = NULL;
    char exporter[1100];
    const char *pin = NULL;
    bool found = false, pin_ok = true, with_key = false;
    cas_rc rc;

    *out = NULL;
    if (def == NULL)
        return cas_err_set(err, CAS_E_NOTFOUND, "secret '%s' is not declared", secret);
    if (def->source != CAS_POLICY_IMPORTED) {
        if ((rc = load(d, tx, session, secret, out, err)) != CAS_OK)
            return rc;
        return *out != NULL ? CAS_OK
                            : cas_err_set(err, CAS_E_NOTFOUND, "secret '%s' has no value", secret);
    }
    if (!cas_policy_resolve_ref(session, def->import.session, exporter, sizeof(exporter)) ||
        (rc = cas_store_session_current(tx, exporter, &row, &found, err)) != CAS_OK || !found) {
        rc = cas_err_set(err, CAS_E_DENIED,
                         "import of secret '%s' from session '%s' failed: session does not exist",
                         secret, def->import.session);
        goto out;
    }
    if (def->import.has_hash && strcmp(def->import.session_hash, row.hash) != 0) {
        rc = cas_err_set(err, CAS_E_DENIED,
                         "import of secret '%s' from session '%s' failed: session hash is not the "
                         "pinned %s",
                         secret, exporter, def->import.session_hash);
        goto out;
    }
    if ((rc = casd_session_open(d, &row, &ep, NULL, err)) != CAS_OK)
        goto out;
    theirs = cas_policy_secret_find(ep, def->import.secret);
    if (theirs == NULL || !casd_export_grants(exporter, theirs, session, NULL, &pin_ok, &pin)) {
        rc = cas_err_set(err, CAS_E_DENIED,
                         "import of secret '%s' from session '%s' failed: secret is not exported "
                         "to '%s'",
                         secret, exporter, session);
        goto out;
    }
    if ((rc = casd_exports_check_use(tx, exporter, theirs, session, err)) != CAS_OK)
        goto out;
    if ((rc = load(d, tx, exporter, theirs->name, &v, err)) != CAS_OK)
        goto out;
    if (v == NULL) {
        rc = cas_err_set(err, CAS_E_NOTFOUND, "secret '%s' has no value", secret);
        goto out;
    }
    /* A certificate brings its key only when the key secret is exported to us too (§8.3). */
    key_def = theirs->private_key != NULL ? cas_policy_secret_find(ep, theirs->private_key) : NULL;
    with_key =
        key_def != NULL && casd_export_grants(exporter, key_def, session, NULL, &pin_ok, &pin);
    rc = cas_secrets_value_dup(v, with_key, out, err);
out:
    cas_secrets_value_free(v);
    cas_policy_free(ep);
    cas_session_row_release(&row);
    return rc;
}
