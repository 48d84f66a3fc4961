/*
 * sessions.c - the session API of api.md §2.2: upload (create or update) in one write
 * transaction, read (current or an earlier version), list a namespace, delete, and the public
 * values API. Permission is checked before anything else is revealed: a caller without `read`
 * gets the same 404 as for a missing session, and no hash can be probed without rights.
 */
#include "store/sessions.h"

#include <stdarg.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casd.h"
#include "crypto/pki.h"
#include "crypto/seal.h"
#include "dcap/collateral.h"
#include "evidence.h"
#include "exports.h"
#include "http/defer.h"
#include "http/server.h"
#include "keygen.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "secrets/secrets.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/secret.h"
#include "values.h"

#define NAME_MAX_LEN 1024

/* ---- names and paths ---- */

/* ---- access (policy.md §10) ---- */

enum list_kind { L_READ, L_UPDATE, L_CREATE, L_LIST, L_DELETE };

/* Who asks, about which session: what an access check needs, placeholders included. */
struct acl {
    const struct cas_policy *p;
    const uint8_t *creator; /* 32 bytes */
    const struct cas_http_req *req;
    struct casd *d; /* with tx and session: resolves placeholder entries */
    struct cas_tx *tx;
    const char *session;
};

/* One textual entry (from a secret's value): a key hash, a PEM certificate, ANY or NONE. */
static int
text_entry_allows(const char *t, size_t len, const struct cas_http_req *req)
{
    char buf[128];
    uint8_t h[32];
    X509 *cert = NULL;
    struct cas_err err = {0};
    int ok = 0;

    if (len == 3 && memcmp(t, "ANY", 3) == 0)
        return 1;
    if (len == 4 && memcmp(t, "NONE", 4) == 0)
        return -1;
    if (!req->has_peer)
        return 0;
    if (len < sizeof(buf)) {
        memcpy(buf, t, len);
        buf[len] = '\0';
        if (cas_keyhash_parse(buf, h, &err) == CAS_OK)
            return memcmp(h, req->peer_key_hash, 32) == 0;
    }
    if (cas_cert_from_pem(t, len, &cert, &err) == CAS_OK &&
        cas_cert_key_hash(cert, h, &err) == CAS_OK)
        ok = memcmp(h, req->peer_key_hash, 32) == 0;
    X509_free(cert);
    return ok;
}

/* A placeholder entry (policy.md §10): 1 grants, -1 is NONE, 0 grants nothing (also when it
 * cannot be resolved, logged with the entry). */
static int
placeholder_allows(const struct acl *a, const struct cas_policy_placeholder *ph)
{
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};
    uint8_t h[32];
    int r = 0;

    if (a->d == NULL || ph == NULL)
        return 0;
    if (casd_values_get(a->d, a->tx, a->session, a->p, ph->secret, &v, &err) != CAS_OK) {
        CAS_LOG(WARN, "casd.access_entry_ignored", CAS_LF_STR("session", a->session),
                CAS_LF_STR("secret", ph->secret), CAS_LF_STR("why", cas_err_get(&err, 0)));
        return 0;
    }
    if ((v->kind == CAS_POLICY_KIND_X509 || v->kind == CAS_POLICY_KIND_X509_CA ||
         v->kind == CAS_POLICY_KIND_PUBLIC_KEY || v->kind == CAS_POLICY_KIND_ASCII) &&
        v->pem != NULL) {
        r = text_entry_allows(v->pem, strlen(v->pem), a->req);
        if (r == 0 && v->kind == CAS_POLICY_KIND_PUBLIC_KEY && a->req->has_peer) {
            BIO *bio = BIO_new_mem_buf(v->pem, -1);
            EVP_PKEY *k = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
            r = k != NULL && cas_key_hash(k, h, &err) == CAS_OK &&
                memcmp(h, a->req->peer_key_hash, 32) == 0;
            EVP_PKEY_free(k);
            BIO_free(bio);
        }
    } else if (v->kind == CAS_POLICY_KIND_ASCII && v->data != NULL) {
        size_t len;
        const uint8_t *b = cas_secret_peek(v->data, &len);
        r = text_entry_allows((const char *)b, len, a->req);
    } else if (v->kind == CAS_POLICY_KIND_CONFIG_FRAGMENT && v->data != NULL) {
        size_t len, i;
        const uint8_t *b = cas_secret_peek(v->data, &len);
        json_t *j = json_loadb((const char *)b, len, JSON_DECODE_ANY, NULL), *e;
        if (json_is_string(j))
            r = text_entry_allows(json_string_value(j), json_string_length(j), a->req);
        json_array_foreach(j, i, e)
        {
            if (r == 0 && json_is_string(e))
                r = text_entry_allows(json_string_value(e), json_string_length(e), a->req);
        }
        json_decref(j);
    }
    cas_secrets_value_free(v);
    ERR_clear_error();
    return r;
}

static bool
list_allows(const struct acl *a, const struct cas_policy_access_list *l)
{
    const struct cas_http_req *req = a->req;

    for (size_t i = 0; i < l->count; i++) {
        const struct cas_policy_access_entry *e = &l->entries[i];
        int r;
        switch (e->kind) {
        case CAS_POLICY_ACCESS_ANY:
            return true;
        case CAS_POLICY_ACCESS_NONE:
            return false;
        case CAS_POLICY_ACCESS_CREATOR:
            if (req->has_peer && memcmp(req->peer_key_hash, a->creator, 32) == 0)
                return true;
            break;
        case CAS_POLICY_ACCESS_KEY_HASH:
        case CAS_POLICY_ACCESS_CERTIFICATE:
            if (req->has_peer && memcmp(req->peer_key_hash, e->key_hash, 32) == 0)
                return true;
            break;
        case CAS_POLICY_ACCESS_PLACEHOLDER:
            if ((r = placeholder_allows(a, e->ph)) != 0)
                return r > 0;
            break;
        }
    }
    return false;
}

static bool
allows(const struct acl *a, enum list_kind k)
{
    const struct cas_policy_access *pa = &a->p->access;
    bool is_creator = a->req->has_peer && memcmp(a->req->peer_key_hash, a->creator, 32) == 0;

    switch (k) {
    case L_READ:
        return pa->read.is_present ? list_allows(a, &pa->read) : is_creator;
    case L_UPDATE:
        return pa->update.is_present ? list_allows(a, &pa->update) : is_creator;
    case L_CREATE:
        return pa->create_sessions.is_present ? list_allows(a, &pa->create_sessions)
                                              : allows(a, L_UPDATE);
    case L_LIST:
        if (pa->list_sessions.is_present)
            return list_allows(a, &pa->list_sessions);
        return allows(a, L_READ) || allows(a, L_CREATE);
    case L_DELETE:
        return pa->del.is_present && list_allows(a, &pa->del);
    }
    return false;
}

