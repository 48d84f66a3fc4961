/*
 * policy_ck.h - the validation walk shared by policy_check.c (frame, top level, services,
 * images, volumes), policy_secrets.c (secrets, references) and policy_access.c (access_policy,
 * security, cross checks): the key path, messages, typed scalar readers, and the normal form
 * (jansson) built alongside the typed struct.
 */
#ifndef CAS_POLICY_CK_H
#define CAS_POLICY_CK_H

#include "policy_int.h"

#define CK_PATH_MAX 512

/* Flags of a placeholder use. */
#define PH_NO_BINARY 0x1u /* command, environment, pwd: text only */
#define PH_STRUCT 0x2u    /* a structural position: the whole value */
#define PH_FSPF 0x4u      /* fspf_key: a 32-byte binary secret */

struct ph_use {
    struct cas_policy_placeholder *ph;
    const char *src; /* the text it is in (ph->offset, ph->len) */
    unsigned line, col, flags;
    const char *path;
};

struct ck {
    struct cas_policy_diags *d;
    const struct cas_policy_options *opt;
    struct cas_policy *p;
    struct arena *a;
    char path[CK_PATH_MAX];
    size_t plen;
    int minor; /* declared 0.3.N; -1: "0.3" */
    bool nomem;
    struct ph_use *uses;
    size_t use_count, use_cap;
    bool mode_known; /* security.attestation.mode is not a placeholder */
};

/* Key tables: which keys a mapping may hold, since when, and what cas does with each. */
enum { K_OK, K_LATER, K_V01, K_DROP };
struct keyspec {
    const char *key;
    int since; /* 0.3.N, -1 for "0.3.0" */
    int status;
    const char *note; /* K_V01: the 0.3 replacement */
};

/* Messages, prefixed with the current key path. */
void ck_err(struct ck *c, const struct pnode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ck_warn(struct ck *c, const struct pnode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Without the path prefix (texts the spec gives whole). */
void ck_err_raw(struct ck *c, const struct pnode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ck_later(struct ck *c, const struct pnode *at, const char *feature, int since);
void ck_since(struct ck *c, const struct pnode *at, const char *what, int since);

size_t ck_push(struct ck *c, const char *key);
size_t ck_push_i(struct ck *c, size_t i);
void ck_pop(struct ck *c, size_t mark);
const char *ck_path_dup(struct ck *c);

/* Checks the keys of map against specs (NULL-terminated); false when map is not a mapping. */
bool ck_keys(struct ck *c, const struct pnode *map, const struct keyspec *specs, const char *what);

/* Typed readers: report at n and return false / NULL on a wrong value. */
const char *ck_str(struct ck *c, const struct pnode *n);
const char *ck_plain_str(struct ck *c, const struct pnode *n); /* warns about stray $$SCONE:: */
bool ck_bool(struct ck *c, const struct pnode *n, bool *v);
bool ck_uint(struct ck *c, const struct pnode *n, unsigned long min, unsigned long max,
             unsigned long *v);
const char *ck_hex(struct ck *c, const struct pnode *n, size_t digits);
bool ck_segment(struct ck *c, const struct pnode *n, const char *what);
bool ck_abs_path(struct ck *c, const struct pnode *n);
/* One value or a list of them: items of a sequence, or n itself. */
size_t ck_many(const struct pnode *n, struct pnode *const **items);

/* A string whose placeholders are replaced (§9): parses them and records each for resolution. */
bool ck_text(struct ck *c, const struct pnode *n, unsigned flags, struct cas_policy_text *out);
/* A structural position: true (and *v set) when n is exactly one placeholder. */
bool ck_struct_ph(struct ck *c, const struct pnode *n, struct cas_policy_value *v);
/* A 64-hex (or other length) value or a whole placeholder. */
bool ck_hex_or_ph(struct ck *c, const struct pnode *n, size_t digits, size_t alt_digits,
                  struct cas_policy_value *v);

/* The normal form. */
json_t *ck_json_str(struct ck *c, const char *s); /* NULL s: NULL, nothing noted */
json_t *ck_arr(struct ck *c);
json_t *ck_obj(struct ck *c);
json_t *ck_int(struct ck *c, unsigned long v);
void ck_set(struct ck *c, json_t *obj, const char *key, json_t *v);
void ck_append(struct ck *c, json_t *arr, json_t *v);
/* A YAML subtree as JSON (config fragments): plain nulls are null, other scalars raw text. */
json_t *ck_json_value(struct ck *c, const struct pnode *n);

void *ck_alloc(struct ck *c, size_t n);
const char *ck_strdup(struct ck *c, const char *s);

/* A list section of the top level (services, images, volumes, secrets): checks the list and its
 * limit, allocates count items of elem bytes and runs fn on each with the path set; returns the
 * normal form's array (NULL when absent, empty or wrong). */
typedef void (*ck_item_fn)(struct ck *c, void *item, const struct pnode *n, json_t *arr);
json_t *ck_list_section(struct ck *c, const struct pnode *n, const char *key, unsigned max,
                        size_t elem, void **items, size_t *count, ck_item_fn fn);
/* ck_set, but an empty array or object is dropped (§12 step 6). */
void ck_set_nonempty(struct ck *c, json_t *obj, const char *key, json_t *v);

/* Sections. */
void ck_secrets(struct ck *c, const struct pnode *n, json_t *top);
void ck_access(struct ck *c, const struct pnode *n, json_t *top);
void ck_security(struct ck *c, const struct pnode *n, json_t *top);
/* References (§8.3): a mapping or a URL string; export allows namespace, import needs secret
 * (or volume). */
enum ref_use { REF_EXPORT, REF_IMPORT_SECRET, REF_IMPORT_VOLUME };
bool ck_ref(struct ck *c, const struct pnode *n, enum ref_use use, struct cas_policy_ref *r,
            json_t **out);
/* Cross checks once every section is read. */
void ck_resolve_placeholders(struct ck *c);
void ck_final_warnings(struct ck *c);
/* opt->warn_exports: every unpinned export outside the session's namespace (policy_exports.c). */
void ck_warn_unpinned_exports(struct ck *c);

#endif
