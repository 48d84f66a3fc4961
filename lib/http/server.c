/*
 * server.c - the worker pool, listeners, limits and routing of server.h.
 *
 * Each worker owns an event_base and, per listener, an evhttp bound to the shared listening
 * socket through its own evconnlistener (never closing the socket on free). TLS comes from the
 * bufferevent callback: evhttp creates the connection with fd -1 and sets the fd after, which
 * bufferevent_openssl supports in the accepting state. Open connections are counted through an
 * SSL ex_data slot whose free callback runs when the connection's SSL is freed, on the worker's
 * own thread, so the count needs no lock and the worker can pause and resume its listeners.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/tls.h"
#include "http/defer.h"
#include "http/server_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

static const double g_lat_le[LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                             0.025,  0.05,  0.1,    0.5,   2.5};

static int g_conn_index = -1;
static int g_busy_index = -1; /* a connection's worker while its request is in flight, or NULL */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Descriptors kept back from the connection cap: database, files, listeners, libcurl, and each
 * worker's event loop (epoll and its wake-up descriptor). */
#define FD_RESERVE 64
#define FD_RESERVE_PER_THREAD 4
/* How long a worker stops accepting after accept() ran out of descriptors. */
#define BACKOFF_MS 250
/* Rate-limited warnings: at most one of a kind per this many seconds, for the whole server. */
#define WARN_EVERY_S 60
enum warn_kind { WARN_ACCEPT, WARN_CONN_LIMIT };

/*
 * One TLS connection: its deadline (cas_http_config.header_timeout_s, body_min_rate). The
 * server sees bytes, not evhttp's parser state, through callbacks on the connection's plaintext
 * buffers: a request is arriving from its first byte (or from the connection's start, so the
 * handshake counts) until its reply is written; while arriving, the deadline is the start plus
 * header_timeout_s plus one second per body_min_rate bytes received. Freed with the SSL.
 */
struct conn {
    struct worker *w;
    struct bufferevent *bev;
    struct event *timer;
    struct evbuffer_cb_entry *in_cb, *out_cb;
    enum { CONN_ARRIVING, CONN_REPLYING, CONN_IDLE } phase;
    struct timespec start;
    size_t bytes;
};

static _Thread_local struct worker *t_worker; /* the worker whose loop this thread runs */

static void worker_resume_if_room(struct worker *w);

static bool
warn_due(struct cas_http_server *srv, enum warn_kind kind)
{
    struct timespec now;
    long last;

    clock_gettime(CLOCK_MONOTONIC, &now);
    last = atomic_load(&srv->warned_at[kind]);
    if (last != 0 && now.tv_sec - last < WARN_EVERY_S)
        return false;
    return atomic_compare_exchange_strong(&srv->warned_at[kind], &last, (long)now.tv_sec);
}

/* Runs when a connection's SSL is freed: one connection fewer on its worker. */
static void
conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct conn *c = ptr;
    struct worker *w;
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (c == NULL)
        return;
    w = c->w;
    if (c->in_cb != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
    if (c->out_cb != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
    if (c->timer != NULL)
        event_free(c->timer);
    free(c);
    if (w->conns > 0)
        w->conns--;
    worker_resume_if_room(w);
}

/* Runs when a connection's SSL is freed: a request it still had in flight will never complete
 * (evhttp frees a connection whose reply failed to go out without the completion callback). */
static void
busy_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct worker *w = ptr;
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (w != NULL)
        w->inflight--;
}

static void
init_once(void)
{
    (void)evthread_use_pthreads();
    g_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_gone);
    g_busy_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, busy_gone);
}

/* Marks r's connection as having a request in flight on w (NULL: none any more). */
static void
set_busy(struct evhttp_request *r, struct worker *w)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(r);
    struct bufferevent *bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;
    SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;

    if (ssl != NULL)
        SSL_set_ex_data(ssl, g_busy_index, w);
}

