/*
 * policy_secrets.c - secrets (policy.md §8), references to other sessions (§8.3) and the
 * resolution of placeholders against the declared secrets (§9). Explicit values are checked
 * (hex, PEM) and copied into struct cas_secret; no message here ever quotes a value.
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "policy_ck.h"
#include "policy_pem.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secret.h"

/* ---- references ---- */

static bool
name_ok(const char *s, bool allow_relative, bool *is_relative)
{
    size_t segs = 0;

    *is_relative = false;
    if (allow_relative) {
        if (strncmp(s, "./", 2) == 0) {
            s += 2;
            *is_relative = true;
        } else {
            while (strncmp(s, "../", 3) == 0) {
                s += 3;
                *is_relative = true;
            }
        }
    }
    if (*s == '\0' || strlen(s) > CAS_POLICY_MAX_NAME)
        return false;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || len > CAS_POLICY_MAX_SEGMENT || ++segs > CAS_POLICY_MAX_SEGMENTS ||
            (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        for (size_t i = 0; i < len; i++) {
            char ch = s[i];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '~' || ch == '-'))
                return false;
        }
        if (e == NULL)
            return true;
        s = e + 1;
    }
}

static bool
ref_session(struct ck *c, const struct pnode *at, const char *val, bool url,
            struct cas_policy_ref *r)
{
    bool rel;

    if (!name_ok(val, !url, &rel)) {
        ck_err(c, at, "'%.200s' is not a session name%s", val,
               url ? " (URL references take absolute names)" : " (a/b, ./child, ../sibling)");
        return false;
    }
    if (rel)
        ck_since(c, at, "a relative session reference", 10);
    r->session = ck_strdup(c, val);
    return true;
}

static bool
ref_namespace(struct ck *c, const struct pnode *at, const char *val, bool url,
              struct cas_policy_ref *r)
{
    bool rel;

    if (strcmp(val, "..") != 0 && !name_ok(val, !url, &rel)) {
        ck_err(c, at, "'%.200s' is not a namespace name", val);
        return false;
    }
    ck_since(c, at, "export to a namespace", 6);
    r->namespace = ck_strdup(c, val);
    return true;
}

static bool
ref_hash(struct ck *c, const struct pnode *at, const char *val, struct cas_policy_ref *r)
{
    if (strlen(val) != 64 || strspn(val, "0123456789abcdefABCDEF") != 64) {
        ck_err(c, at, "session_hash must be 64 hex digits");
        return false;
    }
    for (size_t i = 0; i <= 64; i++)
        r->session_hash[i] = (char)(val[i] >= 'A' && val[i] <= 'F' ? val[i] - 'A' + 'a' : val[i]);
    r->has_hash = true;
    return true;
}

/* One key=value of a reference, from a mapping or a URL string. */
static bool
ref_field(struct ck *c, const struct pnode *at, const char *key, const char *val, bool url,
          enum ref_use use, struct cas_policy_ref *r)
{
    if (strcmp(key, "cas_url") == 0 || strcmp(key, "cas_key") == 0 ||
        strcmp(key, "cas_software_key") == 0) {
        ck_later(c, at, key, 0);
        return false;
    }
    if (strcmp(key, "session") == 0)
        return ref_session(c, at, val, url, r);
    if (strcmp(key, "namespace") == 0 && use == REF_EXPORT)
        return ref_namespace(c, at, val, url, r);
    if (strcmp(key, "session_hash") == 0)
        return ref_hash(c, at, val, r);
    if (strcmp(key, "secret") == 0 && use == REF_IMPORT_SECRET)
        return (r->secret = ck_strdup(c, val)) != NULL;
    if (strcmp(key, "volume") == 0 && use == REF_IMPORT_VOLUME)
        return (r->volume = ck_strdup(c, val)) != NULL;
    ck_err(c, at, "'%s' is not a key of %s", key,
           use == REF_EXPORT          ? "an export (session, namespace, session_hash)"
           : use == REF_IMPORT_SECRET ? "a secret import (session, secret, session_hash)"
                                      : "a volume import (session, volume, session_hash)");
    return false;
}

static bool
ref_from_url(struct ck *c, const struct pnode *n, enum ref_use use, struct cas_policy_ref *r)
{
    const char *s = n->text;
    char key[32], val[1100];
    bool ok = true;

    if (s[0] != '/') {
        const char *slash = strchr(s, '/');
        if (slash != NULL && memchr(s, '=', (size_t)(slash - s)) == NULL)
            ck_later(c, n, "references to sessions on another CAS", 0);
        else
            ck_err(c, n,
                   "'%.200s' is not a reference; write {session: %.200s} or "
                   "\"/session=%.200s\"",
                   s, s, s);
        return false;
    }
    s++;
    while (*s != '\0') {
        const char *eq = strchr(s, '='), *end = strchr(s, ',');
        size_t kl, vl;
        if (end == NULL)
            end = s + strlen(s);
        if (eq == NULL || eq > end || (kl = (size_t)(eq - s)) == 0 || kl >= sizeof(key) ||
            (vl = (size_t)(end - eq - 1)) >= sizeof(val)) {
            ck_err(c, n, "a reference URL is /key=value[,key=value]…");
            return false;
        }
        memcpy(key, s, kl);
        key[kl] = '\0';
        memcpy(val, eq + 1, vl);
        val[vl] = '\0';
        ok = ref_field(c, n, key, val, true, use, r) && ok;
        s = *end == ',' ? end + 1 : end;
    }
    return ok;
}

