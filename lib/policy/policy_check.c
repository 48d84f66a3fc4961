/*
 * policy_check.c - the validation walk (policy.md §1-§7): the frame shared by every section
 * (key paths, messages, typed readers, the normal form), the pass that substitutes template
 * variables and refuses tags and duplicate keys, the top level, services, images and volumes.
 * Every problem is reported and the walk goes on; nothing here stops at the first error.
 */
#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/placeholder.h"
#include "policy_ck.h"
#include "policy_pem.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"

/* ---- messages and paths ---- */

static void vmsg(struct ck *c, const struct pnode *at, enum cas_policy_severity sev, bool prefix,
                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void
vmsg(struct ck *c, const struct pnode *at, enum cas_policy_severity sev, bool prefix,
     const char *fmt, va_list ap)
{
    char text[900];
    unsigned line = at ? at->line : 1, col = at ? at->col : 1;

    if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
        text[0] = '\0';
    if (sev == CAS_POLICY_WARNING && c->opt->fail_on_warning)
        sev = CAS_POLICY_ERROR;
    if (prefix && c->plen > 0)
        diag_add(c->d, line, col, sev, "%s: %s", c->path, text);
    else
        diag_add(c->d, line, col, sev, "%s", text);
}

void
ck_err(struct ck *c, const struct pnode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(c, at, CAS_POLICY_ERROR, true, fmt, ap);
    va_end(ap);
}

void
ck_warn(struct ck *c, const struct pnode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(c, at, CAS_POLICY_WARNING, true, fmt, ap);
    va_end(ap);
}

void
ck_err_raw(struct ck *c, const struct pnode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(c, at, CAS_POLICY_ERROR, false, fmt, ap);
    va_end(ap);
}

void
ck_later(struct ck *c, const struct pnode *at, const char *feature, int since)
{
    ck_err(c, at, "SCONE feature '%s' (session language v0.3.%d) is not supported by cas yet",
           feature, since < 0 ? 0 : since);
}

void
ck_since(struct ck *c, const struct pnode *at, const char *what, int since)
{
    if (c->minor < 0 || since <= c->minor)
        return;
    ck_warn(c, at,
            "%s was introduced in session language v0.3.%d, but the file declares version "
            "0.3.%d; declare version: \"0.3.%d\" or later",
            what, since, c->minor, since);
}

/* Appends text to the path, cut at CK_PATH_MAX (messages then show the cut path). */
static void
path_add(struct ck *c, const char *text, size_t len)
{
    if (len > CK_PATH_MAX - 1 - c->plen)
        len = CK_PATH_MAX - 1 - c->plen;
    memcpy(c->path + c->plen, text, len);
    c->plen += len;
    c->path[c->plen] = '\0';
}

size_t
ck_push(struct ck *c, const char *key)
{
    size_t mark = c->plen;

    if (c->plen > 0)
        path_add(c, ".", 1);
    path_add(c, key, strlen(key));
    return mark;
}

size_t
ck_push_i(struct ck *c, size_t i)
{
    char digits[24], *d = digits + sizeof(digits);
    size_t mark = c->plen;

    *--d = ']';
    do {
        *--d = (char)('0' + i % 10);
        i /= 10;
    } while (i != 0);
    *--d = '[';
    path_add(c, d, (size_t)(digits + sizeof(digits) - d));
    return mark;
}

void
ck_pop(struct ck *c, size_t mark)
{
    c->plen = mark;
    c->path[mark] = '\0';
}

void *
ck_alloc(struct ck *c, size_t n)
{
    void *p = arena_alloc(c->a, n);
    if (p == NULL)
        c->nomem = true;
    return p;
}

const char *
ck_strdup(struct ck *c, const char *s)
{
    char *p = arena_strndup(c->a, s, strlen(s));
    if (p == NULL)
        c->nomem = true;
    return p;
}

const char *
ck_path_dup(struct ck *c)
{
    return ck_strdup(c, c->path);
}

/* ---- keys ---- */

/* policy.md §1: "unknown key", with a key valid here at edit distance <= 2 when there is one. */
static void
report_unknown_key(struct ck *c, const struct pnode *k, const struct keyspec *specs)
{
    const char *best = NULL, *where = c->plen ? c->path : "the session";
    size_t best_d = 3;

    for (const struct keyspec *t = specs; t->key != NULL; t++) {
        size_t dist;
        if (t->status == K_OK && (dist = edit_distance(k->text, t->key, 2)) < best_d) {
            best_d = dist;
            best = t->key;
        }
    }
    if (best != NULL)
        ck_err_raw(c, k, "unknown key '%s' in %s; did you mean '%s'?", k->text, where, best);
    else
        ck_err_raw(c, k, "unknown key '%s' in %s", k->text, where);
}

bool
ck_keys(struct ck *c, const struct pnode *map, const struct keyspec *specs, const char *what)
{
    if (map == NULL)
        return false;
    if (map->type != PN_MAP) {
        ck_err(c, map, "expected a mapping (%s), found %s", what,
               map->type == PN_SEQ ? "a list" : "a single value");
        return false;
    }
    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const struct pnode *k = map->kids[i];
        const struct keyspec *s = NULL;
        size_t mark;

        if (k->type != PN_SCALAR)
            continue; /* reported by the prepare pass */
        for (const struct keyspec *t = specs; t->key != NULL; t++) {
            if (strcmp(t->key, k->text) == 0) {
                s = t;
                break;
            }
        }
        if (s == NULL) {
            report_unknown_key(c, k, specs);
            continue;
        }
        mark = ck_push(c, k->text);
        if (s->status == K_LATER)
            ck_later(c, k, s->key, s->since);
        else if (s->status == K_V01)
            ck_err(c, k,
                   "key '%s' belongs to session language v0.1, which cas does not support; %s",
                   s->key, s->note);
        else if (s->status == K_OK && s->since > 0)
            ck_since(c, k, s->key, s->since);
        ck_pop(c, mark);
    }
    return true;
}

/* ---- typed readers ---- */

static const char *
type_name(const struct pnode *n)
{
    return n->type == PN_MAP ? "a mapping" : n->type == PN_SEQ ? "a list" : "a single value";
}

const char *
ck_str(struct ck *c, const struct pnode *n)
{
    if (n == NULL || n->is_bad)
        return NULL;
    if (n->type != PN_SCALAR) {
        ck_err(c, n, "expected a single value, found %s", type_name(n));
        return NULL;
    }
    return n->text;
}

static bool
has_placeholder_text(const char *s)
{
    return strstr(s, "$$SCONE::") != NULL || strstr(s, "$$CAS::") != NULL;
}

const char *
ck_plain_str(struct ck *c, const struct pnode *n)
{
    const char *s = ck_str(c, n);

    if (s != NULL && has_placeholder_text(s))
        ck_warn(c, n,
                "placeholders are not replaced here, so this '$$SCONE::' text stays as "
                "written; placeholders work in command, environment, pwd, injection files, "
                "fspf_key, attestation, platforms, access_policy and security");
    return s;
}

bool
ck_bool(struct ck *c, const struct pnode *n, bool *v)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};
    static const char *const yaml11[] = {"yes", "no", "on", "off", "y", "n"};

    if (ck_str(c, n) == NULL)
        return false;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(n->text, yes[i]) == 0 || strcmp(n->text, no[i]) == 0) {
            *v = strcmp(n->text, yes[i]) == 0;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof(yaml11) / sizeof(yaml11[0]); i++) {
        if (strcasecmp(n->text, yaml11[i]) == 0) {
            ck_err(c, n, "'%s' is not a boolean here; use true or false", n->text);
            return false;
        }
    }
    ck_err(c, n, "expected true or false");
    return false;
}

bool
ck_uint(struct ck *c, const struct pnode *n, unsigned long min, unsigned long max, unsigned long *v)
{
    unsigned long x = 0;
    const char *s = ck_str(c, n);

    if (s == NULL)
        return false;
    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
        goto bad;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        if (x > (max - (unsigned long)(*p - '0')) / 10)
            goto range;
        x = x * 10 + (unsigned long)(*p - '0');
    }
    if (x < min || x > max)
        goto range;
    *v = x;
    return true;
bad:
    ck_err(c, n, "expected an integer from %lu to %lu (decimal digits, no sign or leading zero)",
           min, max);
    return false;
range:
    ck_err(c, n, "must be from %lu to %lu", min, max);
    return false;
}

static bool
is_hex_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

static char *
lower_dup(struct ck *c, const char *s, size_t n)
{
    char *p = arena_strndup(c->a, s, n);

    if (p == NULL) {
        c->nomem = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 'A' && p[i] <= 'F')
            p[i] = (char)(p[i] - 'A' + 'a');
    return p;
}

const char *
ck_hex(struct ck *c, const struct pnode *n, size_t digits)
{
    const char *s = ck_str(c, n);

    if (s == NULL)
        return NULL;
    if (n->len != digits || !is_hex_digits(s, n->len)) {
        ck_err(c, n, "expected exactly %zu hex digits (%zu bytes), found %zu characters%s", digits,
               digits / 2, n->len, n->len == digits ? " with a non-hex character" : "");
        return NULL;
    }
    return lower_dup(c, s, n->len);
}

static bool
is_segment_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '~' || ch == '-';
}

/* Whether s[0..n) is one name segment (policy.md §3). */
static bool
segment_ok(const char *s, size_t n)
{
    if (n == 0 || n > CAS_POLICY_MAX_SEGMENT)
        return false;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_segment_char(s[i]))
            return false;
    return true;
}