static void
set_listening(struct worker *w, bool on)
{
    for (size_t i = 0; i < w->srv->n_listeners; i++) {
        if (w->wl[i].lev == NULL)
            continue;
        if (on)
            evconnlistener_enable(w->wl[i].lev);
        else
            evconnlistener_disable(w->wl[i].lev);
    }
    w->paused = !on;
}

static void
worker_resume_if_room(struct worker *w)
{
    if (w->paused && !w->stopping && !w->backing_off && w->conns < w->max_conns)
        set_listening(w, true);
}

static void
backoff_done(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    w->backing_off = false;
    worker_resume_if_room(w);
}

/*
 * accept() failed. Out of descriptors (EMFILE, ENFILE) or memory, the pending connection stays
 * in the backlog and the listening socket stays readable: accepting again at once would spin.
 * The worker stops accepting for BACKOFF_MS instead; the warning is rate-limited.
 */
static void
accept_error(struct evconnlistener *lev, void *arg)
{
    struct worker *w = t_worker; /* arg is the listener's evhttp: this thread's worker it is */
    int e = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {0, BACKOFF_MS * 1000};
    (void)lev;
    (void)arg;

    if (w == NULL)
        return;
    if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM)
        return; /* a connection that failed on its own: the next one may be fine */
    atomic_fetch_add(&w->srv->accept_paused, 1);
    if (warn_due(w->srv, WARN_ACCEPT))
        CAS_LOG(WARN, "http.accept_paused", CAS_LF_STR("why", strerror(e)),
                CAS_LF_INT("pause_ms", BACKOFF_MS), CAS_LF_INT("open_on_worker", w->conns),
                CAS_LF_STR("hint", "raise the file descriptor limit (ulimit -n)"));
    if (w->stopping || w->backoff == NULL)
        return;
    set_listening(w, false);
    w->backing_off = true;
    if (event_add(w->backoff, &tv) != 0)
        backoff_done(-1, 0, w);
}

static void
ts_now(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

/* (Re)arms the connection's deadline; closes it when the deadline has passed. */
static void
conn_arm(struct conn *c)
{
    const struct cas_http_config *cfg = &c->w->srv->cfg;
    struct timespec now;
    double left;
    struct timeval tv;

    ts_now(&now);
    left = (double)cfg->header_timeout_s - ((double)(now.tv_sec - c->start.tv_sec) +
                                            (double)(now.tv_nsec - c->start.tv_nsec) / 1e9);
    if (cfg->body_min_rate > 0)
        left += (double)c->bytes / (double)cfg->body_min_rate;
    if (left < 0.001)
        left = 0.001; /* the timer fires at once and closes it */
    if (left > 86400.0)
        left = 86400.0;
    tv.tv_sec = (time_t)left;
    tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
    (void)evtimer_add(c->timer, &tv);
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (c->phase != CONN_ARRIVING)
        return;
    atomic_fetch_add(&c->w->srv->deadline_closed, 1);
    CAS_LOG(DEBUG, "http.deadline", CAS_LF_INT("bytes", (long long)c->bytes));
    /* As the idle timeout does: evhttp takes it as a read timeout and frees the connection. */
    bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

static void
conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    (void)buf;
    if (info->n_added == 0)
        return;
    if (c->phase == CONN_IDLE) { /* the first byte of the next request */
        c->phase = CONN_ARRIVING;
        ts_now(&c->start);
        c->bytes = 0;
    }
    c->bytes += info->n_added;
    if (c->phase == CONN_ARRIVING)
        conn_arm(c);
}

static void
conn_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    size_t pending;

    if (info->n_added > 0 && c->phase != CONN_REPLYING) { /* a reply: the request is in */
        c->phase = CONN_REPLYING;
        (void)evtimer_del(c->timer);
        return;
    }
    if (info->n_deleted == 0 || c->phase != CONN_REPLYING || evbuffer_get_length(buf) > 0)
        return;
    /* The reply is out. Bytes already here (pipelined) start the next request's clock. */
    pending = evbuffer_get_length(bufferevent_get_input(c->bev));
    c->phase = pending > 0 ? CONN_ARRIVING : CONN_IDLE;
    if (pending > 0) {
        ts_now(&c->start);
        c->bytes = pending;
        conn_arm(c);
    }
}

