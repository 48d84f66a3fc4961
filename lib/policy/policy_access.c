/*
 * policy_access.c - access_policy (policy.md §10), security (§11) and the checks that need the
 * whole session: services without attestation, and the warnings of §13.
 */
#include <string.h>

#include "policy_ck.h"
#include "policy_pem.h"
#include "util/codec.h"

/* ---- access_policy ---- */

static const char *const g_lists[] = {"read", "update", "create_sessions", "list_sessions",
                                      "delete"};

static struct cas_policy_access_list *
list_of(struct cas_policy_access *a, size_t i)
{
    switch (i) {
    case 0:
        return &a->read;
    case 1:
        return &a->update;
    case 2:
        return &a->create_sessions;
    case 3:
        return &a->list_sessions;
    default:
        return &a->del;
    }
}

static bool
is_later_rule(const char *s)
{
    return strcmp(s, "require-all") == 0 || strncmp(s, "require-at-least-", 17) == 0;
}

/* One entry of an access list; false when it is not valid (reported). */
static bool
check_entry(struct ck *c, struct cas_policy_access_entry *e, const struct pnode *n, json_t *arr)
{
    struct cas_policy_value v;
    struct cas_err err = {0};
    const char *s;

    e->pos.line = n->line;
    e->pos.column = n->col;
    if (n->type == PN_MAP) {
        if (pn_get(n, "signer") != NULL)
            ck_later(c, n, "signer", 10);
        else if (n->count >= 2 && n->kids[0]->type == PN_SCALAR && is_later_rule(n->kids[0]->text))
            ck_later(c, n, n->kids[0]->text, 10);
        else
            ck_err(c, n,
                   "expected CREATOR, ANY, NONE, a key hash, a PEM certificate or a "
                   "placeholder");
        return false;
    }
    if (ck_struct_ph(c, n, &v)) {
        e->kind = CAS_POLICY_ACCESS_PLACEHOLDER;
        e->ph = v.ph;
        ck_append(c, arr, ck_json_str(c, n->text));
        return true;
    }
    if ((s = ck_str(c, n)) == NULL)
        return false;
    if (strcmp(s, "CREATOR") == 0 || strcmp(s, "ANY") == 0 || strcmp(s, "NONE") == 0) {
        e->kind = s[0] == 'C'   ? CAS_POLICY_ACCESS_CREATOR
                  : s[0] == 'A' ? CAS_POLICY_ACCESS_ANY
                                : CAS_POLICY_ACCESS_NONE;
        ck_append(c, arr, ck_json_str(c, s));
        return true;
    }
    if (is_later_rule(s)) {
        ck_later(c, n, s, 10);
        return false;
    }
    if (pem_looks_like_cert(s)) {
        if (!pem_cert_key_hash(s, n->len, e->key_hash)) {
            ck_err(c, n, "the certificate is not valid PEM");
            return false;
        }
        e->kind = CAS_POLICY_ACCESS_CERTIFICATE;
        e->pem = s;
        ck_append(c, arr, ck_json_str(c, s));
        return true;
    }
    if (cas_keyhash_parse(s, e->key_hash, &err) != CAS_OK) {
        ck_err(c, n,
               "'%.64s' is not CREATOR, ANY, NONE, a key hash (Base58Check or 64 hex), a PEM "
               "certificate or a placeholder",
               s);
        return false;
    }
    e->kind = CAS_POLICY_ACCESS_KEY_HASH;
    if (n->len == 64) { /* hex: stored lowercase */
        char hex[65];
        cas_hex_encode(e->key_hash, 32, hex);
        ck_append(c, arr, ck_json_str(c, hex));
    } else {
        ck_append(c, arr, ck_json_str(c, s));
    }
    return true;
}

/* ANY and NONE stand alone; ANY where it lets anyone change things is a warning (§13). */
static void
check_list_rules(struct ck *c, size_t which, const struct cas_policy_access_list *l,
                 const struct pnode *n)
{
    static const char *const any_lets[] = {NULL, "update this session",
                                           "create sessions in its namespace", NULL,
                                           "delete this session"};

    for (size_t i = 0; i < l->count; i++) {
        enum cas_policy_access_kind kd = l->entries[i].kind;
        if ((kd == CAS_POLICY_ACCESS_ANY || kd == CAS_POLICY_ACCESS_NONE) && l->count > 1)
            ck_err(c, n, "%s must be alone in its list",
                   kd == CAS_POLICY_ACCESS_ANY ? "ANY" : "NONE");
        if (kd == CAS_POLICY_ACCESS_ANY && any_lets[which] != NULL)
            ck_warn(c, n, "ANY lets anyone %s; name the keys that may", any_lets[which]);
        if (kd == CAS_POLICY_ACCESS_CREATOR || kd == CAS_POLICY_ACCESS_PLACEHOLDER)
            c->p->references_creator = true;
    }
}

