/*
 * cli.h - the frame every `cas` command plugs into (api.md §3).
 *
 * A command is a row of the table in commands.c: its words ("session", "check"), its handler,
 * a one-line summary and its help text. main.c handles the global options, the optional object
 * word `cas`, `@FILE` operands, `--help`/`-h` and `cas help`, so a handler only parses its own
 * options (getopt_long with permutation, argv[0] = the last command word) and returns the exit
 * status: CAS_EXIT_OK, CAS_EXIT_FAIL (a problem, `cas: ` lines on stderr), CAS_EXIT_USAGE.
 */
#ifndef CAS_CLI_H
#define CAS_CLI_H

#include <stdio.h>

#include "cas/err.h"

enum { CAS_EXIT_OK = 0, CAS_EXIT_FAIL = 1, CAS_EXIT_USAGE = 2 };

struct cas_cli {
    const char *prog;   /* "cas" or "scone", for messages in help texts */
    const char *config; /* -c/--config FILE, else NULL (the default path rules apply) */
};

typedef int (*cas_cmd_fn)(struct cas_cli *cli, int argc, char **argv);

struct cas_cmd {
    const char *word;    /* "version", "session" */
    const char *sub;     /* "check", or NULL for a one-word command */
    cas_cmd_fn run;      /* NULL: refused with `refusal` (later or not planned) */
    const char *summary; /* one line for `cas help`; NULL hides the row */
    const char *help;    /* the whole --help text, usage line first */
    const char *refusal; /* for run == NULL: the reason printed, exit 2 */
};

extern const struct cas_cmd cas_commands[];
extern const unsigned cas_commands_count;

/* Prints `cas: <text>` on stderr (one line). */
void cas_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints each message of an error chain as its own `cas: ` line, outermost first. */
void cas_cli_error_chain(const struct cas_err *err);
/* A usage error: prints `cas: <text>` and a pointer to --help; returns CAS_EXIT_USAGE. */
int cas_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Commands, one file each. */
int cas_cmd_version(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_self_show(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_self_show_certificate(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_self_show_key_hash(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_cert_show_key_hash(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_quote_verify(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_attest(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_create(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_update(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_read(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_delete(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_list(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_verify(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_values_get(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_list(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_set_default(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_show_certificate(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_show_identification(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_cas_version(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_check(struct cas_cli *cli, int argc, char **argv);
int cas_cmd_session_calculate_hash(struct cas_cli *cli, int argc, char **argv);

#endif