static struct bufferevent *
make_bev(struct event_base *base, void *arg)
{
    struct wl *wl = arg;
    struct worker *w = wl->w;
    struct cas_http_server *srv = w->srv;
    SSL_CTX *ctx;
    SSL *ssl;
    struct bufferevent *bev;
    struct conn *c;

    if ((c = cas_calloc(1, sizeof(*c))) == NULL)
        return NULL; /* evhttp then drops the connection */
    pthread_mutex_lock(&srv->tls_lock);
    ctx = srv->tls[wl->li];
    ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    if (ssl == NULL) {
        free(c);
        return NULL;
    }
    if (srv->listeners[wl->li].require_client_cert)
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       SSL_CTX_get_verify_callback(ctx));
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        free(c);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    c->w = w;
    c->bev = bev;
    c->phase = CONN_ARRIVING; /* the handshake and the first request: from now */
    ts_now(&c->start);
    SSL_set_ex_data(ssl, g_conn_index, c); /* from here, freeing the SSL frees c */
    w->conns++;
    if (srv->cfg.header_timeout_s > 0) {
        if ((c->timer = evtimer_new(base, conn_deadline, c)) == NULL ||
            (c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input, c)) == NULL ||
            (c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_output, c)) == NULL) {
            bufferevent_free(bev);
            return NULL;
        }
        conn_arm(c);
    }
    if (w->conns >= w->max_conns) {
        set_listening(w, false);
        if (warn_due(srv, WARN_CONN_LIMIT))
            CAS_LOG(WARN, "http.conn_limit", CAS_LF_INT("open", w->conns),
                    CAS_LF_INT("limit_per_worker", w->max_conns));
    }
    return bev;
}

int
cas_http_status_of(cas_rc rc)
{
    switch (rc) {
    case CAS_OK:
        return 200;
    case CAS_E_INVALID:
        return 400;
    case CAS_E_DENIED:
        return 403;
    case CAS_E_NOTFOUND:
        return 404;
    case CAS_E_CONFLICT:
        return 409;
    case CAS_E_TOOBIG:
        return 413;
    case CAS_E_UNSUPPORTED:
        return 422;
    case CAS_E_IO:
        return 503;
    case CAS_E_NOMEM:
    case CAS_E_CRYPTO:
    case CAS_E_INTERNAL:
        break;
    }
    return 500;
}

static const char *
reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

static void
reply_done(struct evhttp_request *r, void *arg)
{
    struct worker *w = arg;
    set_busy(r, NULL);
    w->inflight--;
}

void
cas_http_add_header(struct cas_http_req *req, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(req->r), name, value);
}

void
cas_http_reply(struct cas_http_req *req, int status, const char *content_type, const void *body,
               size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req->r);
    struct evbuffer *out = evbuffer_new();

    if (content_type != NULL)
        evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (out != NULL && len > 0)
        evbuffer_add(out, body, len);
    req->status = status;
    evhttp_send_reply(req->r, status, reason_of(status), out);
    if (out != NULL)
        evbuffer_free(out);
    req->r = NULL; /* replied: a second reply is a bug the next call will crash on loudly */
}

void
cas_http_reply_json(struct cas_http_req *req, int status, json_t *json)
{
    /* api.md's form: ", " and ": " separators, keys in the order they were built. */
    char *text = json != NULL ? json_dumps(json, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;

    if (text == NULL) {
        static const char oom[] = "{\"msg\": [\"Internal error\", \"out of memory\"]}";
        cas_http_reply(req, 500, "application/json", oom, sizeof(oom) - 1);
    } else {
        cas_http_reply(req, status, "application/json", text, strlen(text));
    }
    cas_wipe_free(text); /* it may hold rendered secrets */
    json_decref(json);
}

/* The length of the valid UTF-8 sequence at p (RFC 3629's table), or 0 when it is not one. */
static size_t
utf8_seq_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) /* a NUL ends the string here too */
            return 0;
    }
    return n;
}