/* ---- loading a stored version ---- */

static void
doc_aad(char *aad, size_t cap, const char *name, const char *hash)
{
    (void)snprintf(aad, cap, "session:%s:%s", name, hash);
}

/* Opens and parses a stored version's document. */
cas_rc
casd_session_open(struct casd *d, const struct cas_session_row *row, struct cas_policy **p,
                  struct cas_secret **yaml, struct cas_err *err)
{
    struct cas_policy_options opt = {0};
    struct cas_policy_diags diags;
    struct cas_secret *doc = NULL;
    char aad[NAME_MAX_LEN + 100];
    size_t len;
    const uint8_t *b;
    cas_rc rc;

    *p = NULL;
    doc_aad(aad, sizeof(aad), row->name, row->hash);
    if ((rc = cas_unseal(d->sealing_key, aad, strlen(aad), row->document, row->document_len, &doc,
                         err)) != CAS_OK)
        return cas_err_wrap(err, "stored session '%s' does not open", row->name);
    b = cas_secret_peek(doc, &len);
    cas_policy_diags_init(&diags);
    rc = cas_policy_parse(b, len, &opt, p, &diags, err);
    if (rc == CAS_E_INVALID)
        rc = cas_err_set(err, CAS_E_INTERNAL, "stored session '%s' no longer parses", row->name);
    cas_policy_diags_release(&diags);
    if (rc == CAS_OK && yaml != NULL)
        *yaml = doc;
    else
        cas_secret_free(doc);
    return rc;
}

static bool
creator_of(const struct cas_session_row *row, uint8_t out[32])
{
    return cas_hex_decode_exact(row->creator, strlen(row->creator), out, 32);
}

/* ---- equal cost for a missing session ---- */

/*
 * A request about a missing session goes on with this decoy in its place: a sealed session of
 * typical size that nobody may read (its creator is the all-zero key hash, which is no key's
 * SHA-256) and that has no public value. It is unsealed, parsed and checked like a session the
 * caller may not read, so both 404s cost the same and time tells no name that exists.
 * Sessions much larger than it still take longer to parse (docs/operations.md, "Quotas").
 */
static const char decoy_yaml[] =
    "name: decoy\n"
    "version: \"0.3\"\n"
    "services:\n"
    "  - name: api\n"
    "    image_name: api_image\n"
    "    mrenclaves: [\"0000000000000000000000000000000000000000000000000000000000000001\"]\n"
    "    command: /usr/bin/api --port 8443\n"
    "    environment:\n"
    "      API_KEY: $$CAS::api_key$$\n"
    "      DB_PASSWORD: $$CAS::db_password$$\n"
    "    pwd: /\n"
    "images:\n"
    "  - name: api_image\n"
    "secrets:\n"
    "  - name: api_key\n"
    "    kind: ascii\n"
    "    size: 32\n"
    "  - name: db_password\n"
    "    kind: ascii\n"
    "  - name: note\n"
    "    kind: ascii\n"
    "    value: \"decoy\"\n";

static pthread_mutex_t decoy_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *decoy_sealed; /* set once under decoy_lock, then only read */
static size_t decoy_sealed_len;

static const char decoy_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

static cas_rc
decoy_make(struct casd *d, struct cas_err *err)
{
    static const uint8_t nobody[32] = {0};
    struct cas_policy_options opt = {0};
    struct cas_policy_diags diags;
    struct cas_policy *p = NULL;
    struct cas_secret *doc = NULL;
    char aad[NAME_MAX_LEN + 100], *yaml = NULL;
    size_t yaml_len = 0;
    cas_rc rc;

    cas_policy_diags_init(&diags);
    doc_aad(aad, sizeof(aad), "decoy", decoy_hash);
    if ((rc = cas_policy_parse((const uint8_t *)decoy_yaml, sizeof(decoy_yaml) - 1, &opt, &p,
                               &diags, err)) == CAS_OK &&
        (rc = cas_policy_emit_yaml(p, nobody, &yaml, &yaml_len, err)) == CAS_OK &&
        (rc = cas_secret_from(yaml, yaml_len, &doc, err)) == CAS_OK)
        rc = cas_seal(d->sealing_key, aad, strlen(aad), doc, &decoy_sealed, &decoy_sealed_len, err);
    free(yaml);
    cas_secret_free(doc);
    cas_policy_free(p);
    cas_policy_diags_release(&diags);
    return rc;
}