static void
check_list(struct ck *c, size_t which, const struct pnode *n, json_t *o)
{
    struct cas_policy_access_list *l = list_of(&c->p->access, which);
    struct pnode *const *items;
    size_t k, mark = ck_push(c, g_lists[which]);
    json_t *arr;

    if (pn_is_null(n)) {
        ck_err(c, n,
               "is empty; write NONE to grant nobody, or leave the key out for the "
               "default");
        goto out;
    }
    k = ck_many(n, &items);
    if (items == NULL && !cas_policy_is_whole_placeholder(n->text, n->len))
        ck_since(c, n, "an access list as a single value", 10);
    if (k == 0) {
        ck_err(c, n,
               "is empty; write NONE to grant nobody, or leave the key out for the "
               "default");
        goto out;
    }
    l->is_present = true;
    if ((l->entries = ck_alloc(c, k * sizeof(*l->entries))) == NULL || (arr = ck_arr(c)) == NULL)
        goto out;
    for (size_t i = 0; i < k; i++) {
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        if (check_entry(c, &l->entries[l->count], items ? items[i] : n, arr))
            l->count++;
        ck_pop(c, m2);
    }
    check_list_rules(c, which, l, n);
    ck_set(c, o, g_lists[which], arr);
out:
    ck_pop(c, mark);
}

void
ck_access(struct ck *c, const struct pnode *n, json_t *top)
{
    static const struct keyspec keys[] = {
        {"read", -1, K_OK, NULL},           {"update", -1, K_OK, NULL},
        {"create_sessions", 5, K_OK, NULL}, {"list_sessions", 12, K_OK, NULL},
        {"delete", -1, K_OK, NULL},         {NULL, 0, 0, NULL},
    };
    size_t mark = ck_push(c, "access_policy");
    json_t *o;

    if (n != NULL && ck_struct_ph(c, n, &c->p->access.whole)) {
        c->p->references_creator = true;
        ck_set(c, top, "access_policy", ck_json_str(c, n->text));
        goto out;
    }
    if ((o = ck_obj(c)) == NULL) {
        c->nomem = true;
        goto out;
    }
    if (n != NULL && !pn_is_null(n) && ck_keys(c, n, keys, "access_policy")) {
        for (size_t i = 0; i < 5; i++) {
            const struct pnode *l = pn_get(n, g_lists[i]);
            if (l != NULL)
                check_list(c, i, l, o);
        }
    }
    /* defaults (§12 step 5): read and update are [CREATOR]; the others derive from them */
    for (size_t i = 0; i < 2; i++) {
        if (list_of(&c->p->access, i)->is_present)
            continue;
        c->p->references_creator = true;
        json_t *def = ck_arr(c);
        ck_append(c, def, ck_json_str(c, "CREATOR"));
        ck_set(c, o, g_lists[i], def);
    }
    { /* in §10's order, so the read-back prints the same whatever was written */
        json_t *ordered = ck_obj(c);
        for (size_t i = 0; i < 5; i++) {
            json_t *l = json_object_get(o, g_lists[i]);
            if (l != NULL)
                ck_set(c, ordered, g_lists[i], json_incref(l));
        }
        json_decref(o);
        ck_set(c, top, "access_policy", ordered);
    }
out:
    ck_pop(c, mark);
}

/* ---- security ---- */

static const struct {
    const char *name;
    unsigned bit;
} g_tolerate[] = {
    {"debug-mode", CAS_POLICY_TOL_DEBUG_MODE},
    {"hyperthreading", CAS_POLICY_TOL_HYPERTHREADING},
    {"insecure-igpu", CAS_POLICY_TOL_INSECURE_IGPU},
    {"aepic-leak", CAS_POLICY_TOL_AEPIC_LEAK},
    {"software-hardening-needed", CAS_POLICY_TOL_SW_HARDENING},
    {"insecure-configuration", CAS_POLICY_TOL_INSECURE_CONFIG},
    {"outdated-tcb", CAS_POLICY_TOL_OUTDATED_TCB},
};

