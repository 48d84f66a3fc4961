/*
 * server.h - casd's HTTPS server: libevent's evhttp over bufferevent_openssl, OpenSSL 3.
 *
 * One or more listeners (the client API, the enclave API), each with its own routing table and
 * TLS context, served by a pool of worker threads: every worker runs its own event loop and
 * accepts on every listening socket, so a connection lives on one thread from accept to close
 * and handlers need no locks of their own for per-request state. Limits: header bytes, body
 * bytes (413), open connections per worker (accepting pauses at the limit, and for a moment
 * when accept() runs out of descriptors), idle seconds, header and body deadlines.
 *
 * Handlers run on worker threads and must reply exactly once with a cas_http_reply_* call, or
 * hand the reply to later work with cas_http_defer() (defer.h).
 * Every error reply is JSON {"msg": [...]}; unknown paths answer 404, known paths with another
 * method 405 with Allow. The caller's identity is the key hash of its client certificate.
 */
#ifndef CAS_HTTP_SERVER_H
#define CAS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <time.h>

#include "cas/err.h"

struct cas_http_server;
struct cas_http_resumer;
struct evhttp_request;

struct cas_http_req {
    struct evhttp_request *r;
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* raw (still percent-encoded), without the query */
    const char *query;   /* raw query, or NULL */
    const uint8_t *body; /* body bytes then a NUL not in body_len; never NULL ("" if empty) */
    size_t body_len;
    bool has_peer; /* the client sent a certificate */
    uint8_t peer_key_hash[32];
    char peer_addr[64]; /* the client's IP address as text ("" when unknown) */
    void *app;          /* the application pointer given to the server */
    int status;         /* the status replied, once replied */
    /* The server's own: when the request arrived, and where a deferred reply goes (defer.h). */
    struct timespec t0;
    struct cas_http_resumer *resumer;
    bool is_deferred;
};

typedef void (*cas_http_handler)(struct cas_http_req *req);

struct cas_http_route {
    const char *method; /* "GET", "POST", "DELETE", ... */
    const char *path;   /* exact path, or a prefix when it ends in '*' */
    cas_http_handler fn;
};

struct cas_http_listener {
    const char *name;    /* "client", "enclave": for logs */
    const char *address; /* "127.0.0.1:8081", "[::1]:8081", "0.0.0.0:8081" */
    const struct cas_http_route *routes;
    size_t route_count;
    bool require_client_cert;
};

struct cas_http_config {
    unsigned threads;        /* workers; 0 = number of cores */
    size_t max_body;         /* bytes; larger bodies get 413 */
    size_t max_headers;      /* bytes of request line and headers */
    unsigned max_conns;      /* open connections, all workers together */
    unsigned idle_timeout_s; /* a connection silent this long is closed */
    /* Deadlines of a request (0: none): its TLS handshake (on a new connection), request line
     * and headers must arrive within header_timeout_s of the connection's start or of the
     * request's first byte, extended by one second per body_min_rate bytes received, so a body
     * must keep to that average rate. A connection past its deadline is closed. */
    unsigned header_timeout_s;
    unsigned body_min_rate; /* bytes per second */
    void *app;
};

/* Binds every listener (a taken address fails here, before anything runs). Raises the soft
 * RLIMIT_NOFILE so that max_conns connections fit beside a reserve of descriptors for the rest
 * of the process; when the hard limit is too low, lowers max_conns to fit and logs it once. */
cas_rc cas_http_server_new(const struct cas_http_config *cfg,
                           const struct cas_http_listener *listeners, size_t n_listeners,
                           struct cas_http_server **out, struct cas_err *err) CAS_MUST_CHECK;
/* Installs the TLS context of listener i (the server takes a reference; call again to
 * rotate: new connections get the new context, open ones keep theirs). */
void cas_http_server_set_tls(struct cas_http_server *srv, size_t i, SSL_CTX *ctx);
/* Starts the workers. */
cas_rc cas_http_server_start(struct cas_http_server *srv, struct cas_err *err) CAS_MUST_CHECK;
/* Stops accepting, lets replies in flight finish (at most grace_ms), joins the workers. */
void cas_http_server_stop(struct cas_http_server *srv, unsigned grace_ms);
void cas_http_server_free(struct cas_http_server *srv);
/* The port a listener is bound to (useful with port 0). */
unsigned cas_http_server_port(const struct cas_http_server *srv, size_t i);

struct cas_buf;
/* Appends the server's metrics in Prometheus text format (requests by API and status class,
 * handler latency histogram). Thread safe. */
void cas_http_server_metrics(const struct cas_http_server *srv, struct cas_buf *out);

/* Replies; each takes over nothing but json (whose reference it steals). */
void cas_http_reply(struct cas_http_req *req, int status, const char *content_type,
                    const void *body, size_t len);
void cas_http_reply_json(struct cas_http_req *req, int status, json_t *json);
/* A JSON string of text s (NUL-terminated), each byte that is not part of valid UTF-8 replaced
 * by U+FFFD, so no message is lost to an invalid name. NULL only when out of memory. */
json_t *cas_http_json_text(const char *s);
/* {"msg": [msgs...]}, every message kept (cas_http_json_text). */
void cas_http_reply_msgs(struct cas_http_req *req, int status, const char *const *msgs, size_t n);
/* {"msg": [the chain, outermost first]} with the status that fits err->rc. */
void cas_http_reply_err(struct cas_http_req *req, const struct cas_err *err);
/* The HTTP status for a result code (400, 403, 404, 409, 413, 422, 500, 503). */
int cas_http_status_of(cas_rc rc);
/* Adds a response header before the reply. */
void cas_http_add_header(struct cas_http_req *req, const char *name, const char *value);

#endif