/* Fills *row (released by the caller) with a copy of the decoy. */
static cas_rc
decoy_row(struct casd *d, struct cas_session_row *row, struct cas_err *err)
{
    cas_rc rc = CAS_OK;

    memset(row, 0, sizeof(*row));
    pthread_mutex_lock(&decoy_lock);
    if (decoy_sealed == NULL)
        rc = decoy_make(d, err);
    pthread_mutex_unlock(&decoy_lock);
    if (rc != CAS_OK)
        return cas_err_wrap(err, "cannot make the decoy session");
    if ((row->name = cas_strdup("decoy")) == NULL ||
        (row->document = cas_malloc(decoy_sealed_len)) == NULL) {
        cas_session_row_release(row);
        memset(row, 0, sizeof(*row));
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    memcpy(row->document, decoy_sealed, decoy_sealed_len);
    row->document_len = decoy_sealed_len;
    memcpy(row->hash, decoy_hash, sizeof(decoy_hash));
    memcpy(row->creator, decoy_hash, sizeof(decoy_hash));
    return CAS_OK;
}

/* The current version of name, or the decoy when there is none: then *found is false and
 * *row is the decoy, which the caller treats as a session it may not read. */
static cas_rc
current_or_decoy(struct casd *d, struct cas_tx *tx, const char *name, struct cas_session_row *row,
                 bool *found, struct cas_err *err)
{
    cas_rc rc;

    if ((rc = cas_store_session_current(tx, name, row, found, err)) != CAS_OK || *found)
        return rc;
    cas_session_row_release(row);
    return decoy_row(d, row, err);
}

/* ---- replies ---- */

static void
reply_not_found(struct cas_http_req *req, const char *name)
{
    char why[NAME_MAX_LEN + 100];
    const char *msgs[2] = {"Session not found", why};

    (void)snprintf(why, sizeof(why), "session '%s' does not exist or your identity may not read it",
                   name);
    cas_http_reply_msgs(req, 404, msgs, 2);
}

static void reply2(struct cas_http_req *req, int status, const char *first, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reply2(struct cas_http_req *req, int status, const char *first, const char *fmt, ...)
{
    char why[2 * NAME_MAX_LEN + 256];
    const char *msgs[2] = {first, why};
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    cas_http_reply_msgs(req, status, msgs, 2);
}

/* 403 for a change the caller's identity may not make; why is kept for the audit record, which
 * is written once the change's transaction has ended (casd_audit opens its own). */
static void refuse(struct cas_http_req *req, const char *first, char *why, size_t cap,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
refuse(struct cas_http_req *req, const char *first, char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    reply2(req, 403, first, "%s", why);
}

static void
reply_internal(struct cas_http_req *req, const char *first, struct cas_err *err)
{
    struct casd *d = req->app;

    atomic_fetch_add(&d->db_errors, 1);
    cas_log_err(CAS_LOG_ERROR, "casd.session_error", err);
    if (err->rc == CAS_E_CONFLICT) { /* a busy database: the caller may retry */
        reply2(req, 503, first, "the database is busy; try again");
        return;
    }
    cas_err_wrap(err, "%s", first);
    cas_http_reply_err(req, err);
}

static void
key_hash_text(const uint8_t h[32], char out[51])
{
    cas_keyhash_to_b58(h, out);
}

/* The session name of a path under prefix, percent-decoded and checked. */
static bool
path_name(const struct cas_http_req *req, const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix);

    if (strncmp(req->path, prefix, n) != 0)
        return false;
    return cas_pct_decode(req->path + n, strlen(req->path + n), out, cap) &&
           cas_policy_name_valid(out);
}

/* ---- upload ---- */

struct upload {
    struct casd *d;
    struct cas_http_req *req;
    struct cas_policy *p;
    struct cas_policy *old;
    struct cas_session_row cur, parent_row;
    bool has_cur, has_parent;
    char parent[NAME_MAX_LEN + 1];
    char first[NAME_MAX_LEN + 64];
    uint8_t creator[32];
    char hash[65];
    int status;
    char refused[2 * NAME_MAX_LEN + 256]; /* why a 403 was given, for the audit record */
    /* upload_check runs twice: in the read transaction before anything is generated, and again
     * in the write transaction (is_recheck), where what it found may have changed meanwhile. */
    bool is_recheck;
    const char *exporters[64]; /* found by check_imports, recorded by upload_write */
    size_t n_exp;
};

/* Forgets what upload_check found, before it runs again. */
static void
upload_reset(struct upload *u)
{
    cas_policy_free(u->old);
    u->old = NULL;
    cas_session_row_release(&u->cur);
    cas_session_row_release(&u->parent_row);
    memset(&u->cur, 0, sizeof(u->cur));
    memset(&u->parent_row, 0, sizeof(u->parent_row));
    u->has_cur = u->has_parent = false;
    for (size_t i = 0; i < u->n_exp; i++)
        free((char *)(uintptr_t)u->exporters[i]);
    u->n_exp = 0;
}

static void
upload_release(struct upload *u)
{
    upload_reset(u);
    cas_policy_free(u->p);
}

/* The heuristic name for the first message when the body does not even parse. */
static void
guess_first(const struct cas_http_req *req, char *out, size_t cap)
{
    const char *line = req->body != NULL ? (const char *)req->body : "";
    const char *end = line + (req->body != NULL ? req->body_len : 0);
    bool update = false;
    char name[256] = "";

    /* Within the body's bytes only, line by line: no terminator is assumed. */
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t l = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
        if (l > 5 && strncmp(line, "name:", 5) == 0 && name[0] == '\0') {
            size_t s = 5;
            while (s < l && (line[s] == ' ' || line[s] == '"' || line[s] == '\''))
                s++;
            size_t e = l;
            while (e > s && (line[e - 1] == ' ' || line[e - 1] == '"' || line[e - 1] == '\'' ||
                             line[e - 1] == '\r'))
                e--;
            if (e - s < sizeof(name))
                (void)snprintf(name, sizeof(name), "%.*s", (int)(e - s), line + s);
        }
        if (l > 13 && strncmp(line, "predecessor:", 12) == 0 &&
            memchr(line + 12, '~', l - 12) == NULL && memmem(line + 12, l - 12, "null", 4) == NULL)
            update = true;
        line = nl != NULL ? nl + 1 : end;
    }
    (void)snprintf(out, cap, "Failed to %s session '%s'", update ? "update" : "create", name);
}

static void
reply_diags(struct cas_http_req *req, const char *first, const struct cas_policy_diags *diags)
{
    json_t *msgs = json_array();

    json_array_append_new(msgs, json_string(first));
    for (size_t i = 0; i < diags->count; i++) {
        char line[4096];
        if (diags->items[i].severity != CAS_POLICY_ERROR)
            continue;
        (void)snprintf(line, sizeof(line), "%u:%u: %s", diags->items[i].line,
                       diags->items[i].column, diags->items[i].text);
        json_array_append_new(msgs, json_string(line));
    }
    cas_http_reply_json(req, 400, json_pack("{s:o}", "msg", msgs));
}

bool
casd_export_grants(const char *exporter, const struct cas_policy_secret *theirs,
                   const char *importer, const char *importer_hash, bool *pin_ok, const char **pin)
{
    const struct cas_policy_ref *r = cas_policy_export_match(exporter, theirs, importer);

    *pin_ok = true;
    *pin = NULL;
    if (r == NULL)
        return false;
    if (r->has_hash && importer_hash != NULL && strcmp(r->session_hash, importer_hash) != 0) {
        *pin_ok = false;
        *pin = r->session_hash;
    }
    return true;
}

/* Checks every import of u->p (policy.md §8.3); replies 409 naming the first that fails. */
static cas_rc
check_imports(struct upload *u, struct cas_tx *tx, const char **exporters, size_t *n_exp,
              struct cas_err *err)
{
    const struct cas_policy *p = u->p;

    *n_exp = 0;
    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *s = &p->secrets[i];
        const struct cas_policy_secret *theirs;
        struct cas_session_row row = {0};
        struct cas_policy *ep = NULL;
        char exporter[NAME_MAX_LEN + 1];
        bool found = false, granted = false;
        cas_rc rc;

        if (s->source != CAS_POLICY_IMPORTED)
            continue;
        if (!cas_policy_resolve_ref(p->name, s->import.session, exporter, sizeof(exporter))) {
            reply2(u->req, 409, u->first,
                   "import of secret '%s' from session '%s' failed: session does not exist",
                   s->name, s->import.session);
            return CAS_E_CONFLICT;
        }
        if ((rc = cas_store_session_current(tx, exporter, &row, &found, err)) != CAS_OK)
            return rc;
        if (!found) {
            reply2(u->req, 409, u->first,
                   "import of secret '%s' from session '%s' failed: session does not exist",
                   s->name, exporter);
            return CAS_E_CONFLICT;
        }
        if (s->import.has_hash && strcmp(s->import.session_hash, row.hash) != 0) {
            reply2(u->req, 409, u->first,
                   "import of secret '%s' from session '%s' failed: session hash is not the "
                   "pinned %s",
                   s->name, exporter, s->import.session_hash);
            cas_session_row_release(&row);
            return CAS_E_CONFLICT;
        }
        if ((rc = casd_session_open(u->d, &row, &ep, NULL, err)) != CAS_OK) {
            cas_session_row_release(&row);
            return rc;
        }
        theirs = cas_policy_secret_find(ep, s->import.secret);
        {
            bool pin_ok = true;
            const char *pin = NULL;
            granted = theirs != NULL &&
                      casd_export_grants(exporter, theirs, p->name, u->hash, &pin_ok, &pin);
            if (granted && !pin_ok) {
                reply2(u->req, 409, u->first,
                       "import of secret '%s' from session '%s' failed: session hash is not the "
                       "pinned %s",
                       s->name, exporter, pin);
                cas_policy_free(ep);
                cas_session_row_release(&row);
                return CAS_E_CONFLICT;
            }
            /* Bound in the write transaction only (the read pass must not write). */
            if (granted && u->is_recheck &&
                (rc = casd_exports_bind(
                     tx, exporter, theirs, p->name, u->creator,
                     p->has_predecessor && !p->predecessor_is_null ? NULL : u->req->peer_key_hash,
                     err)) != CAS_OK) {
                if (rc == CAS_E_CONFLICT)
                    reply2(u->req, 409, u->first, "%s", cas_err_get(err, 0));
                cas_policy_free(ep);
                cas_session_row_release(&row);
                return rc;
            }
        }
        cas_policy_free(ep);
        cas_session_row_release(&row);
        if (!granted) {
            reply2(u->req, 409, u->first,
                   "import of secret '%s' from session '%s' failed: secret is not exported to "
                   "'%s'",
                   s->name, exporter, p->name);
            return CAS_E_CONFLICT;
        }
        if (*n_exp < 64 && (exporters[*n_exp] = cas_strdup(exporter)) != NULL)
            (*n_exp)++;
    }
    return CAS_OK;
}

