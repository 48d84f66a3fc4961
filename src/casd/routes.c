/*
 * routes.c - the handlers of casd's two APIs that exist so far: the status page and health.
 * Values casd has not measured read "not measured" (api.md §2.3), never an invented value.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cas/version.h"
#include "casd.h"
#include "join.h"
#include "keygen.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"

static void
health(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_err err = {0};

    if (cas_store_ping(d->store, &err) != CAS_OK) {
        cas_log_err(CAS_LOG_ERROR, "casd.database_unavailable", &err);
        cas_http_reply_json(req, 503,
                            json_pack("{s:s, s:s, s:[s]}", "status", "unavailable", "version",
                                      CAS_VERSION, "msg", "the database does not answer"));
        return;
    }
    cas_http_reply_json(req, 200, json_pack("{s:s, s:s}", "status", "ok", "version", CAS_VERSION));
}

static void
field(struct cas_buf *b, const char *label, const char *id, const char *value)
{
    cas_buf_addf(b, "<tr><th>%s</th><td><code id=\"%s\">%s</code></td></tr>\n", label, id, value);
}

static void
status_page(struct cas_http_req *req)
{
    struct casd *d = req->app;
    const struct casd_tee *t = &d->tee;
    struct cas_buf b;
    char uptime[64], prod[16] = "", svn[16] = "";
    long long up = (long long)(time(NULL) - d->started_at);
    static const char nm[] = "not measured";

    (void)snprintf(uptime, sizeof(uptime), "%lldd %02lldh %02lldm %02llds", up / 86400,
                   up / 3600 % 24, up / 60 % 60, up % 60);
    cas_buf_init(&b, 64 * 1024);
    cas_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>cas</title></head>\n<body>\n<h1>cas</h1>\n<table>\n");
    field(&b, "Version", "version", CAS_VERSION " (" CAS_BUILD_TIME ")");
    field(&b, "TEE", "tee", d->tee_name);
    /* What casd's own evidence said through the verifier at start; hardware evidence is shown
     * once casd has collateral for it, never guessed before. */
    if (t->measured) {
        (void)snprintf(prod, sizeof(prod), "%u", t->isvprodid);
        (void)snprintf(svn, sizeof(svn), "%u", t->isvsvn);
    }
    field(&b, "MRENCLAVE", "mrenclave", t->measured ? t->mrenclave : nm);
    field(&b, "MRSIGNER", "mrsigner", t->measured ? t->mrsigner : nm);
    field(&b, "ISVPRODID", "isvprodid", t->measured ? prod : nm);
    field(&b, "ISVSVN", "isvsvn", t->measured ? svn : nm);
    field(&b, "Debug", "debug", t->measured ? (t->debug ? "debug" : "production") : nm);
    field(&b, "TCB status", "tcb-status", t->measured ? t->tcb_status : nm);
    field(&b, "Advisories", "advisories", t->measured ? t->advisories : nm);
    field(&b, "CAS key hash", "cas-key-hash", d->identity.key_hash_b58);
    field(&b, "Uptime", "uptime", uptime);
    cas_buf_adds(&b, "</table>\n</body></html>\n");
    if (b.failed) {
        const char *msgs[2] = {"Internal error", "status page too large"};
        cas_buf_release(&b);
        cas_http_reply_msgs(req, 500, msgs, 2);
        return;
    }
    cas_http_add_header(req, "Content-Security-Policy", "default-src 'none'");
    cas_http_reply(req, 200, "text/html; charset=utf-8", b.buf, b.len);
    cas_buf_release(&b);
}

static cas_rc
count_one(const struct cas_row *row, void *arg, struct cas_err *err)
{
    (void)err;
    *(int64_t *)arg = cas_row_int(row, 0);
    return CAS_OK;
}

