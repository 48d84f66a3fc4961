/*
 * alloc.h - the allocation calls of lib/ and src/, with a fault hook for tests: after
 * cas_alloc_fail_after(n), the (n+1)th allocation fails, so tests can walk every out-of-memory
 * path under ASan. The hook is process-wide and meant for single-threaded unit tests.
 */
#ifndef CAS_UTIL_ALLOC_H
#define CAS_UTIL_ALLOC_H

#include <stddef.h>

void *cas_malloc(size_t n);
void *cas_calloc(size_t count, size_t size);
void *cas_realloc(void *p, size_t n);
char *cas_strdup(const char *s);
char *cas_strndup(const char *s, size_t n);
/* A malloc/free pair whose free wipes the whole block first: for libraries that may hold key
 * text (jansson: json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free)). */
void *cas_wipe_malloc(size_t n);
void cas_wipe_free(void *p);
/* n >= 0: fail every allocation after n more succeed; n < 0: never fail (the default). */
void cas_alloc_fail_after(long n);

#endif