static json_t *
ref_json(struct ck *c, const struct cas_policy_ref *r)
{
    json_t *o = ck_obj(c);

    if (r->session)
        ck_set(c, o, "session", ck_json_str(c, r->session));
    if (r->namespace)
        ck_set(c, o, "namespace", ck_json_str(c, r->namespace));
    if (r->has_hash)
        ck_set(c, o, "session_hash", ck_json_str(c, r->session_hash));
    if (r->secret)
        ck_set(c, o, "secret", ck_json_str(c, r->secret));
    if (r->volume)
        ck_set(c, o, "volume", ck_json_str(c, r->volume));
    return o;
}

bool
ck_ref(struct ck *c, const struct pnode *n, enum ref_use use, struct cas_policy_ref *r,
       json_t **out)
{
    bool ok = true;

    memset(r, 0, sizeof(*r));
    *out = NULL;
    r->pos.line = n->line;
    r->pos.column = n->col;
    if (n->type == PN_SCALAR) {
        ok = ref_from_url(c, n, use, r);
    } else if (n->type == PN_MAP) {
        for (size_t i = 0; i + 1 < n->count; i += 2) {
            const struct pnode *k = n->kids[i], *v = n->kids[i + 1];
            size_t mark;
            if (k->type != PN_SCALAR) { /* reported by the prepare pass */
                ok = false;
                continue;
            }
            mark = ck_push(c, k->text);
            if (ck_str(c, v) == NULL)
                ok = false;
            else
                ok = ref_field(c, k, k->text, v->text, false, use, r) && ok;
            ck_pop(c, mark);
        }
    } else {
        ck_err(c, n, "expected a reference {session: …} or \"/session=…\", found a list");
        return false;
    }
    if (!ok)
        return false;
    if (use == REF_EXPORT && (r->session == NULL) == (r->namespace == NULL)) {
        ck_err(c, n, "an export names exactly one of session or namespace");
        return false;
    }
    if (use != REF_EXPORT && r->session == NULL) {
        ck_err(c, n, "an import needs session: <exporting session>");
        return false;
    }
    if (use == REF_IMPORT_SECRET && r->secret == NULL) {
        ck_err(c, n, "an import needs secret: <name in the exporting session>");
        return false;
    }
    if (use == REF_IMPORT_VOLUME && r->volume == NULL) {
        ck_err(c, n, "a volume import needs volume: <name in the exporting session>");
        return false;
    }
    *out = ref_json(c, r);
    return true;
}

/* ---- secrets ---- */

static const struct keyspec secret_keys[] = {
    {"name", -1, K_OK, NULL},
    {"kind", -1, K_OK, NULL},
    {"value", -1, K_OK, NULL},
    {"import", -1, K_OK, NULL},
    {"export", -1, K_OK, NULL},
    {"export_public", -1, K_OK, NULL},
    {"size", -1, K_OK, NULL},
    {"key_type", 4, K_OK, NULL},
    {"migrate", 7, K_OK, NULL},
    {"private_key", -1, K_OK, NULL},
    {"issuer", -1, K_OK, NULL},
    {"common_name", -1, K_OK, NULL},
    {"valid_for", -1, K_OK, NULL},
    {"endpoint", -1, K_OK, NULL},
    {"dns", -1, K_OK, NULL},
    {"san", 10, K_OK, NULL},
    {"persistency", -1, K_DROP, NULL},
    {"import_akv", 7, K_LATER, NULL},
    {"decryption_key", 10, K_LATER, NULL},
    {NULL, 0, 0, NULL},
};

static const struct {
    const char *name;
    enum cas_policy_kind kind;
    int since;
} g_kinds[] = {
    {"ascii", CAS_POLICY_KIND_ASCII, 0},
    {"binary", CAS_POLICY_KIND_BINARY, 0},
    {"private-key", CAS_POLICY_KIND_PRIVATE_KEY, 0},
    {"public-key", CAS_POLICY_KIND_PUBLIC_KEY, 11},
    {"x509-ca", CAS_POLICY_KIND_X509_CA, 0},
    {"x509", CAS_POLICY_KIND_X509, 0},
    {"config-fragment", CAS_POLICY_KIND_CONFIG_FRAGMENT, 10},
};

/* Which parameters each kind takes (bit i: kind i of enum cas_policy_kind). */
#define KB(k) (1u << (k))
static const struct {
    const char *key;
    unsigned kinds;
} g_params[] = {
    {"size", KB(CAS_POLICY_KIND_ASCII) | KB(CAS_POLICY_KIND_BINARY)},
    {"key_type", KB(CAS_POLICY_KIND_PRIVATE_KEY)},
    {"migrate", KB(CAS_POLICY_KIND_PRIVATE_KEY)},
    {"private_key",
     KB(CAS_POLICY_KIND_PUBLIC_KEY) | KB(CAS_POLICY_KIND_X509) | KB(CAS_POLICY_KIND_X509_CA)},
    {"issuer", KB(CAS_POLICY_KIND_X509) | KB(CAS_POLICY_KIND_X509_CA)},
    {"common_name", KB(CAS_POLICY_KIND_X509) | KB(CAS_POLICY_KIND_X509_CA)},
    {"valid_for", KB(CAS_POLICY_KIND_X509) | KB(CAS_POLICY_KIND_X509_CA)},
    {"endpoint", KB(CAS_POLICY_KIND_X509)},
    {"dns", KB(CAS_POLICY_KIND_X509)},
    {"san", KB(CAS_POLICY_KIND_X509)},
};

