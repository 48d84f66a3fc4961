/*
 * log.c - the logfmt writer behind CAS_LOG. Builds each line in a fixed stack buffer (a line
 * longer than 4 KiB is cut and marked), escapes every value, and writes it with one write(2).
 */
#include "util/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cas/err.h"

#define LINE_MAX_LEN 4096

static atomic_int g_level = CAS_LOG_INFO;
static atomic_int g_fd = 2;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

struct line {
    char buf[LINE_MAX_LEN];
    size_t len;
    int cut;
};

static void
put(struct line *l, const char *s, size_t n)
{
    if (l->cut)
        return;
    if (n > sizeof(l->buf) - 16 - l->len) { /* room for " cut=true\n" */
        n = sizeof(l->buf) - 16 - l->len;
        l->cut = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* A value in double quotes; quotes, backslashes and control bytes escaped. */
static void
put_quoted(struct line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char esc[4];

    put(l, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            put(l, esc, 4);
        } else {
            put(l, (const char *)s, 1);
        }
    }
    put(l, "\"", 1);
}

/* A key or event name: only [A-Za-z0-9_.-] pass, anything else becomes '_'. */
static void
put_name(struct line *l, const char *s)
{
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            c = '_';
        put(l, &c, 1);
    }
}

void
cas_log_set_level(enum cas_log_level level)
{
    atomic_store(&g_level, (int)level);
}

int
cas_log_parse_level(const char *s, enum cas_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum cas_log_level)i;
            return 0;
        }
    }
    return -1;
}

void
cas_log_set_fd(int fd)
{
    atomic_store(&g_fd, fd);
}

int
cas_log_enabled(enum cas_log_level level)
{
    return (int)level <= atomic_load(&g_level);
}

void
cas_log_emit(enum cas_log_level level, const char *event, const struct cas_log_field *f, size_t n)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    struct line l = {.len = 0, .cut = 0};
    struct timeval tv;
    struct tm tm;
    char ts[128];
    const char *dot;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    (void)snprintf(
        ts, sizeof(ts), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
    puts_(&l, ts);
    puts_(&l, names[(int)level & 3]);
    puts_(&l, " mod=");
    dot = strchr(event, '.');
    put(&l, event, dot != NULL ? (size_t)(dot - event) : strlen(event));
    puts_(&l, " ev=");
    put_name(&l, event);
    for (size_t i = 0; i < n; i++) {
        char num[32];
        put(&l, " ", 1);
        put_name(&l, f[i].key != NULL ? f[i].key : "field");
        put(&l, "=", 1);
        switch (f[i].type) {
        case CAS_LFT_STR:
            if (f[i].s == NULL)
                puts_(&l, "null");
            else
                put_quoted(&l, f[i].s);
            break;
        case CAS_LFT_INT:
            (void)snprintf(num, sizeof(num), "%lld", f[i].i);
            puts_(&l, num);
            break;
        case CAS_LFT_HEX:
            for (size_t j = 0; j < f[i].len; j++) {
                (void)snprintf(num, sizeof(num), "%02x", f[i].p[j]);
                put(&l, num, 2);
            }
            break;
        }
    }
    if (l.cut)
        memcpy(l.buf + l.len, " cut=true", 9), l.len += 9;
    l.buf[l.len++] = '\n';

    pthread_mutex_lock(&g_lock);
    {
        size_t off = 0;
        int fd = atomic_load(&g_fd);
        while (off < l.len) {
            ssize_t w = write(fd, l.buf + off, l.len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void
cas_log_err(enum cas_log_level level, const char *event, const struct cas_err *err)
{
    char msg[CAS_ERR_LEN * 2];

    if (!cas_log_enabled(level))
        return;
    cas_err_join(err, msg, sizeof(msg));
    const struct cas_log_field f[] = {CAS_LF_STR("error", msg)};
    cas_log_emit(level, event, f, 1);
}
