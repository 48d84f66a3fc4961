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
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/tls.h"
#include "http/defer.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

#define MAX_LISTENERS 4
#define MAX_THREADS 256

struct worker;

struct wl { /* one listener on one worker */
    struct worker *w;
    size_t li;
    struct evhttp *http;
    struct evconnlistener *lev;
    struct evhttp_bound_socket *bound;
    struct cas_http_resumer *resumer; /* deferred replies (defer.h) */
};

struct worker {
    struct cas_http_server *srv;
    pthread_t thread;
    struct event_base *base;
    struct wl wl[MAX_LISTENERS];
    unsigned conns;     /* open connections on this worker (its thread only) */
    unsigned max_conns; /* this worker's share */
    bool paused;
    bool stopping;
    long inflight; /* replies started and not yet sent */
    struct event *drain;
    struct timespec deadline;
};

#define LAT_BUCKETS 10
static const double g_lat_le[LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                             0.025,  0.05,  0.1,    0.5,   2.5};

struct cas_http_server {
    struct cas_http_config cfg;
    atomic_ulong requests[MAX_LISTENERS][5]; /* by status class 1xx..5xx */
    atomic_ulong lat_bucket[MAX_LISTENERS][LAT_BUCKETS + 1];
    atomic_ulong lat_sum_us[MAX_LISTENERS];
    struct cas_http_listener listeners[MAX_LISTENERS];
    size_t n_listeners;
    int fds[MAX_LISTENERS];
    unsigned ports[MAX_LISTENERS];
    pthread_mutex_t tls_lock;
    SSL_CTX *tls[MAX_LISTENERS];
    struct worker *workers;
    unsigned n_workers;
    bool started;
    unsigned grace_ms;
};

static int g_conn_index = -1;
static int g_busy_index = -1; /* a connection's worker while its request is in flight, or NULL */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void worker_resume_if_room(struct worker *w);

/* Runs when a connection's SSL is freed: one connection fewer on its worker. */
static void
conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct worker *w = ptr;
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (w == NULL)
        return;
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
    if (w->paused && !w->stopping && w->conns < w->max_conns)
        set_listening(w, true);
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

    pthread_mutex_lock(&srv->tls_lock);
    ctx = srv->tls[wl->li];
    ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    if (ssl == NULL)
        return NULL; /* evhttp then drops the connection */
    if (srv->listeners[wl->li].require_client_cert)
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       SSL_CTX_get_verify_callback(ctx));
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    SSL_set_ex_data(ssl, g_conn_index, w);
    if (++w->conns >= w->max_conns) {
        set_listening(w, false);
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

void
cas_http_reply_msgs(struct cas_http_req *req, int status, const char *const *msgs, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, json_string(msgs[i]));
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
    if (body_len > 0) {
        req.body = evbuffer_pullup(in, -1);
        req.body_len = body_len;
    }
    req.has_peer =
        bev != NULL && cas_tls_peer_key_hash(bufferevent_openssl_get_ssl(bev), req.peer_key_hash);
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

    event_base_dispatch(w->base);
    return NULL;
}

static cas_rc
worker_init(struct cas_http_server *srv, struct worker *w, struct cas_err *err)
{
    w->srv = srv;
    w->max_conns = srv->cfg.max_conns / srv->n_workers;
    if (w->max_conns == 0)
        w->max_conns = 1;
    if ((w->base = event_base_new()) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "cannot create an event loop");
    for (size_t i = 0; i < srv->n_listeners; i++) {
        struct wl *wl = &w->wl[i];
        wl->w = w;
        wl->li = i;
        if ((wl->http = evhttp_new(w->base)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "cannot create an HTTP server");
        evhttp_set_max_headers_size(wl->http, (ev_ssize_t)srv->cfg.max_headers);
        evhttp_set_max_body_size(wl->http, (ev_ssize_t)srv->cfg.max_body);
        evhttp_set_timeout(wl->http, (int)srv->cfg.idle_timeout_s);
        evhttp_set_allowed_methods(wl->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
        evhttp_set_bevcb(wl->http, make_bev, wl);
        evhttp_set_gencb(wl->http, dispatch, wl);
        if ((wl->resumer = cas_http_resumer_new(w->base, deferred_done, wl)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory");
        /* No LEV_OPT_CLOSE_ON_FREE: every worker shares the socket; the server closes it. */
        wl->lev = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, srv->fds[i]);
        if (wl->lev == NULL || (wl->bound = evhttp_bind_listener(wl->http, wl->lev)) == NULL)
            return cas_err_set(err, CAS_E_IO, "cannot accept on the %s API",
                               srv->listeners[i].name);
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
