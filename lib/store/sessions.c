/* sessions.c - queries on the session tables (sessions.h). */
#include "store/sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void
cas_session_row_release(struct cas_session_row *r)
{
    free(r->name);
    free(r->document);
    memset(r, 0, sizeof(*r));
}

static void
copy_hex(char dst[65], const char *src)
{
    (void)snprintf(dst, 65, "%s", src != NULL ? src : "");
}

struct row_out {
    struct cas_session_row *r;
    bool *found;
};

static cas_rc
read_row(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct row_out *o = arg;
    const uint8_t *doc;
    size_t len;

    *o->found = true;
    cas_session_row_release(o->r);
    if ((o->r->name = cas_strdup(cas_row_text(row, 0))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    copy_hex(o->r->hash, cas_row_text(row, 1));
    copy_hex(o->r->predecessor, cas_row_is_null(row, 2) ? "" : cas_row_text(row, 2));
    copy_hex(o->r->creator, cas_row_text(row, 3));
    o->r->created_at = cas_row_int(row, 4);
    doc = cas_row_blob(row, 5, &len);
    if ((o->r->document = cas_malloc(len)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    if (len > 0)
        memcpy(o->r->document, doc, len);
    o->r->document_len = len;
    return CAS_OK;
}

#define VERSION_COLUMNS "v.name, v.hash, v.predecessor, v.creator, v.created_at, v.document"

cas_rc
cas_store_session_current(struct cas_tx *tx, const char *name, struct cas_session_row *out,
                          bool *found, struct cas_err *err)
{
    struct row_out o = {out, found};
    struct cas_param p = CAS_PTEXT(name);

    memset(out, 0, sizeof(*out));
    *found = false;
    return cas_tx_exec(tx,
                       "SELECT " VERSION_COLUMNS " FROM cas_session s JOIN cas_session_version v"
                       " ON v.name = s.name AND v.hash = s.hash WHERE s.name = $1",
                       &p, 1, read_row, &o, NULL, err);
}

static cas_rc
read_hash(const struct cas_row *row, void *arg, struct cas_err *err)
{
    char *hash = arg;
    const char *h = cas_row_text(row, 0);

    if (h == NULL || strlen(h) != 64)
        return cas_err_set(err, CAS_E_INTERNAL, "a stored session hash is malformed");
    memcpy(hash, h, 65);
    return CAS_OK;
}

cas_rc
cas_store_session_current_hash(struct cas_tx *tx, const char *name, char hash[65],
                               struct cas_err *err)
{
    struct cas_param p = CAS_PTEXT(name);

    hash[0] = '\0';
    return cas_tx_exec(tx, "SELECT hash FROM cas_session WHERE name = $1", &p, 1, read_hash, hash,
                       NULL, err);
}

cas_rc
cas_store_session_version(struct cas_tx *tx, const char *name, const char *hash,
                          struct cas_session_row *out, bool *found, struct cas_err *err)
{
    struct row_out o = {out, found};
    struct cas_param p[2] = {CAS_PTEXT(name), CAS_PTEXT(hash)};

    memset(out, 0, sizeof(*out));
    *found = false;
    return cas_tx_exec(tx,
                       "SELECT " VERSION_COLUMNS " FROM cas_session_version v"
                       " WHERE v.name = $1 AND v.hash = $2",
                       p, 2, read_row, &o, NULL, err);
}

cas_rc
cas_store_session_put(struct cas_tx *tx, const struct cas_session_row *r, const char *parent,
                      int64_t now, struct cas_err *err)
{
    struct cas_param p[6] = {CAS_PTEXT(r->name),
                             CAS_PTEXT(r->hash),
                             r->predecessor[0] ? CAS_PTEXT(r->predecessor) : CAS_PNULL,
                             CAS_PTEXT(r->creator),
                             CAS_PINT(now),
                             CAS_PBLOB(r->document, r->document_len)};
    struct cas_param q[4] = {CAS_PTEXT(r->name), CAS_PTEXT(r->hash), CAS_PTEXT(parent),
                             CAS_PINT(now)};
    cas_rc rc;

    /* A version re-uploaded with the same hash (same content, same predecessor) is the same
     * version: keep the first copy. */
    if ((rc = cas_tx_exec(tx,
                          "INSERT INTO cas_session_version (name, hash, predecessor, creator,"
                          " created_at, document) SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS"
                          " (SELECT 1 FROM cas_session_version WHERE name = $1 AND hash = $2)",
                          p, 6, NULL, NULL, NULL, err)) != CAS_OK)
        return rc;
    if ((rc = cas_tx_exec(tx, "DELETE FROM cas_session WHERE name = $1", q, 1, NULL, NULL, NULL,
                          err)) != CAS_OK)
        return rc;
    return cas_tx_exec(tx,
                       "INSERT INTO cas_session (name, hash, parent, updated_at)"
                       " VALUES ($1, $2, $3, $4)",
                       q, 4, NULL, NULL, NULL, err);
}

cas_rc
cas_store_session_delete(struct cas_tx *tx, const char *name, struct cas_err *err)
{
    struct cas_param p = CAS_PTEXT(name);
    static const char *const stmts[] = {
        "DELETE FROM cas_session WHERE name = $1",
        "DELETE FROM cas_session_version WHERE name = $1",
        "DELETE FROM cas_secret WHERE session = $1",
        "DELETE FROM cas_import WHERE importer = $1",
        /* an exporter's bindings go with it; an importer's stay (exports.h in casd) */
        "DELETE FROM cas_export_binding WHERE exporter = $1",
    };
    cas_rc rc;

    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        if ((rc = cas_tx_exec(tx, stmts[i], &p, 1, NULL, NULL, NULL, err)) != CAS_OK)
            return rc;
    }
    return CAS_OK;
}

struct names {
    cas_rc (*fn)(const char *name, void *arg, struct cas_err *err);
    void *arg;
};

static cas_rc
each_name(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct names *n = arg;

    return n->fn(cas_row_text(row, 0), n->arg, err);
}

cas_rc
cas_store_session_children(struct cas_tx *tx, const char *parent,
                           cas_rc (*fn)(const char *name, void *arg, struct cas_err *err),
                           void *arg, struct cas_err *err)
{
    struct names n = {fn, arg};
    struct cas_param p = CAS_PTEXT(parent);

    return cas_tx_exec(tx, "SELECT name FROM cas_session WHERE parent = $1 ORDER BY name", &p, 1,
                       each_name, &n, NULL, err);
}

struct first {
    char *out;
    size_t cap;
};

static cas_rc
first_name(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct first *f = arg;
    (void)err;
    (void)snprintf(f->out, f->cap, "%s", cas_row_text(row, 0));
    return CAS_OK;
}

cas_rc
cas_store_session_importer(struct cas_tx *tx, const char *exporter, char *out, size_t cap,
                           struct cas_err *err)
{
    struct first f = {out, cap};
    struct cas_param p = CAS_PTEXT(exporter);

    out[0] = '\0';
    return cas_tx_exec(tx,
                       "SELECT importer FROM cas_import WHERE exporter = $1 AND importer <> $1"
                       " ORDER BY importer LIMIT 1",
                       &p, 1, first_name, &f, NULL, err);
}

cas_rc
cas_store_session_set_imports(struct cas_tx *tx, const char *importer, const char *const *exporters,
                              size_t n, struct cas_err *err)
{
    struct cas_param p[2] = {CAS_PTEXT(importer), CAS_PNULL};
    cas_rc rc;

    if ((rc = cas_tx_exec(tx, "DELETE FROM cas_import WHERE importer = $1", p, 1, NULL, NULL, NULL,
                          err)) != CAS_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        p[1] = CAS_PTEXT(exporters[i]);
        if ((rc = cas_tx_exec(tx,
                              "INSERT INTO cas_import (importer, exporter) SELECT $1, $2"
                              " WHERE NOT EXISTS (SELECT 1 FROM cas_import WHERE importer = $1"
                              " AND exporter = $2)",
                              p, 2, NULL, NULL, NULL, err)) != CAS_OK)
            return rc;
    }
    return CAS_OK;
}

static cas_rc
read_creator(const struct cas_row *row, void *arg, struct cas_err *err)
{
    (void)err;
    copy_hex(arg, cas_row_text(row, 0));
    return CAS_OK;
}

cas_rc
cas_store_binding_get(struct cas_tx *tx, const char *exporter, const char *secret,
                      const char *importer, char creator[65], struct cas_err *err)
{
    struct cas_param p[3] = {CAS_PTEXT(exporter), CAS_PTEXT(secret), CAS_PTEXT(importer)};

    creator[0] = '\0';
    return cas_tx_exec(tx,
                       "SELECT creator FROM cas_export_binding WHERE exporter = $1 AND secret = $2"
                       " AND importer = $3",
                       p, 3, read_creator, creator, NULL, err);
}

cas_rc
cas_store_binding_put(struct cas_tx *tx, const char *exporter, const char *secret,
                      const char *importer, const char *creator, int64_t now, struct cas_err *err)
{
    struct cas_param p[5] = {CAS_PTEXT(exporter), CAS_PTEXT(secret), CAS_PTEXT(importer),
                             CAS_PTEXT(creator), CAS_PINT(now)};

    return cas_tx_exec(tx,
                       "INSERT INTO cas_export_binding (exporter, secret, importer, creator,"
                       " bound_at) SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM"
                       " cas_export_binding WHERE exporter = $1 AND secret = $2 AND importer = $3)",
                       p, 5, NULL, NULL, NULL, err);
}

cas_rc
cas_store_binding_clear(struct cas_tx *tx, const char *exporter, const char *secret,
                        struct cas_err *err)
{
    struct cas_param p[2] = {CAS_PTEXT(exporter), CAS_PTEXT(secret != NULL ? secret : "")};

    if (secret == NULL)
        return cas_tx_exec(tx, "DELETE FROM cas_export_binding WHERE exporter = $1", p, 1, NULL,
                           NULL, NULL, err);
    return cas_tx_exec(tx, "DELETE FROM cas_export_binding WHERE exporter = $1 AND secret = $2", p,
                       2, NULL, NULL, NULL, err);
}

struct blob_out {
    uint8_t **p;
    size_t *len;
    bool *found;
};

static cas_rc
read_blob(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct blob_out *o = arg;
    size_t len;
    const uint8_t *b = cas_row_blob(row, 0, &len);

    free(*o->p);
    if ((*o->p = cas_malloc(len)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    if (len > 0)
        memcpy(*o->p, b, len);
    *o->len = len;
    *o->found = true;
    return CAS_OK;
}

cas_rc
cas_store_secret_get(struct cas_tx *tx, const char *session, const char *name, uint8_t **value,
                     size_t *len, bool *found, struct cas_err *err)
{
    struct blob_out o = {value, len, found};
    struct cas_param p[2] = {CAS_PTEXT(session), CAS_PTEXT(name)};

    *value = NULL;
    *len = 0;
    *found = false;
    return cas_tx_exec(tx, "SELECT value FROM cas_secret WHERE session = $1 AND name = $2", p, 2,
                       read_blob, &o, NULL, err);
}

cas_rc
cas_store_secret_put(struct cas_tx *tx, const char *session, const char *name, const uint8_t *value,
                     size_t len, int64_t expires_at, int64_t renew_at, int64_t now,
                     struct cas_err *err)
{
    struct cas_param p[6] = {CAS_PTEXT(session),
                             CAS_PTEXT(name),
                             CAS_PBLOB(value, len),
                             expires_at ? CAS_PINT(expires_at) : CAS_PNULL,
                             renew_at ? CAS_PINT(renew_at) : CAS_PNULL,
                             CAS_PINT(now)};
    cas_rc rc;

    if ((rc = cas_tx_exec(tx, "DELETE FROM cas_secret WHERE session = $1 AND name = $2", p, 2, NULL,
                          NULL, NULL, err)) != CAS_OK)
        return rc;
    return cas_tx_exec(tx,
                       "INSERT INTO cas_secret (session, name, value, expires_at, renew_at,"
                       " updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
                       p, 6, NULL, NULL, NULL, err);
}

struct prune {
    struct cas_tx *tx;
    const char *session;
    const char *const *keep;
    size_t n;
    char **drop;
    size_t n_drop, cap;
};

static cas_rc
collect_drop(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct prune *pr = arg;
    const char *name = cas_row_text(row, 0);

    for (size_t i = 0; i < pr->n; i++) {
        if (strcmp(pr->keep[i], name) == 0)
            return CAS_OK;
    }
    if (pr->n_drop == pr->cap) {
        size_t cap = pr->cap ? pr->cap * 2 : 16;
        char **d = cas_realloc(pr->drop, cap * sizeof(*d));
        if (d == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory");
        pr->drop = d;
        pr->cap = cap;
    }
    if ((pr->drop[pr->n_drop] = cas_strdup(name)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    pr->n_drop++;
    return CAS_OK;
}

cas_rc
cas_store_secret_prune(struct cas_tx *tx, const char *session, const char *const *keep, size_t n,
                       struct cas_err *err)
{
    struct prune pr = {tx, session, keep, n, NULL, 0, 0};
    struct cas_param p[2] = {CAS_PTEXT(session), CAS_PNULL};
    cas_rc rc;

    rc = cas_tx_exec(tx, "SELECT name FROM cas_secret WHERE session = $1", p, 1, collect_drop, &pr,
                     NULL, err);
    for (size_t i = 0; i < pr.n_drop; i++) {
        p[1] = CAS_PTEXT(pr.drop[i]);
        if (rc == CAS_OK)
            rc = cas_tx_exec(tx, "DELETE FROM cas_secret WHERE session = $1 AND name = $2", p, 2,
                             NULL, NULL, NULL, err);
        free(pr.drop[i]);
    }
    free(pr.drop);
    return rc;
}

static cas_rc
set_true(const struct cas_row *row, void *arg, struct cas_err *err)
{
    (void)row;
    (void)err;
    *(bool *)arg = true;
    return CAS_OK;
}

cas_rc
cas_store_secret_due(struct cas_tx *tx, const char *session, int64_t now, bool *due,
                     struct cas_err *err)
{
    struct cas_param p[2] = {CAS_PTEXT(session), CAS_PINT(now)};

    *due = false;
    return cas_tx_exec(tx,
                       "SELECT 1 FROM cas_secret WHERE session = $1 AND renew_at IS NOT NULL"
                       " AND renew_at <= $2 LIMIT 1",
                       p, 2, set_true, due, NULL, err);
}

cas_rc
cas_store_audit_add(struct cas_tx *tx, int64_t at, const char *caller, const char *what,
                    const char *verdict, struct cas_err *err)
{
    struct cas_param p[4] = {CAS_PINT(at), CAS_PTEXT(caller), CAS_PTEXT(what), CAS_PTEXT(verdict)};

    return cas_tx_exec(
        tx, "INSERT INTO cas_audit (at, caller, config_id, verdict) VALUES ($1, $2, $3, $4)", p, 4,
        NULL, NULL, NULL, err);
}
