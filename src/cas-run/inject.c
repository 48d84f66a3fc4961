/*
 * inject.c - writes a session's injection files (policy.md §6, api.md §4). Where the kernel
 * allows it (CAP_SYS_ADMIN), cas-run moves into a private mount namespace and mounts a tmpfs on
 * each file's parent directory: the files then live in memory, seen only by cas-run and the
 * program it execs, and vanish with them. Otherwise they are written to the file system. Either
 * way each file is replaced atomically with exactly its mode, and its content is wiped from
 * cas-run's memory right after. A parent of "/" keeps the files on disk: a tmpfs on the root
 * would hide the program's loader and libraries.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/secret.h"

/* root ‖ path, then cut at the last '/' when parent_only. */
static cas_rc
full_path(const char *root, const char *path, bool parent_only, char out[PATH_MAX],
          struct cas_err *err)
{
    int n = snprintf(out, PATH_MAX, "%s%s", root, path);
    char *slash;

    if (n < 0 || n >= PATH_MAX)
        return cas_err_set(err, CAS_E_INVALID, "injection file path '%.200s' is too long", path);
    if (parent_only && (slash = strrchr(out, '/')) != NULL)
        *slash = '\0';
    return CAS_OK;
}

/* mkdir -p with mode 0700 for what is missing; existing directories are left as they are. */
static cas_rc
make_parents(char *dir, struct cas_err *err)
{
    struct stat st;

    if (dir[0] == '\0') /* the root directory */
        return CAS_OK;
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (dir[0] != '\0' && mkdir(dir, 0700) != 0 && errno != EEXIST) {
            cas_rc rc = cas_err_set(err, CAS_E_IO, "cannot create directory '%s': %s", dir,
                                    strerror(errno));
            *p = c;
            return rc;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cas_err_set(err, CAS_E_IO, "'%s' is not a directory", dir);
    return CAS_OK;
}

static int
by_length(const void *x, const void *y)
{
    size_t a = strlen(*(char *const *)x), b = strlen(*(char *const *)y);

    return a < b ? -1 : a > b ? 1 : 0;
}

/* The distinct parent directories, shortest first (a tmpfs on /a before one on /a/b). */
static cas_rc
parents(const struct cas_run_answer *a, const char *root, char ***out, size_t *count,
        struct cas_err *err)
{
    char dir[PATH_MAX], **v;
    size_t n = 0;
    cas_rc rc;

    *out = NULL;
    *count = 0;
    if ((v = cas_calloc(a->file_count + 1, sizeof(*v))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the injection files");
    for (size_t i = 0; i < a->file_count; i++) {
        bool seen = false;

        if ((rc = full_path(root, a->files[i].path, true, dir, err)) != CAS_OK)
            goto fail;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(v[j], dir) == 0;
        if (seen)
            continue;
        if ((v[n] = cas_strdup(dir)) == NULL) {
            rc = cas_err_set(err, CAS_E_NOMEM, "out of memory for the injection files");
            goto fail;
        }
        n++;
    }
    qsort(v, n, sizeof(*v), by_length);
    *out = v;
    *count = n;
    return CAS_OK;
fail:
    for (size_t j = 0; j < n; j++)
        free(v[j]);
    free(v);
    return rc;
}

/* A private mount namespace with a tmpfs on each parent; false (and nothing mounted) when the
 * kernel refuses the namespace. */
static bool
enter_tmpfs(char **dirs, size_t n, struct cas_err *err, cas_rc *rc)
{
    *rc = CAS_OK;
    for (size_t i = 0; i < n; i++) {
        if (dirs[i][0] == '\0') /* the root directory */
            return false;
    }
    if (unshare(CLONE_NEWNS) != 0)
        return false;
    /* Private from here on: our mounts must not propagate back to the host's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        *rc = cas_err_set(err, CAS_E_IO, "cannot make the mount namespace private: %s",
                          strerror(errno));
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((*rc = make_parents(dirs[i], err)) != CAS_OK)
            return false;
        if (mount("cas-run", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0) {
            *rc = cas_err_set(err, CAS_E_IO, "cannot mount a tmpfs on '%s': %s", dirs[i],
                              strerror(errno));
            return false;
        }
    }
    return true;
}

static void
remove_written(const struct cas_run_answer *a, size_t count, const char *root)
{
    char path[PATH_MAX];
    struct cas_err ignored = {0};

    for (size_t i = 0; i < count; i++) {
        if (full_path(root, a->files[i].path, false, path, &ignored) == CAS_OK)
            (void)unlink(path);
    }
}

cas_rc
cas_run_write_files(struct cas_run_answer *a, const char *root, bool private_tmpfs, bool *on_tmpfs,
                    struct cas_err *err)
{
    char path[PATH_MAX], **dirs = NULL;
    size_t dir_count = 0;
    cas_rc rc = CAS_OK;

    *on_tmpfs = false;
    if (a->file_count == 0)
        return CAS_OK;
    if ((rc = parents(a, root, &dirs, &dir_count, err)) != CAS_OK)
        return rc;
    if (private_tmpfs) {
        *on_tmpfs = enter_tmpfs(dirs, dir_count, err, &rc);
        if (rc != CAS_OK)
            goto out;
    }
    for (size_t i = 0; i < dir_count && !*on_tmpfs; i++) {
        if ((rc = make_parents(dirs[i], err)) != CAS_OK)
            goto out;
    }
    for (size_t i = 0; i < a->file_count; i++) {
        struct cas_run_file *f = &a->files[i];
        size_t len = 0;
        const uint8_t *bytes = cas_secret_peek(f->content, &len);

        if ((rc = full_path(root, f->path, false, path, err)) != CAS_OK ||
            (rc = cas_file_write_atomic(path, bytes, len, (mode_t)f->mode, err)) != CAS_OK) {
            remove_written(a, i, root); /* a failed start leaves no half of a session behind */
            goto out;
        }
        cas_secret_free(f->content); /* wiped as soon as it is on its way to the program */
        f->content = NULL;
    }
out:
    for (size_t j = 0; j < dir_count; j++)
        free(dirs[j]);
    free(dirs);
    return rc;
}

void
cas_run_remove_files(const struct cas_run_answer *a, const char *root)
{
    remove_written(a, a->file_count, root);
}
