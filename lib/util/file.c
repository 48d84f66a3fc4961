/* file.c - bounded reads, atomic writes, private directories (file.h). */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/secret.h"

static cas_rc
open_bounded(const char *path, size_t max, int *fd_out, size_t *size, struct cas_err *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    *fd_out = -1;
    if (fd < 0)
        return cas_err_set(err, errno == ENOENT ? CAS_E_NOTFOUND : CAS_E_IO, "cannot open '%s': %s",
                           path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cas_err_set(err, CAS_E_INVALID, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)max) {
        close(fd);
        return cas_err_set(err, CAS_E_TOOBIG, "'%s' is larger than %zu bytes", path, max);
    }
    *fd_out = fd;
    *size = (size_t)st.st_size;
    return CAS_OK;
}

static cas_rc
read_all(int fd, const char *path, uint8_t *p, size_t size, size_t *got, struct cas_err *err)
{
    *got = 0;
    while (*got < size) {
        ssize_t r = read(fd, p + *got, size - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cas_err_set(err, CAS_E_IO, "cannot read '%s': %s", path, strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return CAS_OK;
}

cas_rc
cas_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct cas_err *err)
{
    uint8_t *p = NULL;
    size_t size = 0, got = 0;
    int fd;
    cas_rc rc;

    *out = NULL;
    *len = 0;
    if ((rc = open_bounded(path, max, &fd, &size, err)) != CAS_OK)
        return rc;
    if ((p = cas_malloc(size + 1)) == NULL) {
        close(fd);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory reading '%s'", path);
    }
    rc = read_all(fd, path, p, size, &got, err);
    close(fd);
    if (rc != CAS_OK) {
        free(p);
        return rc;
    }
    p[got] = '\0';
    *out = p;
    *len = got;
    return CAS_OK;
}

cas_rc
cas_file_read_secret(const char *path, size_t max, struct cas_secret **out, struct cas_err *err)
{
    struct cas_secret *s = NULL;
    size_t size = 0, got = 0;
    int fd;
    cas_rc rc;

    *out = NULL;
    if ((rc = open_bounded(path, max, &fd, &size, err)) != CAS_OK)
        return rc;
    if ((rc = cas_secret_new(size, &s, err)) == CAS_OK)
        rc = read_all(fd, path, cas_secret_data(s), size, &got, err);
    close(fd);
    if (rc != CAS_OK) {
        cas_secret_free(s);
        return rc;
    }
    cas_secret_truncate(s, got);
    *out = s;
    return CAS_OK;
}

cas_rc
cas_file_write_atomic_at(int dir, const char *name, const char *shown, const void *data, size_t len,
                         mode_t mode, struct cas_err *err)
{
    char tmp[4096];
    const uint8_t *p = data;
    size_t off = 0;
    int fd, n;

    n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return cas_err_set(err, CAS_E_INVALID, "path '%.200s' is too long", shown);
    (void)unlinkat(dir, tmp, 0);
    fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return cas_err_set(err, CAS_E_IO, "cannot create a file beside '%s': %s", shown,
                           strerror(errno));
    if (fchmod(fd, mode) != 0) /* the umask must not widen or narrow the mode asked for */
        goto fail;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dir, tmp, dir, name) != 0) /* replaces a link itself, never its target */
        goto fail;
    return CAS_OK;
fail:
    n = errno;
    if (fd >= 0)
        close(fd);
    (void)unlinkat(dir, tmp, 0);
    return cas_err_set(err, CAS_E_IO, "cannot write '%s': %s", shown, strerror(n));
}

cas_rc
cas_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct cas_err *err)
{
    return cas_file_write_atomic_at(AT_FDCWD, path, path, data, len, mode, err);
}

cas_rc
cas_dir_ensure_private(const char *dir, struct cas_err *err)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cas_err_set(err, CAS_E_IO, "cannot create directory '%s': %s", dir, strerror(errno));
    if (lstat(dir, &st) != 0)
        return cas_err_set(err, CAS_E_IO, "cannot inspect '%s': %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cas_err_set(err, CAS_E_INVALID, "'%s' is not a directory", dir);
    if (st.st_uid != geteuid())
        return cas_err_set(err, CAS_E_DENIED, "directory '%s' belongs to another user", dir);
    if ((st.st_mode & 077) != 0)
        return cas_err_set(err, CAS_E_DENIED,
                           "directory '%s' is accessible to group or others; run chmod 700 '%s'",
                           dir, dir);
    return CAS_OK;
}
