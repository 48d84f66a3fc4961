/* bench_common.h - what every benchmark program needs: a monotonic clock in seconds and a curl
 * write callback that throws the answer away. Header-only, for the bench/ programs alone. */
#ifndef CAS_BENCH_COMMON_H
#define CAS_BENCH_COMMON_H

#include <stddef.h>

#include <time.h>

static inline double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline size_t
discard(char *p, size_t s, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return s * n;
}

#endif
