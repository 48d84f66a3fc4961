/*
 * inject.c - writes a session's injection files (policy.md §6, api.md §4). Where the kernel
 * allows it (CAP_SYS_ADMIN), cas-run moves into a private mount namespace and mounts a tmpfs on
 * each file's parent directory: the files then live in memory, seen only by cas-run and the
 * program it execs, and vanish with them. Then every file must go there: one whose parent is "/"
 * (a tmpfs on the root would hide the program's loader and libraries) is an error naming it,
 * before anything is written, never a silent fall back to the disk. Without a namespace at all
 * the files are written to disk (api.md §4). Either way each path is walked one
 * directory at a time with O_NOFOLLOW (a symbolic link on the way is refused, naming it), each
 * file is replaced atomically with exactly its mode, and its content is wiped from cas-run's
 * memory right after.
 */
#include <errno.h>
#include <fcntl.h>
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

/* root ‖ path. */
static cas_rc
full_path(const char *root, const char *path, char out[PATH_MAX], struct cas_err *err)
{
    int n = snprintf(out, PATH_MAX, "%s%s", root, path);

    if (n < 0 || n >= PATH_MAX)
        return cas_err_set(err, CAS_E_INVALID, "injection file path '%.200s' is too long", path);
    return CAS_OK;
}

/* The length of path's parent directory ("/a/b" for "/a/b/c"; 0 for "/c": the root). */
static size_t
parent_len(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? (size_t)(slash - path) : 0;
}

/* Why component dir[0, len) (a directory path of the session) cannot be opened. */
static cas_rc
refuse_component(int at, const char *name, const char *dir, size_t len, int e, struct cas_err *err)
{
    struct stat st;
    int n = len > INT_MAX ? INT_MAX : (int)len;

    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return cas_err_set(err, CAS_E_IO,
                           "'%.*s' is a symbolic link; cas-run follows no link on the way to an "
                           "injection file: make it a directory, or change the path in the "
                           "session",
                           n, dir);
    if (e == ENOTDIR || e == ELOOP)
        return cas_err_set(err, CAS_E_IO, "'%.*s' is not a directory", n, dir);
    return cas_err_set(err, CAS_E_IO, "cannot open directory '%.*s': %s", n, dir, strerror(e));
}

/*
 * Opens directory root ‖ dir[0, len) (len 0: root itself) one component at a time, never
 * following a symbolic link (O_NOFOLLOW), creating missing directories with mode 0700 when
 * create. root is the caller's ("" is "/") and opened as it is; dir is a session's path. *out
 * gets the descriptor (close it).
 */
static cas_rc
open_dir(const char *root, const char *dir, size_t len, bool create, int *out, struct cas_err *err)
{
    size_t at = 0;
    int fd = open(root[0] != '\0' ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    *out = -1;
    if (fd < 0)
        return cas_err_set(err, CAS_E_IO, "cannot open directory '%s': %s",
                           root[0] != '\0' ? root : "/", strerror(errno));
    while (at < len) {
        char name[NAME_MAX + 1];
        size_t start, n;
        int next;

        while (at < len && dir[at] == '/')
            at++;
        for (start = at; at < len && dir[at] != '/';)
            at++;
        if ((n = at - start) == 0)
            break;
        if (n > NAME_MAX) {
            close(fd);
            return cas_err_set(err, CAS_E_INVALID, "a directory name in '%.200s' is too long", dir);
        }
        memcpy(name, dir + start, n);
        name[n] = '\0';
        next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, name, 0700) != 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                return cas_err_set(err, CAS_E_IO, "cannot create directory '%.*s': %s", (int)at,
                                   dir, strerror(e));
            }
            next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            cas_rc rc = refuse_component(fd, name, dir, at, errno, err);
            close(fd);
            return rc;
        }
        close(fd);
        fd = next;
    }
    *out = fd;
    return CAS_OK;
}

static cas_rc
write_one(const char *root, const struct cas_run_file *f, struct cas_err *err)
{
    size_t plen = parent_len(f->path), len = 0;
    const uint8_t *bytes = cas_secret_peek(f->content, &len);
    int dir;
    cas_rc rc;

    if ((rc = open_dir(root, f->path, plen, true, &dir, err)) != CAS_OK)
        return rc;
    rc = cas_file_write_atomic_at(dir, f->path + plen + 1, f->path, bytes, len, (mode_t)f->mode,
                                  err);
    close(dir);
    return rc;
}

