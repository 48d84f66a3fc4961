/*
 * config.c - the settings table of config.h: file parsing, flag parsing, typed getters. The file
 * is bounded (1 MiB, 4 KiB lines, 64 list items) and parsed line by line with line numbers for
 * every message; values are copied, so nothing borrows from the file buffer.
 */
#include "util/config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

void
cas_config_init(struct cas_config *cfg, const struct cas_opt *opts, size_t n)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->opts = opts;
    cfg->n = n < CAS_CONFIG_MAX_OPTS ? n : CAS_CONFIG_MAX_OPTS;
}

static void
clear_value(struct cas_config_value *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->items[i]);
    v->n = 0;
}

void
cas_config_release(struct cas_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++)
        clear_value(&cfg->v[i]);
    free(cfg->file);
    cfg->file = NULL;
}

static long
find(const struct cas_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->opts[i].key, key) == 0)
            return (long)i;
    }
    return -1;
}

static cas_rc
check_type(const struct cas_opt *o, const char *value, struct cas_err *err)
{
    if (o->type == CAS_OPT_INT) {
        size_t len = strlen(value);
        if (len == 0 || len > 18 || strspn(value, "0123456789") != len)
            return cas_err_set(err, CAS_E_INVALID, "'%s' needs a whole number, not '%.64s'", o->key,
                               value);
    } else if (o->type == CAS_OPT_SWITCH) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
            return cas_err_set(err, CAS_E_INVALID, "'%s' is on or off, not '%.64s'", o->key, value);
    }
    return CAS_OK;
}

cas_rc
cas_config_set(struct cas_config *cfg, const char *key, const char *value, bool from_flag,
               struct cas_err *err)
{
    long i = find(cfg, key);
    struct cas_config_value *v;
    char *copy;
    cas_rc rc;

    if (i < 0)
        return cas_err_set(err, CAS_E_INVALID, "unknown key '%.64s'", key);
    if ((rc = check_type(&cfg->opts[i], value, err)) != CAS_OK)
        return rc;
    v = &cfg->v[i];
    if (v->from_flag && !from_flag) /* the file never overrides a flag */
        return CAS_OK;
    if (from_flag && !v->from_flag) {
        clear_value(v);
        v->from_flag = true;
    }
    if (cfg->opts[i].type != CAS_OPT_LIST)
        clear_value(v);
    if (v->n == CAS_CONFIG_MAX_LIST)
        return cas_err_set(err, CAS_E_INVALID, "'%s' is given more than %d times", key,
                           CAS_CONFIG_MAX_LIST);
    if ((copy = cas_strdup(value)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    v->items[v->n++] = copy;
    return CAS_OK;
}

static char *
trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = '\0';
    return s;
}

cas_rc
cas_config_load_text(struct cas_config *cfg, const char *name, const char *text, size_t len,
                     struct cas_err *err)
{
    char line[CAS_CONFIG_MAX_LINE + 1];
    size_t off = 0;
    unsigned lineno = 0;

    if (memchr(text, '\0', len) != NULL)
        return cas_err_set(err, CAS_E_INVALID, "%s: contains a NUL byte", name);
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t l = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
        char *key, *value, *eq, *hash;
        cas_rc rc;

        lineno++;
        if (l > CAS_CONFIG_MAX_LINE)
            return cas_err_set(err, CAS_E_INVALID, "%s:%u: line is longer than %d bytes", name,
                               lineno, CAS_CONFIG_MAX_LINE);
        memcpy(line, text + off, l);
        line[l] = '\0';
        off += l + (nl != NULL);
        if ((hash = strchr(line, '#')) != NULL) /* values contain no '#': paths, names, URLs */
            *hash = '\0';
        key = trim(line, line + strlen(line));
        if (*key == '\0')
            continue;
        if ((eq = strchr(key, '=')) == NULL)
            return cas_err_set(err, CAS_E_INVALID, "%s:%u: expected 'key = value'", name, lineno);
        value = trim(eq + 1, eq + 1 + strlen(eq + 1));
        key = trim(key, eq);
        if (find(cfg, key) < 0)
            return cas_err_set(err, CAS_E_INVALID, "%s:%u: unknown key '%.64s'", name, lineno, key);
        if ((rc = cas_config_set(cfg, key, value, false, err)) != CAS_OK)
            return cas_err_wrap(err, "%s:%u", name, lineno);
    }
    return CAS_OK;
}