bool
ck_segment(struct ck *c, const struct pnode *n, const char *what)
{
    const char *s = ck_str(c, n);

    if (s == NULL)
        return false;
    if (!segment_ok(s, n->len)) {
        ck_err(c, n,
               "%s name must be 1 to %u characters of A-Z a-z 0-9 _ . ~ -, and not '.' or '..'",
               what, CAS_POLICY_MAX_SEGMENT);
        return false;
    }
    return true;
}

bool
ck_abs_path(struct ck *c, const struct pnode *n)
{
    const char *s = ck_str(c, n);
    bool ok;

    if (s == NULL)
        return false;
    ok = s[0] == '/' && strstr(s, "//") == NULL;
    for (const char *p = s; ok && *p != '\0';) {
        const char *e = strchr(p + 1, '/');
        size_t len = e ? (size_t)(e - p - 1) : strlen(p + 1);
        if ((len == 1 && p[1] == '.') || (len == 2 && p[1] == '.' && p[2] == '.'))
            ok = false;
        p = e ? e : p + 1 + len;
    }
    if (!ok)
        ck_err(c, n, "expected an absolute path without '.' or '..' segments or '//'");
    return ok;
}

size_t
ck_many(const struct pnode *n, struct pnode *const **items)
{
    static struct pnode *const none[1] = {NULL};

    if (n == NULL) {
        *items = none;
        return 0;
    }
    if (n->type == PN_SEQ) {
        *items = n->kids;
        return n->count;
    }
    *items = NULL;
    return 1;
}

/* ---- placeholders ---- */

static void
record_use(struct ck *c, struct cas_policy_placeholder *ph, const char *src, const char *path,
           const struct pnode *at, unsigned flags)
{
    if (c->use_count == c->use_cap) {
        size_t cap = c->use_cap ? c->use_cap * 2 : 32;
        struct ph_use *u = cas_realloc(c->uses, cap * sizeof(*u));
        if (u == NULL) {
            c->nomem = true;
            return;
        }
        c->uses = u;
        c->use_cap = cap;
    }
    c->uses[c->use_count].ph = ph;
    c->uses[c->use_count].src = src;
    c->uses[c->use_count].line = at->line;
    c->uses[c->use_count].col = at->col;
    c->uses[c->use_count].flags = flags;
    c->uses[c->use_count].path = path;
    c->use_count++;
}

static bool
text_of(struct ck *c, const char *s, size_t len, const struct pnode *at, unsigned flags,
        struct cas_policy_text *out)
{
    struct cas_policy_placeholder tmp, *arr = NULL;
    size_t pos = 0, n = 0, cap = 0;
    bool ok = true, found;

    memset(out, 0, sizeof(*out));
    out->text = s;
    out->len = len;
    for (;;) {
        struct cas_err err = {0};
        if (cas_policy_placeholder_next(s, len, &pos, &found, &tmp, &err) != CAS_OK) {
            ck_err(c, at, "%s", err.msg[0]);
            ok = false;
            continue;
        }
        if (!found)
            break;
        if (tmp.escape_json || tmp.has_format)
            ck_since(c, at, tmp.escape_json ? "'|escape(json)'" : "a placeholder format",
                     tmp.escape_json ? 10 : 5);
        if (n == cap) {
            struct cas_policy_placeholder *bigger;
            cap = cap ? cap * 2 : 4;
            if ((bigger = ck_alloc(c, cap * sizeof(*bigger))) == NULL)
                return false;
            if (n != 0)
                memcpy(bigger, arr, n * sizeof(*arr));
            arr = bigger;
        }
        arr[n++] = tmp;
    }
    out->ph = arr;
    out->ph_count = n;
    if (n > 0) {
        const char *path = ck_path_dup(c); /* one copy for all the placeholders of this text */
        for (size_t i = 0; i < n; i++)
            record_use(c, &arr[i], s, path, at, flags);
    }
    return ok;
}

bool
ck_text(struct ck *c, const struct pnode *n, unsigned flags, struct cas_policy_text *out)
{
    memset(out, 0, sizeof(*out));
    if (ck_str(c, n) == NULL)
        return false;
    return text_of(c, n->text, n->len, n, flags, out);
}

bool
ck_struct_ph(struct ck *c, const struct pnode *n, struct cas_policy_value *v)
{
    struct cas_policy_text t;

    memset(v, 0, sizeof(*v));
    if (n == NULL || n->type != PN_SCALAR || !cas_policy_is_whole_placeholder(n->text, n->len))
        return false;
    v->pos.line = n->line;
    v->pos.column = n->col;
    if (!text_of(c, n->text, n->len, n, PH_STRUCT, &t) || t.ph_count != 1)
        return false;
    v->ph = t.ph; /* in the arena, like the text */
    ck_since(c, n, "a placeholder in this position", 10);
    return true;
}

bool
ck_hex_or_ph(struct ck *c, const struct pnode *n, size_t digits, size_t alt_digits,
             struct cas_policy_value *v)
{
    if (ck_struct_ph(c, n, v))
        return true;
    if (n == NULL || ck_str(c, n) == NULL)
        return false;
    v->pos.line = n->line;
    v->pos.column = n->col;
    if (alt_digits != 0 && n->len == alt_digits)
        digits = alt_digits;
    return (v->text = ck_hex(c, n, digits)) != NULL;
}

/* ---- the normal form ---- */

/* Every constructor notes a failed allocation; ck_set and ck_append then skip the NULL (a
 * NULL string from a value already reported as wrong is skipped the same way). */
static json_t *
noted(struct ck *c, json_t *j)
{
    if (j == NULL)
        c->nomem = true;
    return j;
}

json_t *
ck_json_str(struct ck *c, const char *s)
{
    return s != NULL ? noted(c, json_string(s)) : NULL;
}

json_t *
ck_arr(struct ck *c)
{
    return noted(c, json_array());
}

json_t *
ck_obj(struct ck *c)
{
    return noted(c, json_object());
}

json_t *
ck_int(struct ck *c, unsigned long v)
{
    return noted(c, json_integer((json_int_t)v));
}

void
ck_set(struct ck *c, json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || obj == NULL) {
        json_decref(v);
        return;
    }
    if (json_object_set_new(obj, key, v) != 0)
        c->nomem = true;
}

void
ck_append(struct ck *c, json_t *arr, json_t *v)
{
    if (v == NULL || arr == NULL) {
        json_decref(v);
        return;
    }
    if (json_array_append_new(arr, v) != 0)
        c->nomem = true;
}

json_t *
ck_json_value(struct ck *c, const struct pnode *n)
{
    json_t *j;

    if (n->type == PN_SCALAR)
        return pn_is_null(n) ? json_null() : ck_json_str(c, n->text);
    if (n->type == PN_SEQ) {
        if ((j = ck_arr(c)) == NULL)
            return NULL;
        for (size_t i = 0; i < n->count; i++)
            ck_append(c, j, ck_json_value(c, n->kids[i]));
        return j;
    }
    if ((j = ck_obj(c)) == NULL)
        return NULL;
    for (size_t i = 0; i + 1 < n->count; i += 2)
        if (n->kids[i]->type == PN_SCALAR)
            ck_set(c, j, n->kids[i]->text, ck_json_value(c, n->kids[i + 1]));
    return j;
}

json_t *
ck_list_section(struct ck *c, const struct pnode *n, const char *key, unsigned max, size_t elem,
                void **items, size_t *count, ck_item_fn fn)
{
    size_t mark = ck_push(c, key);
    json_t *arr = NULL;
    char *all;

    *items = NULL;
    *count = 0;
    if (pn_is_null(n))
        goto out;
    if (n->type != PN_SEQ) {
        ck_err(c, n, "expected a list of %s", key);
        goto out;
    }
    if (n->count > max) {
        ck_err(c, n, "has %zu %s; a session may have at most %u", n->count, key, max);
        goto out;
    }
    if (n->count == 0 || (arr = ck_arr(c)) == NULL)
        goto out;
    if ((all = ck_alloc(c, n->count * elem)) == NULL) {
        json_decref(arr);
        arr = NULL;
        goto out;
    }
    *items = all;
    *count = n->count;
    for (size_t i = 0; i < n->count; i++) {
        size_t m2 = ck_push_i(c, i);
        fn(c, all + i * elem, n->kids[i], arr);
        ck_pop(c, m2);
    }
out:
    ck_pop(c, mark);
    return arr;
}

void
ck_set_nonempty(struct ck *c, json_t *obj, const char *key, json_t *v)
{
    if (v != NULL && ((json_is_array(v) && json_array_size(v) == 0) ||
                      (json_is_object(v) && json_object_size(v) == 0))) {
        json_decref(v);
        return;
    }
    ck_set(c, obj, key, v);
}

/* ---- pass 1: variables, tags, keys ---- */

static int
cmp_key(const void *a, const void *b)
{
    const struct pnode *const *x = a, *const *y = b;
    int r = strcmp((*x)->text, (*y)->text);

    if (r != 0)
        return r;
    return (*x)->line != (*y)->line ? ((*x)->line < (*y)->line ? -1 : 1)
                                    : ((*x)->col < (*y)->col ? -1 : (*x)->col > (*y)->col);
}