static int
by_length(const void *x, const void *y)
{
    size_t a = strlen(*(char *const *)x), b = strlen(*(char *const *)y);

    return a < b ? -1 : a > b ? 1 : 0;
}

/* The distinct parent directories of the session's paths ("" for "/"), shortest first (a tmpfs
 * on /a before one on /a/b). */
static cas_rc
parents(const struct cas_run_answer *a, char ***out, size_t *count, struct cas_err *err)
{
    char **v;
    size_t n = 0;

    *out = NULL;
    *count = 0;
    if ((v = cas_calloc(a->file_count + 1, sizeof(*v))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the injection files");
    for (size_t i = 0; i < a->file_count; i++) {
        const char *path = a->files[i].path;
        size_t len = parent_len(path);
        bool seen = false;

        for (size_t j = 0; j < n && !seen; j++)
            seen = strlen(v[j]) == len && strncmp(v[j], path, len) == 0;
        if (seen)
            continue;
        if ((v[n] = cas_strndup(path, len)) == NULL) {
            for (size_t j = 0; j < n; j++)
                free(v[j]);
            free(v);
            return cas_err_set(err, CAS_E_NOMEM, "out of memory for the injection files");
        }
        n++;
    }
    qsort(v, n, sizeof(*v), by_length);
    *out = v;
    *count = n;
    return CAS_OK;
}

/*
 * In the private mount namespace just entered: every file must be placed privately, so one whose
 * parent is the root fails (naming it) before anything is made; then a tmpfs on each parent.
 */
static cas_rc
mount_tmpfs(const struct cas_run_answer *a, const char *root, char **dirs, size_t n,
            struct cas_err *err)
{
    char target[PATH_MAX];

    for (size_t i = 0; i < a->file_count; i++) {
        if (parent_len(a->files[i].path) == 0)
            return cas_err_set(err, CAS_E_INVALID,
                               "injection file '%s' cannot be kept in a private tmpfs: its "
                               "directory is '/', which cas-run does not cover (that would hide "
                               "the program's own files); give it a directory of its own in the "
                               "session, e.g. '/run/secrets%s'",
                               a->files[i].path, a->files[i].path);
    }
    /* Private from here on: our mounts must not propagate back to the host's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return cas_err_set(err, CAS_E_IO, "cannot make the mount namespace private: %s",
                           strerror(errno));
    for (size_t i = 0; i < n; i++) {
        int fd;
        cas_rc rc;
        if ((rc = open_dir(root, dirs[i], strlen(dirs[i]), true, &fd, err)) != CAS_OK)
            return rc;
        close(fd);
        if ((rc = full_path(root, dirs[i], target, err)) != CAS_OK)
            return rc;
        if (mount("cas-run", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
            return cas_err_set(err, CAS_E_IO, "cannot mount a tmpfs on '%s': %s", dirs[i],
                               strerror(errno));
    }
    return CAS_OK;
}

static void
remove_written(const struct cas_run_answer *a, size_t count, const char *root)
{
    struct cas_err ignored = {0};

    for (size_t i = 0; i < count; i++) {
        size_t plen = parent_len(a->files[i].path);
        int dir;
        if (open_dir(root, a->files[i].path, plen, false, &dir, &ignored) == CAS_OK) {
            (void)unlinkat(dir, a->files[i].path + plen + 1, 0);
            close(dir);
        }
    }
}

cas_rc
cas_run_write_files(struct cas_run_answer *a, const char *root, bool private_tmpfs, bool *on_tmpfs,
                    struct cas_err *err)
{
    char **dirs = NULL;
    size_t dir_count = 0;
    cas_rc rc = CAS_OK;

    *on_tmpfs = false;
    if (a->file_count == 0)
        return CAS_OK;
    if ((rc = parents(a, &dirs, &dir_count, err)) != CAS_OK)
        return rc;
    /* No namespace at all (no CAP_SYS_ADMIN): the files go to disk (api.md §4). */
    if (private_tmpfs && unshare(CLONE_NEWNS) == 0) {
        if ((rc = mount_tmpfs(a, root, dirs, dir_count, err)) != CAS_OK)
            goto out;
        *on_tmpfs = true;
    }
    for (size_t i = 0; i < a->file_count; i++) {
        struct cas_run_file *f = &a->files[i];

        if ((rc = write_one(root, f, err)) != CAS_OK) {
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