/*
 * Every check of the upload against the stored sessions: the namespace, permissions, the
 * predecessor, the hash, the imports. Runs in the read transaction before any value is made,
 * and again in the write transaction, so that what changed meanwhile is refused as it would
 * have been; replies (and returns non-OK) on the first that fails.
 */
static cas_rc
upload_check(struct upload *u, struct cas_tx *tx, struct cas_err *err)
{
    struct cas_http_req *req = u->req;
    const struct cas_policy *p = u->p;
    char kh[51];
    bool create = !p->has_predecessor || p->predecessor_is_null;
    uint8_t digest[32], parent_creator[32];
    cas_rc rc;

    upload_reset(u);
    key_hash_text(req->peer_key_hash, kh);
    if ((rc = cas_store_session_current(tx, p->name, &u->cur, &u->has_cur, err)) != CAS_OK)
        return rc;
    (void)cas_policy_parent(p->name, u->parent, sizeof(u->parent)); /* fits: same bound */
    if (u->parent[0] != '\0') {
        if ((rc = cas_store_session_current(tx, u->parent, &u->parent_row, &u->has_parent, err)) !=
            CAS_OK)
            return rc;
        if (!u->has_parent) {
            reply2(req, 409, u->first, "namespace '%s' does not exist; create session '%s' first",
                   u->parent, u->parent);
            return CAS_E_CONFLICT;
        }
    }
    if (create) {
        if (u->parent[0] != '\0') {
            struct cas_policy *pp = NULL;
            bool ok;
            if ((rc = casd_session_open(u->d, &u->parent_row, &pp, NULL, err)) != CAS_OK)
                return rc;
            ok = creator_of(&u->parent_row, parent_creator) &&
                 allows(&(struct acl){pp, parent_creator, req, u->d, tx, u->parent}, L_CREATE);
            cas_policy_free(pp);
            if (!ok) {
                refuse(req, u->first, u->refused, sizeof(u->refused),
                       "your identity (%s) may not create sessions in namespace '%s'", kh,
                       u->parent);
                return CAS_E_DENIED;
            }
        }
        if (u->has_cur) {
            reply2(req, 409, u->first,
                   "session '%s' already exists; set 'predecessor' to its current hash to update "
                   "it (cas session update does this)",
                   p->name);
            return CAS_E_CONFLICT;
        }
        if (p->namespace_hash != NULL &&
            (u->parent[0] == '\0' || strcmp(p->namespace_hash, u->parent_row.hash) != 0)) {
            reply2(req, 409, u->first, "namespace '%s' does not match namespace_hash", u->parent);
            return CAS_E_CONFLICT;
        }
    } else {
        uint8_t cur_creator[32];
        bool ok, may_read;
        if (!u->has_cur) {
            reply2(req, 409, u->first,
                   "session '%s' does not exist; remove 'predecessor' to create it", p->name);
            return CAS_E_CONFLICT;
        }
        if ((rc = casd_session_open(u->d, &u->cur, &u->old, NULL, err)) != CAS_OK)
            return rc;
        ok = creator_of(&u->cur, cur_creator) &&
             allows(&(struct acl){u->old, cur_creator, req, u->d, tx, p->name}, L_UPDATE);
        if (!ok) {
            refuse(req, u->first, u->refused, sizeof(u->refused),
                   "your identity (%s) may not update session '%s'", kh, p->name);
            return CAS_E_DENIED;
        }
        if (strcmp(p->predecessor, u->cur.hash) != 0) {
            may_read = allows(&(struct acl){u->old, cur_creator, req, u->d, tx, p->name}, L_READ);
            reply2(req, 409, u->first,
                   "predecessor %s is not the current version of session '%s'%s%s", p->predecessor,
                   p->name, may_read ? "; the current hash is " : "", may_read ? u->cur.hash : "");
            return CAS_E_CONFLICT;
        }
    }
    /* The creator: the file's, else the uploader (policy.md §12 step 9). */
    memcpy(u->creator, p->has_creator ? p->creator : req->peer_key_hash, 32);
    if ((rc = cas_policy_hash(p, u->creator, digest, u->hash, err)) != CAS_OK) {
        reply2(req, 400, u->first, "%s", cas_err_get(err, 0));
        return CAS_E_INVALID;
    }
    return check_imports(u, tx, u->exporters, &u->n_exp, err);
}

/* The writes of the upload, in the write transaction after upload_check passed again: the
 * values made outside it (checked to build on what is still stored), the sealed document, the
 * import records and the audit record. Holds no key generation: sealing only. */
static cas_rc
upload_write(struct upload *u, struct cas_tx *tx, const struct casd_values_plan *plan, int64_t now,
             struct cas_err *err)
{
    struct cas_http_req *req = u->req;
    const struct cas_policy *p = u->p;
    char *yaml = NULL;
    size_t yaml_len = 0;
    struct cas_session_row row = {0};
    struct cas_secret *doc = NULL;
    char aad[NAME_MAX_LEN + 100], verdict[100];
    bool create = !p->has_predecessor || p->predecessor_is_null;
    cas_rc rc;