json_t *
cas_http_json_text(const char *s)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    const unsigned char *p = (const unsigned char *)s;
    struct cas_buf b;
    json_t *j;

    if ((j = json_string(s)) != NULL)
        return j;
    cas_buf_init(&b, strlen(s) * 3 + 1);
    while (*p != '\0') {
        size_t n = utf8_seq_len(p);
        if (n == 0) {
            cas_buf_adds(&b, replacement);
            p++;
        } else {
            cas_buf_add(&b, p, n);
            p += n;
        }
    }
    j = b.failed ? NULL : json_stringn(b.buf != NULL ? b.buf : "", b.len);
    cas_buf_release(&b);
    return j;
}

void
cas_http_reply_msgs(struct cas_http_req *req, int status, const char *const *msgs, size_t n)
{
    json_t *arr = json_array();

    /* Every message stays: a name with invalid UTF-8 in it (jansson's json_string refuses it)
     * is shown with U+FFFD in place of each bad byte. */
    for (size_t i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, cas_http_json_text(msgs[i]));
    cas_http_reply_json(req, status, json_pack("{s:o}", "msg", arr));
}

void
cas_http_reply_err(struct cas_http_req *req, const struct cas_err *err)
{
    const char *msgs[CAS_ERR_DEPTH];
    size_t n = 0;
    const char *m;

    while (n < CAS_ERR_DEPTH && (m = cas_err_get(err, (unsigned)n)) != NULL)
        msgs[n++] = m;
    cas_http_reply_msgs(req, cas_http_status_of(err->rc), msgs, n);
}

static const char *
method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "UNKNOWN";
}

static bool
path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);

    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, path, n - 1) == 0;
    return strcmp(pattern, path) == 0;
}

static void
route(struct wl *wl, struct cas_http_req *req)
{
    const struct cas_http_listener *l = &wl->w->srv->listeners[wl->li];
    char allow[128] = "";
    size_t used = 0;

    for (size_t i = 0; i < l->route_count; i++) {
        const struct cas_http_route *rt = &l->routes[i];
        if (!path_matches(rt->path, req->path))
            continue;
        if (strcmp(rt->method, req->method) == 0) {
            rt->fn(req);
            return;
        }
        if (strstr(allow, rt->method) == NULL) {
            int n =
                snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", rt->method);
            if (n > 0 && (size_t)n < sizeof(allow) - used)
                used += (size_t)n;
        }
    }
    if (used > 0) {
        char why[256];
        const char *msgs[2] = {"Method not allowed", why};
        (void)snprintf(why, sizeof(why), "'%.16s' is not allowed here; use %s", req->method, allow);
        cas_http_add_header(req, "Allow", allow);
        cas_http_reply_msgs(req, 405, msgs, 2);
        return;
    }
    {
        char why[320];
        const char *msgs[2] = {"Not found", why};
        (void)snprintf(why, sizeof(why), "no resource at '%.200s'", req->path);
        cas_http_reply_msgs(req, 404, msgs, 2);
    }
}

static void
record(struct cas_http_server *srv, size_t li, int status, double seconds)
{
    size_t b = 0;

    if (status >= 100 && status < 600)
        atomic_fetch_add(&srv->requests[li][status / 100 - 1], 1);
    while (b < LAT_BUCKETS && seconds > g_lat_le[b])
        b++;
    atomic_fetch_add(&srv->lat_bucket[li][b], 1);
    atomic_fetch_add(&srv->lat_sum_us[li], (unsigned long)(seconds * 1e6));
}

