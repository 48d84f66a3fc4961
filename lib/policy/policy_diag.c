/*
 * policy_diag.c - the diagnostics list of a session check, and the arena its parse lives in.
 * A diagnostic's text is built here from a format: callers never pass secret values to it.
 */
#include <stdarg.h>

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "util/alloc.h"

#define CHUNK_SIZE 65536u

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

void *
arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->head;
    size_t need = (n + 15u) & ~(size_t)15u;
    void *p;

    if (n == 0 || need < n)
        need = 16;
    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
        if ((c = cas_malloc(sizeof(*c) + cap)) == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        if (need > CHUNK_SIZE && a->head != NULL) { /* a big block: keep filling the old one */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        a->total += cap;
    }
    p = (char *)c->data + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX || (p = arena_alloc(a, n + 1)) == NULL)
        return NULL;
    if (n != 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void
arena_release(struct arena *a)
{
    struct arena_chunk *c = a->head;

    while (c != NULL) {
        struct arena_chunk *next = c->next;
        OPENSSL_cleanse(c->data, c->cap); /* scalars include explicit secret values */
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void
cas_policy_diags_init(struct cas_policy_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void
cas_policy_diags_release(struct cas_policy_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        free(d->items[i].text);
    free(d->items);
    memset(d, 0, sizeof(*d));
}

void
diag_add(struct cas_policy_diags *d, unsigned line, unsigned col, enum cas_policy_severity sev,
         const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    int n;

    if (sev == CAS_POLICY_ERROR)
        d->errors++;
    else
        d->warnings++;
    if (d->count >= CAS_POLICY_MAX_DIAGS) {
        d->truncated = true;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        (void)snprintf(text, sizeof(text), "(problem could not be formatted)");
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct cas_policy_diag *items = cas_realloc(d->items, cap * sizeof(*items));
        if (items == NULL) {
            d->truncated = true;
            return;
        }
        d->items = items;
        d->cap = cap;
    }
    if ((d->items[d->count].text = cas_strdup(text)) == NULL) {
        d->truncated = true;
        return;
    }
    d->items[d->count].line = line;
    d->items[d->count].column = col;
    d->items[d->count].severity = sev;
    d->count++;
}

void
diag_sort(struct cas_policy_diags *d)
{
    /* stable, so problems at one mark keep the order they were found in */
    struct cas_policy_diag *tmp;

    if (d->count < 2)
        return;
    if ((tmp = cas_malloc(d->count * sizeof(*tmp))) == NULL)
        return;
    /* insertion sort: at most CAS_POLICY_MAX_DIAGS items */
    memcpy(tmp, d->items, d->count * sizeof(*tmp));
    for (size_t i = 1; i < d->count; i++) {
        struct cas_policy_diag x = tmp[i];
        size_t j = i;
        while (j > 0 && (tmp[j - 1].line > x.line ||
                         (tmp[j - 1].line == x.line && tmp[j - 1].column > x.column))) {
            tmp[j] = tmp[j - 1];
            j--;
        }
        tmp[j] = x;
    }
    memcpy(d->items, tmp, d->count * sizeof(*tmp));
    free(tmp);
}

size_t
edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b), row[65];

    if (la > 64 || lb > 64)
        return cap + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0], best;
        row[0] = i;
        best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t v = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = v < sub ? v : sub;
            prev = cur;
            if (row[j] < best)
                best = row[j];
        }
        if (best > cap)
            return cap + 1;
    }
    return row[lb];
}