    if ((rc = casd_exports_changed(tx, p->name, u->old, p, err)) != CAS_OK)
        goto out;
    if ((rc = casd_values_store(u->d, tx, p->name, plan, now, err)) != CAS_OK) {
        if (rc == CAS_E_CONFLICT) {
            reply2(req, 409, u->first, "%s", cas_err_get(err, 0));
            rc = CAS_E_DENIED; /* replied */
        }
        goto out;
    }
    if ((rc = cas_policy_emit_yaml(p, u->creator, &yaml, &yaml_len, err)) != CAS_OK ||
        (rc = cas_secret_from(yaml, yaml_len, &doc, err)) != CAS_OK)
        goto out;
    row.name = (char *)(uintptr_t)p->name;
    memcpy(row.hash, u->hash, 65);
    (void)snprintf(row.predecessor, sizeof(row.predecessor), "%s", create ? "" : p->predecessor);
    cas_hex_encode(u->creator, 32, row.creator);
    doc_aad(aad, sizeof(aad), p->name, u->hash);
    if ((rc = cas_seal(u->d->sealing_key, aad, strlen(aad), doc, &row.document, &row.document_len,
                       err)) != CAS_OK ||
        (rc = cas_store_session_put(tx, &row, u->parent, now, err)) != CAS_OK ||
        (rc = cas_store_session_set_imports(tx, p->name, u->exporters, u->n_exp, err)) != CAS_OK)
        goto out;
    (void)snprintf(verdict, sizeof(verdict), "%s %s", create ? "created" : "updated to", u->hash);
    if ((rc = casd_audit_in(tx, req->peer_key_hash, p->name, verdict, err)) != CAS_OK)
        goto out;
    u->status = create ? 201 : 200;
out:
    if (yaml != NULL) {
        OPENSSL_cleanse(yaml, yaml_len);
        free(yaml);
    }
    cas_secret_free(doc);
    free(row.document);
    return rc;
}

/* Refuses an upload over a quota of its session (docs/operations.md, "Quotas"), before any value
 * is made: 422, since the body is within max_body but describes more than this CAS makes for
 * one session. Replies and returns false when over. */
static bool
upload_within_quota(struct upload *u)
{
    struct casd_session_cost c;
    enum casd_quota_limit l;
    uint64_t value, max;
    static const char *const verb[CASD_LIMIT_COUNT] = {
        [CASD_LIMIT_SECRETS] = "declares",
        [CASD_LIMIT_RSA_KEYS] = "would have",
        [CASD_LIMIT_GENERATED] = "would store about",
    };
    static const char *const unit[CASD_LIMIT_COUNT] = {
        [CASD_LIMIT_SECRETS] = "secrets",
        [CASD_LIMIT_RSA_KEYS] = "RSA keys generated",
        [CASD_LIMIT_GENERATED] = "bytes of secret values",
    };

    casd_quota_session_cost(u->p, &c);
    l = casd_quota_check_session(&c, &u->d->quota.lim, &value, &max);
    if (l == CASD_LIMIT_NONE)
        return true;
    casd_quota_count(&u->d->quota, l);
    reply2(u->req, 422, u->first,
           "session '%s' %s %llu %s, more than %s (%llu); make the session smaller, or raise %s",
           u->p->name, verb[l], (unsigned long long)value, unit[l], casd_quota_setting(l),
           (unsigned long long)max, casd_quota_setting(l));
    return false;
}

/* The answer to an upload that failed in upload_check, upload_write or a transaction call;
 * ends the transaction first (the audit record opens its own). */
static void
upload_failed(struct upload *u, struct cas_tx **tx, struct cas_err *err)
{
    cas_tx_rollback(*tx);
    *tx = NULL;
    if (u->req->r != NULL) /* not replied yet: an internal failure */
        reply_internal(u->req, u->first, err);
    if (u->refused[0] != '\0')
        casd_audit(u->d, CASD_AUDIT_SESSION, u->req->peer_key_hash, u->p->name, CASD_AUDIT_DENIED,
                   u->refused);
}

/*
 * What an upload keeps across its three steps. On the heap: when step 2 runs in the key
 * generation pool, the handler has returned and the reply is deferred (http/defer.h), so this is
 * handed from the worker to a pool thread and back; freed once, by upload_job_free.
 */
struct upload_job {
    struct upload u;
    struct cas_policy_diags diags;
    struct casd_values_plan *plan;
    int64_t now;
    cas_rc made;        /* casd_values_make's result */
    struct cas_err err; /* and its error */
    bool is_cancelled;  /* casd stopped before the pool ran it, or before it was done */
    bool is_refused;    /* the pool's queue was full */
    size_t max_queue;   /* its size, for the refusal (the pool may be gone by then) */
    struct cas_http_deferred *deferred;
    struct casd_keygen_job job;
};

static void
upload_job_free(struct upload_job *j)
{
    if (j == NULL)
        return;
    casd_values_plan_free(j->plan);
    cas_policy_diags_release(&j->diags);
    upload_release(&j->u);
    free(j);
}

/* Generated bytes over which an upload without RSA keys still goes to the pool: below it, making
 * the values takes well under a millisecond and the hand-over would cost more than it saves. */
#define UPLOAD_CHEAP_GENERATED_BYTES (64 * 1024)

/* Whether making the upload's values may take long enough to hold up the worker: RSA keys
 * (hundreds of milliseconds to seconds each), or many generated bytes. */
static bool
upload_is_costly(const struct upload *u)
{
    struct casd_session_cost c;

    casd_quota_session_cost(u->p, &c);
    return c.rsa_keys > 0 || c.generated_bytes > UPLOAD_CHEAP_GENERATED_BYTES;
}

/* Step 2: make the values (keys, certificates) outside any transaction. A pool thread, or the
 * worker for a cheap upload. */
static void
upload_make(void *arg)
{
    struct upload_job *j = arg;

    j->made = casd_values_make(j->plan, j->now, &j->err);
}

