/* alloc.c - malloc and friends behind a fault hook (alloc.h). */
#include "util/alloc.h"

#include <malloc.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long g_fail_after = -1;

static int
should_fail(void)
{
    long n = atomic_load(&g_fail_after);

    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    atomic_store(&g_fail_after, n - 1);
    return 0;
}

void
cas_alloc_fail_after(long n)
{
    atomic_store(&g_fail_after, n);
}

void *
cas_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n == 0 ? 1 : n);
}

void *
cas_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *
cas_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n == 0 ? 1 : n);
}

char *
cas_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = cas_malloc(len + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
cas_strdup(const char *s)
{
    return cas_strndup(s, strlen(s));
}

void *
cas_wipe_malloc(size_t n)
{
    return malloc(n == 0 ? 1 : n);
}

void
cas_wipe_free(void *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, malloc_usable_size(p));
    free(p);
}