static void
check_duplicate_keys(struct ck *c, const struct pnode *map)
{
    size_t n = map->count / 2;
    const struct pnode **keys;

    if (n < 2)
        return;
    if (n <= 8) { /* most mappings: pairwise, no allocation */
        for (size_t i = 1; i < n; i++) {
            const struct pnode *k = map->kids[2 * i];
            for (size_t j = 0; k->type == PN_SCALAR && j < i; j++) {
                const struct pnode *o = map->kids[2 * j];
                if (o->type == PN_SCALAR && strcmp(k->text, o->text) == 0) {
                    ck_err(c, k, "duplicate key '%s' (first at line %u); remove one of them",
                           k->text, o->line);
                    break;
                }
            }
        }
        return;
    }
    if ((keys = cas_malloc(n * sizeof(const struct pnode *))) == NULL) {
        c->nomem = true;
        return;
    }
    n = 0;
    for (size_t i = 0; i + 1 < map->count; i += 2)
        if (map->kids[i]->type == PN_SCALAR) /* other keys are reported as such */
            keys[n++] = map->kids[i];
    qsort(keys, n, sizeof(const struct pnode *), cmp_key);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i]->text, keys[i - 1]->text) == 0)
            ck_err(c, keys[i], "duplicate key '%s' (first at line %u); remove one of them",
                   keys[i]->text, keys[i - 1]->line);
    free(keys);
}

static void
substitute(struct ck *c, struct pnode *n)
{
    struct cas_policy_vars vars = {c->opt->vars, c->opt->var_count, c->opt->env};
    struct cas_buf b;
    struct cas_err err = {0};
    char missing[129];
    char *text;
    size_t len;

    if (!cas_policy_vars_present(n->text, n->len))
        return;
    cas_buf_init_secret(&b, CAS_POLICY_MAX_SCALAR); /* values may be secrets */
    if (cas_policy_vars_expand(n->text, n->len, &vars, &b, missing, sizeof(missing), &err) !=
        CAS_OK) {
        if (err.rc == CAS_E_NOTFOUND)
            ck_err(c, n, "value for variable $%s is missing (give -e %s=VALUE or --use-env)",
                   missing, missing);
        else
            ck_err(c, n, "%s", err.msg[0]);
        n->is_bad = true;
        cas_buf_release(&b);
        return;
    }
    len = b.len;
    if ((text = arena_strndup(c->a, b.buf, len)) == NULL)
        c->nomem = true;
    else if (memchr(b.buf, '\0', len) != NULL)
        ck_err(c, n, "a template variable's value contains a NUL byte");
    else {
        n->text = text;
        n->len = len;
    }
    cas_buf_release(&b);
}

static void
prepare(struct ck *c, struct pnode *n)
{
    if (n->is_done)
        return; /* an alias of a node already seen */
    n->is_done = true;
    if (n->tag != PN_TAG_NONE && !(strcmp(c->path, "secret_config.store_in") == 0 &&
                                   (n->tag == PN_TAG_CAS || n->tag == PN_TAG_AKV)))
        ck_err(c, n,
               "YAML tags are not allowed here (only !cas and !akv, under "
               "secret_config.store_in); remove the tag");
    if (n->type == PN_SCALAR) {
        if (c->opt->substitute)
            substitute(c, n);
        return;
    }
    if (n->type == PN_SEQ) {
        for (size_t i = 0; i < n->count; i++) {
            size_t mark = ck_push_i(c, i);
            prepare(c, n->kids[i]);
            ck_pop(c, mark);
        }
        return;
    }
    for (size_t i = 0; i + 1 < n->count; i += 2) {
        struct pnode *k = n->kids[i];
        size_t mark;
        if (k->type != PN_SCALAR) {
            ck_err(c, k, "a key must be a single value, not %s", type_name(k));
            continue;
        }
        if (k->tag != PN_TAG_NONE)
            ck_err(c, k, "YAML tags are not allowed on keys; remove the tag");
        k->is_done = true; /* keys are never substituted (policy.md §4) */
        mark = ck_push(c, k->text);
        prepare(c, n->kids[i + 1]);
        ck_pop(c, mark);
    }
    check_duplicate_keys(c, n);
}

/* ---- top level ---- */

static const struct keyspec top_keys[] = {
    {"name", -1, K_OK, NULL},
    {"version", -1, K_OK, NULL},
    {"predecessor", -1, K_OK, NULL},
    {"creator", -1, K_OK, NULL},
    {"salt", 12, K_OK, NULL},
    {"namespace_hash", 11, K_OK, NULL},
    {"services", -1, K_OK, NULL},
    {"images", -1, K_OK, NULL},
    {"volumes", -1, K_OK, NULL},
    {"secrets", -1, K_OK, NULL},
    {"access_policy", -1, K_OK, NULL},
    {"security", 1, K_OK, NULL},
    {"persistency", -1, K_DROP, NULL},
    {"secret_config", 10, K_OK, NULL},
    {"digest", -1, K_V01, "services are identified by services[].attestation: {mrenclave: …}"},
    {"tags", -1, K_V01, "remove it (0.3 sessions have no tags)"},
    {"env", -1, K_V01, "set variables in services[].environment"},
    {NULL, 0, 0, NULL},
};

static void
check_version(struct ck *c, const struct pnode *root, json_t *top)
{
    const struct pnode *v = pn_get(root, "version");
    const char *s;
    unsigned long minor;

    c->minor = -1;
    if (v == NULL) {
        ck_err_raw(c, NULL,
                   "no 'version' key, so this is a session language v0.1 file, which cas does "
                   "not support; add version: \"0.3\" and convert the file (see compat.md)");
        return;
    }
    if ((s = ck_str(c, v)) == NULL)
        return;
    if (strcmp(s, "0.3") == 0) {
        memcpy(c->p->version, "0.3", 4);
    } else if (strncmp(s, "0.3.", 4) == 0 && s[4] >= '0' && s[4] <= '9' &&
               (s[5] == '\0' || (s[4] != '0' && s[5] >= '0' && s[5] <= '9' && s[6] == '\0')) &&
               (minor = strtoul(s + 4, NULL, 10)) <= 12) {
        c->minor = (int)minor;
        (void)snprintf(c->p->version, sizeof(c->p->version), "0.3.%lu", minor);
    } else if (strcmp(s, "0.2") == 0 || strncmp(s, "0.2.", 4) == 0) {
        ck_err_raw(c, v,
                   "session language version %s is not supported by cas; use version: \"0.3\" "
                   "and convert the file (session references, x509 private_key)",
                   s);
        return;
    } else if (strcmp(s, "0.1") == 0 || strncmp(s, "0.1.", 4) == 0) {
        ck_err_raw(c, v,
                   "session language version %s is not supported by cas; use version: \"0.3\" "
                   "and convert the file (see compat.md)",
                   s);
        return;
    } else {
        ck_err_raw(c, v,
                   "unknown session language version '%.64s'; cas supports 0.3 and 0.3.0 to "
                   "0.3.12",
                   s);
        return;
    }
    c->p->version_minor = c->minor;
    ck_set(c, top, "version", ck_json_str(c, s));
}

static void
check_name(struct ck *c, const struct pnode *root, json_t *top)
{
    const struct pnode *n = pn_get(root, "name");
    const char *s = c->opt->name;
    size_t segs = 0, mark = ck_push(c, "name");
    bool ok = true;

    if (s == NULL && n == NULL) {
        ck_err_raw(c, root, "no 'name' key; add name: <session name>");
        goto out;
    }
    if (s == NULL && (s = ck_str(c, n)) == NULL)
        goto out;
    if (strcmp(s, "/") == 0) {
        ck_later(c, n, "name: /", 11);
        goto out;
    }
    if (strlen(s) > CAS_POLICY_MAX_NAME)
        ok = false;
    for (const char *p = s; ok;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!segment_ok(p, len) || ++segs > CAS_POLICY_MAX_SEGMENTS)
            ok = false;
        if (e == NULL)
            break;
        p = e + 1;
    }
    if (!ok) {
        ck_err(c, n ? n : root,
               "a session name is 1 to %u segments of 1 to %u characters of A-Z a-z 0-9 _ . ~ "
               "- joined by '/', at most %u bytes; '.' and '..' are not segments",
               CAS_POLICY_MAX_SEGMENTS, CAS_POLICY_MAX_SEGMENT, CAS_POLICY_MAX_NAME);
        goto out;
    }
    if (segs > 1)
        ck_since(c, n ? n : root, "a namespace in 'name'", 5);
    c->p->name = ck_strdup(c, s);
    ck_set(c, top, "name", ck_json_str(c, s));
out:
    ck_pop(c, mark);
}

static void
check_creator(struct ck *c, const struct pnode *n)
{
    struct cas_err err = {0};
    size_t mark = ck_push(c, "creator");

    if (pn_is_null(n))
        goto out;
    if (n->type == PN_MAP && pn_get(n, "signer") != NULL) {
        ck_later(c, n, "creator: {signer: …}", 10);
        goto out;
    }
    if (ck_str(c, n) == NULL)
        goto out;
    if (pem_looks_like_cert(n->text)) {
        if (!pem_cert_key_hash(n->text, n->len, c->p->creator))
            ck_err(c, n, "the creator certificate is not a valid PEM certificate");
        else
            c->p->has_creator = true;
    } else if (cas_keyhash_parse(n->text, c->p->creator, &err) != CAS_OK) {
        ck_err(c, n,
               "expected the creator's key hash (Base58Check or 64 hex) or its PEM certificate");
    } else {
        c->p->has_creator = true;
    }
out:
    ck_pop(c, mark);
}

static void
check_secret_config(struct ck *c, const struct pnode *n)
{
    static const struct keyspec keys[] = {{"store_in", 10, K_OK, NULL}, {NULL, 0, 0, NULL}};
    const struct pnode *s;
    size_t mark = ck_push(c, "secret_config");

    if ((s = pn_get(n, "store_in")) != NULL && s->tag == PN_TAG_AKV) {
        ck_later(c, s, "secret_config: {store_in: !akv}", 10);
        goto out;
    }
    if (!ck_keys(c, n, keys, "secret_config"))
        goto out;
    if (s != NULL && s->tag != PN_TAG_CAS) {
        size_t m2 = ck_push(c, "store_in");
        ck_err(c, s, "expected !cas (the default) or !akv");
        ck_pop(c, m2);
    }
out:
    ck_pop(c, mark);
}

