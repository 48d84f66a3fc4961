/*
 * policy_tree.c - untrusted YAML bytes to a node tree, within policy.md §1's limits: size,
 * UTF-8 without NUL, one document, nesting depth, scalar length and the node count after alias
 * expansion (an alias shares its anchor's subtree and counts all of its nodes again, so a
 * "billion laughs" file stops at the limit without ever being expanded), and the bytes aliases
 * add (later passes do expand: a config fragment becomes JSON, the stored session YAML). Tags are
 * recorded and judged by policy_check.c, which knows the path; so are duplicate keys.
 */
#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy_int.h"
#include "util/alloc.h"

struct frame {
    struct pnode *node;
    struct pnode **kids;
    size_t count, cap;
    char *anchor; /* registered when the collection ends: no alias can point into itself */
};

struct anchor {
    char *name;
    struct pnode *node;
};

struct builder {
    struct arena *a;
    struct cas_policy_diags *d;
    struct frame stack[CAS_POLICY_MAX_DEPTH + 1];
    size_t depth;
    struct anchor *anchors; /* open hash table, linear probing */
    size_t anchor_cap, anchor_count;
    size_t nodes;       /* after alias expansion */
    size_t alias_bytes; /* what aliases added, counted as pnode.bytes */
    struct pnode *root;
};

static unsigned
to_uint(size_t v)
{
    return v > 0xfffffffeu ? 0xffffffffu : (unsigned)v;
}

bool
pn_is_null(const struct pnode *n)
{
    static const char *const forms[] = {"~", "null", "Null", "NULL", ""};

    if (n == NULL)
        return true;
    if (n->type != PN_SCALAR || !n->is_plain)
        return false;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (strcmp(n->text, forms[i]) == 0)
            return true;
    return false;
}

struct pnode *
pn_get(const struct pnode *map, const char *key)
{
    if (map == NULL || map->type != PN_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const struct pnode *k = map->kids[i];
        if (k->type == PN_SCALAR && strcmp(k->text, key) == 0)
            return map->kids[i + 1];
    }
    return NULL;
}