void
cas_http_server_metrics(const struct cas_http_server *srv, struct cas_buf *out)
{
    cas_buf_adds(out, "# HELP cas_http_requests_total Requests answered by casd, by API and "
                      "status class.\n# TYPE cas_http_requests_total counter\n");
    for (size_t i = 0; i < srv->n_listeners; i++) {
        for (int c = 0; c < 5; c++)
            cas_buf_addf(out, "cas_http_requests_total{api=\"%s\",code=\"%dxx\"} %lu\n",
                         srv->listeners[i].name, c + 1, atomic_load(&srv->requests[i][c]));
    }
    cas_buf_addf(out,
                 "# HELP cas_http_accept_paused_total Times a worker paused accepting because "
                 "accept() ran out of file descriptors.\n"
                 "# TYPE cas_http_accept_paused_total counter\ncas_http_accept_paused_total %lu\n"
                 "# HELP cas_http_deadline_closed_total Connections closed because their "
                 "handshake, headers or body came too slowly.\n"
                 "# TYPE cas_http_deadline_closed_total counter\n"
                 "cas_http_deadline_closed_total %lu\n",
                 atomic_load(&srv->accept_paused), atomic_load(&srv->deadline_closed));
    cas_buf_adds(out, "# HELP cas_http_request_duration_seconds Time handlers took, by API.\n"
                      "# TYPE cas_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < srv->n_listeners; i++) {
        unsigned long cum = 0;
        const char *api = srv->listeners[i].name;
        for (size_t b = 0; b <= LAT_BUCKETS; b++) {
            cum += atomic_load(&srv->lat_bucket[i][b]);
            if (b < LAT_BUCKETS)
                cas_buf_addf(out,
                             "cas_http_request_duration_seconds_bucket{api=\"%s\",le=\"%g\"} "
                             "%lu\n",
                             api, g_lat_le[b], cum);
            else
                cas_buf_addf(out,
                             "cas_http_request_duration_seconds_bucket{api=\"%s\",le=\"+Inf\"} "
                             "%lu\n",
                             api, cum);
        }
        cas_buf_addf(out, "cas_http_request_duration_seconds_sum{api=\"%s\"} %.6f\n", api,
                     (double)atomic_load(&srv->lat_sum_us[i]) / 1e6);
        cas_buf_addf(out, "cas_http_request_duration_seconds_count{api=\"%s\"} %lu\n", api, cum);
    }
}

/* A deferred reply was answered (defer.c): recorded as dispatch() records the others. A request
 * whose connection went away meanwhile left the in-flight count with the connection (busy_gone). */
static void
deferred_done(void *ctx, int status, double seconds)
{
    struct wl *wl = ctx;

    record(wl->w->srv, wl->li, status, seconds);
}