static void
check_top_scalars(struct ck *c, const struct pnode *root, json_t *top)
{
    const struct pnode *n;
    size_t mark;

    check_name(c, root, top);
    mark = ck_push(c, "predecessor");
    n = pn_get(root, "predecessor");
    if (n != NULL && pn_is_null(n)) {
        c->p->predecessor_is_null = true;
    } else if (n != NULL) {
        const char *h = ck_hex(c, n, 64);
        if (h != NULL) {
            memcpy(c->p->predecessor, h, 65);
            c->p->has_predecessor = true;
        }
    }
    ck_set(c, top, "predecessor",
           c->p->has_predecessor ? ck_json_str(c, c->p->predecessor) : json_null());
    ck_pop(c, mark);
    if ((n = pn_get(root, "creator")) != NULL)
        check_creator(c, n);
    mark = ck_push(c, "salt");
    if ((n = pn_get(root, "salt")) != NULL && !pn_is_null(n) &&
        (c->p->salt = ck_hex(c, n, 32)) != NULL)
        ck_set(c, top, "salt", ck_json_str(c, c->p->salt));
    ck_pop(c, mark);
    mark = ck_push(c, "namespace_hash");
    if ((n = pn_get(root, "namespace_hash")) != NULL && !pn_is_null(n) &&
        (c->p->namespace_hash = ck_hex(c, n, 64)) != NULL) {
        if (c->p->name != NULL && strchr(c->p->name, '/') == NULL)
            ck_err(c, n,
                   "only a session in a namespace (name: a/b) has a namespace_hash; "
                   "remove it");
        if (c->p->has_predecessor)
            ck_err(c, n,
                   "namespace_hash and predecessor are mutually exclusive: the namespace "
                   "is checked on creation only; remove namespace_hash");
        ck_set(c, top, "namespace_hash", ck_json_str(c, c->p->namespace_hash));
    }
    ck_pop(c, mark);
    if ((n = pn_get(root, "secret_config")) != NULL)
        check_secret_config(c, n);
}

