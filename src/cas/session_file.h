/*
 * session_file.h - what the session commands share (api.md §3.3): their options, reading and
 * checking a session file locally with template variables (policy.md §4), and printing problems
 * as FILE:LINE:COLUMN: error|warning: TEXT.
 */
#ifndef CAS_CLI_SESSION_FILE_H
#define CAS_CLI_SESSION_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cli.h"

struct cas_policy;
struct cas_policy_diags;

/* Which options a command takes. */
#define SO_VARS 0x01u     /* -e, --use-env, -n, --fail-on-warning */
#define SO_CAS 0x02u      /* -c/--cas, --retries, --cas-cert */
#define SO_IDENTITY 0x04u /* --identity */
#define SO_HASH 0x08u     /* --hash (read) */
#define SO_JSON 0x10u     /* --json (values get) */
#define SO_SELF 0x20u     /* --with-self-as-creator tls (calculate-hash) */

struct cas_session_opts {
    const char *operands[2];
    size_t n_operands;
    const char **vars;
    size_t var_count;
    bool use_env, fail_on_warning, json, self_as_creator;
    bool warn_exports; /* session check: flag unpinned exports (policy.h) */
    const char *name, *identity, *cas, *cas_cert, *hash;
    unsigned retries;
};

/* Parses argv for cmd with the options in `which` and min..max operands; exit status. */
int cas_session_opts_parse(const char *cmd, unsigned which, size_t min, size_t max, int argc,
                           char **argv, struct cas_session_opts *o);
void cas_session_opts_release(struct cas_session_opts *o);

void cas_session_print_diags(const char *file, const struct cas_policy_diags *d);
/* Parses data as the session in `file` with o's variables; prints problems; exit status. */
int cas_session_parse_text(const struct cas_session_opts *o, const char *file, const uint8_t *data,
                           size_t len, struct cas_policy **out);
/* Reads and parses o->operands[0]. */
int cas_session_load(const struct cas_session_opts *o, struct cas_policy **out);

#endif