static const char *
kind_name(enum cas_policy_kind k)
{
    for (size_t i = 0; i < sizeof(g_kinds) / sizeof(g_kinds[0]); i++)
        if (g_kinds[i].kind == k)
            return g_kinds[i].name;
    return "unknown";
}

static const char *const g_key_types[] = {"P-256", "P-384", "Ed25519", "RSA-2048", "RSA-3072"};

/* valid_for (policy.md §8.1): terms <integer><unit>, spaces allowed. */
static bool
parse_valid_for(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t secs;
    } units[] = {
        {"s", 1},          {"sec", 1},         {"secs", 1},         {"second", 1},
        {"seconds", 1},    {"m", 60},          {"min", 60},         {"mins", 60},
        {"minute", 60},    {"minutes", 60},    {"h", 3600},         {"hr", 3600},
        {"hrs", 3600},     {"hour", 3600},     {"hours", 3600},     {"d", 86400},
        {"day", 86400},    {"days", 86400},    {"w", 604800},       {"week", 604800},
        {"weeks", 604800}, {"M", 2630016},     {"month", 2630016},  {"months", 2630016},
        {"y", 31557600},   {"year", 31557600}, {"years", 31557600},
    };
    uint64_t total = 0;
    bool any = false;

    for (;;) {
        uint64_t v = 0, mul = 0;
        size_t ul = 0, digits = 0;
        while (*s == ' ')
            s++;
        if (*s == '\0')
            break;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 12)
                return false;
            v = v * 10 + (uint64_t)(*s++ - '0');
        }
        if (digits == 0)
            return false;
        while (*s == ' ')
            s++;
        while ((s[ul] >= 'a' && s[ul] <= 'z') || (s[ul] >= 'A' && s[ul] <= 'Z'))
            ul++;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].unit) == ul && strncmp(units[i].unit, s, ul) == 0)
                mul = units[i].secs;
        if (mul == 0)
            return false;
        s += ul;
        total += v * mul; /* v < 10^12 and mul < 2^25: no overflow per term; sum bounded below */
        if (total > UINT64_C(1) << 50)
            return false;
        any = true;
    }
    *out = total;
    return any;
}

/* 9999-12-31T23:59:59Z minus 2026-01-01T00:00:00Z: a static bound; casd checks at issue. */
#define VALID_FOR_MAX UINT64_C(251635075199)

static bool
kind_takes(const char *key, enum cas_policy_kind k)
{
    for (size_t i = 0; i < sizeof(g_params) / sizeof(g_params[0]); i++)
        if (strcmp(g_params[i].key, key) == 0)
            return (g_params[i].kinds & KB(k)) != 0;
    return true;
}

static void
check_kind(struct ck *c, struct cas_policy_secret *s, const struct pnode *n, bool *later)
{
    static const char *const later_kinds[] = {"pgp-key", "jwt", "aad-token"};
    static const int later_since[] = {10, 12, 7};
    size_t mark = ck_push(c, "kind");
    const char *best = NULL;
    size_t best_d = 3;

    if (ck_str(c, n) == NULL) {
        *later = true;
        goto out;
    }
    for (size_t i = 0; i < sizeof(g_kinds) / sizeof(g_kinds[0]); i++) {
        size_t d;
        if (strcmp(n->text, g_kinds[i].name) == 0) {
            s->kind = g_kinds[i].kind;
            if (g_kinds[i].since > 0)
                ck_since(c, n, g_kinds[i].name, g_kinds[i].since);
            goto out;
        }
        if ((d = edit_distance(n->text, g_kinds[i].name, 2)) < best_d) {
            best_d = d;
            best = g_kinds[i].name;
        }
    }
    *later = true;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(n->text, later_kinds[i]) == 0) {
            ck_later(c, n, later_kinds[i], later_since[i]);
            goto out;
        }
    }
    if (strcmp(n->text, "session-ca") == 0)
        ck_err(c, n,
               "secret kind 'session-ca' belongs to session language version 0.2, which "
               "is not supported by cas; use version: \"0.3\" and convert the file "
               "(session references, x509 private_key)");
    else
        ck_err(c, n,
               "unknown secret kind '%.64s'%s%s%s; kinds: ascii, binary, private-key, "
               "public-key, x509-ca, x509, config-fragment",
               n->text, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
out:
    ck_pop(c, mark);
}

static void
keep_value(struct ck *c, struct cas_policy_secret *s, const void *p, size_t len)
{
    struct cas_err err = {0};

    if (cas_secret_from(p, len, &s->value, &err) != CAS_OK)
        c->nomem = true;
}

static void
check_fragment_value(struct ck *c, struct cas_policy_secret *s, const struct pnode *v, json_t *o)
{
    json_t *j = ck_json_value(c, v);
    struct cas_buf b;

    if (j == NULL)
        return;
    s->fragment = j;
    /* the value as canonical JSON; the input and alias limits keep it far below this cap */
    cas_buf_init_secret(&b, 67108864u);
    canon_json(&b, j);
    if (b.failed)
        c->nomem = true;
    else if (b.len > CAS_POLICY_MAX_FRAGMENT)
        ck_err(c, v,
               "the config fragment has %zu bytes as JSON; a fragment is limited to %u (split "
               "it into several secrets)",
               b.len, CAS_POLICY_MAX_FRAGMENT);
    else
        keep_value(c, s, b.buf, b.len);
    cas_buf_release(&b);
    ck_set(c, o, "value", j);
}