/* Step 3 and the reply, on the worker: check again under the write lock, store, answer. */
static void
upload_finish(struct upload_job *j)
{
    struct upload *u = &j->u;
    struct cas_http_req *req = u->req;
    struct casd *d = u->d;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    json_t *warnings;
    cas_rc rc;

    if (j->made != CAS_OK) {
        if (j->made == CAS_E_INVALID || j->made == CAS_E_CONFLICT)
            reply2(req, j->made == CAS_E_INVALID ? 400 : 409, u->first, "%s",
                   cas_err_get(&j->err, 0));
        else
            reply_internal(req, u->first, &j->err);
        return;
    }
    u->is_recheck = true;
    if ((rc = cas_store_begin(d->store, CAS_TX_WRITE, &tx, &err)) != CAS_OK ||
        (rc = upload_check(u, tx, &err)) != CAS_OK ||
        (rc = upload_write(u, tx, j->plan, j->now, &err)) != CAS_OK ||
        (rc = casd_exports_warn(d, tx, u->p, u->creator, &j->diags, &err)) != CAS_OK) {
        upload_failed(u, &tx, &err);
        return;
    }
    rc = cas_tx_commit(tx, &err);
    tx = NULL; /* ended either way */
    if (rc != CAS_OK) {
        reply_internal(req, u->first, &err);
        return;
    }
    warnings = json_array();
    for (size_t i = 0; i < j->diags.count; i++) {
        char line[4096];
        if (j->diags.items[i].severity != CAS_POLICY_WARNING)
            continue;
        (void)snprintf(line, sizeof(line), "%u:%u: %s", j->diags.items[i].line,
                       j->diags.items[i].column, j->diags.items[i].text);
        json_array_append_new(warnings, json_string(line));
    }
    {
        char kh[51];
        key_hash_text(req->peer_key_hash, kh);
        atomic_fetch_add(u->status == 201 ? &d->sessions_created : &d->sessions_updated, 1);
        CAS_LOG(INFO, u->status == 201 ? "casd.session_created" : "casd.session_updated",
                CAS_LF_STR("session", u->p->name), CAS_LF_STR("hash", u->hash),
                CAS_LF_STR("caller", kh));
    }
    cas_http_reply_json(req, u->status,
                        json_pack("{s:s, s:s, s:o, s:o}", "name", u->p->name, "hash", u->hash,
                                  "predecessor",
                                  u->status == 200 ? json_string(u->p->predecessor) : json_null(),
                                  "warnings", warnings));
}

/* Back on the worker after the pool (or its refusal): step 3 and the reply, on the deferred
 * request; then the upload is freed. */
static void
upload_resumed(struct cas_http_req *req, void *arg)
{
    struct upload_job *j = arg;
    struct upload *u = &j->u;

    u->req = req; /* the handler's request is gone; this is its deferred copy */
    if (j->is_refused) {
        cas_http_add_header(req, "Retry-After", "5");
        reply2(req, 503, u->first,
               "more than keygen_queue (%zu) uploads are waiting for key generation; try again "
               "later, or raise keygen_queue",
               j->max_queue);
    } else if (j->is_cancelled) {
        reply2(req, 503, u->first, "casd is stopping; upload the session again");
    } else {
        upload_finish(j);
    }
    upload_job_free(j);
}

/* A pool thread, once the values are made (or casd's stop cancelled the job). */
static void
upload_made(void *arg, bool is_cancelled)
{
    struct upload_job *j = arg;

    j->is_cancelled = is_cancelled;
    cas_http_resume(j->deferred, upload_resumed, j);
}

void
casd_handle_session_upload(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct upload_job *j = NULL;
    struct upload *u;
    struct cas_policy_options opt = {0};
    struct cas_err err = {0};
    struct cas_tx *tx = NULL;
    uint64_t retry_after = 0;
    cas_rc rc;

    if ((j = cas_calloc(1, sizeof(*j))) == NULL) {
        const char *msgs[2] = {"Failed to upload the session", "out of memory"};
        cas_http_reply_msgs(req, 500, msgs, 2);
        return;
    }
    u = &j->u;
    u->d = d;
    u->req = req;
    j->now = (int64_t)time(NULL);
    guess_first(req, u->first, sizeof(u->first));
    cas_policy_diags_init(&j->diags);
    if (!req->has_peer) {
        reply2(req, 403, u->first, "a client certificate is required to upload sessions");
        goto out;
    }
    if (!casd_quota_take_upload(&d->quota, req->peer_key_hash, &retry_after)) {
        char ra[24];
        (void)snprintf(ra, sizeof(ra), "%llu", (unsigned long long)retry_after);
        cas_http_add_header(req, "Retry-After", ra);
        reply2(req, 429, u->first,
               "your identity uploaded more than %s (%llu) sessions in a minute; try again in "
               "%llu s",
               casd_quota_setting(CASD_LIMIT_UPLOADS),
               (unsigned long long)d->quota.lim.uploads_per_minute,
               (unsigned long long)retry_after);
        goto out;
    }
    rc = cas_policy_parse(req->body, req->body_len, &opt, &u->p, &j->diags, &err);
    if (rc == CAS_E_INVALID) {
        reply_diags(req, u->first, &j->diags);
        goto out;
    }
    if (rc != CAS_OK) {
        reply_internal(req, u->first, &err);
        goto out;
    }
    (void)snprintf(u->first, sizeof(u->first), "Failed to %s session '%s'",
                   u->p->has_predecessor && !u->p->predecessor_is_null ? "update" : "create",
                   u->p->name);
    if (!upload_within_quota(u))
        goto out;
    /* 1. Check and plan in a read transaction: nothing is locked while values are made. */
    if ((rc = cas_store_begin(d->store, CAS_TX_READ, &tx, &err)) != CAS_OK ||
        (rc = upload_check(u, tx, &err)) != CAS_OK ||
        (rc = casd_values_plan(d, tx, u->p->name, u->p, u->old, &j->plan, &err)) != CAS_OK) {
        upload_failed(u, &tx, &err);
        goto out;
    }
    cas_tx_rollback(tx);
    tx = NULL;
    /* 2. Make the values outside any transaction: RSA keys in the pool, so that this worker's
     * other connections are answered meanwhile; then 3. on this worker again. */
    if (d->keygen != NULL && upload_is_costly(u) && (j->deferred = cas_http_defer(req)) != NULL) {
        j->job = (struct casd_keygen_job){.work = upload_make, .done = upload_made, .arg = j};
        if (!casd_keygen_submit(d->keygen, &j->job)) {
            j->is_refused = true;
            j->max_queue = casd_keygen_max_queue(d->keygen);
            cas_http_resume(j->deferred, upload_resumed, j); /* answers on the next turn */
        }
        return; /* j belongs to upload_resumed now */
    }
    upload_make(j);
    upload_finish(j);
out:
    cas_tx_rollback(tx);
    upload_job_free(j);
}

/* ---- read ---- */

static void
format_time(int64_t t, char out[21])
{
    cas_dcap_time_format(t, out);
}