static void
check_tolerate(struct ck *c, const struct pnode *n, bool maa, json_t *o)
{
    struct cas_policy_security *sec = &c->p->security;
    struct pnode *const *items;
    size_t k = pn_is_null(n) ? 0 : ck_many(n, &items), mark = ck_push(c, "tolerate");
    json_t *arr = ck_arr(c);

    for (size_t i = 0; i < k; i++) {
        const struct pnode *it = items ? items[i] : n;
        size_t m2 = items ? ck_push_i(c, i) : c->plen, t;
        if (ck_str(c, it) == NULL) {
            ck_pop(c, m2);
            continue;
        }
        for (t = 0; t < sizeof(g_tolerate) / sizeof(g_tolerate[0]); t++)
            if (strcmp(it->text, g_tolerate[t].name) == 0)
                break;
        if (t < sizeof(g_tolerate) / sizeof(g_tolerate[0])) {
            sec->tolerate |= g_tolerate[t].bit;
            ck_append(c, arr, ck_json_str(c, it->text));
        } else if (strcmp(it->text, "maa-managed-tcb") == 0 || strcmp(it->text, "debug") == 0) {
            if (!maa) /* with mode: maa, reported once as part of it */
                ck_later(c, it, it->text, 7);
        } else if (strcmp(it->text, "local-attestation-trust-cas-tcb") == 0) {
            ck_later(c, it, it->text, 11);
        } else {
            ck_err(c, it,
                   "unknown tolerance '%.64s'; cas knows debug-mode, hyperthreading, "
                   "insecure-igpu, aepic-leak, software-hardening-needed, "
                   "insecure-configuration, outdated-tcb",
                   it->text);
        }
        ck_pop(c, m2);
    }
    ck_set_nonempty(c, o, "tolerate", arr);
    ck_pop(c, mark);
}