static void
check_binary_value(struct ck *c, struct cas_policy_secret *s, const struct pnode *v, json_t *o)
{
    size_t n = v->len / 2;
    uint8_t *bytes;
    char *lower;

    if (v->len % 2 != 0 || v->len == 0 || n > 65536 || (bytes = cas_malloc(n)) == NULL) {
        ck_err(c, v, "a binary value is 2 to 131072 hex digits (1 to 65536 bytes)");
        return;
    }
    if (!cas_hex_decode_exact(v->text, v->len, bytes, n)) {
        ck_err(c, v, "a binary value is written in hex digits");
    } else {
        keep_value(c, s, bytes, n);
        if ((lower = arena_strndup(c->a, v->text, v->len)) != NULL) {
            for (char *q = lower; *q; q++)
                if (*q >= 'A' && *q <= 'F')
                    *q = (char)(*q - 'A' + 'a');
            ck_set(c, o, "value", ck_json_str(c, lower));
        }
    }
    OPENSSL_cleanse(bytes, n);
    free(bytes);
}

/* Keys and certificates: PEM of the kind's type (§8 table), kept as written. */
static void
check_pem_value(struct ck *c, struct cas_policy_secret *s, const struct pnode *v, json_t *o)
{
    enum cas_policy_key_type kt;

    if (s->kind == CAS_POLICY_KIND_PRIVATE_KEY) {
        if (!pem_private_key(v->text, v->len, &kt))
            ck_err(c, v,
                   "expected an unencrypted PEM PKCS#8 private key (-----BEGIN PRIVATE "
                   "KEY-----) of type P-256, P-384, Ed25519, RSA-2048 or RSA-3072");
        else
            s->key_type = kt;
    } else if (s->kind == CAS_POLICY_KIND_PUBLIC_KEY) {
        if (!pem_public_key(v->text, v->len))
            ck_err(c, v, "expected a PEM public key (-----BEGIN PUBLIC KEY-----)");
    } else if (pem_cert_count(v->text, v->len) == 0) {
        ck_err(c, v, "expected PEM certificates: the certificate, then its chain");
    }
    keep_value(c, s, v->text, v->len);
    ck_set(c, o, "value", ck_json_str(c, v->text));
}

static void
check_value(struct ck *c, struct cas_policy_secret *s, const struct pnode *v, json_t *o)
{
    size_t mark = ck_push(c, "value");

    s->source = CAS_POLICY_EXPLICIT;
    if (s->kind == CAS_POLICY_KIND_CONFIG_FRAGMENT) {
        check_fragment_value(c, s, v, o);
    } else if (ck_str(c, v) == NULL) {
        ;
    } else if (s->kind == CAS_POLICY_KIND_ASCII) {
        (void)ck_plain_str(c, v);
        keep_value(c, s, v->text, v->len);
        ck_set(c, o, "value", ck_json_str(c, v->text));
    } else if (s->kind == CAS_POLICY_KIND_BINARY) {
        check_binary_value(c, s, v, o);
    } else {
        check_pem_value(c, s, v, o);
    }
    ck_pop(c, mark);
}

