/*
 * hw.c - the hardware evidence providers: Gramine's /dev/attestation pseudo-files and Linux
 * configfs-tsm (Documentation/ABI/testing/configfs-tsm-report). Both talk through files under
 * the provider's root: every write is exact, every read is capped at CAS_TEE_QUOTE_MAX (a TEE
 * interface is trusted for its quote, not for its size), and every quote must carry the report
 * data just written. Pseudo-files report no useful st_size, so reads go to end of file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provider_internal.h"
#include "util/alloc.h"
#include "util/codec.h"

#define SMALL_ATTR_MAX 64 /* provider, generation, attestation_type */

static cas_rc
join_path(const char *root, const char *rel, char out[PATH_MAX], struct cas_err *err)
{
    int n = snprintf(out, PATH_MAX, "%s%s", root, rel);

    if (n < 0 || n >= PATH_MAX)
        return cas_err_set(err, CAS_E_INVALID, "Path '%.200s%s' is too long", root, rel);
    return CAS_OK;
}

static cas_rc
open_error(const char *path, struct cas_err *err)
{
    return cas_err_set(err, errno == ENOENT ? CAS_E_NOTFOUND : CAS_E_IO, "cannot open '%s': %s",
                       path, strerror(errno));
}

/* Writes exactly len bytes to an existing file (a pseudo-file takes them in one go or a few). */
static cas_rc
write_exact(const char *path, const uint8_t *p, size_t len, struct cas_err *err)
{
    size_t done = 0;
    cas_rc rc = CAS_OK;
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return open_error(path, err);
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = cas_err_set(err, CAS_E_IO, "cannot write %zu bytes to '%s': %s", len, path,
                             n < 0 ? strerror(errno) : "no progress");
            break;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 && rc == CAS_OK)
        rc = cas_err_set(err, CAS_E_IO, "cannot write to '%s': %s", path, strerror(errno));
    return rc;
}

/* Reads a whole file of at most max bytes; one byte more is CAS_E_TOOBIG, never a truncation.
 * *out is malloc'd and NUL-terminated. */
