/* state.c - the CLI state file (state.h). */
#include "client/state.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/file.h"

void
cas_cli_json_wiping(void)
{
    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free);
}

static char *
join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = cas_malloc(la + lb + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, a, la);
    memcpy(p + la, b, lb + 1);
    return p;
}

cas_rc
cas_cli_state_path(const char *explicit_path, char **out, struct cas_err *err)
{
    const char *env = getenv("CAS_CLI_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (explicit_path != NULL && explicit_path[0] != '\0')
        *out = cas_strdup(explicit_path);
    else if (env != NULL && env[0] != '\0')
        *out = cas_strdup(env);
    else if (xdg != NULL && xdg[0] == '/')
        *out = join(xdg, "/cas/config.json");
    else {
        if (home == NULL || home[0] == '\0') {
            struct passwd *pw = getpwuid(getuid());
            home = pw != NULL ? pw->pw_dir : NULL;
        }
        if (home == NULL)
            return cas_err_set(err, CAS_E_INVALID,
                               "cannot find a home directory for the CLI state; use -c FILE");
        *out = join(home, "/.config/cas/config.json");
    }
    if (*out == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    return CAS_OK;
}

static cas_rc
load_state(const char *explicit_path, struct cas_cli_state *st, struct cas_err *err)
{
    struct stat sb;
    uint8_t *text = NULL;
    size_t len = 0;
    json_error_t je;
    json_t *fmt;
    cas_rc rc;

    memset(st, 0, sizeof(*st));
    cas_cli_json_wiping();
    if ((rc = cas_cli_state_path(explicit_path, &st->path, err)) != CAS_OK)
        return rc;
    if (stat(st->path, &sb) != 0) {
        if (errno != ENOENT)
            return cas_err_set(err, CAS_E_IO, "cannot read CLI state '%s': %s", st->path,
                               strerror(errno));
        st->root = json_pack("{s:s}", "format", CAS_CLI_FORMAT);
        return st->root != NULL ? CAS_OK : cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    if ((sb.st_mode & 077) != 0)
        return cas_err_set(err, CAS_E_DENIED,
                           "CLI state '%s' is readable by group or others and holds your "
                           "private key; run: chmod 600 %s",
                           st->path, st->path);
    if ((rc = cas_file_read(st->path, CAS_CLI_STATE_MAX, &text, &len, err)) != CAS_OK)
        return rc;
    st->root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
    OPENSSL_cleanse(text, len);
    free(text);
    if (st->root == NULL || !json_is_object(st->root)) {
        json_decref(st->root);
        st->root = NULL;
        return cas_err_set(err, CAS_E_INVALID, "CLI state '%s' is not a JSON object (line %d: %s)",
                           st->path, je.line, je.text);
    }
    st->exists = true;
    fmt = json_object_get(st->root, "format");
    st->foreign = !json_is_string(fmt) || strcmp(json_string_value(fmt), CAS_CLI_FORMAT) != 0;
    return CAS_OK;
}

cas_rc
cas_cli_state_load(const char *explicit_path, struct cas_cli_state *st, struct cas_err *err)
{
    cas_rc rc = load_state(explicit_path, st, err);

    if (rc != CAS_OK) /* a failed load owns nothing: callers release only what loaded */
        cas_cli_state_release(st);
    return rc;
}

static cas_rc
mkdir_parents(const char *path, struct cas_err *err)
{
    char dir[PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof(dir))
        return cas_err_set(err, CAS_E_INVALID, "path '%.100s…' is too long", path);
    memcpy(dir, path, n + 1);
    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return cas_err_set(err, CAS_E_IO, "cannot create directory '%s': %s", dir,
                               strerror(errno));
        *p = '/';
    }
    return CAS_OK;
}

cas_rc
cas_cli_state_save(struct cas_cli_state *st, struct cas_err *err)
{
    char *text;
    cas_rc rc;

    if (st->foreign)
        return cas_err_set(err, CAS_E_CONFLICT,
                           "CLI state '%s' has no \"format\": \"" CAS_CLI_FORMAT
                           "\" and is not rewritten; move it away or use -c FILE",
                           st->path);
    if ((rc = mkdir_parents(st->path, err)) != CAS_OK)
        return rc;
    if ((text = json_dumps(st->root, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    rc = cas_file_write_atomic(st->path, text, strlen(text), 0600, err);
    cas_wipe_free(text);
    if (rc == CAS_OK)
        st->exists = true;
    return rc;
}

void
cas_cli_state_release(struct cas_cli_state *st)
{
    json_decref(st->root);
    free(st->path);
    memset(st, 0, sizeof(*st));
}
