/*
 * values.c - secret values at rest (values.h): made with lib/secrets, encoded, sealed under the
 * sealing key with "secret:<session>:<name>" as associated data (a value copied to another row
 * does not open), stored one row per secret. Imported secrets store nothing: they are resolved
 * from their exporter at every use (policy.md §8.3).
 */
#include "values.h"

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

cas_rc
casd_values_update(struct casd *d, struct cas_tx *tx, const char *name, const struct cas_policy *p,
                   const struct cas_policy *old, int64_t now, struct cas_err *err)
{
    struct made m = {p, NULL};
    size_t *order = NULL;
    const char **keep = NULL;
    size_t n_keep = 0;
    cas_rc rc = CAS_OK;

    if (p->secret_count > 0 && ((m.v = cas_calloc(p->secret_count, sizeof(*m.v))) == NULL ||
                                (order = cas_calloc(p->secret_count, sizeof(*order))) == NULL ||
                                (keep = cas_calloc(p->secret_count, sizeof(*keep))) == NULL)) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = cas_secrets_order(p, order, err)) != CAS_OK)
        goto out;
    for (size_t k = 0; k < p->secret_count; k++) {
        size_t i = order[k];
        const struct cas_policy_secret *def = &p->secrets[i];
        const struct cas_policy_secret *old_def =
            old != NULL ? cas_policy_secret_find(old, def->name) : NULL;
        struct cas_secret_value *old_value = NULL;
        enum cas_secrets_action action;

        if (def->source == CAS_POLICY_IMPORTED)
            continue;
        if (old_def != NULL && (rc = load(d, tx, name, def->name, &old_value, err)) != CAS_OK)
            goto out;
        action = cas_secrets_on_update(old_def, old_value, def);
        if (action == CAS_SECRETS_KEEP && old_value != NULL) {
            m.v[i] = old_value;
        } else {
            cas_secrets_value_free(old_value);
            if ((rc = cas_secrets_make(def, now, resolve, &m, &m.v[i], err)) != CAS_OK) {
                if (rc == CAS_E_CRYPTO || rc == CAS_E_NOMEM)
                    goto out;
                rc = cas_err_wrap(err, "secret '%s'", def->name);
                goto out;
            }
            if ((rc = save(d, tx, name, def->name, m.v[i], now, err)) != CAS_OK)
                goto out;
        }
        keep[n_keep++] = def->name;
    }
    rc = cas_store_secret_prune(tx, name, keep, n_keep, err);
out:
    for (size_t i = 0; m.v != NULL && i < p->secret_count; i++)
        cas_secrets_value_free(m.v[i]);
    free(m.v);
    free(order);
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
    struct made m = {p, NULL};
    struct cas_session_row cur = {0};
    struct cas_tx *tx = NULL;
    size_t *order = NULL;
    bool *reissue = NULL, found = false;
    unsigned renewed = 0;
    cas_rc rc;

    if (p->secret_count == 0)
        return CAS_OK;
    if ((m.v = cas_calloc(p->secret_count, sizeof(*m.v))) == NULL ||
        (order = cas_calloc(p->secret_count, sizeof(*order))) == NULL ||
        (reissue = cas_calloc(p->secret_count, sizeof(*reissue))) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = cas_store_begin(d->store, CAS_TX_WRITE, &tx, err)) != CAS_OK ||
        (rc = cas_store_session_current(tx, name, &cur, &found, err)) != CAS_OK)
        goto out;
    if (!found || strcmp(cur.hash, hash) != 0)
        goto out; /* deleted or updated meanwhile */
    for (size_t i = 0; i < p->secret_count; i++) {
        if (p->secrets[i].source != CAS_POLICY_IMPORTED &&
            (rc = load(d, tx, name, p->secrets[i].name, &m.v[i], err)) != CAS_OK)
            goto out;
    }
    if ((rc = cas_secrets_order(p, order, err)) != CAS_OK ||
        (rc = cas_secrets_renewals(p, resolve, &m, now, reissue, err)) != CAS_OK)
        goto out;
    for (size_t k = 0; k < p->secret_count; k++) {
        size_t i = order[k];
        if (!reissue[i])
            continue;
        cas_secrets_value_free(m.v[i]);
        m.v[i] = NULL;
        if ((rc = cas_secrets_make(&p->secrets[i], now, resolve, &m, &m.v[i], err)) != CAS_OK ||
            (rc = save(d, tx, name, p->secrets[i].name, m.v[i], now, err)) != CAS_OK)
            goto out;
        renewed++;
    }
    rc = cas_tx_commit(tx, err);
    tx = NULL;
    if (rc == CAS_OK && renewed > 0)
        CAS_LOG(INFO, "casd.certificates_renewed", CAS_LF_STR("session", name),
                CAS_LF_INT("count", renewed));
out:
    cas_tx_rollback(tx);
    cas_session_row_release(&cur);
    for (size_t i = 0; m.v != NULL && i < p->secret_count; i++)
        cas_secrets_value_free(m.v[i]);
    free(m.v);
    free(order);
    free(reissue);
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
