/*
 * log.h - structured, levelled, secret-free logging in logfmt:
 *   ts=2026-05-02T10:11:12.345Z level=warn mod=attest ev=attest.denied config_id="shop/api"
 * Fields are typed (string, integer, hex bytes); there is no field type for a struct cas_secret,
 * so a secret cannot be passed by mistake. Values are quoted and escaped so no name forges a line.
 * Thread safe: one line is written with one write(2) under a lock.
 */
#ifndef CAS_UTIL_LOG_H
#define CAS_UTIL_LOG_H

#include <stddef.h>
#include <stdint.h>

enum cas_log_level { CAS_LOG_ERROR = 0, CAS_LOG_WARN, CAS_LOG_INFO, CAS_LOG_DEBUG };

enum cas_log_ftype { CAS_LFT_STR, CAS_LFT_INT, CAS_LFT_HEX };

struct cas_log_field {
    const char *key;
    enum cas_log_ftype type;
    const char *s;    /* CAS_LFT_STR; NULL prints as null */
    long long i;      /* CAS_LFT_INT */
    const uint8_t *p; /* CAS_LFT_HEX */
    size_t len;       /* CAS_LFT_HEX */
};

#define CAS_LF_STR(k, v) ((struct cas_log_field){.key = (k), .type = CAS_LFT_STR, .s = (v)})
#define CAS_LF_INT(k, v)                                                                           \
    ((struct cas_log_field){.key = (k), .type = CAS_LFT_INT, .i = (long long)(v)})
#define CAS_LF_HEX(k, v, n)                                                                        \
    ((struct cas_log_field){.key = (k), .type = CAS_LFT_HEX, .p = (v), .len = (n)})

/* CAS_LOG(INFO, "casd.started", CAS_LF_STR("listen", addr), ...) */
#define CAS_LOG(level, event, ...)                                                                 \
    do {                                                                                           \
        if (cas_log_enabled(CAS_LOG_##level)) {                                                    \
            const struct cas_log_field cas_log_f_[] = {CAS_LF_STR(NULL, NULL), __VA_ARGS__};       \
            cas_log_emit(CAS_LOG_##level, (event), cas_log_f_ + 1,                                 \
                         sizeof(cas_log_f_) / sizeof(cas_log_f_[0]) - 1);                          \
        }                                                                                          \
    } while (0)

/* Messages of an error chain as one field ("error"): use cas_log_err(). */
struct cas_err;

void cas_log_set_level(enum cas_log_level level);
/* Parses "error|warn|info|debug"; returns -1 for anything else. */
int cas_log_parse_level(const char *s, enum cas_log_level *out);
/* Log destination (default 2, stderr). */
void cas_log_set_fd(int fd);
int cas_log_enabled(enum cas_log_level level);
void cas_log_emit(enum cas_log_level level, const char *event, const struct cas_log_field *f,
                  size_t n);
/* Logs event with field error="outer: inner" from the chain. */
void cas_log_err(enum cas_log_level level, const char *event, const struct cas_err *err);

#endif
