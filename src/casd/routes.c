/*
 * routes.c - the handlers of casd's two APIs that exist so far: the status page and health.
 * Values casd has not measured read "not measured" (api.md §2.3), never an invented value.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cas/version.h"
#include "casd.h"
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

const struct cas_http_route casd_client_routes[] = {
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
};
const size_t casd_enclave_route_count =
    sizeof(casd_enclave_routes) / sizeof(casd_enclave_routes[0]);
