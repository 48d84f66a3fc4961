/* test_keygen.c - casd's key generation pool (src/casd/keygen.c): the bounded queue refuses and
 * counts, and freeing the pool cancels waiting jobs, drops the running one's result and joins.
 * Jobs block on a gate the test opens, so no test sleeps or depends on timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "keygen.h"
#include "util/buf.h"

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool is_open;
    int started, done, cancelled;
};

struct job {
    struct casd_keygen_job kj;
    struct gate *g;
    bool did_work, was_cancelled, is_done;
};

static struct gate g_gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0};

static void
work(void *arg)
{
    struct job *j = arg;

    pthread_mutex_lock(&j->g->lock);
    j->did_work = true;
    j->g->started++;
    pthread_cond_broadcast(&j->g->cond);
    while (!j->g->is_open)
        pthread_cond_wait(&j->g->cond, &j->g->lock);
    pthread_mutex_unlock(&j->g->lock);
}

static void
done(void *arg, bool is_cancelled)
{
    struct job *j = arg;

    pthread_mutex_lock(&j->g->lock);
    j->was_cancelled = is_cancelled;
    j->is_done = true;
    j->g->done++;
    j->g->cancelled += is_cancelled;
    pthread_cond_broadcast(&j->g->cond);
    pthread_mutex_unlock(&j->g->lock);
}

static void
job_init(struct job *j)
{
    memset(j, 0, sizeof(*j));
    j->g = &g_gate;
    j->kj.work = work;
    j->kj.done = done;
    j->kj.arg = j;
}

static void
gate_reset(void)
{
    g_gate.is_open = false;
    g_gate.started = g_gate.done = g_gate.cancelled = 0;
}

static void
wait_for(int *counter, int n)
{
    pthread_mutex_lock(&g_gate.lock);
    while (*counter < n)
        pthread_cond_wait(&g_gate.cond, &g_gate.lock);
    pthread_mutex_unlock(&g_gate.lock);
}

static void
open_gate(void)
{
    pthread_mutex_lock(&g_gate.lock);
    g_gate.is_open = true;
    pthread_cond_broadcast(&g_gate.cond);
    pthread_mutex_unlock(&g_gate.lock);
}

static bool
metrics_has(struct casd_keygen *k, const char *line)
{
    struct cas_buf b;
    bool found;

    cas_buf_init(&b, 1 << 16);
    casd_keygen_metrics(k, &b);
    found = strstr(b.buf, line) != NULL;
    cas_buf_release(&b);
    return found;
}

static void
test_keygen_refuses_a_job_beyond_the_queue_and_counts_it(void **state)
{
    struct casd_keygen *k = NULL;
    struct cas_err err = {0};
    struct job a, b, c;
    (void)state;

    gate_reset();
    job_init(&a);
    job_init(&b);
    job_init(&c);
    assert_int_equal(casd_keygen_new(1, 1, &k, &err), CAS_OK);
    assert_true(casd_keygen_submit(k, &a.kj));
    wait_for(&g_gate.started, 1); /* a runs: the queue is empty again */
    assert_true(casd_keygen_submit(k, &b.kj));
    assert_false(casd_keygen_submit(k, &c.kj));
    assert_true(metrics_has(k, "cas_keygen_queue_depth 1\n"));
    assert_true(metrics_has(k, "cas_keygen_running 1\n"));
    assert_true(metrics_has(k, "cas_keygen_refused_total 1\n"));
    open_gate();
    wait_for(&g_gate.done, 2);
    assert_true(a.did_work && b.did_work && !c.did_work);
    assert_false(a.was_cancelled || b.was_cancelled || c.is_done);
    assert_true(metrics_has(k, "cas_keygen_queue_depth 0\n"));
    casd_keygen_free(k);
}

static void *
free_pool(void *arg)
{
    casd_keygen_free(arg);
    return NULL;
}

static void
test_keygen_free_cancels_waiting_jobs_and_drops_the_running_result(void **state)
{
    struct casd_keygen *k = NULL;
    struct cas_err err = {0};
    struct job a, b;
    pthread_t t;
    (void)state;

    gate_reset();
    job_init(&a);
    job_init(&b);
    assert_int_equal(casd_keygen_new(1, 4, &k, &err), CAS_OK);
    assert_true(casd_keygen_submit(k, &a.kj));
    wait_for(&g_gate.started, 1);
    assert_true(casd_keygen_submit(k, &b.kj));
    assert_int_equal(pthread_create(&t, NULL, free_pool, k), 0);
    wait_for(&g_gate.done, 1); /* b, cancelled while a still runs */
    assert_true(b.is_done && b.was_cancelled && !b.did_work);
    assert_false(a.is_done);
    open_gate();
    assert_int_equal(pthread_join(t, NULL), 0); /* free returns once a's thread has ended */
    assert_true(a.is_done && a.did_work && a.was_cancelled);
    assert_int_equal(g_gate.done, 2);
}

static void
test_keygen_free_of_an_idle_pool_joins_its_threads(void **state)
{
    struct casd_keygen *k = NULL;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(casd_keygen_new(3, 2, &k, &err), CAS_OK);
    assert_int_equal(casd_keygen_max_queue(k), 2);
    casd_keygen_free(k);
    casd_keygen_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_refuses_a_job_beyond_the_queue_and_counts_it),
        cmocka_unit_test(test_keygen_free_cancels_waiting_jobs_and_drops_the_running_result),
        cmocka_unit_test(test_keygen_free_of_an_idle_pool_joins_its_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
