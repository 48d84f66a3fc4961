/*
 * cmd_session.c - the session commands that talk to a CAS (api.md §3.3): create, update, read,
 * delete, list and verify, and `cas values get` (§3.4). Uploads send the normalised session and
 * print the hash only after checking it equals the hash computed here for what was sent.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casconn.h"
#include "cli.h"
#include "client/https.h"
#include "client/identity.h"
#include "client/state.h"
#include "policy/policy.h"
#include "session_file.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"

/* The CLI state, the CAS and (when wanted) the identity of one command. */
struct conn {
    struct cas_cli_state st;
    struct cas_cli_cas cas;
    struct cas_cli_identity id;
    bool has_state, has_cas;
};

static void
conn_release(struct conn *c)
{
    if (c->has_cas)
        cas_cli_cas_release(&c->cas);
    cas_cli_identity_release(&c->id);
    if (c->has_state)
        cas_cli_state_release(&c->st);
}

static int
conn_open(struct cas_cli *cli, const struct cas_session_opts *o, bool want_identity, struct conn *c)
{
    struct cas_err err = {0};
    int s;

    memset(c, 0, sizeof(*c));
    if (cas_cli_state_load(cli->config, &c->st, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    c->has_state = true;
    if ((s = cas_cli_cas_open(&c->st, o->cas, o->cas_cert, &c->cas)) != CAS_EXIT_OK)
        return s;
    c->has_cas = true;
    if (!want_identity)
        return CAS_EXIT_OK;
    if (o->identity != NULL ? cas_cli_identity_load_file(o->identity, false, &c->id, &err)
                            : cas_cli_identity_ensure(&c->st, &c->id, &err)) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}

/* Prints the server's {"msg": [...]}: the first line as is, `L:C: TEXT` problems with FILE. */
static void
print_server_error(const struct cas_https_response *r, const char *file)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL), *msgs = json_object_get(j, "msg");
    size_t i;
    json_t *m;

    if (!json_is_array(msgs)) {
        cas_cli_error("the CAS answered HTTP status %ld", r->status);
        json_decref(j);
        return;
    }
    json_array_foreach(msgs, i, m)
    {
        const char *t = json_string_value(m);
        unsigned line, col;
        int n = 0;
        if (t == NULL)
            continue;
        if (i > 0 && file != NULL && sscanf(t, "%u:%u: %n", &line, &col, &n) == 2 && n > 0)
            fprintf(stderr, "%s:%u:%u: error: %s\n", file, line, col, t + n);
        else
            cas_cli_error("%s", t);
    }
    json_decref(j);
}

/* GET /v1/sessions/NAME[?hash=]: the answer object, or NULL after printing why not. */
static json_t *
get_session(struct conn *c, const char *name, const char *hash, const char *file, long *status_out,
            struct cas_https_response *keep)
{
    struct cas_https_response r = {0};
    char path[2048];
    json_t *j = NULL;

    (void)snprintf(path, sizeof(path), "/v1/sessions/%s%s%s", name, hash ? "?hash=" : "",
                   hash ? hash : "");
    if (cas_cli_cas_call(&c->cas, "GET", path, NULL, 0, &c->id, 3, &r) != CAS_EXIT_OK)
        return NULL;
    *status_out = r.status;
    if (r.status == 200)
        j = json_loadb(r.body, r.body_len, JSON_REJECT_DUPLICATES, NULL);
    if (keep != NULL && r.status != 200)
        *keep = r;
    else
        cas_https_response_release(&r);
    (void)file;
    return j;
}

/* ---- create and update ---- */