/* One of names, or -1 (reported with what is expected). */
static int
ck_enum(struct ck *c, const struct pnode *f, const char *const *names, size_t count)
{
    struct cas_buf b;

    if (ck_str(c, f) == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (strcmp(f->text, names[i]) == 0)
            return (int)i;
    cas_buf_init(&b, 512);
    for (size_t i = 0; i < count; i++)
        cas_buf_addf(&b, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ", names[i]);
    ck_err(c, f, "expected %s", b.failed ? "another value" : b.buf);
    cas_buf_release(&b);
    return -1;
}

/* ---- services ---- */

static const struct keyspec service_keys[] = {
    {"name", -1, K_OK, NULL},
    {"image_name", -1, K_OK, NULL},
    {"command", -1, K_OK, NULL},
    {"environment", -1, K_OK, NULL},
    {"pwd", -1, K_OK, NULL},
    {"attestation", 7, K_OK, NULL},
    {"mrenclaves", -1, K_OK, NULL},
    {"platforms", -1, K_OK, NULL},
    {"fspf_path", -1, K_OK, NULL},
    {"fspf_key", -1, K_OK, NULL},
    {"fspf_tag", -1, K_OK, NULL},
    {"fspf_update_policy", 11, K_OK, NULL},
    {"one_time_password_shared_secret", 10, K_LATER, NULL},
    {"persistency", -1, K_DROP, NULL},
    {NULL, 0, 0, NULL},
};

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* The next argument of a command string from s[*i] into b: 1, or 0 at the end, -1 on an
 * unclosed quote (reported). */
static int
next_arg(struct ck *c, const struct pnode *n, size_t *i, struct cas_buf *b)
{
    const char *s = n->text;
    size_t at = *i;

    while (is_blank(s[at]))
        at++;
    if (s[at] == '\0') {
        *i = at;
        return 0;
    }
    cas_buf_reset(b);
    while (s[at] != '\0' && !is_blank(s[at])) {
        const char *e;
        if (s[at] != '\'' && s[at] != '"') {
            cas_buf_addc(b, s[at++]);
            continue;
        }
        if ((e = strchr(s + at + 1, s[at])) == NULL) {
            ck_err(c, n, "command has an unclosed %s quote; close it",
                   s[at] == '\'' ? "single" : "double");
            return -1;
        }
        cas_buf_add(b, s + at + 1, (size_t)(e - (s + at + 1)));
        at = (size_t)(e - s) + 1;
    }
    *i = at;
    return 1;
}

/* Splits a command string into arguments (policy.md §5): runs of blanks separate, '…' and
 * "…" keep their content together and are removed, no escapes. */
static bool
split_command(struct ck *c, const struct pnode *n, char ***out, size_t *count)
{
    char **args = NULL;
    size_t argc = 0, cap = 0, i = 0;
    struct cas_buf b;
    int r;

    cas_buf_init(&b, CAS_POLICY_MAX_SCALAR);
    while ((r = next_arg(c, n, &i, &b)) > 0 && !b.failed) {
        if (argc == cap) {
            char **bigger;
            cap = cap ? cap * 2 : 8;
            if ((bigger = ck_alloc(c, cap * sizeof(*bigger))) == NULL)
                break;
            if (argc != 0)
                memcpy(bigger, args, argc * sizeof(*args));
            args = bigger;
        }
        if ((args[argc] = arena_strndup(c->a, b.buf, b.len)) == NULL) {
            c->nomem = true;
            break;
        }
        argc++;
    }
    if (b.failed)
        c->nomem = true;
    cas_buf_release(&b);
    *out = args;
    *count = argc;
    return r >= 0 && !c->nomem;
}

/* `@@N`, N = 1-999 without a leading zero: returns N, else 0. */
static unsigned
host_arg_number(const char *s)
{
    unsigned v = 0;
    size_t n = strlen(s);

    if (n < 3 || n > 5 || s[0] != '@' || s[1] != '@' || s[2] == '0')
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v;
}

static void
check_command(struct ck *c, struct cas_policy_service *sv, const struct pnode *svc,
              const struct pnode *n, json_t *o)
{
    char **args = NULL;
    size_t argc = 0, mark = ck_push(c, "command");
    json_t *arr;
    bool seen[1000] = {false};

    if (n == NULL) {
        ck_err(c, svc, "is required; add command: <program and arguments>");
        goto out;
    }
    if (n->type == PN_SEQ) {
        ck_since(c, n, "command as a list", 1);
        if ((args = ck_alloc(c, (n->count ? n->count : 1) * sizeof(*args))) == NULL)
            goto out;
        for (size_t i = 0; i < n->count; i++) {
            size_t m2 = ck_push_i(c, i);
            const char *a = ck_str(c, n->kids[i]);
            if (a != NULL)
                args[argc++] = n->kids[i]->text;
            ck_pop(c, m2);
        }
    } else if (ck_str(c, n) == NULL || !split_command(c, n, &args, &argc)) {
        goto out;
    }
    if (argc == 0) {
        ck_err(c, n, "is empty; give the program and its arguments");
        goto out;
    }
    sv->argv = ck_alloc(c, argc * sizeof(*sv->argv));
    sv->host_arg = ck_alloc(c, argc * sizeof(*sv->host_arg));
    if (sv->argv == NULL || sv->host_arg == NULL || (arr = ck_arr(c)) == NULL)
        goto out;
    sv->argc = argc;
    for (size_t i = 0; i < argc; i++) {
        unsigned h = host_arg_number(args[i]);
        if (h != 0) {
            ck_since(c, n, "host arguments (@@N)", 8);
            if (seen[h])
                ck_err(c, n, "host argument @@%u appears twice; use each @@N once", h);
            seen[h] = true;
        }
        sv->host_arg[i] = h;
        (void)text_of(c, args[i], strlen(args[i]), n, PH_NO_BINARY, &sv->argv[i]);
        ck_append(c, arr, ck_json_str(c, args[i]));
    }
    ck_set(c, o, "command", arr);
out:
    ck_pop(c, mark);
}

static const char *
arena_concat(struct ck *c, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = ck_alloc(c, la + lb + 1);

    if (p != NULL) {
        memcpy(p, a, la);
        memcpy(p + la, b, lb);
        p[la + lb] = '\0';
    }
    return p;
}

static void
check_env_entry(struct ck *c, struct cas_policy_service *sv, json_t *env, const struct pnode *k,
                const struct pnode *v)
{
    struct cas_policy_env *e = &sv->env[sv->env_count];
    const char *name = k->text, *key;

    if (strncmp(name, "\\@\\@", 4) == 0 || strncmp(name, "@@", 2) == 0) {
        name += name[0] == '@' ? 2 : 4;
        e->from_host = true;
        ck_since(c, k, "host variables (\\@\\@NAME)", 8);
    }
    if (name[0] == '\0' || strchr(name, '=') != NULL) {
        ck_err(c, k, "a variable name must be non-empty and without '='");
        return;
    }
    if (ck_str(c, v) == NULL)
        return;
    e->name = e->from_host ? ck_strdup(c, name) : k->text;
    e->value.text = v->text;
    e->value.len = v->len;
    if (!e->from_host) /* a host variable's session value is ignored */
        (void)ck_text(c, v, PH_NO_BINARY, &e->value);
    sv->env_count++;
    /* `\@\@NAME` and "@@NAME" mean the same: both are @@NAME in the normal form */
    key = e->from_host ? arena_concat(c, "@@", name) : k->text;
    if (key != NULL && json_object_get(env, key) != NULL)
        ck_err(c, k, "variable '%s' is given twice (as \\@\\@%s and \"@@%s\"); keep one", name,
               name, name);
    else if (key != NULL)
        ck_set(c, env, key, ck_json_str(c, v->text));
}

static void
check_environment(struct ck *c, struct cas_policy_service *sv, const struct pnode *n, json_t *o)
{
    size_t mark = ck_push(c, "environment");
    json_t *env;

    if (pn_is_null(n))
        goto out;
    if (n->type != PN_MAP) {
        ck_err(c, n, "expected a mapping of variable names to values");
        goto out;
    }
    if (n->count == 0 || (env = ck_obj(c)) == NULL)
        goto out;
    if ((sv->env = ck_alloc(c, n->count / 2 * sizeof(*sv->env))) == NULL) {
        json_decref(env);
        goto out;
    }
    for (size_t i = 0; i + 1 < n->count; i += 2) {
        size_t m2;
        if (n->kids[i]->type != PN_SCALAR)
            continue;
        m2 = ck_push(c, n->kids[i]->text);
        check_env_entry(c, sv, env, n->kids[i], n->kids[i + 1]);
        ck_pop(c, m2);
    }
    ck_set_nonempty(c, o, "environment", env);
out:
    ck_pop(c, mark);
}

static void
check_signer(struct ck *c, struct cas_policy_signer *sg, const struct pnode *n, json_t *o)
{
    static const struct keyspec keys[] = {
        {"mrsigner", -1, K_OK, NULL},   {"isvprodid", -1, K_OK, NULL},  {"isvsvn", -1, K_OK, NULL},
        {"isvsvn_min", -1, K_OK, NULL}, {"isvsvn_max", -1, K_OK, NULL}, {NULL, 0, 0, NULL},
    };
    static const char *const ints[] = {"isvprodid", "isvsvn", "isvsvn_min", "isvsvn_max"};
    struct cas_policy_value *iv[] = {&sg->isvprodid, &sg->isvsvn, &sg->isvsvn_min, &sg->isvsvn_max};
    unsigned long num[4] = {0, 0, 0, 0};
    bool have[4] = {false, false, false, false};
    const struct pnode *f;
    json_t *so;
    size_t mark = ck_push(c, "signer");

    if (ck_struct_ph(c, n, &sg->whole)) {
        ck_set(c, o, "signer", ck_json_str(c, n->text));
        goto out;
    }
    if (!ck_keys(c, n, keys, "signer") || (so = ck_obj(c)) == NULL)
        goto out;
    if ((f = pn_get(n, "mrsigner")) == NULL) {
        ck_err(c, n, "'mrsigner' is required; add mrsigner: <64 hex>");
    } else {
        size_t m2 = ck_push(c, "mrsigner");
        if (ck_hex_or_ph(c, f, 64, 0, &sg->mrsigner))
            ck_set(c, so, "mrsigner",
                   ck_json_str(c, sg->mrsigner.text ? sg->mrsigner.text : f->text));
        ck_pop(c, m2);
    }
    for (size_t i = 0; i < 4; i++) {
        size_t m2;
        if ((f = pn_get(n, ints[i])) == NULL) {
            if (i == 0)
                ck_err(c, n, "'isvprodid' is required; add isvprodid: <0-65535>");
            continue;
        }
        m2 = ck_push(c, ints[i]);
        if (ck_struct_ph(c, f, iv[i])) {
            ck_set(c, so, ints[i], ck_json_str(c, f->text));
        } else if (ck_uint(c, f, 0, 65535, &num[i])) {
            iv[i]->text = f->text;
            iv[i]->pos.line = f->line;
            iv[i]->pos.column = f->col;
            have[i] = true;
            ck_set(c, so, ints[i], ck_int(c, num[i]));
        }
        ck_pop(c, m2);
    }
    sg->has_isvsvn = pn_get(n, "isvsvn") != NULL;
    sg->has_isvsvn_min = pn_get(n, "isvsvn_min") != NULL;
    sg->has_isvsvn_max = pn_get(n, "isvsvn_max") != NULL;
    if (sg->has_isvsvn && (sg->has_isvsvn_min || sg->has_isvsvn_max))
        ck_err(c, n, "give isvsvn (exact) or isvsvn_min/isvsvn_max (a range), not both");
    if (have[2] && have[3] && num[2] > num[3])
        ck_err(c, n, "isvsvn_min %lu is greater than isvsvn_max %lu", num[2], num[3]);
    ck_set(c, o, "signer", so);
out:
    ck_pop(c, mark);
}

/* One entry of a measurement list: 64 hex (or alt hex), or a whole placeholder (allow_ph). */
static bool
hex_entry(struct ck *c, const struct pnode *it, size_t alt, bool allow_ph, bool is_platform,
          struct cas_policy_value *v)
{
    if (is_platform && it->type == PN_SCALAR && strncmp(it->text, "INTEL_QE_ID:", 12) == 0) {
        ck_err(c, it,
               "SCONE feature 'platforms: [INTEL_QE_ID:…]' (SCONE 7.0) is not supported by "
               "cas yet; give cas platform ids (cas quote verify prints them)");
        return false;
    }
    if (allow_ph)
        return ck_hex_or_ph(c, it, 64, alt, v);
    v->pos.line = it->line;
    v->pos.column = it->col;
    return (v->text = ck_hex(c, it, 64)) != NULL;
}

/* One value or a list of hex_entry()s: fills *out and *count, returns the normal form's list. */
static json_t *
hex_list(struct ck *c, const struct pnode *n, size_t alt, bool allow_ph, bool is_platform,
         struct cas_policy_value **out, size_t *count)
{
    struct pnode *const *items;
    size_t k = pn_is_null(n) ? 0 : ck_many(n, &items);
    json_t *arr = ck_arr(c);

    *count = 0;
    if ((*out = ck_alloc(c, (k ? k : 1) * sizeof(**out))) == NULL)
        k = 0;
    for (size_t i = 0; i < k; i++) {
        const struct pnode *it = items ? items[i] : n;
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        struct cas_policy_value *v = &(*out)[*count];
        if (hex_entry(c, it, alt, allow_ph, is_platform, v)) {
            ck_append(c, arr, ck_json_str(c, v->text ? v->text : it->text));
            (*count)++;
        }
        ck_pop(c, m2);
    }
    return arr;
}

static void
check_variant(struct ck *c, struct cas_policy_variant *v, const struct pnode *n, json_t *arr)
{
    static const struct keyspec keys[] = {
        {"mrenclave", 7, K_OK, NULL}, {"signer", 7, K_OK, NULL}, {NULL, 0, 0, NULL}};
    const struct pnode *m;
    json_t *o;

    v->pos.line = n->line;
    v->pos.column = n->col;
    if (ck_struct_ph(c, n, &v->whole)) {
        ck_append(c, arr, ck_json_str(c, n->text));
        return;
    }
    if (!ck_keys(c, n, keys, "an attestation variant") || (o = ck_obj(c)) == NULL)
        return;
    if ((m = pn_get(n, "mrenclave")) != NULL) {
        size_t mark = ck_push(c, "mrenclave");
        json_t *ma = hex_list(c, m, 96, true, false, &v->mrenclave, &v->mrenclave_count);
        if (m->type == PN_SEQ && m->count == 0)
            ck_err(c, m, "is empty; list at least one MRENCLAVE or remove the key");
        ck_set_nonempty(c, o, "mrenclave", ma);
        ck_pop(c, mark);
    }
    if ((m = pn_get(n, "signer")) != NULL) {
        v->has_signer = true;
        check_signer(c, &v->signer, m, o);
    }
    if (pn_get(n, "mrenclave") == NULL && pn_get(n, "signer") == NULL)
        ck_err(c, n,
               "a variant needs at least one factor; add mrenclave: <64 hex> or signer: "
               "{mrsigner: …, isvprodid: …}");
    ck_append(c, arr, o);
}

static void
check_attestation(struct ck *c, struct cas_policy_service *sv, const struct pnode *at,
                  const struct pnode *mrs, json_t *o)
{
    struct pnode *const *items;
    size_t k = pn_is_null(at) ? 0 : ck_many(at, &items);
    size_t k2 = 0, mark;
    json_t *arr;

    if (mrs != NULL && !pn_is_null(mrs))
        k2 = 1;
    if ((sv->variants = ck_alloc(c, (k + k2 + 1) * sizeof(*sv->variants))) == NULL)
        return;
    mark = ck_push(c, "attestation");
    if (k > 0 && (arr = ck_arr(c)) != NULL) {
        for (size_t i = 0; i < k; i++) {
            size_t m2 = items ? ck_push_i(c, i) : c->plen;
            check_variant(c, &sv->variants[sv->variant_count++], items ? items[i] : at, arr);
            ck_pop(c, m2);
        }
        ck_set_nonempty(c, o, "attestation", arr);
    }
    ck_pop(c, mark);
    if (k2 != 0) { /* the deprecated list: one more variant {mrenclave: […]} */
        struct cas_policy_variant *v = &sv->variants[sv->variant_count];
        json_t *ma;
        mark = ck_push(c, "mrenclaves");
        v->is_mrenclaves = true;
        v->pos.line = mrs->line;
        v->pos.column = mrs->col;
        ma = hex_list(c, mrs, 0, false, false, &v->mrenclave, &v->mrenclave_count);
        if (v->mrenclave_count > 0)
            sv->variant_count++;
        ck_set_nonempty(c, o, "mrenclaves", ma);
        ck_pop(c, mark);
    }
}

static void
check_platforms(struct ck *c, struct cas_policy_service *sv, const struct pnode *n, json_t *o)
{
    size_t mark = ck_push(c, "platforms");

    ck_set_nonempty(c, o, "platforms",
                    hex_list(c, n, 0, true, true, &sv->platforms, &sv->platform_count));
    ck_pop(c, mark);
}

/* An fspf_key placeholder names a 32-byte binary secret: its bytes are the key. */
static bool
mark_fspf(struct ck *c, const struct cas_policy_value *v)
{
    if (v->ph != NULL && c->use_count > 0 && c->uses[c->use_count - 1].ph == v->ph)
        c->uses[c->use_count - 1].flags |= PH_FSPF;
    return true;
}

static void
check_fspf(struct ck *c, struct cas_policy_service *sv, const struct pnode *n, json_t *o)
{
    const struct pnode *f;
    size_t mark;

    if ((f = pn_get(n, "fspf_path")) != NULL) {
        mark = ck_push(c, "fspf_path");
        if (ck_abs_path(c, f)) {
            sv->fspf_path = f->text;
            ck_set(c, o, "fspf_path", ck_json_str(c, f->text));
        }
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "fspf_key")) != NULL) {
        mark = ck_push(c, "fspf_key");
        if (ck_hex_or_ph(c, f, 64, 0, &sv->fspf_key) && mark_fspf(c, &sv->fspf_key))
            ck_set(c, o, "fspf_key",
                   ck_json_str(c, sv->fspf_key.text ? sv->fspf_key.text : f->text));
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "fspf_tag")) != NULL) {
        mark = ck_push(c, "fspf_tag");
        if ((sv->fspf_tag = ck_hex(c, f, 32)) != NULL)
            ck_set(c, o, "fspf_tag", ck_json_str(c, sv->fspf_tag));
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "fspf_update_policy")) != NULL) {
        mark = ck_push(c, "fspf_update_policy");
        static const char *const policies[] = {"rollback_protected_reinitializable",
                                               "no_rollback_protection"};
        int k = ck_enum(c, f, policies, 2);
        if (k >= 0) {
            sv->fspf_update_policy = (enum cas_policy_fspf_update)k;
            ck_set(c, o, "fspf_update_policy", ck_json_str(c, f->text));
        }
        ck_pop(c, mark);
    }
    if (pn_get(n, "fspf_key") != NULL && pn_get(n, "fspf_tag") == NULL &&
        sv->fspf_update_policy != CAS_POLICY_FSPF_NO_ROLLBACK)
        ck_err(c, pn_get(n, "fspf_key"),
               "fspf_key needs fspf_tag (32 hex) unless fspf_update_policy is "
               "no_rollback_protection");
}