static bool
advisory_ok(const char *s)
{
    if (strncmp(s, "INTEL-SA-", 9) != 0 || strlen(s) != 14)
        return false;
    for (size_t i = 9; i < 14; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void
check_advisories(struct ck *c, const struct pnode *n, json_t *o)
{
    struct cas_policy_security *sec = &c->p->security;
    struct pnode *const *items;
    size_t k = pn_is_null(n) ? 0 : ck_many(n, &items), mark = ck_push(c, "ignore_advisories");
    json_t *arr = ck_arr(c);

    if ((sec->advisories = ck_alloc(c, (k ? k : 1) * sizeof(char *))) == NULL)
        goto out;
    for (size_t i = 0; i < k; i++) {
        const struct pnode *it = items ? items[i] : n;
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        if (ck_str(c, it) != NULL) {
            if (strcmp(it->text, "*") == 0)
                sec->ignore_all_advisories = true;
            else if (!advisory_ok(it->text))
                ck_err(c, it, "expected INTEL-SA-NNNNN (five digits) or \"*\"");
            else {
                sec->advisories[sec->advisory_count++] = it->text;
                ck_append(c, arr, ck_json_str(c, it->text));
            }
        }
        ck_pop(c, m2);
    }
    if (sec->ignore_all_advisories) {
        ck_set(c, o, "ignore_advisories", ck_json_str(c, "*"));
        if ((sec->tolerate & CAS_POLICY_TOL_DEBUG_MODE) == 0)
            ck_err(c, n,
                   "ignore_advisories: \"*\" is only allowed together with tolerate: "
                   "[debug-mode]");
    } else if (json_array_size(arr) > 0) {
        ck_set(c, o, "ignore_advisories", arr);
        arr = NULL;
    }
    if (k > 0 && (sec->tolerate & (CAS_POLICY_TOL_SW_HARDENING | CAS_POLICY_TOL_INSECURE_CONFIG |
                                   CAS_POLICY_TOL_OUTDATED_TCB)) == 0)
        ck_warn(c, n,
                "has no effect: no status category (outdated-tcb, "
                "insecure-configuration, software-hardening-needed) is tolerated");
out:
    json_decref(arr);
    ck_pop(c, mark);
}

/* singleton_enclaves, must_be_sgx_local: later when true, accepted when false. */
static void
check_later_flag(struct ck *c, const struct pnode *parent, const char *key, int since)
{
    const struct pnode *f = pn_get(parent, key);
    size_t mark;
    bool v = false;

    if (f == NULL)
        return;
    mark = ck_push(c, key);
    if (ck_bool(c, f, &v) && v)
        ck_later(c, f, key, since);
    ck_pop(c, mark);
}

static const struct keyspec g_attest_keys[] = {
    {"mode", 1, K_OK, NULL},
    {"tolerate", 1, K_OK, NULL},
    {"ignore_advisories", 1, K_OK, NULL},
    {"trusted_scone_qe_pubkeys", 1, K_LATER, NULL},
    {"one_time_password_shared_secret", 8, K_LATER, NULL},
    {"url", 7, K_OK, NULL}, /* maa only: reported with mode: maa */
    {"certificates", 7, K_OK, NULL},
    {"min_rsa_signing_key_size", 7, K_OK, NULL},
    {"singleton_enclaves", 9, K_OK, NULL},
    {"must_be_sgx_local", 11, K_OK, NULL},
    {NULL, 0, 0, NULL},
};

/* mode (§11); true for mode: maa, which is later and reported here once. */
static bool
check_mode(struct ck *c, const struct pnode *f)
{
    static const char *const modes[] = {"hardware", "sim", "none"};
    size_t mark = ck_push(c, "mode");
    bool maa = false;

    if (ck_str(c, f) != NULL) {
        size_t m = 0;
        while (m < 3 && strcmp(f->text, modes[m]) != 0)
            m++;
        if (m < 3)
            c->p->security.mode = (enum cas_policy_mode)m;
        else if ((maa = strcmp(f->text, "maa") == 0))
            ck_later(c, f, "mode: maa", 7);
        else
            ck_err(c, f, "unknown mode '%.32s'; use hardware, sim or none", f->text);
    }
    ck_pop(c, mark);
    return maa;
}

/* MAA's own keys, reported unless mode: maa already was. */
static void
check_maa_keys(struct ck *c, const struct pnode *n)
{
    static const char *const maa_keys[] = {"url", "certificates", "min_rsa_signing_key_size"};

    for (size_t i = 0; i < 3; i++) {
        const struct pnode *f = pn_get(n, maa_keys[i]);
        size_t mark;
        if (f == NULL)
            continue;
        mark = ck_push(c, maa_keys[i]);
        ck_later(c, f, maa_keys[i], 7);
        ck_pop(c, mark);
    }
}

static void
check_sec_attestation(struct ck *c, const struct pnode *n, json_t *so)
{
    static const char *const modes[] = {"hardware", "sim", "none"};
    struct cas_policy_security *sec = &c->p->security;
    const struct pnode *f;
    size_t mark = ck_push(c, "attestation");
    json_t *o;
    bool maa = false;

    if (n != NULL && ck_struct_ph(c, n, &sec->attestation_whole)) {
        c->mode_known = false;
        ck_set(c, so, "attestation", ck_json_str(c, n->text));
        goto out;
    }
    if ((o = ck_obj(c)) == NULL)
        goto out;
    ck_set(c, o, "mode", ck_json_str(c, modes[0])); /* first, so the read-back prints it first */
    if (n != NULL && !pn_is_null(n) && ck_keys(c, n, g_attest_keys, "security.attestation")) {
        if ((f = pn_get(n, "mode")) != NULL)
            maa = check_mode(c, f);
        if (!maa)
            check_maa_keys(c, n);
        if ((f = pn_get(n, "tolerate")) != NULL)
            check_tolerate(c, f, maa, o);
        if ((f = pn_get(n, "ignore_advisories")) != NULL)
            check_advisories(c, f, o);
        check_later_flag(c, n, "singleton_enclaves", 9);
        check_later_flag(c, n, "must_be_sgx_local", 11);
    }
    ck_set(c, o, "mode", ck_json_str(c, modes[sec->mode])); /* replaced in place */
    ck_set(c, so, "attestation", o);
out:
    ck_pop(c, mark);
}

void
ck_security(struct ck *c, const struct pnode *n, json_t *top)
{
    static const struct keyspec keys[] = {
        {"attestation", 1, K_OK, NULL},
        {"service_access_token", 9, K_OK, NULL},
        {"singleton_enclaves", 9, K_OK, NULL},
        {"must_be_sgx_local", 11, K_OK, NULL},
        {"trusted_scone_qe_pubkeys", 1, K_LATER, NULL},
        {"one_time_password_shared_secret", 10, K_LATER, NULL},
        {NULL, 0, 0, NULL},
    };
    struct cas_policy_security *sec = &c->p->security;
    const struct pnode *f;
    size_t mark = ck_push(c, "security");
    json_t *so;

    c->mode_known = true;
    if (n != NULL && ck_struct_ph(c, n, &sec->whole)) {
        c->mode_known = false;
        ck_set(c, top, "security", ck_json_str(c, n->text));
        goto out;
    }
    if ((so = ck_obj(c)) == NULL) {
        c->nomem = true;
        goto out;
    }
    if (n != NULL && !pn_is_null(n) && !ck_keys(c, n, keys, "security"))
        n = NULL;
    check_sec_attestation(c, n ? pn_get(n, "attestation") : NULL, so);
    if (n != NULL && !pn_is_null(n)) {
        if ((f = pn_get(n, "service_access_token")) != NULL) {
            size_t m2 = ck_push(c, "service_access_token");
            struct cas_policy_text t; /* placeholders are replaced in security (§9) */
            if (ck_text(c, f, PH_NO_BINARY, &t)) {
                sec->service_access_token = f->text;
                ck_set(c, so, "service_access_token", ck_json_str(c, f->text));
            }
            ck_pop(c, m2);
        }
        check_later_flag(c, n, "singleton_enclaves", 9);
        check_later_flag(c, n, "must_be_sgx_local", 11);
    }
    ck_set(c, top, "security", so);
out:
    ck_pop(c, mark);
}

/* ---- whole-session checks ---- */

static bool
read_is_narrow(const struct cas_policy *p)
{
    const struct cas_policy_access_list *r = &p->access.read;

    if (p->access.whole.ph != NULL)
        return true; /* unknown until use: not judged here */
    for (size_t i = 0; r->is_present && i < r->count; i++)
        if (r->entries[i].kind != CAS_POLICY_ACCESS_CREATOR &&
            r->entries[i].kind != CAS_POLICY_ACCESS_NONE)
            return false;
    return true;
}

static void
warn_explicit_readable(struct ck *c)
{
    const struct cas_policy *p = c->p;
    char names[600];
    size_t len = 0, count = 0, first = SIZE_MAX;

    if (read_is_narrow(p))
        return;
    names[0] = '\0';
    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *s = &p->secrets[i];
        if (s->source != CAS_POLICY_EXPLICIT || s->name == NULL)
            continue;
        if (first == SIZE_MAX)
            first = i;
        if (count < 10 && len + strlen(s->name) + 5 < sizeof(names)) {
            int n =
                snprintf(names + len, sizeof(names) - len, "%s'%s'", count ? ", " : "", s->name);
            if (n > 0)
                len += (size_t)n;
        }
        count++;
    }
    if (count == 0)
        return;
    {
        struct pnode at = {.line = p->secrets[first].pos.line, .col = p->secrets[first].pos.column};
        size_t mark = c->plen;
        c->plen = 0;
        c->path[0] = '\0';
        ck_warn(c, &at,
                "secret%s %s%s %s, and access_policy.read grants others besides "
                "CREATOR, so every reader of this session sees them; import them from a session "
                "with narrow read access (read: [CREATOR]) instead",
                count > 1 ? "s" : "", names, count > 10 ? " and more" : "",
                count > 1 ? "have explicit values" : "has an explicit value");
        c->plen = mark;
    }
}

void
ck_final_warnings(struct ck *c)
{
    const struct cas_policy *p = c->p;

    for (size_t i = 0; i < p->service_count; i++) {
        const struct cas_policy_service *sv = &p->services[i];
        struct pnode at = {.line = sv->pos.line, .col = sv->pos.column};
        if (sv->name == NULL || !c->mode_known)
            continue;
        if (p->security.mode != CAS_POLICY_MODE_NONE && sv->variant_count == 0)
            ck_err_raw(c, &at,
                       "service '%s' has no attestation variant; add attestation: {mrenclave: "
                       "…} or set security.attestation.mode: none",
                       sv->name);
        if (p->security.mode == CAS_POLICY_MODE_NONE &&
            (sv->variant_count > 0 || sv->platform_count > 0))
            diag_add(c->d, at.line, at.col,
                     c->opt->fail_on_warning ? CAS_POLICY_ERROR : CAS_POLICY_WARNING,
                     "services[%zu]: attestation variants and platforms have no effect under "
                     "security.attestation.mode: none",
                     i);
    }
    warn_explicit_readable(c);
    if (c->opt->warn_exports)
        ck_warn_unpinned_exports(c);
}
