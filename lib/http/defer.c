/*
 * defer.c - deferred replies of defer.h.
 *
 * Each resumer is a queue guarded by a mutex and one event on the worker's event_base: resuming
 * appends to the queue and activates the event (thread safe: libevent runs with
 * evthread_use_pthreads, which wakes the loop), and the event's callback, on the worker's thread,
 * runs what is queued. The queue, not the event, is what counts: continuations queued after the
 * loop has stopped still run when the resumer is freed.
 */
#include "http/defer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

struct cas_http_deferred {
    struct cas_http_req req; /* the copy the continuation replies on */
    struct cas_http_resumer *rs;
    cas_http_resume_fn fn;
    void *arg;
    struct cas_http_deferred *next;
};

struct cas_http_resumer {
    struct event *ev;
    pthread_mutex_t lock;
    struct cas_http_deferred *head, **tail; /* resumed, not run yet (lock) */
    cas_http_done_fn done;
    void *ctx;
    long outstanding; /* deferred and not answered yet (the worker's thread only) */
};

struct cas_http_deferred *
cas_http_defer(struct cas_http_req *req)
{
    struct cas_http_deferred *d;

    if (req->r == NULL || req->resumer == NULL || (d = cas_calloc(1, sizeof(*d))) == NULL)
        return NULL;
    d->req = *req; /* path, query and body belong to the evhttp request, which lives on */
    d->rs = req->resumer;
    d->rs->outstanding++;
    req->is_deferred = true;
    req->r = NULL; /* the handler may not reply any more */
    return d;
}

void
cas_http_resume(struct cas_http_deferred *d, cas_http_resume_fn fn, void *arg)
{
    struct cas_http_resumer *rs = d->rs;

    d->fn = fn;
    d->arg = arg;
    d->next = NULL;
    pthread_mutex_lock(&rs->lock);
    *rs->tail = d;
    rs->tail = &d->next;
    pthread_mutex_unlock(&rs->lock);
    event_active(rs->ev, EV_READ, 0);
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
run_one(struct cas_http_resumer *rs, struct cas_http_deferred *d)
{
    /* A request whose client went away (evhttp_connection_incoming_fail() unlinked it) is freed
     * by its reply, without sending anything. */
    d->fn(&d->req, d->arg);
    if (d->req.r != NULL) { /* a continuation that forgot to reply: answer rather than hang */
        const char *msgs[2] = {"Internal error", "the handler gave no answer"};
        CAS_LOG(ERROR, "http.no_reply", CAS_LF_STR("path", d->req.path));
        cas_http_reply_msgs(&d->req, 500, msgs, 2);
    }
    rs->outstanding--;
    rs->done(rs->ctx, d->req.status, seconds_since(&d->req.t0));
    free(d);
}

static void
run_queued(struct cas_http_resumer *rs)
{
    struct cas_http_deferred *d;

    pthread_mutex_lock(&rs->lock);
    d = rs->head;
    rs->head = NULL;
    rs->tail = &rs->head;
    pthread_mutex_unlock(&rs->lock);
    while (d != NULL) {
        struct cas_http_deferred *next = d->next;
        run_one(rs, d);
        d = next;
    }
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_queued(arg);
}

struct cas_http_resumer *
cas_http_resumer_new(struct event_base *base, cas_http_done_fn done, void *ctx)
{
    struct cas_http_resumer *rs = cas_calloc(1, sizeof(*rs));

    if (rs == NULL)
        return NULL;
    if ((rs->ev = event_new(base, -1, 0, on_resume, rs)) == NULL) {
        free(rs);
        return NULL;
    }
    pthread_mutex_init(&rs->lock, NULL);
    rs->tail = &rs->head;
    rs->done = done;
    rs->ctx = ctx;
    return rs;
}

void
cas_http_resumer_free(struct cas_http_resumer *rs)
{
    if (rs == NULL)
        return;
    run_queued(rs);
    if (rs->outstanding > 0)
        CAS_LOG(ERROR, "http.deferred_leak", CAS_LF_INT("unanswered", rs->outstanding));
    event_free(rs->ev);
    pthread_mutex_destroy(&rs->lock);
    free(rs);
}