static int
upload(struct cas_cli *cli, int argc, char **argv, bool is_update)
{
    const char *cmd = is_update ? "session update" : "session create";
    struct cas_session_opts o;
    struct conn c = {0};
    struct cas_policy *p = NULL, *p2 = NULL;
    struct cas_https_response r = {0};
    struct cas_err err = {0};
    char *yaml = NULL, local_hash[65];
    size_t yaml_len = 0;
    uint8_t digest[32];
    json_t *ans = NULL;
    int s;

    if ((s = cas_session_opts_parse(cmd, SO_VARS | SO_CAS | SO_IDENTITY, 1, 1, argc, argv, &o)) !=
        CAS_EXIT_OK)
        return s;
    if ((s = cas_session_load(&o, &p)) != CAS_EXIT_OK) {
        cas_session_opts_release(&o);
        return s;
    }
    if ((s = conn_open(cli, &o, true, &c)) != CAS_EXIT_OK)
        goto out;
    s = CAS_EXIT_FAIL;
    if (is_update && !p->has_predecessor) {
        /* api.md §3.3: fill in the active session's hash, which needs `read`. */
        long st = 0;
        json_t *cur = get_session(&c, p->name, NULL, NULL, &st, NULL);
        struct cas_buf b;
        if (cur == NULL) {
            if (st == 404)
                cas_cli_error("cannot fill in 'predecessor': your identity may not read session "
                              "'%s'; write the predecessor into the file",
                              p->name);
            goto out;
        }
        if (cas_policy_emit_yaml(p, c.id.key_hash, &yaml, &yaml_len, &err) != CAS_OK) {
            json_decref(cur);
            cas_cli_error_chain(&err);
            goto out;
        }
        cas_buf_init_secret(&b, 4u * 1024 * 1024);
        cas_buf_add(&b, yaml, yaml_len);
        {
            const char *h = json_string_value(json_object_get(cur, "hash"));
            cas_buf_addf(&b, "predecessor: \"%s\"\n", h != NULL ? h : "");
        }
        json_decref(cur);
        OPENSSL_cleanse(yaml, yaml_len);
        free(yaml);
        yaml = NULL;
        s = b.failed
                ? CAS_EXIT_FAIL
                : cas_session_parse_text(&o, o.operands[0], (const uint8_t *)b.buf, b.len, &p2);
        cas_buf_release(&b);
        if (s != CAS_EXIT_OK)
            goto out;
        s = CAS_EXIT_FAIL;
        cas_policy_free(p);
        p = p2;
        p2 = NULL;
    }
    if (cas_policy_emit_yaml(p, c.id.key_hash, &yaml, &yaml_len, &err) != CAS_OK ||
        cas_policy_hash(p, c.id.key_hash, digest, local_hash, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        goto out;
    }
    if (cas_cli_cas_call(&c.cas, "POST", "/v1/sessions", yaml, yaml_len, &c.id, o.retries, &r) !=
        CAS_EXIT_OK)
        goto out;
    if (r.status != 200 && r.status != 201) {
        print_server_error(&r, o.operands[0]);
        goto out;
    }
    ans = json_loadb(r.body, r.body_len, 0, NULL);
    {
        const char *h = json_string_value(json_object_get(ans, "hash"));
        json_t *w = json_object_get(ans, "warnings"), *m;
        size_t i;
        json_array_foreach(w, i, m) fprintf(stderr, "warning: %s\n", json_string_value(m));
        if (h == NULL || strcmp(h, local_hash) != 0) {
            cas_cli_error("CAS returned hash %s, expected %s", h != NULL ? h : "(none)",
                          local_hash);
            goto out;
        }
        printf("%s\n", h);
    }
    s = CAS_EXIT_OK;
out:
    json_decref(ans);
    cas_https_response_release(&r);
    if (yaml != NULL) {
        OPENSSL_cleanse(yaml, yaml_len);
        free(yaml);
    }
    cas_policy_free(p);
    cas_policy_free(p2);
    conn_release(&c);
    cas_session_opts_release(&o);
    return s;
}

int
cas_cmd_session_create(struct cas_cli *cli, int argc, char **argv)
{
    return upload(cli, argc, argv, false);
}

int
cas_cmd_session_update(struct cas_cli *cli, int argc, char **argv)
{
    return upload(cli, argc, argv, true);
}

/* ---- read, delete, list ---- */

static int
simple_call(struct cas_cli *cli, const char *cmd, int argc, char **argv, const char *method)
{
    struct cas_session_opts o;
    struct conn c = {0};
    struct cas_https_response r = {0};
    char path[2300];
    bool is_read = strcmp(cmd, "session read") == 0, is_list = strcmp(cmd, "session list") == 0;
    int s;

    if ((s = cas_session_opts_parse(cmd, SO_CAS | SO_IDENTITY | (is_read ? SO_HASH : 0u), 1, 1,
                                    argc, argv, &o)) != CAS_EXIT_OK)
        return s;
    if (o.hash != NULL &&
        (strlen(o.hash) != 64 || strspn(o.hash, "0123456789abcdefABCDEF") != 64)) {
        cas_session_opts_release(&o);
        return cas_cli_usage(cmd, "--hash takes 64 hex digits");
    }
    if ((s = conn_open(cli, &o, true, &c)) != CAS_EXIT_OK)
        goto out;
    if (is_list)
        (void)snprintf(path, sizeof(path), "/v1/sessions?namespace=%s", o.operands[0]);
    else
        (void)snprintf(path, sizeof(path), "/v1/sessions/%s%s%s", o.operands[0],
                       o.hash ? "?hash=" : "", o.hash ? o.hash : "");
    s = cas_cli_cas_call(&c.cas, method, path, NULL, 0, &c.id, o.retries, &r);
    if (s != CAS_EXIT_OK)
        goto out;
    s = CAS_EXIT_FAIL;
    if (r.status != 200 && r.status != 204) {
        print_server_error(&r, NULL);
        goto out;
    }
    if (is_read || is_list) {
        json_t *j = json_loadb(r.body, r.body_len, 0, NULL), *v;
        size_t i;
        if (is_read) {
            const char *y = json_string_value(json_object_get(j, "session"));
            if (y != NULL)
                fputs(y, stdout);
        } else {
            json_array_foreach(json_object_get(j, "sessions"), i, v)
                printf("%s\n", json_string_value(v));
        }
        json_decref(j);
    }
    s = CAS_EXIT_OK;
out:
    cas_https_response_release(&r);
    conn_release(&c);
    cas_session_opts_release(&o);
    return s;
}

int
cas_cmd_session_read(struct cas_cli *cli, int argc, char **argv)
{
    return simple_call(cli, "session read", argc, argv, "GET");
}

int
cas_cmd_session_delete(struct cas_cli *cli, int argc, char **argv)
{
    return simple_call(cli, "session delete", argc, argv, "DELETE");
}

int
cas_cmd_session_list(struct cas_cli *cli, int argc, char **argv)
{
    return simple_call(cli, "session list", argc, argv, "GET");
}

/* ---- verify (policy.md §12) ---- */

/* The first path at which a and b differ, into path; false when they are equal. */
static bool
first_diff(const json_t *a, const json_t *b, struct cas_buf *path)
{
    size_t at = path->len;

    if (json_typeof(a) != json_typeof(b))
        return true;
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        /* Keys of either side, in sorted order (canonical JSON sorts them). */
        json_object_foreach((json_t *)(uintptr_t)a, k, v)
        {
            json_t *w = json_object_get(b, k);
            cas_buf_addf(path, "%s%s", at ? "." : "", k);
            if (w == NULL || first_diff(v, w, path))
                return true;
            path->len = at;
            path->buf[at] = '\0';
        }
        json_object_foreach((json_t *)(uintptr_t)b, k, v)
        {
            if (json_object_get(a, k) == NULL) {
                cas_buf_addf(path, "%s%s", at ? "." : "", k);
                return true;
            }
        }
        return false;
    }
    if (json_is_array(a)) {
        size_t n =
            json_array_size(a) > json_array_size(b) ? json_array_size(a) : json_array_size(b);
        for (size_t i = 0; i < n; i++) {
            cas_buf_addf(path, "[%zu]", i);
            if (i >= json_array_size(a) || i >= json_array_size(b) ||
                first_diff(json_array_get(a, i), json_array_get(b, i), path))
                return true;
            path->len = at;
            path->buf[at] = '\0';
        }
        return false;
    }
    return !json_equal((json_t *)(uintptr_t)a, (json_t *)(uintptr_t)b);
}

