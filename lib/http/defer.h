/*
 * defer.h - replies that come later: a handler hands its request over to work on another thread,
 * and the reply is made back on the worker's own event loop.
 *
 * A handler calls cas_http_defer() and returns without replying; whoever holds the deferral then
 * calls cas_http_resume() exactly once, from any thread, and the continuation it names runs on
 * the event loop of the worker that owns the connection, where it replies exactly once with the
 * usual cas_http_reply_* calls on the request it is given. Until then the request counts as in
 * flight (a stop waits for it up to its grace period) and its handler latency runs on.
 *
 * A client that hangs up while its reply is deferred is only noticed when the reply is written
 * (libevent 2.1 reads nothing more from a connection until its request is answered); should the
 * connection be gone by then, the reply frees the request without sending anything. Either way
 * the continuation runs and replies as usual.
 *
 * After cas_http_server_stop() has returned, continuations resumed meanwhile or later run on the
 * thread that calls cas_http_server_free(), before the connections are freed; every deferral
 * must be resumed before then.
 */
#ifndef CAS_HTTP_DEFER_H
#define CAS_HTTP_DEFER_H

#include <event2/event.h>
#include <stdbool.h>

#include "http/server.h"

struct cas_http_deferred;

/* Runs on the worker's loop (or in cas_http_server_free): replies on req exactly once. */
typedef void (*cas_http_resume_fn)(struct cas_http_req *req, void *arg);

/*
 * Takes req's reply away from its handler: returns a heap copy of req that stays valid (body,
 * path and query included) until its continuation has replied; req itself may no longer be
 * replied to. NULL when out of memory: the handler then still owns req and must reply itself.
 * Worker thread only, inside the handler.
 */
struct cas_http_deferred *cas_http_defer(struct cas_http_req *req);

/* Queues fn(req, arg) on the request's worker loop. Any thread; exactly once per deferral. */
void cas_http_resume(struct cas_http_deferred *d, cas_http_resume_fn fn, void *arg);

/* ---- for server.c: one resumer per listener of each worker ---- */

struct cas_http_resumer;
/* Called on the worker's thread once a deferred request has been answered: its status and the
 * seconds since it arrived. */
typedef void (*cas_http_done_fn)(void *ctx, int status, double seconds);

struct cas_http_resumer *cas_http_resumer_new(struct event_base *base, cas_http_done_fn done,
                                              void *ctx);
/* Runs the continuations still queued (on the caller's thread: the loop must have stopped),
 * then frees. Logs the deferrals never resumed, which it cannot free. */
void cas_http_resumer_free(struct cas_http_resumer *rs);

#endif