/* GET /metrics: Prometheus text format (api.md §2.2), when `metrics` is on. */
static void
metrics(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_buf b;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    int64_t sessions = -1;

    if (!d->metrics) {
        const char *msgs[2] = {"Not found", "metrics are off (metrics = off)"};
        cas_http_reply_msgs(req, 404, msgs, 2);
        return;
    }
    if (cas_store_begin(d->store, CAS_TX_READ, &tx, &err) == CAS_OK) {
        if (cas_tx_exec(tx, "SELECT COUNT(*) FROM cas_session", NULL, 0, count_one, &sessions, NULL,
                        &err) != CAS_OK)
            atomic_fetch_add(&d->db_errors, 1);
        cas_tx_rollback(tx);
    } else {
        atomic_fetch_add(&d->db_errors, 1);
    }
    cas_buf_init(&b, 256 * 1024);
    cas_http_server_metrics(d->srv, &b);
    cas_buf_addf(&b,
                 "# HELP cas_attestations_total Service attestations, by verdict.\n"
                 "# TYPE cas_attestations_total counter\n"
                 "cas_attestations_total{verdict=\"ok\"} %lu\n"
                 "cas_attestations_total{verdict=\"denied\"} %lu\n"
                 "cas_attestations_total{verdict=\"other\"} %lu\n"
                 "# HELP cas_joins_total Instances asking this one to join, by verdict.\n"
                 "# TYPE cas_joins_total counter\n"
                 "cas_joins_total{verdict=\"ok\"} %lu\n"
                 "cas_joins_total{verdict=\"denied\"} %lu\n"
                 "cas_joins_total{verdict=\"other\"} %lu\n"
                 "# HELP cas_session_changes_total Sessions created, updated, deleted; changes "
                 "refused.\n"
                 "# TYPE cas_session_changes_total counter\n"
                 "cas_session_changes_total{op=\"created\"} %lu\n"
                 "cas_session_changes_total{op=\"updated\"} %lu\n"
                 "cas_session_changes_total{op=\"deleted\"} %lu\n"
                 "cas_session_changes_total{op=\"refused\"} %lu\n"
                 "# HELP cas_database_errors_total Database operations that failed.\n"
                 "# TYPE cas_database_errors_total counter\n"
                 "cas_database_errors_total %lu\n",
                 atomic_load(&d->attest_ok), atomic_load(&d->attest_denied),
                 atomic_load(&d->attest_other), atomic_load(&d->join_ok),
                 atomic_load(&d->join_denied), atomic_load(&d->join_other),
                 atomic_load(&d->sessions_created), atomic_load(&d->sessions_updated),
                 atomic_load(&d->sessions_deleted), atomic_load(&d->sessions_refused),
                 atomic_load(&d->db_errors));
    casd_service_metrics(d, &b);
    if (sessions >= 0)
        cas_buf_addf(&b,
                     "# HELP cas_sessions Sessions stored (current versions).\n"
                     "# TYPE cas_sessions gauge\ncas_sessions %lld\n",
                     (long long)sessions);
    casd_quota_metrics(&d->quota, &b);
    casd_keygen_metrics(d->keygen, &b);
    cas_http_reply(req, 200, "text/plain; version=0.0.4", b.buf, b.len);
    cas_buf_release(&b);
}

const struct cas_http_route casd_client_routes[] = {
    {"GET", "/metrics", metrics},
    {"GET", "/", status_page},
    {"GET", "/v1/health", health},
    {"GET", "/v1/attest", casd_handle_attest},
    {"POST", "/v1/sessions", casd_handle_session_upload},
    {"POST", "/session", casd_handle_session_upload},
    {"GET", "/v1/sessions", casd_handle_session_list},
    {"GET", "/v1/sessions/*", casd_handle_session_read},
    {"DELETE", "/v1/sessions/*", casd_handle_session_delete},
    {"GET", "/v1/values/*", casd_handle_values},
};
const size_t casd_client_route_count = sizeof(casd_client_routes) / sizeof(casd_client_routes[0]);

const struct cas_http_route casd_enclave_routes[] = {
    {"GET", "/v1/health", health},
    {"POST", "/v1/service/attest", casd_handle_service_attest},
    {"POST", "/v1/service/render", casd_handle_service_render},
    {"POST", "/v1/cas/join", casd_handle_join},
};
const size_t casd_enclave_route_count =
    sizeof(casd_enclave_routes) / sizeof(casd_enclave_routes[0]);