static cas_rc
read_capped(const char *path, size_t max, uint8_t **out, size_t *len, struct cas_err *err)
{
    uint8_t *buf = NULL;
    size_t got = 0;
    cas_rc rc = CAS_OK;
    int fd;

    *out = NULL;
    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
        return open_error(path, err);
    if ((buf = cas_malloc(max + 2)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory reading '%s'", path);
        goto out;
    }
    while (got <= max) {
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cas_err_set(err, CAS_E_IO, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > max) {
        rc = cas_err_set(err, CAS_E_TOOBIG, "'%s' holds more than %zu bytes", path, max);
        goto out;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* A one-line attribute ("tdx_guest\n") without its trailing newline. */
static cas_rc
read_attr(const char *path, char out[SMALL_ATTR_MAX + 1], struct cas_err *err)
{
    uint8_t *p = NULL;
    size_t len = 0;
    cas_rc rc;

    out[0] = '\0';
    if ((rc = read_capped(path, SMALL_ATTR_MAX, &p, &len, err)) != CAS_OK)
        return rc;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (memchr(p, '\0', len) != NULL)
        rc = cas_err_set(err, CAS_E_INVALID, "'%s' holds a NUL byte", path);
    else
        memcpy(out, p, len + 1);
    out[len] = '\0';
    free(p);
    return rc;
}

/* Reads the quote at path and checks it is an Intel quote carrying report_data. */
static cas_rc
read_quote(const char *path, const uint8_t report_data[64], struct cas_tee_evidence *ev,
           struct cas_err *err)
{
    size_t off = 0;
    cas_rc rc;

    if ((rc = read_capped(path, CAS_TEE_QUOTE_MAX, &ev->quote, &ev->quote_len, err)) != CAS_OK)
        return rc;
    if (cas_tee_quote_type(ev->quote, ev->quote_len, &ev->type, &off, err) != CAS_OK)
        return cas_err_wrap(err, "'%s' holds no usable quote", path);
    if (memcmp(ev->quote + off, report_data, 64) != 0)
        return cas_err_set(err, CAS_E_INVALID,
                           "Quote from '%s' does not carry the report data written (a stale or "
                           "foreign quote)",
                           path);
    return CAS_OK;
}

cas_rc
tee_gramine_get_evidence(struct cas_tee_provider *p, const uint8_t report_data[64],
                         struct cas_tee_evidence *ev, struct cas_err *err)
{
    char path[PATH_MAX], type[SMALL_ATTR_MAX + 1];
    cas_rc rc;

    if ((rc = join_path(p->root, "/dev/attestation/attestation_type", path, err)) != CAS_OK)
        return rc;
    if ((rc = read_attr(path, type, err)) != CAS_OK)
        return cas_err_wrap(err, "Not running inside Gramine with SGX attestation");
    if (strcmp(type, "dcap") != 0)
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "Gramine attestation type is '%s' - Expected 'dcap' (set "
                           "sgx.remote_attestation = \"dcap\" in the manifest)",
                           type);
    if ((rc = join_path(p->root, "/dev/attestation/user_report_data", path, err)) != CAS_OK ||
        (rc = write_exact(path, report_data, 64, err)) != CAS_OK ||
        (rc = join_path(p->root, "/dev/attestation/quote", path, err)) != CAS_OK ||
        (rc = read_quote(path, report_data, ev, err)) != CAS_OK)
        return rc;
    if (strcmp(ev->type, "sgx-dcap-v3") != 0)
        return cas_err_set(err, CAS_E_UNSUPPORTED, "Gramine returned a '%s' quote, not SGX v3",
                           ev->type);
    return CAS_OK;
}

/* Parses a decimal counter ("1"), strictly. */
static bool
parse_generation(const char *s, unsigned long *out)
{
    char *end = NULL;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && end != NULL && *end == '\0';
}

/* The entry's attributes, once made: inblob, provider, outblob, generation. */
static cas_rc
tsm_run_entry(const char *entry, const uint8_t report_data[64], struct cas_tee_evidence *ev,
              struct cas_err *err)
{
    char path[PATH_MAX], attr[SMALL_ATTR_MAX + 1];
    unsigned long generation = 0;
    cas_rc rc;

    if ((rc = join_path(entry, "/inblob", path, err)) != CAS_OK ||
        (rc = write_exact(path, report_data, 64, err)) != CAS_OK ||
        (rc = join_path(entry, "/provider", path, err)) != CAS_OK ||
        (rc = read_attr(path, attr, err)) != CAS_OK)
        return rc;
    /* "tdx_guest" gives Intel TDX quotes; others (sev_guest, ...) speak other formats. */
    if (strncmp(attr, "tdx", 3) != 0)
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "configfs-tsm provider '%s' does not issue Intel quotes", attr);
    if ((rc = join_path(entry, "/outblob", path, err)) != CAS_OK ||
        (rc = read_quote(path, report_data, ev, err)) != CAS_OK ||
        (rc = join_path(entry, "/generation", path, err)) != CAS_OK ||
        (rc = read_attr(path, attr, err)) != CAS_OK)
        return rc;
    /* The ABI's race check: our one inblob write must be the entry's only write. */
    if (!parse_generation(attr, &generation))
        return cas_err_set(err, CAS_E_INVALID, "configfs-tsm generation '%s' is not a number",
                           attr);
    if (generation != 1)
        return cas_err_set(err, CAS_E_CONFLICT,
                           "configfs-tsm entry was written %lu times, not once: another writer "
                           "raced this report",
                           generation);
    return CAS_OK;
}

cas_rc
tee_tsm_get_evidence(struct cas_tee_provider *p, const uint8_t report_data[64],
                     struct cas_tee_evidence *ev, struct cas_err *err)
{
    char base[PATH_MAX], entry[PATH_MAX], hex[17];
    uint8_t nonce[8];
    struct stat st;
    int n;
    cas_rc rc;

    if ((rc = join_path(p->root, "/sys/kernel/config/tsm/report", base, err)) != CAS_OK)
        return rc;
    if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode))
        return cas_err_set(err, CAS_E_NOTFOUND,
                           "configfs-tsm is not available at '%s' (Linux 6.7 or later in a "
                           "confidential VM, configfs mounted)",
                           base);
    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return cas_err_set(err, CAS_E_CRYPTO, "random number generator failed");
    cas_hex_encode(nonce, sizeof(nonce), hex);
    n = snprintf(entry, sizeof(entry), "%s/cas-%ld-%u-%s", base, (long)getpid(), p->tsm_serial++,
                 hex);
    if (n < 0 || (size_t)n >= sizeof(entry))
        return cas_err_set(err, CAS_E_INVALID, "Path '%.200s' is too long", base);
    if (mkdir(entry, 0700) != 0)
        return cas_err_set(err, CAS_E_IO, "cannot make the report entry '%s': %s", entry,
                           strerror(errno));
    if (p->tsm_hook != NULL)
        p->tsm_hook(entry, p->tsm_hook_arg);
    rc = tsm_run_entry(entry, report_data, ev, err);
    /* configfs removes the attributes with the entry; failure leaves only a stale entry. */
    (void)rmdir(entry);
    return rc;
}