static void
check_service(struct ck *c, void *item, const struct pnode *n, json_t *arr)
{
    struct cas_policy_service *sv = item;
    const struct pnode *f;
    json_t *o;

    sv->pos.line = n->line;
    sv->pos.column = n->col;
    if (!ck_keys(c, n, service_keys, "a service") || (o = ck_obj(c)) == NULL)
        return;
    if ((f = pn_get(n, "name")) == NULL) {
        ck_err(c, n, "'name' is required; add name: <service name>");
    } else {
        size_t mark = ck_push(c, "name");
        if (ck_segment(c, f, "a service")) {
            sv->name = f->text;
            ck_set(c, o, "name", ck_json_str(c, f->text));
        }
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "image_name")) != NULL && !pn_is_null(f)) {
        size_t mark = ck_push(c, "image_name");
        if ((sv->image_name = ck_plain_str(c, f)) != NULL)
            ck_set(c, o, "image_name", ck_json_str(c, f->text));
        ck_pop(c, mark);
    }
    check_command(c, sv, n, pn_get(n, "command"), o);
    if ((f = pn_get(n, "environment")) != NULL)
        check_environment(c, sv, f, o);
    {
        size_t mark = ck_push(c, "pwd");
        f = pn_get(n, "pwd");
        if (f != NULL && (ck_str(c, f) == NULL || f->len == 0)) {
            if (f->type == PN_SCALAR)
                ck_err(c, f, "is empty; give a directory or leave pwd out (default /)");
        } else if (f != NULL) {
            (void)ck_text(c, f, PH_NO_BINARY, &sv->pwd);
        } else {
            sv->pwd.text = "/";
            sv->pwd.len = 1;
        }
        if (sv->pwd.text != NULL)
            ck_set(c, o, "pwd", ck_json_str(c, sv->pwd.text));
        ck_pop(c, mark);
    }
    check_attestation(c, sv, pn_get(n, "attestation"), pn_get(n, "mrenclaves"), o);
    if ((f = pn_get(n, "platforms")) != NULL)
        check_platforms(c, sv, f, o);
    check_fspf(c, sv, n, o);
    ck_append(c, arr, o);
}

/* Reports a repeated name among n items (name at byte offset off of each, stride size). */
static void
check_unique_names(struct ck *c, const void *items, size_t count, size_t stride, size_t off,
                   const char *what, const char *one)
{
    for (size_t i = 1; i < count; i++) {
        const char *ni = *(const char *const *)((const char *)items + i * stride + off);
        const struct cas_policy_pos *pi =
            (const struct cas_policy_pos *)((const char *)items + i * stride);
        if (ni == NULL)
            continue;
        for (size_t j = 0; j < i; j++) {
            const char *nj = *(const char *const *)((const char *)items + j * stride + off);
            if (nj != NULL && strcmp(ni, nj) == 0) {
                struct pnode at = {.line = pi->line, .col = pi->column};
                ck_err_raw(c, &at,
                           "%s[%zu]: duplicate %s name '%s' (also %s[%zu]); names must "
                           "be unique",
                           what, i, one, ni, what, j);
                break;
            }
        }
    }
}

static void
check_services(struct ck *c, const struct pnode *n, json_t *top)
{
    json_t *arr =
        ck_list_section(c, n, "services", CAS_POLICY_MAX_SERVICES, sizeof(*c->p->services),
                        (void **)&c->p->services, &c->p->service_count, check_service);

    check_unique_names(c, c->p->services, c->p->service_count, sizeof(*c->p->services),
                       offsetof(struct cas_policy_service, name), "services", "service");
    ck_set(c, top, "services", arr);
}

/* ---- images ---- */

static bool
check_permission(struct ck *c, const struct pnode *n, unsigned *mode)
{
    const char *s = ck_str(c, n);
    unsigned long v = 0;

    if (s == NULL)
        return false;
    if (s[0] == '0' && s[1] == 'o') {
        size_t len = strlen(s + 2);
        if (len < 1 || len > 4)
            goto bad;
        for (const char *p = s + 2; *p; p++) {
            if (*p < '0' || *p > '7')
                goto bad;
            v = v * 8 + (unsigned long)(*p - '0');
        }
    } else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        /* hexadecimal, not a leading zero: "write 0ox1ff" would be no hint at all */
        size_t len = strlen(s + 2);
        if (len < 1 || len > 4 || strspn(s + 2, "0123456789abcdefABCDEF") != len ||
            (v = strtoul(s + 2, NULL, 16)) > 0777)
            goto bad;
        ck_err(c, n, "'%.16s' is hexadecimal, which a permission is not; write 0o%lo", s, v);
        return false;
    } else if (s[0] == '0' && s[1] != '\0' && strspn(s + 1, "01234567") == strlen(s + 1)) {
        ck_err(c, n,
               "'%.16s' is ambiguous (YAML 1.1 reads it as octal, YAML 1.2 as decimal); "
               "write 0o%s",
               s, s + 1);
        return false;
    } else if (!ck_uint(c, n, 0, 511, &v)) {
        return false;
    }
    if (v > 0777)
        goto bad;
    *mode = (unsigned)v;
    return true;
bad:
    ck_err(c, n, "expected a permission from 0o000 to 0o777 (0o and octal digits, or decimal)");
    return false;
}

static void
check_injection(struct ck *c, struct cas_policy_image *im, const struct pnode *n, json_t *arr)
{
    static const struct keyspec keys[] = {{"path", -1, K_OK, NULL},
                                          {"content", -1, K_OK, NULL},
                                          {"permission", 10, K_OK, NULL},
                                          {NULL, 0, 0, NULL}};
    struct cas_policy_injection *f = &im->files[im->file_count];
    const struct pnode *p = n, *x;
    json_t *o;
    char perm[8];

    f->pos.line = n->line;
    f->pos.column = n->col;
    f->permission = 0700;
    if (n->type == PN_MAP) {
        if (!ck_keys(c, n, keys, "an injection file"))
            return;
        if ((p = pn_get(n, "path")) == NULL) {
            ck_err(c, n, "'path' is required; add path: /absolute/path");
            return;
        }
    }
    {
        size_t mark = n->type == PN_MAP ? ck_push(c, "path") : c->plen;
        bool ok = ck_abs_path(c, p);
        ck_pop(c, mark);
        if (!ok)
            return;
    }
    f->path = p->text;
    if ((o = ck_obj(c)) == NULL) {
        c->nomem = true;
        return;
    }
    ck_set(c, o, "path", ck_json_str(c, p->text));
    if (n->type == PN_MAP && (x = pn_get(n, "content")) != NULL && !pn_is_null(x)) {
        size_t mark = ck_push(c, "content");
        if (ck_text(c, x, 0, &f->content)) {
            f->has_content = true;
            ck_set(c, o, "content", ck_json_str(c, x->text));
        }
        ck_pop(c, mark);
    }
    if (n->type == PN_MAP && (x = pn_get(n, "permission")) != NULL) {
        size_t mark = ck_push(c, "permission");
        (void)check_permission(c, x, &f->permission);
        ck_pop(c, mark);
    }
    (void)snprintf(perm, sizeof(perm), "0o%03o", f->permission);
    ck_set(c, o, "permission", ck_json_str(c, perm));
    im->file_count++;
    ck_append(c, arr, o);
}

