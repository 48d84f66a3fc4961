/*
 * exports.c - unpinned export grants made visible and bound (exports.h). The decisions about
 * what an export points at are lib/policy's (cas_policy_export_match, _target, _warning); this
 * file adds what only the database knows: whether a name exists, who controls a namespace, and
 * the bindings.
 */
#include "exports.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "casd.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "store/sessions.h"
#include "util/codec.h"
#include "util/log.h"

#define NAME_CAP (CAS_POLICY_MAX_NAME + 1)

/* Whether sessions in namespace ns can be created only by me: ns's nearest existing ancestor
 * (or ns itself) decides, and p when that is the exporter being uploaded. */
static cas_rc
namespace_controlled(struct casd *d, struct cas_tx *tx, const struct cas_policy *p,
                     const uint8_t me[32], const char *ns, bool *yes, struct cas_err *err)
{
    char cur[NAME_CAP], up[NAME_CAP];
    cas_rc rc = CAS_OK;

    *yes = false;
    (void)snprintf(cur, sizeof(cur), "%s", ns);
    while (cur[0] != '\0') {
        struct cas_session_row row = {0};
        struct cas_policy *pp = NULL;
        uint8_t creator[32];
        bool found = false;

        if (strcmp(cur, p->name) == 0) {
            *yes = cas_policy_only_creates(p, me, me);
            return CAS_OK;
        }
        if ((rc = cas_store_session_current(tx, cur, &row, &found, err)) != CAS_OK)
            return rc;
        if (found) {
            if ((rc = casd_session_open(d, &row, &pp, NULL, err)) == CAS_OK)
                *yes = cas_hex_decode_exact(row.creator, strlen(row.creator), creator, 32) &&
                       cas_policy_only_creates(pp, creator, me);
            cas_policy_free(pp);
            cas_session_row_release(&row);
            return rc;
        }
        if (!cas_policy_parent(cur, up, sizeof(up)))
            return CAS_OK;
        memcpy(cur, up, sizeof(cur));
    }
    return CAS_OK; /* the top level: anyone may create a session there */
}

cas_rc
casd_exports_warn(struct casd *d, struct cas_tx *tx, const struct cas_policy *p,
                  const uint8_t creator[32], struct cas_policy_diags *diags, struct cas_err *err)
{
    char target[NAME_CAP], parent[NAME_CAP], hash[65], text[3 * NAME_CAP];
    cas_rc rc;

    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *s = &p->secrets[i];
        for (size_t j = 0; s->source != CAS_POLICY_IMPORTED && j < s->export_count; j++) {
            const struct cas_policy_ref *r = &s->exports[j];
            bool safe = false;
            if (r->has_hash || !cas_policy_export_target(p->name, r, target, sizeof(target)) ||
                strcmp(target, p->name) == 0)
                continue;
            if (r->session != NULL) {
                if ((rc = cas_store_session_current_hash(tx, target, hash, err)) != CAS_OK)
                    return rc;
                if (hash[0] != '\0') /* exists: the grant binds to its creator at import */
                    continue;
                if (cas_policy_parent(target, parent, sizeof(parent)) &&
                    (rc = namespace_controlled(d, tx, p, creator, parent, &safe, err)) != CAS_OK)
                    return rc;
            } else if ((rc = namespace_controlled(d, tx, p, creator, target, &safe, err)) !=
                       CAS_OK) {
                return rc;
            }
            if (safe)
                continue;
            cas_policy_export_warning(s->name, r, target, false, text, sizeof(text));
            cas_policy_diags_add_warning(diags, r->pos, text);
        }
    }
    return CAS_OK;
}

static void
hex_to_b58(const char *hex, char out[51])
{
    uint8_t h[32];

    if (cas_hex_decode_exact(hex, strlen(hex), h, 32))
        cas_keyhash_to_b58(h, out);
    else
        (void)snprintf(out, 51, "%s", "?");
}

/* The grant's binding: "" when the grant is pinned, or not bound yet. */
static cas_rc
bound_creator(struct cas_tx *tx, const char *exporter, const struct cas_policy_secret *theirs,
              const char *importer, bool *unpinned, char bound[65], struct cas_err *err)
{
    const struct cas_policy_ref *r = cas_policy_export_match(exporter, theirs, importer);

    bound[0] = '\0';
    *unpinned = r != NULL && !r->has_hash;
    if (!*unpinned)
        return CAS_OK;
    return cas_store_binding_get(tx, exporter, theirs->name, importer, bound, err);
}

