/*
 * keygen.c - the key generation pool of keygen.h: a mutex, a condition variable and a FIFO of
 * jobs; threads take jobs in order. Counters are read by /metrics under the same mutex.
 */
#include "keygen.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/buf.h"

#define MAX_KEYGEN_THREADS 256

struct casd_keygen {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct casd_keygen_job *head, **tail; /* waiting jobs (lock) */
    size_t depth, max_queue;              /* waiting now; at most (lock) */
    unsigned running;                     /* jobs whose work runs now (lock) */
    unsigned long refused, finished;      /* counters (lock) */
    bool stopping;                        /* (lock) */
    pthread_t *threads;
    unsigned n_threads;
};

static void *
pool_main(void *arg)
{
    struct casd_keygen *k = arg;
    struct casd_keygen_job *job;

    for (;;) {
        bool is_late;

        pthread_mutex_lock(&k->lock);
        while (k->head == NULL && !k->stopping)
            pthread_cond_wait(&k->wake, &k->lock);
        if (k->head == NULL) { /* stopping, nothing left */
            pthread_mutex_unlock(&k->lock);
            return NULL;
        }
        job = k->head;
        k->head = job->next;
        if (k->head == NULL)
            k->tail = &k->head;
        k->depth--;
        k->running++;
        pthread_mutex_unlock(&k->lock);
        job->work(job->arg);
        pthread_mutex_lock(&k->lock);
        is_late = k->stopping; /* its answer could no longer be sent */
        pthread_mutex_unlock(&k->lock);
        job->done(job->arg, is_late); /* may free job */
        pthread_mutex_lock(&k->lock);
        k->running--;
        k->finished++;
        pthread_mutex_unlock(&k->lock);
    }
}

cas_rc
casd_keygen_new(unsigned threads, size_t max_queue, struct casd_keygen **out, struct cas_err *err)
{
    struct casd_keygen *k = NULL;

    *out = NULL;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (unsigned)cores : 1;
    }
    if (threads > MAX_KEYGEN_THREADS)
        threads = MAX_KEYGEN_THREADS;
    if ((k = cas_calloc(1, sizeof(*k))) == NULL ||
        (k->threads = cas_calloc(threads, sizeof(*k->threads))) == NULL) {
        free(k);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    k->tail = &k->head;
    k->max_queue = max_queue > 0 ? max_queue : 1;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&k->threads[i], NULL, pool_main, k) != 0) {
            casd_keygen_free(k); /* joins the ones started */
            return cas_err_set(err, CAS_E_IO, "cannot start key generation thread %u", i);
        }
        k->n_threads++;
    }
    *out = k;
    return CAS_OK;
}

bool
casd_keygen_submit(struct casd_keygen *k, struct casd_keygen_job *job)
{
    bool ok;

    pthread_mutex_lock(&k->lock);
    ok = !k->stopping && k->depth < k->max_queue;
    if (ok) {
        job->next = NULL;
        *k->tail = job;
        k->tail = &job->next;
        k->depth++;
        pthread_cond_signal(&k->wake);
    } else {
        k->refused++;
    }
    pthread_mutex_unlock(&k->lock);
    return ok;
}

size_t
casd_keygen_max_queue(const struct casd_keygen *k)
{
    return k->max_queue;
}

void
casd_keygen_free(struct casd_keygen *k)
{
    struct casd_keygen_job *job, *next;

    if (k == NULL)
        return;
    pthread_mutex_lock(&k->lock);
    k->stopping = true;
    job = k->head; /* taken from the queue: no thread starts them now */
    k->head = NULL;
    k->tail = &k->head;
    k->depth = 0;
    pthread_cond_broadcast(&k->wake);
    pthread_mutex_unlock(&k->lock);
    for (; job != NULL; job = next) {
        next = job->next;
        job->done(job->arg, true);
    }
    for (unsigned i = 0; i < k->n_threads; i++) /* each ends after its running job */
        pthread_join(k->threads[i], NULL);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
    free(k->threads);
    free(k);
}

void
casd_keygen_metrics(struct casd_keygen *k, struct cas_buf *b)
{
    size_t depth;
    unsigned running;
    unsigned long refused, finished;

    if (k == NULL)
        return;
    pthread_mutex_lock(&k->lock);
    depth = k->depth;
    running = k->running;
    refused = k->refused;
    finished = k->finished;
    pthread_mutex_unlock(&k->lock);
    cas_buf_addf(b,
                 "# HELP cas_keygen_queue_depth Uploads waiting for key generation.\n"
                 "# TYPE cas_keygen_queue_depth gauge\ncas_keygen_queue_depth %zu\n"
                 "# HELP cas_keygen_running Uploads whose keys are being generated now.\n"
                 "# TYPE cas_keygen_running gauge\ncas_keygen_running %u\n"
                 "# HELP cas_keygen_jobs_total Uploads whose keys were generated in the pool.\n"
                 "# TYPE cas_keygen_jobs_total counter\ncas_keygen_jobs_total %lu\n"
                 "# HELP cas_keygen_refused_total Uploads refused with 503: keygen_queue were "
                 "waiting.\n"
                 "# TYPE cas_keygen_refused_total counter\ncas_keygen_refused_total %lu\n",
                 depth, running, finished, refused);
}
