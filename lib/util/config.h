/*
 * config.h - a program's settings from one table: every file key is also a command-line flag.
 *
 * The file has one `key = value` per line, `#` comments and blank lines; a list key is repeated.
 * An unknown key, a line without '=', or a bad value is an error naming FILE:LINE. Flags win over
 * the file: a scalar flag replaces the file's value, a list flag replaces the file's whole list.
 * Values are checked by type (integer: decimal; switch: on|off). Not thread safe; load once.
 */
#ifndef CAS_UTIL_CONFIG_H
#define CAS_UTIL_CONFIG_H

#include <stddef.h>

#include <stdbool.h>
#include <stdio.h>

#include "cas/err.h"

enum cas_opt_type { CAS_OPT_STR, CAS_OPT_INT, CAS_OPT_SWITCH, CAS_OPT_LIST };

struct cas_opt {
    const char *key;  /* file key: data_dir */
    const char *flag; /* long flag without dashes: data-dir */
    const char *arg;  /* placeholder in --help: DIR */
    enum cas_opt_type type;
    const char *def;  /* default as text; NULL: none */
    const char *help; /* one line */
};

#define CAS_CONFIG_MAX_OPTS 64
#define CAS_CONFIG_MAX_LIST 64
#define CAS_CONFIG_MAX_LINE 4096
#define CAS_CONFIG_MAX_FILE (1024 * 1024)

struct cas_config_value {
    char *items[CAS_CONFIG_MAX_LIST]; /* a scalar uses items[0] */
    size_t n;
    bool from_flag;
};

struct cas_config {
    const struct cas_opt *opts;
    size_t n;
    struct cas_config_value v[CAS_CONFIG_MAX_OPTS];
    char *file; /* the --config file, if any */
};

/* cfg borrows opts (a static table) for its life. */
void cas_config_init(struct cas_config *cfg, const struct cas_opt *opts, size_t n);
void cas_config_release(struct cas_config *cfg);

/* Sets option `key` from the file or a flag (see the header comment for precedence). */
cas_rc cas_config_set(struct cas_config *cfg, const char *key, const char *value, bool from_flag,
                      struct cas_err *err) CAS_MUST_CHECK;
/* Reads a `key = value` file. */
cas_rc cas_config_load_file(struct cas_config *cfg, const char *path,
                            struct cas_err *err) CAS_MUST_CHECK;
/* Reads file text already in memory (name is used in messages). */
cas_rc cas_config_load_text(struct cas_config *cfg, const char *name, const char *text, size_t len,
                            struct cas_err *err) CAS_MUST_CHECK;

enum cas_config_action { CAS_CONFIG_RUN, CAS_CONFIG_HELP, CAS_CONFIG_VERSION };
/*
 * Parses argv: the table's flags (--flag VALUE or --flag=VALUE), --config FILE, --help/-h and
 * --version/-V; loads the file, then applies the flags over it. Positional arguments are an
 * error. Returns CAS_E_INVALID with a usage message on a bad command line.
 */
cas_rc cas_config_from_args(struct cas_config *cfg, int argc, char **argv,
                            enum cas_config_action *action, struct cas_err *err) CAS_MUST_CHECK;

/* The value (or default; NULL if neither) of a scalar key. */
const char *cas_config_get(const struct cas_config *cfg, const char *key);
/* The items of a list key (the default counts as one item); *n gets their number. */
const char *const *cas_config_get_list(const struct cas_config *cfg, const char *key, size_t *n);
long long cas_config_get_int(const struct cas_config *cfg, const char *key);
bool cas_config_get_switch(const struct cas_config *cfg, const char *key);

/* The flag table for --help: "  --data-dir DIR   state (mode 0700) [./cas-data]   (data_dir)". */
void cas_config_print_help(const struct cas_config *cfg, FILE *f);

#endif