static void
check_valid_for(struct ck *c, struct cas_policy_secret *s, const struct pnode *f, json_t *o)
{
    size_t mark = ck_push(c, "valid_for");

    if (ck_str(c, f) == NULL)
        ;
    else if (!parse_valid_for(f->text, &s->valid_for_s))
        ck_err(c, f,
               "expected a duration such as '90 days', '59d' or '1 year 6 months' (units s, m, h, "
               "d, w, M, y)");
    else if (s->valid_for_s < 3600 || s->valid_for_s > VALID_FOR_MAX)
        ck_err(c, f, "must be at least 1 hour and end before the year 9999");
    else {
        s->valid_for = f->text;
        ck_set(c, o, "valid_for", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
}

static void
check_endpoint(struct ck *c, struct cas_policy_secret *s, const struct pnode *f, json_t *o)
{
    size_t mark = ck_push(c, "endpoint");

    if (ck_str(c, f) != NULL) {
        if (strcmp(f->text, "server") == 0)
            s->endpoint = CAS_POLICY_EP_SERVER;
        else if (strcmp(f->text, "client") == 0)
            s->endpoint = CAS_POLICY_EP_CLIENT;
        else
            ck_err(c, f, "expected server or client");
        ck_set(c, o, "endpoint", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
}

/* A dns entry (any non-empty name) or a san entry ("dns:<name>", "ip:<address>"). */
static bool
name_entry_ok(const struct pnode *it, bool is_san)
{
    unsigned char buf[16];

    if (!is_san)
        return it->len > 0;
    if (strncmp(it->text, "dns:", 4) == 0)
        return it->len > 4;
    if (strncmp(it->text, "ip:", 3) == 0)
        return inet_pton(AF_INET, it->text + 3, buf) == 1 ||
               inet_pton(AF_INET6, it->text + 3, buf) == 1;
    return false;
}

static void
check_name_list(struct ck *c, const struct pnode *f, bool is_san, const char ***list, size_t *cnt,
                json_t *o)
{
    const char *key = is_san ? "san" : "dns";
    struct pnode *const *items;
    size_t k = ck_many(f, &items), mark = ck_push(c, key);
    json_t *arr = ck_arr(c);

    if ((*list = ck_alloc(c, (k ? k : 1) * sizeof(char *))) == NULL)
        k = 0;
    for (size_t i = 0; i < k; i++) {
        const struct pnode *it = items ? items[i] : f;
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        if (ck_str(c, it) == NULL) {
            ;
        } else if (!name_entry_ok(it, is_san)) {
            ck_err(c, it,
                   is_san ? "a san entry is \"dns:<name>\" or \"ip:<IPv4 or IPv6>\""
                          : "a DNS name must not be empty");
        } else {
            (*list)[(*cnt)++] = it->text;
            ck_append(c, arr, ck_json_str(c, it->text));
        }
        ck_pop(c, m2);
    }
    ck_set_nonempty(c, o, key, arr);
    ck_pop(c, mark);
}

static void
check_x509_params(struct ck *c, struct cas_policy_secret *s, const struct pnode *n, json_t *o)
{
    const struct pnode *f;

    if ((f = pn_get(n, "valid_for")) != NULL)
        check_valid_for(c, s, f, o);
    if ((f = pn_get(n, "endpoint")) != NULL)
        check_endpoint(c, s, f, o);
    if ((f = pn_get(n, "dns")) != NULL && !pn_is_null(f))
        check_name_list(c, f, false, &s->dns, &s->dns_count, o);
    if ((f = pn_get(n, "san")) != NULL && !pn_is_null(f))
        check_name_list(c, f, true, &s->san, &s->san_count, o);
    if (s->endpoint == CAS_POLICY_EP_CLIENT && s->dns_count > 0)
        ck_err(c, pn_get(n, "dns"),
               "dns is not allowed with endpoint: client; use san or remove "
               "dns");
}

/* Parameters the kind does not take (or any, on an import). */
static void
check_foreign_params(struct ck *c, const struct cas_policy_secret *s, const struct pnode *n)
{
    for (size_t i = 0; i + 1 < n->count; i += 2) {
        const char *key = n->kids[i]->text;
        size_t mark;
        if (n->kids[i]->type != PN_SCALAR || kind_takes(key, s->kind))
            continue;
        mark = ck_push(c, key);
        if (s->source == CAS_POLICY_IMPORTED)
            ck_err(c, n->kids[i],
                   "an imported secret takes its parameters from its owner; "
                   "remove '%s'",
                   key);
        else
            ck_err(c, n->kids[i], "'%s' is not a parameter of kind '%s'; remove it", key,
                   kind_name(s->kind));
        ck_pop(c, mark);
    }
}

static void
check_size(struct ck *c, struct cas_policy_secret *s, const struct pnode *f, json_t *o)
{
    unsigned long v = 20;
    size_t mark = ck_push(c, "size");

    if (f != NULL)
        (void)ck_uint(c, f, 1, 65536, &v);
    if (f != NULL || s->source == CAS_POLICY_GENERATED) { /* the default only when generated */
        s->size = (unsigned)v;
        ck_set(c, o, "size", ck_int(c, v));
    }
    ck_pop(c, mark);
}

static void
check_key_type(struct ck *c, struct cas_policy_secret *s, const struct pnode *f, json_t *o)
{
    size_t mark = ck_push(c, "key_type"), k = 0;

    if (f != NULL && ck_str(c, f) != NULL) {
        while (k < 5 && strcmp(f->text, g_key_types[k]) != 0)
            k++;
        if (k == 5)
            ck_err(c, f, "expected P-256, P-384, Ed25519, RSA-2048 or RSA-3072");
        else if (s->source == CAS_POLICY_EXPLICIT && s->value != NULL &&
                 s->key_type != (enum cas_policy_key_type)k)
            ck_err(c, f, "the explicit value is a %s key, not %s", g_key_types[s->key_type],
                   f->text);
        else {
            if (k >= 3)
                ck_since(c, f, "key_type RSA", 7);
            s->key_type = (enum cas_policy_key_type)k;
        }
    }
    if (f != NULL || s->source == CAS_POLICY_GENERATED)
        ck_set(c, o, "key_type", ck_json_str(c, g_key_types[s->key_type]));
    ck_pop(c, mark);
}

/* private_key and issuer (names of secrets, checked once all are read), common_name. */
static void
check_ref_params(struct ck *c, struct cas_policy_secret *s, const struct pnode *n, json_t *o)
{
    static const char *const refs[] = {"private_key", "issuer", "common_name"};
    const char **dst[] = {&s->private_key, &s->issuer, &s->common_name};

    for (size_t i = 0; i < 3; i++) {
        const struct pnode *f = pn_get(n, refs[i]);
        size_t mark;
        if (!kind_takes(refs[i], s->kind) || f == NULL || pn_is_null(f))
            continue;
        mark = ck_push(c, refs[i]);
        if ((i < 2 ? ck_segment(c, f, "a secret") : ck_plain_str(c, f) != NULL)) {
            *dst[i] = f->text;
            ck_set(c, o, refs[i], ck_json_str(c, f->text));
        }
        ck_pop(c, mark);
    }
}

static void
check_params(struct ck *c, struct cas_policy_secret *s, const struct pnode *n, json_t *o)
{
    const struct pnode *f;

    check_foreign_params(c, s, n);
    if (s->kind == CAS_POLICY_KIND_ASCII || s->kind == CAS_POLICY_KIND_BINARY)
        check_size(c, s, pn_get(n, "size"), o);
    if (s->kind == CAS_POLICY_KIND_PRIVATE_KEY) {
        size_t mark;
        check_key_type(c, s, pn_get(n, "key_type"), o);
        mark = ck_push(c, "migrate");
        if ((f = pn_get(n, "migrate")) != NULL && ck_bool(c, f, &s->migrate) && s->migrate)
            ck_set(c, o, "migrate", json_true());
        ck_pop(c, mark);
    }
    check_ref_params(c, s, n, o);
    if (s->kind == CAS_POLICY_KIND_X509 || s->kind == CAS_POLICY_KIND_X509_CA)
        check_x509_params(c, s, n, o);
}

/* The source: import, explicit value, or generated (the default). */
static void
check_source(struct ck *c, struct cas_policy_secret *s, const struct pnode *n, json_t *o)
{
    const struct pnode *val = pn_get(n, "value"), *imp = pn_get(n, "import");
    json_t *ro = NULL;
    size_t mark;

    if (imp != NULL) {
        s->source = CAS_POLICY_IMPORTED;
        mark = ck_push(c, "import");
        if (ck_ref(c, imp, REF_IMPORT_SECRET, &s->import, &ro))
            ck_set(c, o, "import", ro);
        ck_pop(c, mark);
        if (pn_get(n, "export") != NULL || pn_get(n, "export_public") != NULL)
            ck_err(c, n,
                   "an imported secret cannot be exported again (export, export_public): "
                   "only its owner decides who sees it");
    } else if (val != NULL) {
        check_value(c, s, val, o);
    } else if (s->kind == CAS_POLICY_KIND_CONFIG_FRAGMENT) {
        ck_err(c, n, "a config-fragment is never generated; give value: or import:");
    }
}

static void
check_exports(struct ck *c, struct cas_policy_secret *s, const struct pnode *f, json_t *o)
{
    struct pnode *const *items;
    size_t k = ck_many(f, &items), mark = ck_push(c, "export");
    json_t *ea = ck_arr(c), *ro;

    if ((s->exports = ck_alloc(c, (k ? k : 1) * sizeof(*s->exports))) == NULL)
        k = 0;
    for (size_t i = 0; i < k; i++) {
        size_t m2 = items ? ck_push_i(c, i) : c->plen;
        if (ck_ref(c, items ? items[i] : f, REF_EXPORT, &s->exports[s->export_count], &ro)) {
            s->export_count++;
            ck_append(c, ea, ro);
        }
        ck_pop(c, m2);
    }
    ck_set_nonempty(c, o, "export", ea);
    ck_pop(c, mark);
}

static void
check_export_public(struct ck *c, struct cas_policy_secret *s, const struct pnode *f, json_t *o)
{
    size_t mark = ck_push(c, "export_public");

    if (ck_bool(c, f, &s->export_public) && s->export_public) {
        ck_set(c, o, "export_public", json_true());
        if (s->kind == CAS_POLICY_KIND_PRIVATE_KEY)
            ck_warn(c, f,
                    "export_public makes this private key readable by anyone; export a "
                    "public-key secret derived from it instead");
    }
    ck_pop(c, mark);
}

/* The kind, required except on import; false when the secret cannot be checked further. */
static bool
check_kind_given(struct ck *c, struct cas_policy_secret *s, const struct pnode *n, json_t *o)
{
    const struct pnode *f = pn_get(n, "kind");
    bool later = false;

    if (pn_get(n, "import_akv") != NULL) /* reported as later by ck_keys */
        return false;
    if (f != NULL) {
        check_kind(c, s, f, &later);
        if (!later)
            ck_set(c, o, "kind", ck_json_str(c, f->text));
        return !later;
    }
    if (pn_get(n, "import") != NULL)
        return true;
    ck_err(c, n,
           "'kind' is required (except on import); add kind: ascii, binary, private-key, "
           "public-key, x509-ca, x509 or config-fragment");
    return false;
}

static void
check_secret(struct ck *c, void *item, const struct pnode *n, json_t *arr)
{
    struct cas_policy_secret *s = item;
    const struct pnode *f;
    json_t *o;
    size_t mark;

    s->pos.line = n->line;
    s->pos.column = n->col;
    if (!ck_keys(c, n, secret_keys, "a secret") || (o = ck_obj(c)) == NULL)
        return;
    mark = ck_push(c, "name");
    if ((f = pn_get(n, "name")) == NULL)
        ck_err(c, n, "is required; add name: <secret name>");
    else if (ck_segment(c, f, "a secret")) {
        s->name = f->text;
        ck_set(c, o, "name", ck_json_str(c, f->text));
    }
    ck_pop(c, mark);
    if (pn_get(n, "value") != NULL && pn_get(n, "import") != NULL)
        ck_err(c, n, "a secret has one source: give value or import, not both");
    if (check_kind_given(c, s, n, o)) {
        check_source(c, s, n, o);
        check_params(c, s, n, o);
        if (s->source == CAS_POLICY_GENERATED && s->private_key == NULL &&
            (s->kind == CAS_POLICY_KIND_PUBLIC_KEY || s->kind == CAS_POLICY_KIND_X509 ||
             s->kind == CAS_POLICY_KIND_X509_CA))
            ck_err(c, n, "a generated %s needs private_key: <name of a private-key secret>",
                   kind_name(s->kind));
        if ((f = pn_get(n, "export")) != NULL && !pn_is_null(f) && s->source != CAS_POLICY_IMPORTED)
            check_exports(c, s, f, o);
        if ((f = pn_get(n, "export_public")) != NULL && s->source != CAS_POLICY_IMPORTED)
            check_export_public(c, s, f, o);
    }
    ck_append(c, arr, o);
}

/* qsort_r (glibc): the comparator gets the policy, so parsing stays reentrant. */
static int
cmp_secret(const void *a, const void *b, void *ctx)
{
    const struct cas_policy *p = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int r = strcmp(p->secrets[x].name, p->secrets[y].name);

    return r != 0 ? r : (x < y ? -1 : x > y);
}

static void
index_secrets(struct ck *c)
{
    struct cas_policy *p = c->p;
    struct cas_policy_impl *im = p->impl;
    size_t n = 0;

    if ((im->secret_order =
             ck_alloc(c, (p->secret_count ? p->secret_count : 1) * sizeof(size_t))) == NULL)
        return;
    for (size_t i = 0; i < p->secret_count; i++)
        if (p->secrets[i].name != NULL)
            im->secret_order[n++] = i;
    qsort_r(im->secret_order, n, sizeof(size_t), cmp_secret, p);
    im->secret_named = n;
    for (size_t i = 1; i < n; i++) {
        const struct cas_policy_secret *a = &p->secrets[im->secret_order[i - 1]],
                                       *b = &p->secrets[im->secret_order[i]];
        if (strcmp(a->name, b->name) == 0) {
            struct pnode at = {.line = b->pos.line, .col = b->pos.column};
            ck_err_raw(c, &at,
                       "secrets[%zu]: duplicate secret name '%s' (also secrets[%zu]); "
                       "names must be unique",
                       im->secret_order[i], b->name, im->secret_order[i - 1]);
        }
    }
}

const struct cas_policy_secret *
cas_policy_secret_find(const struct cas_policy *p, const char *name)
{
    const struct cas_policy_impl *im = p->impl;
    size_t lo = 0, hi = im ? im->secret_named : 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct cas_policy_secret *s = &p->secrets[im->secret_order[mid]];
        int r = strcmp(name, s->name);
        if (r == 0)
            return s;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The secret a reference parameter names, if it has the kind wanted (reported otherwise). */
static const struct cas_policy_secret *
referenced(struct ck *c, size_t i, const char *param, const char *name, enum cas_policy_kind want)
{
    const struct cas_policy_secret *s = &c->p->secrets[i], *t;
    struct pnode at = {.line = s->pos.line, .col = s->pos.column};

    if ((t = cas_policy_secret_find(c->p, name)) == NULL) {
        ck_err_raw(c, &at, "secrets[%zu].%s: no secret named '%s'; declare it with kind: %s", i,
                   param, name, kind_name(want));
        return NULL;
    }
    if (t->kind != want && t->kind != CAS_POLICY_KIND_UNKNOWN) {
        ck_err_raw(c, &at, "secrets[%zu].%s: secret '%s' is of kind %s, not %s", i, param, name,
                   kind_name(t->kind), kind_name(want));
        return NULL;
    }
    return t;
}

static void
check_secret_refs(struct ck *c)
{
    struct cas_policy *p = c->p;

    for (size_t i = 0; i < p->secret_count; i++) {
        const struct cas_policy_secret *s = &p->secrets[i], *k;
        struct pnode at = {.line = s->pos.line, .col = s->pos.column};
        bool is_cert = s->kind == CAS_POLICY_KIND_X509 || s->kind == CAS_POLICY_KIND_X509_CA;

        k = s->private_key == NULL
                ? NULL
                : referenced(c, i, "private_key", s->private_key, CAS_POLICY_KIND_PRIVATE_KEY);
        if (s->issuer != NULL)
            (void)referenced(c, i, "issuer", s->issuer, CAS_POLICY_KIND_X509_CA);
        if (k == NULL || !is_cert || s->source != CAS_POLICY_EXPLICIT)
            continue;
        if (k->source == CAS_POLICY_GENERATED) {
            diag_add(c->d, at.line, at.col,
                     c->opt->fail_on_warning ? CAS_POLICY_ERROR : CAS_POLICY_WARNING,
                     "secrets[%zu]: the explicit certificate cannot match private_key '%s', "
                     "which is generated; give the key's value or import it",
                     i, s->private_key);
        } else if (k->source == CAS_POLICY_EXPLICIT && s->value != NULL && k->value != NULL) {
            size_t kl, cl;
            const uint8_t *kp = cas_secret_peek(k->value, &kl),
                          *cp = cas_secret_peek(s->value, &cl);
            if (!pem_key_matches_cert((const char *)kp, kl, (const char *)cp, cl))
                ck_err_raw(c, &at,
                           "secrets[%zu].value: the certificate does not match private_key "
                           "'%s'",
                           i, s->private_key);
        }
    }
}

void
ck_secrets(struct ck *c, const struct pnode *n, json_t *top)
{
    json_t *arr = ck_list_section(c, n, "secrets", CAS_POLICY_MAX_SECRETS, sizeof(*c->p->secrets),
                                  (void **)&c->p->secrets, &c->p->secret_count, check_secret);

    index_secrets(c);
    check_secret_refs(c);
    ck_set(c, top, "secrets", arr);
}

/* ---- placeholders against secrets (§9) ---- */

static bool
format_allowed(enum cas_policy_kind k, enum cas_policy_format f)
{
    switch (k) {
    case CAS_POLICY_KIND_BINARY:
        return f == CAS_FMT_DEFAULT || f == CAS_FMT_BIN || f == CAS_FMT_HEX ||
               f == CAS_FMT_BASE64 || f == CAS_FMT_BASE64URL || f == CAS_FMT_BASE32 ||
               f == CAS_FMT_BASE32NOPAD;
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return f == CAS_FMT_DEFAULT || f == CAS_FMT_PKCS8_PEM || f == CAS_FMT_PKCS8_DER;
    case CAS_POLICY_KIND_PUBLIC_KEY:
        return f == CAS_FMT_DEFAULT || f == CAS_FMT_SPKI_PEM || f == CAS_FMT_SPKI_DER;
    case CAS_POLICY_KIND_X509:
    case CAS_POLICY_KIND_X509_CA:
        return f == CAS_FMT_DEFAULT || f == CAS_FMT_CRT_PEM || f == CAS_FMT_CRT_DER ||
               f == CAS_FMT_PRIVKEY_PEM || f == CAS_FMT_PRIVKEY_DER || f == CAS_FMT_CHAIN ||
               f == CAS_FMT_PKCS12 || f == CAS_FMT_OLD_CHAIN;
    case CAS_POLICY_KIND_UNKNOWN:
        return true; /* an import without kind: checked when the server knows the kind */
    default:
        return f == CAS_FMT_DEFAULT;
    }
}

static enum cas_policy_format
effective_format(enum cas_policy_kind k, enum cas_policy_format f)
{
    if (f != CAS_FMT_DEFAULT)
        return f;
    return k == CAS_POLICY_KIND_BINARY ? CAS_FMT_BIN : CAS_FMT_DEFAULT;
}

/* `NAME.SUFFIX` of SCONE's old placeholders, when NAME.SUFFIX itself is no secret. */
static const struct cas_policy_secret *
resolve_old_suffix(const struct cas_policy *p, struct cas_policy_placeholder *ph)
{
    static const struct {
        const char *suffix;
        enum cas_policy_format f;
    } old[] = {{"crt", CAS_FMT_CRT_PEM},
               {"key", CAS_FMT_PRIVKEY_PEM},
               {"chain", CAS_FMT_OLD_CHAIN},
               {"hex", CAS_FMT_HEX}};
    char *dot = strrchr(ph->name, '.');
    const struct cas_policy_secret *s;

    if (dot == NULL || ph->has_format)
        return NULL;
    for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
        if (strcmp(dot + 1, old[i].suffix) != 0)
            continue;
        memcpy(ph->secret, ph->name, (size_t)(dot - ph->name));
        ph->secret[dot - ph->name] = '\0';
        if ((s = cas_policy_secret_find(p, ph->secret)) == NULL) {
            memcpy(ph->secret, ph->name, sizeof(ph->secret));
            return NULL;
        }
        ph->format = old[i].f;
        ph->old_suffix = true;
        return s;
    }
    return NULL;
}

/* Whether the placeholder's output fits where it is used (§9: binary output only in files). */
static void
check_output(struct ck *c, const struct ph_use *u, const struct cas_policy_secret *s)
{
    const struct cas_policy_placeholder *ph = u->ph;
    enum cas_policy_format ef = effective_format(s->kind, ph->format);
    struct pnode at = {.line = u->line, .col = u->col};
    const char *where;

    if (!cas_policy_format_is_binary(ef) || (u->flags & PH_FSPF) != 0 ||
        ((u->flags & (PH_NO_BINARY | PH_STRUCT)) == 0 && !ph->escape_json))
        return;
    where = ph->escape_json               ? "with escape(json)"
            : (u->flags & PH_STRUCT) != 0 ? "in this position"
                                          : "in command, environment and pwd";
    ck_err_raw(c, &at,
               "%s: '$$%s::%s…$$' gives binary output (%s), which is refused %s; use a text "
               "format such as %s",
               u->path ? u->path : "", ph->cas_prefix ? "CAS" : "SCONE", ph->name,
               cas_policy_format_name(ef), where,
               s->kind == CAS_POLICY_KIND_BINARY ? ":hex or :base64" : ":pem or :crt");
}

static void
resolve_use(struct ck *c, const struct ph_use *u)
{
    struct cas_policy_placeholder *ph = u->ph;
    const struct cas_policy_secret *s = cas_policy_secret_find(c->p, ph->name);
    struct pnode at = {.line = u->line, .col = u->col};
    const char *path = u->path ? u->path : "";

    if (s == NULL && (s = resolve_old_suffix(c->p, ph)) == NULL) {
        ck_err_raw(c, &at,
                   "%s: placeholder '$$%s::%s$$' names secret '%s', which this session does not "
                   "declare; add it to secrets (or import it)",
                   path, ph->cas_prefix ? "CAS" : "SCONE", ph->name, ph->name);
        return;
    }
    if (!format_allowed(s->kind, ph->format)) {
        ck_err_raw(c, &at,
                   "%s: placeholder '%.*s': secret '%s' of kind %s has no such format (policy.md "
                   "§9 lists each kind's formats)",
                   path, (int)(ph->len > 300 ? 300 : ph->len), u->src + ph->offset, s->name,
                   kind_name(s->kind));
        return;
    }
    if (s->kind == CAS_POLICY_KIND_UNKNOWN)
        return; /* an import without kind: the server checks with the exporter's kind */
    check_output(c, u, s);
    if ((u->flags & PH_FSPF) != 0 &&
        (s->kind != CAS_POLICY_KIND_BINARY ||
         (s->source == CAS_POLICY_GENERATED && s->size != 32) ||
         (s->source == CAS_POLICY_EXPLICIT && s->value != NULL && cas_secret_len(s->value) != 32)))
        ck_err_raw(c, &at,
                   "%s: fspf_key must name a 32-byte binary secret (kind: binary, size: 32)", path);
}

void
ck_resolve_placeholders(struct ck *c)
{
    for (size_t i = 0; i < c->use_count; i++)
        resolve_use(c, &c->uses[i]);
}