void
casd_handle_session_read(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_session_row cur = {0}, ver = {0};
    struct cas_policy *p = NULL;
    struct cas_secret *yaml = NULL;
    struct cas_err err = {0};
    struct cas_tx *tx = NULL;
    char name[NAME_MAX_LEN + 1], created[21];
    const char *hash = NULL;
    const struct cas_session_row *shown = &cur;
    uint8_t creator[32];
    bool found = false;
    size_t len;
    const uint8_t *y;

    if (!path_name(req, "/v1/sessions/", name, sizeof(name))) {
        reply2(req, 400, "Invalid session name",
               "session names are segments of [A-Za-z0-9_.~-] joined by '/'");
        return;
    }
    if (req->query != NULL) {
        if (strncmp(req->query, "hash=", 5) != 0 || strlen(req->query + 5) != 64) {
            reply2(req, 400, "Invalid query", "the only parameter is hash=<64 hex>");
            return;
        }
        hash = req->query + 5;
    }
    if (cas_store_begin(d->store, CAS_TX_READ, &tx, &err) != CAS_OK ||
        current_or_decoy(d, tx, name, &cur, &found, &err) != CAS_OK ||
        casd_session_open(d, &cur, &p, &yaml, &err) != CAS_OK)
        goto fail;
    if (!creator_of(&cur, creator) ||
        !allows(&(struct acl){p, creator, req, d, tx, name}, L_READ) || !found) {
        reply_not_found(req, name);
        goto out;
    }
    if (hash != NULL && strcmp(hash, cur.hash) != 0) {
        struct cas_policy *old = NULL;
        if (cas_store_session_version(tx, name, hash, &ver, &found, &err) != CAS_OK)
            goto fail;
        if (!found) {
            reply_not_found(req, name);
            goto out;
        }
        cas_secret_free(yaml);
        yaml = NULL;
        if (casd_session_open(d, &ver, &old, &yaml, &err) != CAS_OK)
            goto fail;
        cas_policy_free(old);
        shown = &ver;
    }
    format_time(shown->created_at, created);
    y = cas_secret_peek(yaml, &len);
    {
        json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:s%}", "name", name, "hash", shown->hash,
                              "predecessor",
                              shown->predecessor[0] ? json_string(shown->predecessor) : json_null(),
                              "created_at", created, "session", (const char *)y, len);
        cas_http_reply_json(req, 200, j);
    }
    goto out;
fail:
    reply_internal(req, "Failed to read session", &err);
out:
    cas_tx_rollback(tx);
    cas_policy_free(p);
    cas_secret_free(yaml);
    cas_session_row_release(&cur);
    cas_session_row_release(&ver);
}

/* ---- list ---- */

struct list_acc {
    json_t *names;
};

static cas_rc
add_name(const char *name, void *arg, struct cas_err *err)
{
    struct list_acc *l = arg;
    (void)err;
    json_array_append_new(l->names, json_string(name));
    return CAS_OK;
}

void
casd_handle_session_list(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_session_row cur = {0};
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    struct cas_tx *tx = NULL;
    struct list_acc l = {NULL};
    char ns[NAME_MAX_LEN + 1];
    uint8_t creator[32];
    bool found = false;

    if (req->query == NULL || strncmp(req->query, "namespace=", 10) != 0 ||
        !cas_pct_decode(req->query + 10, strlen(req->query + 10), ns, sizeof(ns)) ||
        !cas_policy_name_valid(ns)) {
        reply2(req, 400, "Invalid query", "give ?namespace=<session name>");
        return;
    }
    if (cas_store_begin(d->store, CAS_TX_READ, &tx, &err) != CAS_OK ||
        current_or_decoy(d, tx, ns, &cur, &found, &err) != CAS_OK ||
        casd_session_open(d, &cur, &p, NULL, &err) != CAS_OK)
        goto fail;
    if (!creator_of(&cur, creator) || !allows(&(struct acl){p, creator, req, d, tx, ns}, L_LIST) ||
        !found) {
        if (allows(&(struct acl){p, creator, req, d, tx, ns}, L_READ) && found)
            reply2(req, 403, "Failed to list sessions",
                   "your identity may not list the sessions of namespace '%s'", ns);
        else
            reply_not_found(req, ns);
        goto out;
    }
    l.names = json_array();
    if (cas_store_session_children(tx, ns, add_name, &l, &err) != CAS_OK) {
        json_decref(l.names);
        goto fail;
    }
    cas_http_reply_json(req, 200, json_pack("{s:s, s:o}", "namespace", ns, "sessions", l.names));
    goto out;
fail:
    reply_internal(req, "Failed to list sessions", &err);
out:
    cas_tx_rollback(tx);
    cas_policy_free(p);
    cas_session_row_release(&cur);
}

/* ---- delete ---- */

static cas_rc
first_child(const char *name, void *arg, struct cas_err *err)
{
    (void)err;
    if (((char *)arg)[0] == '\0')
        (void)snprintf(arg, NAME_MAX_LEN + 1, "%s", name);
    return CAS_OK;
}

void
casd_handle_session_delete(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_session_row cur = {0};
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    struct cas_tx *tx = NULL;
    char name[NAME_MAX_LEN + 1], other[NAME_MAX_LEN + 1] = "", first[NAME_MAX_LEN + 64];
    char refused[2 * NAME_MAX_LEN + 256] = "";
    char kh[51];
    uint8_t creator[32];
    bool found = false;
    cas_rc rc;

    if (!path_name(req, "/v1/sessions/", name, sizeof(name))) {
        reply2(req, 400, "Invalid session name",
               "session names are segments of [A-Za-z0-9_.~-] joined by '/'");
        return;
    }
    (void)snprintf(first, sizeof(first), "Failed to delete session '%s'", name);
    if (cas_store_begin(d->store, CAS_TX_WRITE, &tx, &err) != CAS_OK ||
        current_or_decoy(d, tx, name, &cur, &found, &err) != CAS_OK ||
        casd_session_open(d, &cur, &p, NULL, &err) != CAS_OK)
        goto fail;
    if (!creator_of(&cur, creator) ||
        !allows(&(struct acl){p, creator, req, d, tx, name}, L_READ) || !found) {
        reply_not_found(req, name);
        goto out;
    }
    if (!allows(&(struct acl){p, creator, req, d, tx, name}, L_DELETE)) {
        refuse(req, first, refused, sizeof(refused), "your identity may not delete session '%s'",
               name);
        goto out;
    }
    if (cas_store_session_importer(tx, name, other, sizeof(other), &err) != CAS_OK)
        goto fail;
    if (other[0] != '\0') {
        reply2(req, 409, first, "session '%s' is imported by '%s'", name, other);
        goto out;
    }
    if (cas_store_session_children(tx, name, first_child, other, &err) != CAS_OK)
        goto fail;
    if (other[0] != '\0') {
        reply2(req, 409, first, "session '%s' has sessions in its namespace ('%s')", name, other);
        goto out;
    }
    if (cas_store_session_delete(tx, name, &err) != CAS_OK ||
        casd_audit_in(tx, req->peer_key_hash, name, "deleted", &err) != CAS_OK)
        goto fail;
    rc = cas_tx_commit(tx, &err);
    tx = NULL; /* ended either way */
    if (rc != CAS_OK)
        goto fail;
    atomic_fetch_add(&d->sessions_deleted, 1);
    key_hash_text(req->peer_key_hash, kh);
    CAS_LOG(INFO, "casd.session_deleted", CAS_LF_STR("session", name), CAS_LF_STR("caller", kh));
    cas_http_reply(req, 204, NULL, NULL, 0);
    goto out;
fail:
    reply_internal(req, first, &err);
out:
    cas_tx_rollback(tx);
    if (refused[0] != '\0')
        casd_audit(d, CASD_AUDIT_SESSION, req->peer_key_hash, name, CASD_AUDIT_DENIED, refused);
    cas_policy_free(p);
    cas_session_row_release(&cur);
}

