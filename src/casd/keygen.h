/*
 * keygen.h - casd's key generation pool: a few threads that run the expensive part of session
 * uploads (RSA keys, large generated values) so that the HTTP workers keep answering meanwhile.
 *
 * A job waits in a bounded queue (keygen_queue); a full queue refuses the job at once, and the
 * upload answers 503. Each job's work runs on a pool thread, then its done callback, on the same
 * thread, hands the result back (sessions.c resumes the deferred reply, http/defer.h). Stopping
 * cancels the jobs still waiting (done is called with is_cancelled, work is not), lets the
 * running ones finish (done is called with is_cancelled too: the HTTP workers have stopped by
 * then, so the result is to be dropped) and joins every thread: no job is leaked and no thread
 * outlives the pool.
 */
#ifndef CASD_KEYGEN_H
#define CASD_KEYGEN_H

#include <stddef.h>

#include <stdbool.h>

#include "cas/err.h"

struct cas_buf;
struct casd_keygen;

/* Defaults of the settings keygen_threads (0: one per core) and keygen_queue. */
#define CASD_KEYGEN_QUEUE_DEFAULT 64

struct casd_keygen_job {
    void (*work)(void *arg);                    /* a pool thread: the expensive part */
    void (*done)(void *arg, bool is_cancelled); /* then, exactly once, whether work ran or not */
    void *arg;
    struct casd_keygen_job *next; /* the pool's */
};

/* Starts threads (0: one per core) with room for max_queue waiting jobs (at least 1). */
cas_rc casd_keygen_new(unsigned threads, size_t max_queue, struct casd_keygen **out,
                       struct cas_err *err) CAS_MUST_CHECK;
/* Queues job (owned by the caller until its done callback has run). False, counting a refusal,
 * when max_queue jobs are waiting or the pool is stopping: done is then not called. Any
 * thread. */
bool casd_keygen_submit(struct casd_keygen *k, struct casd_keygen_job *job) CAS_MUST_CHECK;
/* The max_queue given to casd_keygen_new. */
size_t casd_keygen_max_queue(const struct casd_keygen *k);
/* Cancels the waiting jobs, waits for the running ones and joins the threads; then frees. */
void casd_keygen_free(struct casd_keygen *k);
/* Appends the pool's gauges and counters to /metrics. Any thread. */
void casd_keygen_metrics(struct casd_keygen *k, struct cas_buf *b);

#endif
