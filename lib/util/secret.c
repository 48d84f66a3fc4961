/*
 * secret.c - page-backed secret storage (secret.h). Each secret gets its own anonymous mapping
 * rounded up to whole pages: that is what mlock and MADV_DONTDUMP work on, and it keeps secrets
 * out of the malloc heap, where freed chunks linger.
 *
 * Most secrets fit one page, and a service attestation makes and frees dozens of them: five
 * system calls, a page fault and, in a threaded process, a TLB shootdown on every CPU each time.
 * So freed one-page blocks, already wiped and still locked and excluded from dumps, wait in a
 * small pool for the next secret instead of being unmapped; the pool never holds a byte that was
 * not wiped, and a pooled page is what mmap would give (zeroed, locked, MADV_DONTDUMP). The pool
 * is small (a request's working set on a few threads) because its pages count against
 * RLIMIT_MEMLOCK while they wait.
 */
#include "util/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/err_openssl.h"
#include "util/log.h"

struct cas_secret {
    uint8_t *p;
    size_t len; /* visible bytes */
    size_t cap; /* mapped bytes, whole pages */
};

#define POOL_MAX 32 /* one-page blocks kept: 128 KiB of locked memory at most */

static atomic_int g_mlock_warned;
static void (*g_release_hook)(const uint8_t *p, size_t cap);
static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *g_pool[POOL_MAX];
static size_t g_pool_count;

static size_t
page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);

    return page > 0 ? (size_t)page : 4096;
}

/* A wiped one-page block from the pool, or NULL when it is empty. */
static uint8_t *
pool_take(void)
{
    uint8_t *p = NULL;

    pthread_mutex_lock(&g_pool_lock);
    if (g_pool_count > 0)
        p = g_pool[--g_pool_count];
    pthread_mutex_unlock(&g_pool_lock);
    return p;
}

/* Keeps a wiped one-page block; false when the pool is full (the caller unmaps it). */
static bool
pool_put(uint8_t *p)
{
    bool kept = false;

    pthread_mutex_lock(&g_pool_lock);
    if (g_pool_count < POOL_MAX) {
        g_pool[g_pool_count++] = p;
        kept = true;
    }
    pthread_mutex_unlock(&g_pool_lock);
    return kept;
}

void
cas_secret_set_release_hook(void (*hook)(const uint8_t *p, size_t cap))
{
    g_release_hook = hook;
}

cas_rc
cas_secret_new(size_t len, struct cas_secret **out, struct cas_err *err)
{
    struct cas_secret *s;
    size_t ps = page_size();
    size_t cap;

    *out = NULL;
    if (len > SIZE_MAX - ps)
        return cas_err_set(err, CAS_E_NOMEM, "secret of %zu bytes is too large", len);
    cap = (len + ps - 1) / ps * ps;
    if (cap == 0)
        cap = ps;
    if ((s = cas_calloc(1, sizeof(*s))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a secret");
    if (cap == ps && (s->p = pool_take()) != NULL) {
        s->len = len;
        s->cap = cap;
        *out = s;
        return CAS_OK;
    }
    s->p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s->p == MAP_FAILED) {
        free(s);
        return cas_err_set(err, CAS_E_NOMEM, "cannot map %zu bytes for a secret", cap);
    }
    s->len = len;
    s->cap = cap;
    (void)madvise(s->p, cap, MADV_DONTDUMP);
    if (mlock(s->p, cap) != 0 && atomic_exchange(&g_mlock_warned, 1) == 0)
        CAS_LOG(WARN, "secret.mlock_failed",
                CAS_LF_STR("hint", "RLIMIT_MEMLOCK is too low; secrets may be swapped out"));
    *out = s;
    return CAS_OK;
}

cas_rc
cas_secret_from(const void *p, size_t len, struct cas_secret **out, struct cas_err *err)
{
    cas_rc rc = cas_secret_new(len, out, err);

    if (rc == CAS_OK && len != 0)
        memcpy((*out)->p, p, len);
    return rc;
}

cas_rc
cas_secret_random(size_t len, struct cas_secret **out, struct cas_err *err)
{
    cas_rc rc = cas_secret_new(len, out, err);

    if (rc != CAS_OK)
        return rc;
    if (len > (size_t)INT32_MAX || RAND_priv_bytes((*out)->p, (int)len) != 1) {
        cas_secret_free(*out);
        *out = NULL;
        return cas_err_openssl(err, CAS_E_CRYPTO, "random number generator failed");
    }
    return CAS_OK;
}

const uint8_t *
cas_secret_peek(const struct cas_secret *s, size_t *len)
{
    if (len != NULL)
        *len = s != NULL ? s->len : 0;
    return s != NULL ? s->p : NULL;
}

uint8_t *
cas_secret_data(struct cas_secret *s)
{
    return s->p;
}

size_t
cas_secret_len(const struct cas_secret *s)
{
    return s != NULL ? s->len : 0;
}

void
cas_secret_truncate(struct cas_secret *s, size_t len)
{
    if (len >= s->len)
        return;
    OPENSSL_cleanse(s->p + len, s->len - len);
    s->len = len;
}

int
cas_secret_equal(const struct cas_secret *a, const struct cas_secret *b)
{
    if (a == NULL || b == NULL || a->len != b->len)
        return 0;
    return CRYPTO_memcmp(a->p, b->p, a->len) == 0;
}

void
cas_secret_free(struct cas_secret *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s->p, s->cap); /* not memset: a dead store may be dropped */
    if (g_release_hook != NULL)
        g_release_hook(s->p, s->cap);
    if (s->cap != page_size() || !pool_put(s->p)) {
        (void)munlock(s->p, s->cap);
        (void)munmap(s->p, s->cap);
    }
    free(s);
}
