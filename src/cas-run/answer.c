/*
 * answer.c - the enclave API's answers to cas-run (api.md §2.4): the attest answer, the render
 * answer, and the refusals' {"msg": [...]}. Answers come from an attested CAS, but are parsed as
 * untrusted input all the same: exact types, no embedded NUL, ceilings on every list. Strings
 * that may be secret are copied into wiping allocations and the JSON tree is wiped by jansson's
 * allocator (main.c installs cas_wipe_malloc/cas_wipe_free).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/secret.h"

#define MAX_FILE_BYTES ((size_t)16 * 1024 * 1024)

/* A copy of a JSON string in a wiping allocation; NULL when v is no string or holds a NUL. */
static char *
wipe_dup(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    char *p;

    if (s == NULL || memchr(s, '\0', len) != NULL || (p = cas_wipe_malloc(len + 1)) == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static void
free_strings(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        cas_wipe_free(v[i]);
    free(v);
}

/* An array of strings (at most CAS_RUN_MAX_ITEMS, none with a NUL); path: each absolute. */
static cas_rc
string_list(const json_t *root, const char *key, bool paths, char ***out, size_t *count,
            struct cas_err *err)
{
    const json_t *arr = json_object_get(root, key);
    size_t n = json_array_size(arr);
    char **v;

    *out = NULL;
    *count = 0;
    if (!json_is_array(arr))
        return cas_err_set(err, CAS_E_INVALID, "'%s' is not a list", key);
    if (n > CAS_RUN_MAX_ITEMS)
        return cas_err_set(err, CAS_E_INVALID, "'%s' has more than %d entries", key,
                           CAS_RUN_MAX_ITEMS);
    if ((v = cas_calloc(n + 1, sizeof(*v))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for '%s'", key);
    for (size_t i = 0; i < n; i++) {
        if ((v[i] = wipe_dup(json_array_get(arr, i))) == NULL ||
            (paths && !cas_run_path_ok(v[i], strlen(v[i])))) {
            free_strings(v, n);
            return cas_err_set(err, CAS_E_INVALID, "'%s' entry %zu is not a valid %s", key, i,
                               paths ? "absolute path" : "string");
        }
    }
    *out = v;
    *count = n;
    return CAS_OK;
}

static bool
env_name_ok(const char *name)
{
    return name[0] != '\0' && strchr(name, '=') == NULL;
}

static cas_rc
parse_env(const json_t *root, struct cas_run_answer *a, struct cas_err *err)
{
    json_t *obj = json_object_get(root, "env"), *v;
    const char *name;
    size_t n = json_object_size(obj), i = 0;

    if (!json_is_object(obj))
        return cas_err_set(err, CAS_E_INVALID, "'env' is not an object");
    if (n > CAS_RUN_MAX_ITEMS)
        return cas_err_set(err, CAS_E_INVALID, "'env' has more than %d entries", CAS_RUN_MAX_ITEMS);
    if ((a->env = cas_calloc(n + 1, sizeof(*a->env))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for 'env'");
    json_object_foreach(obj, name, v)
    {
        size_t nlen = strlen(name), vlen = json_string_length(v);

        /* jansson keys stop at a NUL, so a key with one no longer matches its stored length. */
        if (!env_name_ok(name) || !json_is_string(v) ||
            memchr(json_string_value(v), '\0', vlen) != NULL)
            return cas_err_set(err, CAS_E_INVALID, "'env' entry '%s' is not NAME: string",
                               env_name_ok(name) ? name : "?");
        if ((a->env[i] = cas_wipe_malloc(nlen + vlen + 2)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory for 'env'");
        memcpy(a->env[i], name, nlen);
        a->env[i][nlen] = '=';
        memcpy(a->env[i] + nlen + 1, json_string_value(v), vlen);
        a->env[i][nlen + 1 + vlen] = '\0';
        a->env_count = ++i;
    }
    return CAS_OK;
}

/* "mode": an integer 0..0777, or octal text ("0400", "0o400"); no set-id or sticky bits. */
static bool
parse_mode(const json_t *v, unsigned *mode)
{
    const char *s;
    unsigned m = 0;
    size_t i = 0;

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0 || json_integer_value(v) > 0777)
            return false;
        *mode = (unsigned)json_integer_value(v);
        return true;
    }
    if ((s = json_string_value(v)) == NULL || json_string_length(v) != strlen(s))
        return false;
    if (s[0] == '0' && s[1] == 'o')
        i = 2;
    if (s[i] == '\0' || strlen(s + i) > 4)
        return false;
    for (; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '7')
            return false;
        m = m * 8 + (unsigned)(s[i] - '0');
    }
    if (m > 0777)
        return false;
    *mode = m;
    return true;
}

static cas_rc
parse_file(const json_t *o, size_t i, struct cas_run_file *f, struct cas_err *err)
{
    const json_t *content = json_object_get(o, "content");
    const char *b64 = json_string_value(content);
    size_t b64_len = json_string_length(content), len = 0;
    uint8_t *bytes;
    cas_rc rc;

    if (!json_is_object(o) || (f->path = wipe_dup(json_object_get(o, "path"))) == NULL ||
        !cas_run_path_ok(f->path, strlen(f->path)))
        return cas_err_set(err, CAS_E_INVALID, "'files' entry %zu has no valid absolute 'path'", i);
    if (!parse_mode(json_object_get(o, "mode"), &f->mode))
        return cas_err_set(err, CAS_E_INVALID, "'files' entry %zu has no valid 'mode'", i);
    if (b64 == NULL || b64_len > MAX_FILE_BYTES / 3 * 4 + 4)
        return cas_err_set(err, CAS_E_INVALID, "'files' entry %zu has no valid 'content'", i);
    if ((rc = cas_secret_new(b64_len / 4 * 3 + 3, &f->content, err)) != CAS_OK)
        return rc;
    bytes = cas_secret_data(f->content);
    if (!cas_b64_decode(b64, b64_len, bytes, cas_secret_len(f->content), &len, false))
        return cas_err_set(err, CAS_E_INVALID, "'files' entry %zu: 'content' is not base64", i);
    cas_secret_truncate(f->content, len);
    return CAS_OK;
}

static cas_rc
parse_files(const json_t *root, struct cas_run_answer *a, struct cas_err *err)
{
    const json_t *arr = json_object_get(root, "files");
    size_t n = json_array_size(arr);
    struct cas_run_file *grown;

    if (!json_is_array(arr))
        return cas_err_set(err, CAS_E_INVALID, "'files' is not a list");
    if (n > CAS_RUN_MAX_ITEMS || a->file_count > CAS_RUN_MAX_ITEMS - n)
        return cas_err_set(err, CAS_E_INVALID, "more than %d injection files", CAS_RUN_MAX_ITEMS);
    grown = cas_realloc(a->files, (a->file_count + n + 1) * sizeof(*grown));
    if (grown == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for 'files'");
    a->files = grown;
    for (size_t i = 0; i < n; i++) {
        struct cas_run_file *f = &a->files[a->file_count];
        cas_rc rc;

        memset(f, 0, sizeof(*f));
        a->file_count++; /* counted first: release frees a half-parsed entry */
        if ((rc = parse_file(json_array_get(arr, i), i, f, err)) != CAS_OK)
            return rc;
        for (size_t j = 0; j + 1 < a->file_count; j++) {
            if (strcmp(a->files[j].path, f->path) == 0)
                return cas_err_set(err, CAS_E_INVALID, "'files' names '%s' twice", f->path);
        }
    }
    return CAS_OK;
}

static void
drop_files_from(struct cas_run_answer *a, size_t keep)
{
    for (size_t i = keep; i < a->file_count; i++) {
        cas_wipe_free(a->files[i].path);
        cas_secret_free(a->files[i].content);
    }
    a->file_count = keep;
}

static json_t *
load(const uint8_t *json, size_t len, struct cas_err *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        cas_err_set(err, CAS_E_INVALID, "the answer is not a JSON object");
        return NULL;
    }
    return root;
}

static cas_rc
parse_answer(const json_t *root, struct cas_run_answer *a, struct cas_err *err)
{
    const json_t *hash = json_object_get(root, "session_hash");
    const json_t *token = json_object_get(root, "render_token");
    uint8_t digest[32];
    cas_rc rc;

    if (!json_is_string(hash) ||
        !cas_hex_decode_exact(json_string_value(hash), json_string_length(hash), digest, 32))
        return cas_err_set(err, CAS_E_INVALID, "'session_hash' is not 64 hex digits");
    cas_hex_encode(digest, 32, a->session_hash);
    if ((rc = string_list(root, "argv", false, &a->argv, &a->argv_count, err)) != CAS_OK ||
        (rc = parse_env(root, a, err)) != CAS_OK ||
        (rc = string_list(root, "host_env", false, &a->host_env, &a->host_env_count, err)) !=
            CAS_OK ||
        (rc = string_list(root, "templates", true, &a->templates, &a->template_count, err)) !=
            CAS_OK ||
        (rc = parse_files(root, a, err)) != CAS_OK)
        return rc;
    if (a->argv_count == 0)
        return cas_err_set(err, CAS_E_INVALID, "'argv' is empty");
    for (size_t i = 0; i < a->host_env_count; i++) {
        if (!env_name_ok(a->host_env[i]))
            return cas_err_set(err, CAS_E_INVALID, "'host_env' entry %zu is not a name", i);
    }
    if ((a->pwd = wipe_dup(json_object_get(root, "pwd"))) == NULL || a->pwd[0] == '\0')
        return cas_err_set(err, CAS_E_INVALID, "'pwd' is not a non-empty string");
    if (a->template_count > 0 &&
        ((a->render_token = wipe_dup(token)) == NULL || a->render_token[0] == '\0'))
        return cas_err_set(err, CAS_E_INVALID, "'render_token' is missing for the templates");
    return CAS_OK;
}

cas_rc
cas_run_answer_parse(const uint8_t *json, size_t len, struct cas_run_answer *a, struct cas_err *err)
{
    json_t *root;
    cas_rc rc;

    memset(a, 0, sizeof(*a));
    if ((root = load(json, len, err)) == NULL)
        return cas_err_wrap(err, "the CAS's attest answer is malformed");
    rc = parse_answer(root, a, err);
    json_decref(root);
    if (rc != CAS_OK) {
        cas_run_answer_release(a);
        return cas_err_wrap(err, "the CAS's attest answer is malformed");
    }
    return CAS_OK;
}

cas_rc
cas_run_render_parse(const uint8_t *json, size_t len, struct cas_run_answer *a, struct cas_err *err)
{
    size_t before = a->file_count;
    json_t *root;
    cas_rc rc;

    if ((root = load(json, len, err)) == NULL)
        return cas_err_wrap(err, "the CAS's render answer is malformed");
    rc = parse_files(root, a, err);
    json_decref(root);
    if (rc != CAS_OK) {
        drop_files_from(a, before); /* a refused answer adds nothing */
        return cas_err_wrap(err, "the CAS's render answer is malformed");
    }
    return CAS_OK;
}

void
cas_run_answer_release(struct cas_run_answer *a)
{
    free_strings(a->argv, a->argv_count);
    free_strings(a->env, a->env_count);
    free_strings(a->host_env, a->host_env_count);
    free_strings(a->templates, a->template_count);
    drop_files_from(a, 0);
    free(a->files);
    cas_wipe_free(a->pwd);
    cas_wipe_free(a->render_token);
    memset(a, 0, sizeof(*a));
}

/* Text from the CAS, control characters shown as '?': it must not drive the terminal. */
static void
print_clean(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], f);
}

void
cas_run_print_refusal(FILE *f, const char *what_failed, long status, const uint8_t *body,
                      size_t len)
{
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *msg = json_object_get(root, "msg");
    size_t n = json_array_size(msg), shown = 0;

    for (size_t i = 0; i < n && i < 64; i++) {
        const json_t *m = json_array_get(msg, i);

        if (!json_is_string(m))
            continue;
        /* A 403's problems one a line (api.md §4); other refusals on one line. */
        fputs(shown == 0 ? "cas-run: " : status == 403 ? "\n" : ": ", f);
        print_clean(f, json_string_value(m), json_string_length(m));
        shown++;
    }
    if (shown == 0)
        fprintf(f, "cas-run: %s: the CAS answered HTTP %ld", what_failed, status);
    fputc('\n', f);
    json_decref(root);
}

bool
cas_run_path_ok(const char *path, size_t len)
{
    size_t seg = 0;

    if (len == 0 || path[0] != '/' || len > 4095 || memchr(path, '\0', len) != NULL ||
        path[len - 1] == '/')
        return false;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            size_t n = i - seg - 1;
            const char *s = path + seg + 1;

            if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
            seg = i;
        }
    }
    return true;
}
