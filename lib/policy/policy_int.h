/*
 * policy_int.h - what the files of lib/policy share and nobody else sees: the arena, the YAML
 * node tree (after alias expansion, within the limits of policy.md §1) and the diagnostics
 * helpers.
 */
#ifndef CAS_POLICY_INT_H
#define CAS_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <stdbool.h>

#include "policy/policy.h"

/* An arena: many small blocks, freed (and wiped: it holds secret values) at once. */
struct arena_chunk;
struct arena {
    struct arena_chunk *head;
    size_t total; /* bytes held */
};

void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_release(struct arena *a);

enum pn_type { PN_SCALAR, PN_SEQ, PN_MAP };
enum pn_tag { PN_TAG_NONE, PN_TAG_CAS, PN_TAG_AKV, PN_TAG_OTHER };

struct pnode {
    enum pn_type type;
    enum pn_tag tag;
    unsigned line, col; /* 1-based */
    bool is_plain;      /* a plain (unquoted) scalar */
    bool is_done;       /* template variables already substituted (aliases share nodes) */
    bool is_bad;        /* already reported (a missing variable): no second message */
    char *text;         /* scalars: terminated, no NUL inside */
    size_t len;
    struct pnode **kids; /* sequence: items; mapping: key, value, key, value ... */
    size_t count;        /* entries in kids */
    size_t weight;       /* nodes in this subtree after alias expansion */
    size_t bytes;        /* its scalars' bytes plus one per node, after alias expansion */
};

/*
 * Builds the node tree of data[0..len) within the limits of policy.md §1. Problems go to d (one
 * at most: libyaml stops at the first syntax error); returns CAS_E_INVALID then.
 */
cas_rc ptree_build(const uint8_t *data, size_t len, struct arena *a, struct pnode **root,
                   struct cas_policy_diags *d, struct cas_err *err);

/* Whether n is one of the null forms of policy.md §2 (plain only). */
bool pn_is_null(const struct pnode *n);
/* A mapping's value for key, or NULL. */
struct pnode *pn_get(const struct pnode *map, const char *key);

struct cas_policy_impl {
    struct arena arena;
    json_t *normal;       /* the normal form of §12 without creator */
    size_t *secret_order; /* indices of the named secrets, sorted by name */
    size_t secret_named;  /* entries in secret_order */
};

/* Diagnostics. */
void diag_add(struct cas_policy_diags *d, unsigned line, unsigned col, enum cas_policy_severity sev,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void diag_sort(struct cas_policy_diags *d);

/* Appends j as RFC 8785 canonical JSON (docs/internals/policy.md §2). */
struct cas_buf;
void canon_json(struct cas_buf *b, const json_t *j);

/* Levenshtein distance, capped at cap + 1. */
size_t edit_distance(const char *a, const char *b, size_t cap);

#endif
