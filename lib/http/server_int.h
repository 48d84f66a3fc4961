/*
 * server_int.h - the server's private structures, shared by server.c and the in-process test
 * harness (harness.c, never linked into casd). Nothing here is part of the server's API.
 */
#ifndef CAS_HTTP_SERVER_INT_H
#define CAS_HTTP_SERVER_INT_H

#include <stdint.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "http/server.h"

#define MAX_LISTENERS 4
#define MAX_THREADS 256
#define LAT_BUCKETS 10

struct worker;
struct evhttp;
struct evconnlistener;
struct evhttp_bound_socket;
struct event_base;
struct event;

struct wl { /* one listener on one worker */
    struct worker *w;
    size_t li;
    struct evhttp *http;
    struct evconnlistener *lev;
    struct evhttp_bound_socket *bound;
    struct cas_http_resumer *resumer; /* deferred replies (defer.h); NULL in the harness */
    /* The test harness's stand-in for the TLS identity of its plain connections (NULL: none).
     * Only harness.c sets it; server.c's own connections are all TLS and never read it. */
    const uint8_t *test_peer;
};

struct worker {
    struct cas_http_server *srv;
    struct event *backoff; /* re-enables accepting after running out of descriptors */
    bool backing_off;
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
    atomic_ulong accept_paused;   /* accepting paused for want of file descriptors */
    atomic_ulong deadline_closed; /* connections closed at the header or body deadline */
    atomic_long warned_at[2];     /* monotonic second of the last rate-limited warning, by kind */
    atomic_ulong no_reply;        /* handlers that returned without replying (a bug) */
};

/* Sets up wl->http (already made on wl->w->base) as every worker's is: limits, timeouts,
 * methods and the dispatcher. The caller adds the bufferevent callback and the listener. */
void cas_http_wl_configure(struct wl *wl);

#endif