cas_rc
cas_config_load_file(struct cas_config *cfg, const char *path, struct cas_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *text = NULL;
    size_t got = 0;
    cas_rc rc;

    if (fd < 0)
        return cas_err_set(err, CAS_E_IO, "cannot open configuration file '%s': %s", path,
                           strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CAS_CONFIG_MAX_FILE) {
        close(fd);
        return cas_err_set(err, CAS_E_INVALID,
                           "configuration file '%s' is not a regular file of at most 1 MiB", path);
    }
    if ((text = cas_malloc((size_t)st.st_size + 1)) == NULL) {
        close(fd);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    rc = cas_config_load_text(cfg, path, text, got, err);
    free(text);
    return rc;
}

cas_rc
cas_config_from_args(struct cas_config *cfg, int argc, char **argv, enum cas_config_action *action,
                     struct cas_err *err)
{
    struct option lo[CAS_CONFIG_MAX_OPTS + 4];
    const char *config = NULL;
    size_t i;
    int c, idx;
    cas_rc rc;

    *action = CAS_CONFIG_RUN;
    for (i = 0; i < cfg->n; i++)
        lo[i] = (struct option){cfg->opts[i].flag, required_argument, NULL, (int)(1000 + i)};
    lo[i++] = (struct option){"config", required_argument, NULL, 'c'};
    lo[i++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[i++] = (struct option){"version", no_argument, NULL, 'V'};
    lo[i] = (struct option){NULL, 0, NULL, 0};

    /* Pass 1: find --config, --help, --version and bad flags; values are applied after. */
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:hV", lo, &idx)) != -1) {
        if (c == 'h') {
            *action = CAS_CONFIG_HELP;
            return CAS_OK;
        }
        if (c == 'V') {
            *action = CAS_CONFIG_VERSION;
            return CAS_OK;
        }
        if (c == 'c')
            config = optarg;
        else if (c == '?')
            return cas_err_set(err, CAS_E_INVALID, "unknown option '%s'; see --help",
                               argv[optind - 1]);
        else if (c == ':')
            return cas_err_set(err, CAS_E_INVALID, "option '%s' needs a value", argv[optind - 1]);
    }
    if (optind < argc)
        return cas_err_set(err, CAS_E_INVALID, "unexpected argument '%s'; see --help",
                           argv[optind]);
    if (config != NULL) {
        if ((cfg->file = cas_strdup(config)) == NULL)
            return cas_err_set(err, CAS_E_NOMEM, "out of memory");
        if ((rc = cas_config_load_file(cfg, config, err)) != CAS_OK)
            return rc;
    }
    /* Pass 2: flags over the file. */
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:hV", lo, &idx)) != -1) {
        if (c >= 1000 && (size_t)(c - 1000) < cfg->n) {
            const struct cas_opt *o = &cfg->opts[c - 1000];
            if ((rc = cas_config_set(cfg, o->key, optarg, true, err)) != CAS_OK)
                return cas_err_wrap(err, "option '--%s'", o->flag);
        }
    }
    optind = 1;
    return CAS_OK;
}

const char *
cas_config_get(const struct cas_config *cfg, const char *key)
{
    long i = find(cfg, key);

    if (i < 0)
        return NULL;
    if (cfg->v[i].n > 0)
        return cfg->v[i].items[cfg->v[i].n - 1];
    return cfg->opts[i].def;
}

const char *const *
cas_config_get_list(const struct cas_config *cfg, const char *key, size_t *n)
{
    long i = find(cfg, key);

    *n = 0;
    if (i < 0)
        return NULL;
    if (cfg->v[i].n > 0) {
        *n = cfg->v[i].n;
        return (const char *const *)cfg->v[i].items;
    }
    if (cfg->opts[i].def != NULL) {
        *n = 1;
        return &cfg->opts[i].def;
    }
    return NULL;
}

long long
cas_config_get_int(const struct cas_config *cfg, const char *key)
{
    const char *v = cas_config_get(cfg, key);

    return v != NULL ? strtoll(v, NULL, 10) : 0;
}

bool
cas_config_get_switch(const struct cas_config *cfg, const char *key)
{
    const char *v = cas_config_get(cfg, key);

    return v != NULL && strcmp(v, "on") == 0;
}

void
cas_config_print_help(const struct cas_config *cfg, FILE *f)
{
    for (size_t i = 0; i < cfg->n; i++) {
        const struct cas_opt *o = &cfg->opts[i];
        char flag[64];
        (void)snprintf(flag, sizeof(flag), "--%s %s", o->flag, o->arg);
        fprintf(f, "  %-30s %s%s%s%s (file key: %s%s)\n", flag, o->help,
                o->def ? " [default: " : "", o->def ? o->def : "", o->def ? "]" : "", o->key,
                o->type == CAS_OPT_LIST ? ", repeatable" : "");
    }
}