static void
check_image_volume(struct ck *c, struct cas_policy_image *im, const struct pnode *v, json_t *arr)
{
    static const struct keyspec keys[] = {{"name", -1, K_OK, NULL},
                                          {"path", -1, K_OK, NULL},
                                          {"update_policy", 2, K_OK, NULL},
                                          {NULL, 0, 0, NULL}};
    static const char *const policies[] = {"rollback_protected", "ephemeral",
                                           "no_rollback_protection"};
    struct cas_policy_image_volume *iv = &im->volumes[im->volume_count];
    const struct pnode *f;
    json_t *vo;
    size_t mark;
    int k;

    if (!ck_keys(c, v, keys, "an image volume") || (vo = ck_obj(c)) == NULL)
        return;
    mark = ck_push(c, "name");
    if ((f = pn_get(v, "name")) == NULL)
        ck_err(c, v, "'name' is required");
    else if (ck_segment(c, f, "a volume"))
        ck_set(c, vo, "name", ck_json_str(c, iv->name = f->text));
    ck_pop(c, mark);
    mark = ck_push(c, "path");
    if ((f = pn_get(v, "path")) == NULL)
        ck_err(c, v, "'path' is required");
    else if (ck_abs_path(c, f))
        ck_set(c, vo, "path", ck_json_str(c, iv->path = f->text));
    ck_pop(c, mark);
    mark = ck_push(c, "update_policy");
    if ((f = pn_get(v, "update_policy")) != NULL && (k = ck_enum(c, f, policies, 3)) >= 0) {
        iv->update_policy = (enum cas_policy_volume_update)k;
        ck_set(c, vo, "update_policy", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
    ck_append(c, arr, vo);
    im->volume_count++;
}

static void
check_image_volumes(struct ck *c, struct cas_policy_image *im, const struct pnode *n, json_t *o)
{
    size_t mark = ck_push(c, "volumes");
    json_t *arr;

    if (pn_is_null(n))
        goto out;
    if (n->type != PN_SEQ) {
        ck_err(c, n, "expected a list of {name, path}");
        goto out;
    }
    if (n->count > CAS_POLICY_MAX_VOLUMES) {
        ck_err(c, n, "has %zu volumes; an image may mount at most %u", n->count,
               CAS_POLICY_MAX_VOLUMES);
        goto out;
    }
    if (n->count == 0 || (arr = ck_arr(c)) == NULL ||
        (im->volumes = ck_alloc(c, n->count * sizeof(*im->volumes))) == NULL)
        goto out;
    for (size_t i = 0; i < n->count; i++) {
        size_t m2 = ck_push_i(c, i);
        check_image_volume(c, im, n->kids[i], arr);
        ck_pop(c, m2);
    }
    ck_set_nonempty(c, o, "volumes", arr);
out:
    ck_pop(c, mark);
}

static const struct keyspec image_keys[] = {
    {"name", -1, K_OK, NULL},
    {"injection_files", -1, K_OK, NULL},
    {"provide_secrets", 11, K_OK, NULL},
    {"volumes", -1, K_OK, NULL},
    {"persistency", -1, K_DROP, NULL},
    {"mrenclaves", -1, K_V01, "list the measurements in services[].attestation: {mrenclave: …}"},
    {NULL, 0, 0, NULL},
};

static int
cmp_injection(const void *a, const void *b)
{
    const struct cas_policy_injection *const *x = a, *const *y = b;
    int r = strcmp((*x)->path, (*y)->path);

    return r != 0 ? r : (*x < *y ? -1 : *x > *y); /* same path: in file order */
}

/* Paths are unique within an image (§1); sorted, so a long list costs n log n. */
static void
check_unique_paths(struct ck *c, const struct cas_policy_image *im)
{
    const struct cas_policy_injection **v;

    if (im->file_count < 2)
        return;
    if ((v = cas_malloc(im->file_count * sizeof(const struct cas_policy_injection *))) == NULL) {
        c->nomem = true;
        return;
    }
    for (size_t i = 0; i < im->file_count; i++)
        v[i] = &im->files[i];
    qsort(v, im->file_count, sizeof(const struct cas_policy_injection *), cmp_injection);
    for (size_t i = 1; i < im->file_count; i++) {
        if (strcmp(v[i]->path, v[i - 1]->path) == 0) {
            struct pnode at = {.line = v[i]->pos.line, .col = v[i]->pos.column};
            ck_err_raw(c, &at,
                       "%s[%zu]: injection file '%s' appears twice in this image (also "
                       "[%zu]); merge them",
                       c->path, (size_t)(v[i] - im->files), v[i]->path,
                       (size_t)(v[i - 1] - im->files));
        }
    }
    free(v);
}

static void
check_injection_files(struct ck *c, struct cas_policy_image *im, const struct pnode *f, json_t *o)
{
    size_t mark = ck_push(c, "injection_files");
    json_t *fa;

    if (f->type != PN_SEQ) {
        ck_err(c, f, "expected a list of paths or {path, content, permission}");
    } else if (f->count > 0 && (fa = ck_arr(c)) != NULL &&
               (im->files = ck_alloc(c, f->count * sizeof(*im->files))) != NULL) {
        for (size_t i = 0; i < f->count; i++) {
            size_t m2 = ck_push_i(c, i);
            check_injection(c, im, f->kids[i], fa);
            ck_pop(c, m2);
        }
        check_unique_paths(c, im);
        ck_set_nonempty(c, o, "injection_files", fa);
    }
    ck_pop(c, mark);
}

static void
check_provide_secrets(struct ck *c, struct cas_policy_image *im, const struct pnode *f, json_t *o)
{
    struct pnode *const *items;
    size_t k = ck_many(f, &items), mark = ck_push(c, "provide_secrets");
    json_t *pa = ck_arr(c);

    im->has_provide_secrets = true;
    if ((im->provide_secrets = ck_alloc(c, (k ? k : 1) * sizeof(char *))) == NULL)
        k = 0;
    for (size_t i = 0; i < k; i++) {
        const struct pnode *it = items ? items[i] : f;
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        if (ck_segment(c, it, "a secret")) {
            im->provide_secrets[im->provide_count++] = it->text;
            ck_append(c, pa, ck_json_str(c, it->text));
        }
        ck_pop(c, m2);
    }
    /* kept even when empty: [] (nothing) differs from absent (no restriction) */
    ck_set(c, o, "provide_secrets", pa);
    ck_pop(c, mark);
}

static void
check_image(struct ck *c, void *item, const struct pnode *n, json_t *arr)
{
    struct cas_policy_image *im = item;
    const struct pnode *f;
    json_t *o;

    im->pos.line = n->line;
    im->pos.column = n->col;
    if (!ck_keys(c, n, image_keys, "an image") || (o = ck_obj(c)) == NULL)
        return;
    if ((f = pn_get(n, "name")) == NULL) {
        ck_err(c, n, "'name' is required; add name: <image name>");
    } else {
        size_t mark = ck_push(c, "name");
        if (ck_str(c, f) != NULL) {
            if (f->len == 0 || f->len > CAS_POLICY_MAX_IMAGE_NAME)
                ck_err(c, f, "an image name is 1 to %u bytes", CAS_POLICY_MAX_IMAGE_NAME);
            else
                im->name = f->text;
            ck_set(c, o, "name", ck_json_str(c, f->text));
        }
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "injection_files")) != NULL && !pn_is_null(f))
        check_injection_files(c, im, f, o);
    if ((f = pn_get(n, "provide_secrets")) != NULL && !pn_is_null(f))
        check_provide_secrets(c, im, f, o);
    if ((f = pn_get(n, "volumes")) != NULL)
        check_image_volumes(c, im, f, o);
    ck_append(c, arr, o);
}

static void
check_images(struct ck *c, const struct pnode *n, json_t *top)
{
    json_t *arr = ck_list_section(c, n, "images", CAS_POLICY_MAX_IMAGES, sizeof(*c->p->images),
                                  (void **)&c->p->images, &c->p->image_count, check_image);

    check_unique_names(c, c->p->images, c->p->image_count, sizeof(*c->p->images),
                       offsetof(struct cas_policy_image, name), "images", "image");
    ck_set(c, top, "images", arr);
}

/* ---- volumes ---- */

static const struct keyspec volume_keys[] = {
    {"name", -1, K_OK, NULL},  {"fspf_key", -1, K_OK, NULL}, {"fspf_tag", -1, K_OK, NULL},
    {"files", 11, K_OK, NULL}, {"export", -1, K_OK, NULL},   {"import", -1, K_OK, NULL},
    {NULL, 0, 0, NULL},
};