static void
dispatch(struct evhttp_request *r, void *arg)
{
    struct wl *wl = arg;
    struct worker *w = wl->w;
    struct cas_http_req req = {0};
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    struct evhttp_connection *conn = evhttp_request_get_connection(r);
    struct bufferevent *bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;
    size_t body_len = in != NULL ? evbuffer_get_length(in) : 0;
    SSL *ssl;
    struct timespec t0, t1;

    w->inflight++;
    set_busy(r, w);
    evhttp_request_set_on_complete_cb(r, reply_done, w);
    req.r = r;
    req.app = w->srv->cfg.app;
    req.method = method_name(evhttp_request_get_command(r));
    req.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    req.query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
    if (req.path == NULL || req.path[0] == '\0')
        req.path = "/";
    if (body_len > w->srv->cfg.max_body) { /* evhttp enforces it too; this is the backstop */
        const char *msgs[2] = {"Request body too large", "the limit is max_body bytes"};
        cas_http_reply_msgs(&req, 413, msgs, 2);
        return;
    }
    /* One NUL after the body, not counted in body_len: a handler that scans the body as a C
     * string stops at its end instead of reading past the buffer. An empty body is "", never
     * NULL, so no parser sees a NULL pointer (libyaml asserts on one, even at length 0). */
    req.body = (const uint8_t *)"";
    if (body_len > 0) {
        if (evbuffer_add(in, "", 1) != 0 || (req.body = evbuffer_pullup(in, -1)) == NULL) {
            const char *msgs[2] = {"Internal error", "out of memory reading the request body"};
            cas_http_reply_msgs(&req, 500, msgs, 2);
            return;
        }
        req.body_len = body_len;
    }
    ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
    if (ssl != NULL) {
        struct conn *c = SSL_get_ex_data(ssl, g_conn_index);
        if (c != NULL && c->timer != NULL) { /* it is all in: no deadline while it is answered */
            c->phase = CONN_REPLYING;
            (void)evtimer_del(c->timer);
        }
        req.has_peer = cas_tls_peer_key_hash(ssl, req.peer_key_hash);
    } else if (wl->test_peer != NULL) { /* a plain connection exists only in the harness */
        memcpy(req.peer_key_hash, wl->test_peer, sizeof(req.peer_key_hash));
        req.has_peer = true;
    }
    if (conn != NULL) {
        char *host = NULL;
        ev_uint16_t port = 0;
        evhttp_connection_get_peer(conn, &host, &port);
        (void)snprintf(req.peer_addr, sizeof(req.peer_addr), "%s", host != NULL ? host : "");
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    req.t0 = t0;
    req.resumer = wl->resumer;
    route(wl, &req);
    if (req.is_deferred) /* its continuation replies and records (defer.h) */
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (req.r == NULL)
        record(w->srv, wl->li, req.status,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (req.r != NULL) { /* a handler that forgot to reply: answer rather than hang */
        const char *msgs[2] = {"Internal error", "the handler gave no answer"};
        atomic_fetch_add(&w->srv->no_reply, 1);
        CAS_LOG(ERROR, "http.no_reply", CAS_LF_STR("path", req.path));
        cas_http_reply_msgs(&req, 500, msgs, 2);
    }
}

static int
parse_address(const char *address, char *host, size_t host_len, char *port, size_t port_len)
{
    const char *colon;
    size_t hl;

    if (address[0] == '[') {
        const char *end = strchr(address, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        hl = (size_t)(end - address - 1);
        if (hl >= host_len)
            return -1;
        memcpy(host, address + 1, hl);
        host[hl] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - address);
        if (hl >= host_len)
            return -1;
        memcpy(host, address, hl);
        host[hl] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= port_len ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -1;
    memcpy(port, colon + 1, strlen(colon + 1) + 1);
    return 0;
}

static cas_rc
bind_listener(const char *address, int *fd_out, unsigned *port_out, struct cas_err *err)
{
    struct addrinfo hints = {0}, *res = NULL;
    char host[256], port[16];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = -1, one = 1, gai;

    *fd_out = -1;
    if (parse_address(address, host, sizeof(host), port, sizeof(port)) != 0)
        return cas_err_set(err, CAS_E_INVALID, "listen address '%s' is not HOST:PORT", address);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0)
        return cas_err_set(err, CAS_E_INVALID, "cannot resolve listen address '%s': %s", address,
                           gai_strerror(gai));
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* TCP_NODELAY on the listener is inherited by every accepted socket (Linux): a reply written
     * as headers then body must not wait 40 ms for the client's delayed ACK (Nagle). */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return cas_err_set(err, e == EADDRINUSE ? CAS_E_CONFLICT : CAS_E_IO,
                           "cannot listen on %s: %s", address, strerror(e));
    }
    freeaddrinfo(res);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return CAS_OK;
}

/*
 * The connection cap must fit in the process's descriptors: past the soft RLIMIT_NOFILE (often
 * 1024) accept() fails with EMFILE. Raises the soft limit as far as needed and allowed; when the
 * hard limit is too low, returns a lower cap and says so once.
 */
static unsigned
fit_fd_limit(unsigned max_conns, unsigned threads)
{
    struct rlimit rl;
    rlim_t reserve = FD_RESERVE + (rlim_t)FD_RESERVE_PER_THREAD * threads;
    rlim_t want = (rlim_t)max_conns + reserve;
    unsigned cap;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return max_conns;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        struct rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return max_conns;
    cap = rl.rlim_cur > reserve + threads ? (unsigned)(rl.rlim_cur - reserve) : threads;
    CAS_LOG(WARN, "http.fd_limit", CAS_LF_INT("nofile", (long long)rl.rlim_cur),
            CAS_LF_INT("max_conns", cap), CAS_LF_INT("wanted", max_conns),
            CAS_LF_STR("hint", "the hard file descriptor limit is too low for the connection "
                               "limit; raise it (ulimit -Hn, LimitNOFILE=)"));
    return cap;
}