int
cas_cmd_session_verify(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_session_opts o;
    struct conn c = {0};
    struct cas_policy *pf = NULL, *ps = NULL;
    struct cas_policy_options po = {0};
    struct cas_policy_diags d;
    struct cas_err err = {0};
    struct cas_buf path;
    char *jf = NULL, *js = NULL;
    size_t lf = 0, ls = 0;
    json_t *cur = NULL, *af = NULL, *as = NULL;
    const char *yaml, *active;
    long st = 0;
    int s;

    cas_policy_diags_init(&d);
    cas_buf_init(&path, 4096);
    if ((s = cas_session_opts_parse("session verify", SO_VARS | SO_CAS | SO_IDENTITY, 1, 1, argc,
                                    argv, &o)) != CAS_EXIT_OK)
        return s;
    if ((s = cas_session_load(&o, &pf)) != CAS_EXIT_OK || (s = conn_open(cli, &o, true, &c)) != 0)
        goto out;
    s = CAS_EXIT_FAIL;
    if ((cur = get_session(&c, pf->name, NULL, NULL, &st, NULL)) == NULL) {
        if (st == 404)
            cas_cli_error("session '%s' does not exist or your identity may not read it", pf->name);
        goto out;
    }
    yaml = json_string_value(json_object_get(cur, "session"));
    active = json_string_value(json_object_get(cur, "hash"));
    if (yaml == NULL || active == NULL ||
        cas_policy_parse((const uint8_t *)yaml, strlen(yaml), &po, &ps, &d, &err) != CAS_OK) {
        cas_cli_error("the CAS's copy of session '%s' does not parse", pf->name);
        goto out;
    }
    /* FILE takes creator and predecessor from the active session where it omits them. */
    if (cas_policy_canonical_json(ps, NULL, &js, &ls, &err) != CAS_OK ||
        cas_policy_canonical_json(pf,
                                  pf->has_creator ? NULL : (ps->has_creator ? ps->creator : NULL),
                                  &jf, &lf, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        goto out;
    }
    af = json_loadb(jf, lf, 0, NULL);
    as = json_loadb(js, ls, 0, NULL);
    if (af == NULL || as == NULL) {
        cas_cli_error("cannot compare the canonical forms");
        goto out;
    }
    if (!pf->has_predecessor)
        json_object_set(af, "predecessor", json_object_get(as, "predecessor"));
    if (first_diff(af, as, &path)) {
        cas_cli_error("session '%s' differs from %s at '%s'", pf->name, o.operands[0], path.buf);
        goto out;
    }
    printf("%s\n", active);
    s = CAS_EXIT_OK;
out:
    json_decref(af);
    json_decref(as);
    json_decref(cur);
    free(jf);
    free(js);
    cas_buf_release(&path);
    cas_policy_diags_release(&d);
    cas_policy_free(pf);
    cas_policy_free(ps);
    conn_release(&c);
    cas_session_opts_release(&o);
    return s;
}

/* ---- values get ---- */

int
cas_cmd_values_get(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_session_opts o;
    struct conn c = {0};
    struct cas_https_response r = {0};
    char path[2600];
    int s;

    if ((s = cas_session_opts_parse("values get", SO_CAS | SO_JSON, 1, 2, argc, argv, &o)) !=
        CAS_EXIT_OK)
        return s;
    if ((s = conn_open(cli, &o, false, &c)) != CAS_EXIT_OK)
        goto out;
    (void)snprintf(path, sizeof(path), "/v1/values/session=%s%s%s", o.operands[0],
                   o.n_operands > 1 ? ",secret=" : "", o.n_operands > 1 ? o.operands[1] : "");
    if ((s = cas_cli_cas_call(&c.cas, "GET", path, NULL, 0, NULL, o.retries, &r)) != CAS_EXIT_OK)
        goto out;
    s = CAS_EXIT_FAIL;
    if (r.status != 200) {
        print_server_error(&r, NULL);
        goto out;
    }
    if (o.json || o.n_operands < 2) {
        fwrite(r.body, 1, r.body_len, stdout);
        fputc('\n', stdout);
    } else {
        json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "value"));
        if (v == NULL) {
            cas_cli_error("the CAS's answer has no value");
            json_decref(j);
            goto out;
        }
        fputs(v, stdout);
        if (v[0] != '\0' && v[strlen(v) - 1] != '\n')
            fputc('\n', stdout);
        json_decref(j);
    }
    s = CAS_EXIT_OK;
out:
    cas_https_response_release(&r);
    conn_release(&c);
    cas_session_opts_release(&o);
    return s;
}