/* Checks UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) and NUL bytes. */
static bool
check_bytes(const uint8_t *p, size_t len, struct cas_policy_diags *d)
{
    size_t line = 1, col = 1;

    for (size_t i = 0; i < len;) {
        uint8_t c = p[i];
        size_t n;
        uint32_t cp;

        if (c == 0) {
            diag_add(d, to_uint(line), to_uint(col), CAS_POLICY_ERROR,
                     "the file contains a NUL byte; a session is UTF-8 text without NUL");
            return false;
        }
        if (c < 0x80) {
            n = 1;
            cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            n = 2;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            cp = c & 0x07u;
        } else {
            goto bad;
        }
        if (len - i < n)
            goto bad;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (p[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n;
        if (c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        continue;
    bad:
        diag_add(d, to_uint(line), to_uint(col), CAS_POLICY_ERROR,
                 "the file is not valid UTF-8 here; save it as UTF-8");
        return false;
    }
    return true;
}

static size_t
hash_name(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool
anchor_put(struct builder *b, char *name, struct pnode *node)
{
    size_t i;

    if ((b->anchor_count + 1) * 2 > b->anchor_cap) {
        size_t cap = b->anchor_cap ? b->anchor_cap * 2 : 64;
        struct anchor *t = cas_calloc(cap, sizeof(*t));
        if (t == NULL)
            return false;
        for (size_t k = 0; k < b->anchor_cap; k++) {
            if (b->anchors[k].name == NULL)
                continue;
            i = hash_name(b->anchors[k].name) & (cap - 1);
            while (t[i].name != NULL)
                i = (i + 1) & (cap - 1);
            t[i] = b->anchors[k];
        }
        free(b->anchors);
        b->anchors = t;
        b->anchor_cap = cap;
    }
    i = hash_name(name) & (b->anchor_cap - 1);
    while (b->anchors[i].name != NULL) {
        if (strcmp(b->anchors[i].name, name) == 0) { /* redefined: the later one counts */
            free(b->anchors[i].name);
            b->anchors[i].name = name;
            b->anchors[i].node = node;
            return true;
        }
        i = (i + 1) & (b->anchor_cap - 1);
    }
    b->anchors[i].name = name;
    b->anchors[i].node = node;
    b->anchor_count++;
    return true;
}

static struct pnode *
anchor_get(const struct builder *b, const char *name)
{
    size_t i;

    if (b->anchor_cap == 0)
        return NULL;
    i = hash_name(name) & (b->anchor_cap - 1);
    while (b->anchors[i].name != NULL) {
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
        i = (i + 1) & (b->anchor_cap - 1);
    }
    return NULL;
}

static enum pn_tag
tag_of(const yaml_char_t *tag)
{
    if (tag == NULL)
        return PN_TAG_NONE;
    if (strcmp((const char *)tag, "!cas") == 0)
        return PN_TAG_CAS;
    if (strcmp((const char *)tag, "!akv") == 0)
        return PN_TAG_AKV;
    return PN_TAG_OTHER;
}

/* Counts w more nodes after alias expansion; false (reported) past the limit. */
static bool
count_nodes(struct builder *b, size_t w, const yaml_mark_t *m)
{
    if (w > CAS_POLICY_MAX_NODES - b->nodes) {
        diag_add(b->d, to_uint(m->line + 1), to_uint(m->column + 1), CAS_POLICY_ERROR,
                 "the file has more than %u nodes after expanding aliases; a session is "
                 "limited to that (policy.md §1)",
                 CAS_POLICY_MAX_NODES);
        return false;
    }
    b->nodes += w;
    return true;
}

/* Adds a finished node to the open collection (or makes it the root). */
static bool
attach(struct builder *b, struct pnode *n)
{
    struct frame *f;

    if (b->depth == 0) {
        b->root = n;
        return true;
    }
    f = &b->stack[b->depth - 1];
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct pnode **k = cas_realloc(f->kids, cap * sizeof(struct pnode *));
        if (k == NULL)
            return false;
        f->kids = k;
        f->cap = cap;
    }
    f->kids[f->count++] = n;
    f->node->weight += n->weight;
    f->node->bytes += n->bytes;
    return true;
}

static struct pnode *
new_node(struct builder *b, enum pn_type t, const yaml_mark_t *m, const yaml_char_t *tag)
{
    struct pnode *n = arena_alloc(b->a, sizeof(*n));

    if (n == NULL)
        return NULL;
    n->type = t;
    n->tag = tag_of(tag);
    n->line = to_uint(m->line + 1);
    n->col = to_uint(m->column + 1);
    n->weight = 1;
    n->bytes = 1;
    return n;
}

static cas_rc refuse(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports a problem at m; returns CAS_E_INVALID. */
static cas_rc
refuse(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
        text[0] = '\0';
    va_end(ap);
    diag_add(b->d, to_uint(m->line + 1), to_uint(m->column + 1), CAS_POLICY_ERROR, "%s", text);
    return CAS_E_INVALID;
}

static cas_rc
on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    struct pnode *n;
    char *anchor;

    if (ev->data.scalar.length > CAS_POLICY_MAX_SCALAR)
        return refuse(b, m, "a value is longer than %u bytes (policy.md §1)",
                      CAS_POLICY_MAX_SCALAR);
    if ((n = new_node(b, PN_SCALAR, m, ev->data.scalar.tag)) == NULL ||
        (n->text = arena_strndup(b->a, (const char *)ev->data.scalar.value,
                                 ev->data.scalar.length)) == NULL)
        return CAS_E_NOMEM;
    n->len = ev->data.scalar.length;
    n->bytes = 1 + n->len;
    n->is_plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (ev->data.scalar.anchor != NULL) {
        if ((anchor = cas_strdup((const char *)ev->data.scalar.anchor)) == NULL)
            return CAS_E_NOMEM;
        if (!anchor_put(b, anchor, n)) {
            free(anchor);
            return CAS_E_NOMEM;
        }
    }
    if (!count_nodes(b, 1, m))
        return CAS_E_INVALID;
    return attach(b, n) ? CAS_OK : CAS_E_NOMEM;
}

static cas_rc
on_alias(struct builder *b, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    struct pnode *n = anchor_get(b, (const char *)ev->data.alias.anchor);

    if (n == NULL)
        return refuse(b, m, "alias '*%s' names no anchor defined before it",
                      (const char *)ev->data.alias.anchor);
    if (!count_nodes(b, n->weight, m))
        return CAS_E_INVALID;
    if (n->bytes > CAS_POLICY_MAX_ALIAS_BYTES - b->alias_bytes)
        return refuse(b, m,
                      "aliases expand the file by more than %u bytes; a session is limited to "
                      "that (policy.md §1): write the repeated part out, or share it as a secret",
                      CAS_POLICY_MAX_ALIAS_BYTES);
    b->alias_bytes += n->bytes;
    return attach(b, n) ? CAS_OK : CAS_E_NOMEM;
}

static cas_rc
on_start(struct builder *b, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    bool is_seq = ev->type == YAML_SEQUENCE_START_EVENT;
    const yaml_char_t *an = is_seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
    struct pnode *n;
    struct frame *f;

    if (b->depth >= CAS_POLICY_MAX_DEPTH)
        return refuse(b, m, "the file nests deeper than %u levels (policy.md §1)",
                      CAS_POLICY_MAX_DEPTH);
    if ((n = new_node(b, is_seq ? PN_SEQ : PN_MAP, m,
                      is_seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag)) == NULL)
        return CAS_E_NOMEM;
    f = &b->stack[b->depth++];
    memset(f, 0, sizeof(*f));
    f->node = n;
    if (an != NULL && (f->anchor = cas_strdup((const char *)an)) == NULL)
        return CAS_E_NOMEM;
    return count_nodes(b, 1, m) ? CAS_OK : CAS_E_INVALID;
}

static cas_rc
on_end(struct builder *b)
{
    struct frame *f = &b->stack[b->depth - 1];
    struct pnode *n = f->node;
    char *anchor = f->anchor;

    if (f->count != 0) {
        if ((n->kids = arena_alloc(b->a, f->count * sizeof(struct pnode *))) == NULL)
            return CAS_E_NOMEM;
        memcpy(n->kids, f->kids, f->count * sizeof(struct pnode *));
    }
    n->count = f->count;
    free(f->kids);
    f->kids = NULL;
    f->anchor = NULL;
    b->depth--;
    if (anchor != NULL && !anchor_put(b, anchor, n)) {
        free(anchor);
        return CAS_E_NOMEM;
    }
    /* the node was counted at its start; its subtree's weight now joins the parent */
    return attach(b, n) ? CAS_OK : CAS_E_NOMEM;
}

/* Returns 1 to go on, 0 at the end of the document, -1 on a problem (reported) or no memory. */
static int
on_event(struct builder *b, const yaml_event_t *ev, cas_rc *rc)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        *rc = on_scalar(b, ev);
        break;
    case YAML_ALIAS_EVENT:
        *rc = on_alias(b, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        *rc = on_start(b, ev);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        *rc = on_end(b);
        break;
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    default:
        break;
    }
    return *rc == CAS_OK ? 1 : -1;
}

static void
report_yaml_error(const yaml_parser_t *p, struct cas_policy_diags *d)
{
    const yaml_mark_t *m = &p->problem_mark;

    if (p->error == YAML_MEMORY_ERROR) {
        diag_add(d, 1, 1, CAS_POLICY_ERROR, "out of memory while reading the YAML");
        return;
    }
    if (p->context != NULL)
        diag_add(d, to_uint(m->line + 1), to_uint(m->column + 1), CAS_POLICY_ERROR,
                 "YAML syntax: %s %s (line %zu); fix the YAML", p->problem ? p->problem : "error",
                 p->context, p->context_mark.line + 1);
    else
        diag_add(d, to_uint(m->line + 1), to_uint(m->column + 1), CAS_POLICY_ERROR,
                 "YAML syntax: %s; fix the YAML", p->problem ? p->problem : "error");
}

cas_rc
ptree_build(const uint8_t *data, size_t len, struct arena *a, struct pnode **root,
            struct cas_policy_diags *d, struct cas_err *err)
{
    struct builder b;
    yaml_parser_t parser;
    yaml_event_t ev;
    cas_rc rc = CAS_OK;
    int docs = 0, state = 1;

    *root = NULL;
    if (data == NULL || len == 0) { /* an absent body: libyaml asserts on a NULL input */
        diag_add(d, 1, 1, CAS_POLICY_ERROR,
                 "the session is empty; a session is a YAML mapping with at least name and "
                 "version");
        return CAS_E_INVALID;
    }
    if (len > CAS_POLICY_MAX_DOC) {
        diag_add(d, 1, 1, CAS_POLICY_ERROR,
                 "the file has %zu bytes; a session is limited to %u (policy.md §1)", len,
                 CAS_POLICY_MAX_DOC);
        return CAS_E_INVALID;
    }
    if (!check_bytes(data, len, d))
        return CAS_E_INVALID;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 BOM (Windows editors) */
        data += 3;
        len -= 3;
    }
    memset(&b, 0, sizeof(b));
    b.a = a;
    b.d = d;
    if (!yaml_parser_initialize(&parser))
        return cas_err_set(err, CAS_E_NOMEM, "Cannot start the YAML parser");
    yaml_parser_set_input_string(&parser, data, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    for (;;) {
        if (!yaml_parser_parse(&parser, &ev)) {
            report_yaml_error(&parser, d);
            rc = CAS_E_INVALID;
            break;
        }
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_DOCUMENT_START_EVENT && docs++ > 0) {
            diag_add(d, to_uint(ev.start_mark.line + 1), to_uint(ev.start_mark.column + 1),
                     CAS_POLICY_ERROR,
                     "a second YAML document; a session file holds exactly one (remove the "
                     "'---' and what follows, or split the file)");
            yaml_event_delete(&ev);
            rc = CAS_E_INVALID;
            break;
        }
        if (state == 1)
            state = on_event(&b, &ev, &rc);
        yaml_event_delete(&ev);
        if (state < 0)
            break;
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < b.depth; i++) {
        free(b.stack[i].kids);
        free(b.stack[i].anchor);
    }
    for (size_t i = 0; i < b.anchor_cap; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    if (rc == CAS_E_NOMEM)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory while reading the session");
    if (rc != CAS_OK)
        return rc;
    if (b.root == NULL) {
        diag_add(d, 1, 1, CAS_POLICY_ERROR,
                 "the session is empty; a session is a YAML mapping with at least name and "
                 "version");
        return CAS_E_INVALID;
    }
    *root = b.root;
    return CAS_OK;
}