cas_rc
cas_http_server_new(const struct cas_http_config *cfg, const struct cas_http_listener *listeners,
                    size_t n_listeners, struct cas_http_server **out, struct cas_err *err)
{
    struct cas_http_server *srv;
    long cores;
    cas_rc rc;

    *out = NULL;
    pthread_once(&g_once, init_once);
    if (n_listeners == 0 || n_listeners > MAX_LISTENERS)
        return cas_err_set(err, CAS_E_INVALID, "between 1 and %d listeners", MAX_LISTENERS);
    if ((srv = cas_calloc(1, sizeof(*srv))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    srv->cfg = *cfg;
    if (srv->cfg.threads == 0) {
        cores = sysconf(_SC_NPROCESSORS_ONLN);
        srv->cfg.threads = cores > 0 ? (unsigned)cores : 1;
    }
    if (srv->cfg.threads > MAX_THREADS)
        srv->cfg.threads = MAX_THREADS;
    srv->cfg.max_conns = fit_fd_limit(srv->cfg.max_conns, srv->cfg.threads);
    pthread_mutex_init(&srv->tls_lock, NULL);
    srv->n_listeners = n_listeners;
    for (size_t i = 0; i < MAX_LISTENERS; i++)
        srv->fds[i] = -1;
    for (size_t i = 0; i < n_listeners; i++) {
        srv->listeners[i] = listeners[i];
        if ((rc = bind_listener(listeners[i].address, &srv->fds[i], &srv->ports[i], err)) !=
            CAS_OK) {
            cas_err_wrap(err, "cannot open the %s API", listeners[i].name);
            cas_http_server_free(srv);
            return rc;
        }
    }
    *out = srv;
    return CAS_OK;
}

void
cas_http_server_set_tls(struct cas_http_server *srv, size_t i, SSL_CTX *ctx)
{
    SSL_CTX *old;

    if (i >= srv->n_listeners)
        return;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_lock(&srv->tls_lock);
    old = srv->tls[i];
    srv->tls[i] = ctx;
    pthread_mutex_unlock(&srv->tls_lock);
    SSL_CTX_free(old); /* connections using it hold their own reference */
}

unsigned
cas_http_server_port(const struct cas_http_server *srv, size_t i)
{
    return i < srv->n_listeners ? srv->ports[i] : 0;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    t_worker = w;
    event_base_dispatch(w->base);
    return NULL;
}

void
cas_http_wl_configure(struct wl *wl)
{
    const struct cas_http_config *cfg = &wl->w->srv->cfg;

    evhttp_set_max_headers_size(wl->http, (ev_ssize_t)cfg->max_headers);
    evhttp_set_max_body_size(wl->http, (ev_ssize_t)cfg->max_body);
    evhttp_set_timeout(wl->http, (int)cfg->idle_timeout_s);
    evhttp_set_allowed_methods(wl->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                             EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(wl->http, dispatch, wl);
}

static cas_rc
worker_init(struct cas_http_server *srv, struct worker *w, struct cas_err *err)
{
    w->srv = srv;
    w->max_conns = srv->cfg.max_conns / srv->n_workers;
    if (w->max_conns == 0)
        w->max_conns = 1;
    if ((w->base = event_base_new()) == NULL ||
        (w->backoff = evtimer_new(w->base, backoff_done, w)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "cannot create an event loop");
    for (size_t i = 0; i < srv->n_listeners; i++) {
        struct wl *wl = &w->wl[i];
        wl->w = w;
        wl->li = i;
        if ((wl->http = evhttp_new(w->base)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "cannot create an HTTP server");
        cas_http_wl_configure(wl);
        evhttp_set_bevcb(wl->http, make_bev, wl);
        if ((wl->resumer = cas_http_resumer_new(w->base, deferred_done, wl)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory");
        /* No LEV_OPT_CLOSE_ON_FREE: every worker shares the socket; the server closes it. */
        wl->lev = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, srv->fds[i]);
        if (wl->lev == NULL || (wl->bound = evhttp_bind_listener(wl->http, wl->lev)) == NULL)
            return cas_err_set(err, CAS_E_IO, "cannot accept on the %s API",
                               srv->listeners[i].name);
        evconnlistener_set_error_cb(wl->lev, accept_error);
    }
    return CAS_OK;
}

cas_rc
cas_http_server_start(struct cas_http_server *srv, struct cas_err *err)
{
    cas_rc rc;

    srv->n_workers = srv->cfg.threads;
    if ((srv->workers = cas_calloc(srv->n_workers, sizeof(*srv->workers))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    for (unsigned i = 0; i < srv->n_workers; i++) {
        if ((rc = worker_init(srv, &srv->workers[i], err)) != CAS_OK)
            return rc;
    }
    for (unsigned i = 0; i < srv->n_workers; i++) {
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0) {
            srv->n_workers = i; /* stop() joins only the started ones */
            return cas_err_set(err, CAS_E_IO, "cannot start worker thread %u", i);
        }
    }
    srv->started = true;
    return CAS_OK;
}

static bool
past(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    if (w->inflight <= 0 || past(&w->deadline))
        event_base_loopexit(w->base, NULL);
}

/* Runs on the worker's thread: stop accepting, then wait for replies in flight. */
static void
begin_stop(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct timeval tick = {0, 20 * 1000};
    (void)fd;
    (void)what;
    w->stopping = true;
    for (size_t i = 0; i < w->srv->n_listeners; i++) {
        if (w->wl[i].bound != NULL)
            evhttp_del_accept_socket(w->wl[i].http, w->wl[i].bound);
        w->wl[i].bound = NULL;
        w->wl[i].lev = NULL; /* freed with the bound socket */
    }
    clock_gettime(CLOCK_MONOTONIC, &w->deadline);
    w->deadline.tv_sec += w->srv->grace_ms / 1000;
    w->deadline.tv_nsec += (long)(w->srv->grace_ms % 1000) * 1000000L;
    if (w->deadline.tv_nsec >= 1000000000L) {
        w->deadline.tv_sec++;
        w->deadline.tv_nsec -= 1000000000L;
    }
    w->drain = event_new(w->base, -1, EV_PERSIST, drain_tick, w);
    if (w->drain == NULL || event_add(w->drain, &tick) != 0)
        event_base_loopexit(w->base, NULL);
}

void
cas_http_server_stop(struct cas_http_server *srv, unsigned grace_ms)
{
    if (srv == NULL || !srv->started)
        return;
    srv->grace_ms = grace_ms;
    for (unsigned i = 0; i < srv->n_workers; i++)
        event_base_once(srv->workers[i].base, -1, EV_TIMEOUT, begin_stop, &srv->workers[i], NULL);
    for (unsigned i = 0; i < srv->n_workers; i++)
        pthread_join(srv->workers[i].thread, NULL);
    srv->started = false;
}

void
cas_http_server_free(struct cas_http_server *srv)
{
    if (srv == NULL)
        return;
    cas_http_server_stop(srv, 0);
    for (unsigned i = 0; srv->workers != NULL && i < srv->cfg.threads; i++) {
        struct worker *w = &srv->workers[i];
        for (size_t j = 0; j < srv->n_listeners; j++) {
            cas_http_resumer_free(w->wl[j].resumer); /* before the requests go */
            if (w->wl[j].http != NULL)
                evhttp_free(w->wl[j].http); /* closes its connections and listeners */
        }
        if (w->drain != NULL)
            event_free(w->drain);
        if (w->backoff != NULL)
            event_free(w->backoff);
        if (w->base != NULL)
            event_base_free(w->base);
    }
    free(srv->workers);
    for (size_t i = 0; i < srv->n_listeners; i++) {
        if (srv->fds[i] >= 0)
            close(srv->fds[i]);
        SSL_CTX_free(srv->tls[i]);
    }
    pthread_mutex_destroy(&srv->tls_lock);
    free(srv);
}