/* A volume export {to: <reference>, update_policy, volume_alias} (§7), or NULL (reported). */
static json_t *
volume_export_to(struct ck *c, const struct pnode *it, struct cas_policy_ref *r)
{
    static const struct keyspec keys[] = {{"to", 2, K_OK, NULL},
                                          {"update_policy", 2, K_OK, NULL},
                                          {"volume_alias", 10, K_OK, NULL},
                                          {NULL, 0, 0, NULL}};
    const struct pnode *f;
    json_t *w, *ro = NULL;
    size_t mark;
    bool ok;

    if (!ck_keys(c, it, keys, "a volume export") || (w = ck_obj(c)) == NULL)
        return NULL;
    mark = ck_push(c, "to");
    if ((ok = ck_ref(c, pn_get(it, "to"), REF_EXPORT, r, &ro)))
        ck_set(c, w, "to", ro);
    ck_pop(c, mark);
    mark = ck_push(c, "update_policy");
    if ((f = pn_get(it, "update_policy")) != NULL && ck_str(c, f) != NULL) {
        r->to_update_policy = f->text;
        ck_set(c, w, "update_policy", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
    mark = ck_push(c, "volume_alias");
    if ((f = pn_get(it, "volume_alias")) != NULL && ck_segment(c, f, "a volume")) {
        r->volume_alias = f->text;
        ck_set(c, w, "volume_alias", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
    if (!ok) {
        json_decref(w);
        return NULL;
    }
    return w;
}

static void
check_volume_exports(struct ck *c, struct cas_policy_volume *vol, const struct pnode *n, json_t *o)
{
    struct pnode *const *items;
    size_t k = pn_is_null(n) ? 0 : ck_many(n, &items), mark = ck_push(c, "export");
    json_t *arr = ck_arr(c);

    if ((vol->exports = ck_alloc(c, (k ? k : 1) * sizeof(*vol->exports))) == NULL)
        k = 0;
    for (size_t i = 0; i < k; i++) {
        const struct pnode *it = items ? items[i] : n;
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        struct cas_policy_ref *r = &vol->exports[vol->export_count];
        json_t *ro = NULL;
        if (it->type == PN_MAP && pn_get(it, "to") != NULL)
            ro = volume_export_to(c, it, r);
        else if (!ck_ref(c, it, REF_EXPORT, r, &ro))
            ro = NULL;
        if (ro != NULL) {
            ck_append(c, arr, ro);
            vol->export_count++;
        }
        ck_pop(c, m2);
    }
    ck_set_nonempty(c, o, "export", arr);
    ck_pop(c, mark);
}

static void
check_volume(struct ck *c, void *item, const struct pnode *n, json_t *arr)
{
    struct cas_policy_volume *vol = item;
    const struct pnode *f, *imp;
    json_t *o;
    size_t mark;

    vol->pos.line = n->line;
    vol->pos.column = n->col;
    if (!ck_keys(c, n, volume_keys, "a volume") || (o = ck_obj(c)) == NULL)
        return;
    mark = ck_push(c, "name");
    if ((f = pn_get(n, "name")) == NULL)
        ck_err(c, n, "is required; add name: <volume name>");
    else if (ck_segment(c, f, "a volume")) {
        vol->name = f->text;
        ck_set(c, o, "name", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
    imp = pn_get(n, "import");
    if (imp != NULL && (pn_get(n, "fspf_key") || pn_get(n, "fspf_tag") || pn_get(n, "export")))
        ck_err(c, n,
               "an imported volume takes fspf_key, fspf_tag and export from its owner; "
               "remove them");
    if ((f = pn_get(n, "fspf_key")) != NULL) {
        mark = ck_push(c, "fspf_key");
        if (ck_hex_or_ph(c, f, 64, 0, &vol->fspf_key) && mark_fspf(c, &vol->fspf_key))
            ck_set(c, o, "fspf_key",
                   ck_json_str(c, vol->fspf_key.text ? vol->fspf_key.text : f->text));
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "fspf_tag")) != NULL) {
        mark = ck_push(c, "fspf_tag");
        if ((vol->fspf_tag = ck_hex(c, f, 32)) != NULL)
            ck_set(c, o, "fspf_tag", ck_json_str(c, vol->fspf_tag));
        ck_pop(c, mark);
    }
    if ((pn_get(n, "fspf_key") == NULL) != (pn_get(n, "fspf_tag") == NULL))
        ck_err(c, n, "give both fspf_key and fspf_tag, or neither (initialised on first use)");
    if ((f = pn_get(n, "files")) != NULL) {
        mark = ck_push(c, "files");
        static const char *const files[] = {"encrypted", "authenticated-only"};
        int k = ck_enum(c, f, files, 2);
        if (k >= 0) {
            vol->authenticated_only = k == 1;
            ck_set(c, o, "files", ck_json_str(c, f->text));
        }
        ck_pop(c, mark);
    }
    if ((f = pn_get(n, "export")) != NULL)
        check_volume_exports(c, vol, f, o);
    if (imp != NULL && !pn_is_null(imp)) {
        json_t *ro = NULL;
        mark = ck_push(c, "import");
        if (ck_ref(c, imp, REF_IMPORT_VOLUME, &vol->import, &ro)) {
            vol->is_imported = true;
            ck_set(c, o, "import", ro);
        }
        ck_pop(c, mark);
    }
    ck_append(c, arr, o);
}

static void
check_volumes(struct ck *c, const struct pnode *n, json_t *top)
{
    json_t *arr = ck_list_section(c, n, "volumes", CAS_POLICY_MAX_VOLUMES, sizeof(*c->p->volumes),
                                  (void **)&c->p->volumes, &c->p->volume_count, check_volume);

    check_unique_names(c, c->p->volumes, c->p->volume_count, sizeof(*c->p->volumes),
                       offsetof(struct cas_policy_volume, name), "volumes", "volume");
    ck_set(c, top, "volumes", arr);
}

/* ---- references between sections ---- */

static bool
image_exists(const struct cas_policy *p, const char *name)
{
    for (size_t i = 0; i < p->image_count; i++)
        if (p->images[i].name != NULL && strcmp(p->images[i].name, name) == 0)
            return true;
    return false;
}

static bool
volume_exists(const struct cas_policy *p, const char *name)
{
    for (size_t i = 0; i < p->volume_count; i++)
        if (p->volumes[i].name != NULL && strcmp(p->volumes[i].name, name) == 0)
            return true;
    return false;
}

static void
check_cross(struct ck *c)
{
    struct cas_policy *p = c->p;

    for (size_t i = 0; i < p->service_count; i++) {
        const struct cas_policy_service *sv = &p->services[i];
        struct pnode at = {.line = sv->pos.line, .col = sv->pos.column};
        if (sv->image_name != NULL && !image_exists(p, sv->image_name))
            ck_err_raw(c, &at,
                       "services[%zu].image_name: no image named '%s'; add it to images "
                       "or fix the name",
                       i, sv->image_name);
    }
    for (size_t i = 0; i < p->image_count; i++) {
        const struct cas_policy_image *im = &p->images[i];
        struct pnode at = {.line = im->pos.line, .col = im->pos.column};
        for (size_t k = 0; k < im->volume_count; k++)
            if (im->volumes[k].name != NULL && !volume_exists(p, im->volumes[k].name))
                ck_err_raw(c, &at,
                           "images[%zu].volumes[%zu].name: no volume named '%s'; "
                           "declare it in volumes",
                           i, k, im->volumes[k].name);
        for (size_t k = 0; k < im->provide_count; k++)
            if (cas_policy_secret_find(p, im->provide_secrets[k]) == NULL)
                ck_err_raw(c, &at,
                           "images[%zu].provide_secrets[%zu]: no secret named '%s'; "
                           "declare it in secrets",
                           i, k, im->provide_secrets[k]);
    }
}

/* ---- entry ---- */

static cas_rc
validate(struct ck *c, struct pnode *root)
{
    json_t *top = ck_obj(c);
    const struct pnode *n;

    if (top == NULL)
        return CAS_E_NOMEM;
    c->p->impl->normal = top;
    if (root->type != PN_MAP) {
        ck_err_raw(c, root, "the session must be a YAML mapping (name: …, version: …), not %s",
                   type_name(root));
        return CAS_OK;
    }
    prepare(c, root); /* variables first: version may be one */
    check_version(c, root, top);
    (void)ck_keys(c, root, top_keys, "the session");
    check_top_scalars(c, root, top);
    if ((n = pn_get(root, "secrets")) != NULL)
        ck_secrets(c, n, top);
    if ((n = pn_get(root, "services")) != NULL)
        check_services(c, n, top);
    if ((n = pn_get(root, "images")) != NULL)
        check_images(c, n, top);
    if ((n = pn_get(root, "volumes")) != NULL)
        check_volumes(c, n, top);
    ck_access(c, pn_get(root, "access_policy"), top);
    ck_security(c, pn_get(root, "security"), top);
    check_cross(c);
    ck_resolve_placeholders(c);
    ck_final_warnings(c);
    return c->nomem ? CAS_E_NOMEM : CAS_OK;
}

cas_rc
cas_policy_parse(const uint8_t *data, size_t len, const struct cas_policy_options *opt,
                 struct cas_policy **out, struct cas_policy_diags *diags, struct cas_err *err)
{
    static const struct cas_policy_options none = {0};
    struct cas_policy *p = NULL;
    struct pnode *root = NULL;
    struct ck c;
    size_t errors_before = diags->errors;
    cas_rc rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    if ((p = cas_calloc(1, sizeof(*p))) == NULL ||
        (p->impl = cas_calloc(1, sizeof(*p->impl))) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "Out of memory while reading the session");
        goto out;
    }
    p->version_minor = -1;
    c.d = diags;
    c.opt = opt ? opt : &none;
    c.p = p;
    c.a = &p->impl->arena;
    if ((rc = ptree_build(data, len, c.a, &root, diags, err)) != CAS_OK)
        goto out;
    if ((rc = validate(&c, root)) != CAS_OK) {
        rc = cas_err_set(err, CAS_E_NOMEM, "Out of memory while checking the session");
        goto out;
    }
    if (diags->errors > errors_before) {
        rc = CAS_E_INVALID;
        goto out;
    }
    *out = p;
    p = NULL;
out:
    if (diags->errors > errors_before && rc == CAS_OK)
        rc = CAS_E_INVALID;
    diag_sort(diags);
    free(c.uses);
    cas_policy_free(p);
    return rc;
}