/* ---- values ---- */

static void
reply_value_404(struct cas_http_req *req, const char *raw_name, const char *secret)
{
    char first[4 * NAME_MAX_LEN + 512];

    if (secret != NULL) {
        (void)snprintf(first, sizeof(first),
                       "Failed to read value '%s' of '/session=%s' requested by a public client",
                       secret, raw_name);
        reply2(req, 404, first, "Secret does not exist or is not visible for a public client");
    } else {
        (void)snprintf(first, sizeof(first),
                       "Failed to read values of '/session=%s' requested by a public client",
                       raw_name);
        reply2(req, 404, first,
               "Session does not exist or has no value visible for a public client");
    }
}

/* Adds value v of secret name to the answer's running size; false once it is over
 * max_values_answer (counted): the caller then drops v, so the answer is never built past it. The
 * size is v's compact JSON plus the name and the separators the reply adds. */
static bool
answer_fits(struct casd *d, uint64_t *size, const char *name, const json_t *v)
{
    uint64_t max = d->quota.lim.max_values_answer;

    *size += json_dumpb(v, NULL, 0, JSON_COMPACT) + strlen(name) + 32;
    if (max == 0 || *size <= max)
        return true;
    casd_quota_count(&d->quota, CASD_LIMIT_VALUES_ANSWER);
    return false;
}

static void
reply_values_too_big(struct cas_http_req *req, const char *raw_name, const char *secret)
{
    const struct casd *d = req->app;
    char first[4 * NAME_MAX_LEN + 512];

    if (secret != NULL)
        (void)snprintf(first, sizeof(first),
                       "Failed to read value '%s' of '/session=%s' requested by a public client",
                       secret, raw_name);
    else
        (void)snprintf(first, sizeof(first),
                       "Failed to read values of '/session=%s' requested by a public client",
                       raw_name);
    reply2(req, 413, first,
           "the answer would be more than %s (%llu bytes); ask for fewer values with "
           "/v1/values/session=<name>,secret=<secret>, or raise %s",
           casd_quota_setting(CASD_LIMIT_VALUES_ANSWER),
           (unsigned long long)d->quota.lim.max_values_answer,
           casd_quota_setting(CASD_LIMIT_VALUES_ANSWER));
}

void
casd_handle_values(struct cas_http_req *req)
{
    struct casd *d = req->app;
    const char *spec = req->path + strlen("/v1/values/");
    const char *comma;
    char raw[NAME_MAX_LEN * 3 + 1], name[NAME_MAX_LEN + 1], secret[256],
        shown[NAME_MAX_LEN * 3 + 1];
    struct cas_session_row cur = {0};
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    struct cas_tx *tx = NULL;
    bool found = false, due = false, one;
    json_t *values = NULL, *v = NULL;
    int64_t now = (int64_t)time(NULL);
    uint64_t size = 0;

    if (strncmp(spec, "session=", 8) != 0) {
        reply2(req, 404, "Not found", "use /v1/values/session=<name>[,secret=<secret>]");
        return;
    }
    spec += 8;
    comma = strstr(spec, ",secret=");
    one = comma != NULL;
    (void)snprintf(raw, sizeof(raw), "%.*s", (int)(one ? (size_t)(comma - spec) : strlen(spec)),
                   spec);
    secret[0] = '\0';
    if (one && !cas_pct_decode(comma + 8, strlen(comma + 8), secret, sizeof(secret)))
        secret[0] = '\0';
    /* Messages show the name verbatim after /session= (api.md), decoded. */
    if (!cas_pct_decode(raw, strlen(raw), name, sizeof(name)))
        name[0] = '\0';
    (void)snprintf(shown, sizeof(shown), "%s", name[0] ? name : raw);
    if (!cas_policy_name_valid(name) || (one && secret[0] == '\0')) {
        reply_value_404(req, shown, one ? secret : NULL);
        return;
    }
    /* A missing session goes on as the decoy, which has no public value: the same 404 after
     * the same work as for a session without one. */
    if (cas_store_begin(d->store, CAS_TX_READ, &tx, &err) != CAS_OK ||
        current_or_decoy(d, tx, name, &cur, &found, &err) != CAS_OK ||
        casd_session_open(d, &cur, &p, NULL, &err) != CAS_OK)
        goto fail;
    /* Certificates due for renewal are re-issued at this read (policy.md §8.1). */
    if (cas_store_secret_due(tx, name, now, &due, &err) != CAS_OK)
        goto fail;
    if (due && found) {
        cas_tx_rollback(tx);
        tx = NULL;
        if (casd_values_renew(d, name, cur.hash, p, now, &err) != CAS_OK)
            goto fail;
        if (cas_store_begin(d->store, CAS_TX_READ, &tx, &err) != CAS_OK)
            goto fail;
    }
    if (one) {
        const struct cas_policy_secret *s = cas_policy_secret_find(p, secret);
        if (s == NULL || !s->export_public) {
            reply_value_404(req, shown, secret);
            goto out;
        }
        if (casd_values_public(d, tx, name, s, now, &v, &err) != CAS_OK) {
            if (err.rc == CAS_E_NOTFOUND) {
                reply_value_404(req, shown, secret);
                goto out;
            }
            goto fail;
        }
        if (!answer_fits(d, &size, secret, v)) {
            json_decref(v);
            reply_values_too_big(req, shown, secret);
            goto out;
        }
        cas_http_reply_json(req, 200, v);
        goto out;
    }
    values = json_object();
    for (size_t i = 0; i < p->secret_count; i++) {
        if (!p->secrets[i].export_public)
            continue;
        if (casd_values_public(d, tx, name, &p->secrets[i], now, &v, &err) != CAS_OK) {
            if (err.rc == CAS_E_NOTFOUND)
                continue;
            json_decref(values);
            goto fail;
        }
        if (!answer_fits(d, &size, p->secrets[i].name, v)) {
            json_decref(v);
            json_decref(values);
            reply_values_too_big(req, shown, NULL);
            goto out;
        }
        json_object_set_new(values, p->secrets[i].name, v);
    }
    if (json_object_size(values) == 0) {
        json_decref(values);
        reply_value_404(req, shown, NULL);
        goto out;
    }
    cas_http_reply_json(req, 200, json_pack("{s:o}", "values", values));
    goto out;
fail:
    reply_internal(req, "Failed to read values", &err);
out:
    cas_tx_rollback(tx);
    cas_policy_free(p);
    cas_session_row_release(&cur);
}
