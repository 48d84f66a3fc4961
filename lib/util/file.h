/*
 * file.h - bounded file reads and atomic, mode-exact writes. Reads refuse files over max bytes
 * (never truncate); writes go to a temporary file in the same directory, fsync, then rename, so a
 * crash leaves the old or the new file, never half of one.
 */
#ifndef CAS_UTIL_FILE_H
#define CAS_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "cas/err.h"

struct cas_secret;

/* Reads the whole of path (at most max bytes) into a malloc'd, NUL-terminated buffer. */
cas_rc cas_file_read(const char *path, size_t max, uint8_t **out, size_t *len,
                     struct cas_err *err) CAS_MUST_CHECK;
/* The same into a struct cas_secret (no copy ever lands in the malloc heap). */
cas_rc cas_file_read_secret(const char *path, size_t max, struct cas_secret **out,
                            struct cas_err *err) CAS_MUST_CHECK;
/* Atomically replaces path with data, created with exactly `mode`, fsynced, then renamed over it
 * (a symbolic link at path is replaced, never followed). */
cas_rc cas_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             struct cas_err *err) CAS_MUST_CHECK;
/* The same for name relative to the directory descriptor dir (AT_FDCWD: the working directory);
 * messages show `shown`. */
cas_rc cas_file_write_atomic_at(int dir, const char *name, const char *shown, const void *data,
                                size_t len, mode_t mode, struct cas_err *err) CAS_MUST_CHECK;
/* Creates dir with mode if missing; refuses an existing one that group or others can access. */
cas_rc cas_dir_ensure_private(const char *dir, struct cas_err *err) CAS_MUST_CHECK;

#endif