cas_rc
casd_exports_bind(struct cas_tx *tx, const char *exporter, const struct cas_policy_secret *theirs,
                  const char *importer, const uint8_t creator[32], const uint8_t *uploader,
                  struct cas_err *err)
{
    char hex[65], bound[65], b58[51], up58[51];
    bool unpinned;
    cas_rc rc;

    if ((rc = bound_creator(tx, exporter, theirs, importer, &unpinned, bound, err)) != CAS_OK ||
        !unpinned)
        return rc;
    cas_hex_encode(creator, 32, hex);
    if (bound[0] == '\0') {
        if ((rc = cas_store_binding_put(tx, exporter, theirs->name, importer, hex,
                                        (int64_t)time(NULL), err)) != CAS_OK)
            return rc;
        cas_keyhash_to_b58(creator, b58);
        CAS_LOG(INFO, "casd.export_bound", CAS_LF_STR("exporter", exporter),
                CAS_LF_STR("secret", theirs->name), CAS_LF_STR("importer", importer),
                CAS_LF_STR("creator", b58));
        return CAS_OK;
    }
    hex_to_b58(bound, b58);
    if (strcmp(bound, hex) != 0)
        return cas_err_set(err, CAS_E_CONFLICT,
                           "import of secret '%s' from session '%s' failed: its export to '%s' "
                           "has no session_hash pin and is bound to creator %s, whose session "
                           "imported it first; only the owner of '%s' can reset that, by pinning "
                           "session_hash or changing the export",
                           theirs->name, exporter, importer, b58, exporter);
    if (uploader != NULL && memcmp(uploader, creator, 32) != 0) {
        cas_keyhash_to_b58(uploader, up58);
        return cas_err_set(err, CAS_E_CONFLICT,
                           "import of secret '%s' from session '%s' failed: its export to '%s' "
                           "is bound to creator %s, and this session is created by %s; only "
                           "that creator may create '%s' with this import",
                           theirs->name, exporter, importer, b58, up58, importer);
    }
    return CAS_OK;
}

cas_rc
casd_exports_check_use(struct cas_tx *tx, const char *exporter,
                       const struct cas_policy_secret *theirs, const char *importer,
                       struct cas_err *err)
{
    struct cas_session_row row = {0};
    char bound[65], b58[51];
    bool unpinned, found = false;
    cas_rc rc;

    if ((rc = bound_creator(tx, exporter, theirs, importer, &unpinned, bound, err)) != CAS_OK ||
        bound[0] == '\0')
        return rc;
    if ((rc = cas_store_session_current(tx, importer, &row, &found, err)) != CAS_OK)
        return rc;
    if (!found || strcmp(row.creator, bound) != 0) {
        hex_to_b58(bound, b58);
        rc = cas_err_set(err, CAS_E_DENIED,
                         "import of secret '%s' from session '%s' failed: its export to '%s' has "
                         "no session_hash pin and is bound to creator %s, not this session's; "
                         "only the owner of '%s' can reset that, by pinning session_hash or "
                         "changing the export",
                         theirs->name, exporter, importer, b58, exporter);
    }
    cas_session_row_release(&row);
    return rc;
}

static bool
same_ref(const struct cas_policy_ref *a, const struct cas_policy_ref *b)
{
    return (a->session == NULL) == (b->session == NULL) &&
           (a->session == NULL || strcmp(a->session, b->session) == 0) &&
           (a->namespace == NULL) == (b->namespace == NULL) &&
           (a->namespace == NULL || strcmp(a->namespace, b->namespace) == 0) &&
           a->has_hash == b->has_hash &&
           (!a->has_hash || strcmp(a->session_hash, b->session_hash) == 0);
}

cas_rc
casd_exports_changed(struct cas_tx *tx, const char *name, const struct cas_policy *old,
                     const struct cas_policy *p, struct cas_err *err)
{
    cas_rc rc;

    for (size_t i = 0; old != NULL && i < old->secret_count; i++) {
        const struct cas_policy_secret *o = &old->secrets[i];
        const struct cas_policy_secret *n = cas_policy_secret_find(p, o->name);
        bool same = n != NULL && n->source == o->source && n->export_count == o->export_count;
        for (size_t j = 0; same && j < o->export_count; j++)
            same = same_ref(&o->exports[j], &n->exports[j]);
        if (o->export_count > 0 && !same &&
            (rc = cas_store_binding_clear(tx, name, o->name, err)) != CAS_OK)
            return rc;
    }
    return CAS_OK;
}
