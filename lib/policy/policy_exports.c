/*
 * policy_exports.c - what an export grant (policy.md §8.3) points at, which export grants a
 * secret to an importer, and the warning for an unpinned export that a stranger could claim by
 * creating the name first (docs/policy.md "Sharing secrets"). Pure functions on the typed
 * session: casd decides with its database whether the target exists, the CLI without one.
 */
#include <stdint.h>

#include <stdio.h>
#include <string.h>

#include "policy/names.h"
#include "policy_ck.h"
#include "policy_int.h"

bool
cas_policy_export_target(const char *exporter, const struct cas_policy_ref *r, char *out,
                         size_t cap)
{
    const char *ref = r->session != NULL ? r->session : r->namespace;

    return ref != NULL && cas_policy_resolve_ref(exporter, ref, out, cap);
}

bool
cas_policy_name_within(const char *name, const char *ns)
{
    size_t n = strlen(ns);

    return n > 0 && strncmp(name, ns, n) == 0 && name[n] == '/';
}

const struct cas_policy_ref *
cas_policy_export_match(const char *exporter, const struct cas_policy_secret *s,
                        const char *importer)
{
    char target[CAS_POLICY_MAX_NAME + 1];

    if (s->source == CAS_POLICY_IMPORTED) /* only the owner widens access */
        return NULL;
    for (size_t i = 0; i < s->export_count; i++) {
        const struct cas_policy_ref *r = &s->exports[i];
        if (!cas_policy_export_target(exporter, r, target, sizeof(target)))
            continue;
        if (strcmp(target, importer) == 0 ||
            (r->namespace != NULL && cas_policy_name_within(importer, target)))
            return r;
    }
    return NULL;
}

bool
cas_policy_only_creates(const struct cas_policy *pp, const uint8_t pcreator[32],
                        const uint8_t me[32])
{
    const struct cas_policy_access *a = &pp->access;
    const struct cas_policy_access_list *l = a->create_sessions.is_present ? &a->create_sessions
                                             : a->update.is_present        ? &a->update
                                                                           : NULL;

    if (a->whole.ph != NULL) /* the whole access_policy is a placeholder: unknown here */
        return false;
    if (l == NULL) /* the default: [CREATOR] */
        return memcmp(pcreator, me, 32) == 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct cas_policy_access_entry *e = &l->entries[i];
        switch (e->kind) {
        case CAS_POLICY_ACCESS_NONE:
            break;
        case CAS_POLICY_ACCESS_CREATOR:
            if (memcmp(pcreator, me, 32) != 0)
                return false;
            break;
        case CAS_POLICY_ACCESS_KEY_HASH:
        case CAS_POLICY_ACCESS_CERTIFICATE:
            if (memcmp(e->key_hash, me, 32) != 0)
                return false;
            break;
        default: /* ANY, placeholders */
            return false;
        }
    }
    return true;
}

void
cas_policy_export_warning(const char *secret, const struct cas_policy_ref *r, const char *target,
                          bool offline, char *out, size_t cap)
{
    const char *risk;

    if (r->namespace != NULL)
        risk = offline ? "outside this session's namespace, without a session_hash pin: "
                         "whoever may create sessions there can import the secret"
                       : "whose create_sessions admits others than this session's creator, "
                         "without a session_hash pin: whoever may create sessions there can "
                         "import the secret";
    else
        risk = offline ? "outside this session's namespace, without a session_hash pin: if that "
                         "name does not exist yet, whoever creates it first can import the secret"
                       : "which does not exist yet, without a session_hash pin: whoever creates "
                         "that name first can import the secret";
    (void)snprintf(out, cap,
                   "secret '%s' is exported to %s '%s', %s; pin the importer with session_hash, "
                   "or export into a namespace whose create_sessions only you control",
                   secret, r->namespace != NULL ? "namespace" : "session", target, risk);
}

void
cas_policy_diags_add_warning(struct cas_policy_diags *d, struct cas_policy_pos pos,
                             const char *text)
{
    diag_add(d, pos.line, pos.column, CAS_POLICY_WARNING, "%s", text);
}

/* The offline check of `cas session check`: every unpinned export outside the own namespace. */
void
ck_warn_unpinned_exports(struct ck *c)
{
    const struct cas_policy *p = c->p;
    char target[CAS_POLICY_MAX_NAME + 1], text[3 * CAS_POLICY_MAX_NAME];

    if (p->name == NULL)
        return;
    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *s = &p->secrets[i];
        for (size_t j = 0; s->source != CAS_POLICY_IMPORTED && j < s->export_count; j++) {
            const struct cas_policy_ref *r = &s->exports[j];
            if (r->has_hash || !cas_policy_export_target(p->name, r, target, sizeof(target)) ||
                strcmp(target, p->name) == 0 || cas_policy_name_within(target, p->name))
                continue;
            cas_policy_export_warning(s->name, r, target, true, text, sizeof(text));
            diag_add(c->d, r->pos.line, r->pos.column,
                     c->opt->fail_on_warning ? CAS_POLICY_ERROR : CAS_POLICY_WARNING, "%s", text);
        }
    }
}
