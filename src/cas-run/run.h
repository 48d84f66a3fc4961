/*
 * run.h - the parts of cas-run (api.md §4) that decide without touching the network or the TEE:
 * settings from variables, their SCONE aliases and flags; the enclave API's answers (§2.4);
 * host arguments (@@N) and host variables; writing the injection files. main.c strings them
 * together. Everything a session sends may be secret: argv, environment, files and the render
 * token are held in wiping allocations (cas_wipe_malloc) or struct cas_secret, never printed.
 */
#ifndef CAS_RUN_RUN_H
#define CAS_RUN_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>
#include <stdio.h>

#include "cas/err.h"

struct cas_secret;

#define CAS_RUN_DEFAULT_PORT 18765

/* Settings from the environment (api.md §4's table); flags then overwrite single fields. All
 * strings are borrowed from the environment or argv. */
struct cas_run_settings {
    const char *cas_addr;          /* CAS_ADDR | SCONE_CAS_ADDR | --cas-addr */
    const char *cas_cert;          /* CAS_CERT | --cas-cert (a file) */
    const char *config_id;         /* CAS_CONFIG_ID | SCONE_CONFIG_ID | --config-id */
    const char *access_token;      /* CAS_ACCESS_TOKEN | SCONE_SERVICE_ACCESS_TOKEN (the value) */
    const char *access_token_file; /* --access-token-file (wins over the variables) */
    const char *tee;               /* CAS_TEE | --tee; default "sim" */
    const char *sim_tcb_status;    /* CAS_SIM_TCB_STATUS */
    const char *sim_advisories;    /* CAS_SIM_ADVISORIES, comma-separated */
    const char *sim_signing_key;   /* CAS_SIM_SIGNING_KEY (a file) */
    const char *sim_isvprodid;     /* CAS_SIM_ISVPRODID; default 0 */
    const char *sim_isvsvn;        /* CAS_SIM_ISVSVN; default 0 */
};

/* The value of name in envp (NULL-terminated "NAME=VALUE" strings), or NULL. */
const char *cas_run_getenv(char *const *envp, const char *name);

/* Reads the variables of api.md §4 from envp. A name and its alias both set to different values
 * is CAS_E_INVALID naming both; equal values are fine. SCONE_LAS_ADDR is ignored. */
cas_rc cas_run_settings_from_env(char *const *envp, struct cas_run_settings *s,
                                 struct cas_err *err) CAS_MUST_CHECK;

/* "https://HOST:PORT" from CAS_ADDR (HOST[:PORT], HOST a name, IPv4 or [IPv6]; default port
 * 18765). */
cas_rc cas_run_enclave_url(const char *addr, char *out, size_t out_len,
                           struct cas_err *err) CAS_MUST_CHECK;

/* A decimal 0..65535 (ISVPRODID, ISVSVN); name is for the message. */
cas_rc cas_run_parse_u16(const char *name, const char *text, uint16_t *out,
                         struct cas_err *err) CAS_MUST_CHECK;

/* An injection file as the session sends it. */
struct cas_run_file {
    char *path; /* absolute, no '.', '..' or empty segments */
    unsigned mode;
    struct cas_secret *content; /* freed (wiped) as soon as the file is written */
};

/* A 200 answer of POST /v1/service/attest, then the files of /v1/service/render. */
struct cas_run_answer {
    char session_hash[65];
    char **argv; /* argv_count strings (wiping allocations) */
    size_t argv_count;
    char **env; /* "NAME=VALUE" (wiping allocations) */
    size_t env_count;
    char **host_env; /* names */
    size_t host_env_count;
    char *pwd;
    struct cas_run_file *files;
    size_t file_count;
    char **templates; /* absolute paths to read and send for rendering */
    size_t template_count;
    char *render_token; /* wiping allocation; NULL without templates */
};

#define CAS_RUN_MAX_ITEMS 4096 /* argv, env, host_env, files, templates: each */

/* Parses an attest answer (a 200 body). a is cleared first; on failure it owns nothing. */
cas_rc cas_run_answer_parse(const uint8_t *json, size_t len, struct cas_run_answer *a,
                            struct cas_err *err) CAS_MUST_CHECK;
/* Parses a render answer {"files": [...]} and appends its files to a; on failure a is as before. */
cas_rc cas_run_render_parse(const uint8_t *json, size_t len, struct cas_run_answer *a,
                            struct cas_err *err) CAS_MUST_CHECK;
/* Frees (and wipes) what a owns and clears it; a cleared answer is fine. */
void cas_run_answer_release(struct cas_run_answer *a);

/*
 * Prints a refused call from the elements of the answer's "msg" array: "cas-run: <msg[0]>", then
 * for a 403 each problem on its own line, for other statuses ": <msg[i]>" on the same line.
 * Control characters become '?'. Without such an array: "cas-run: <what_failed>: the CAS
 * answered HTTP <status>".
 */
void cas_run_print_refusal(FILE *f, const char *what_failed, long status, const uint8_t *body,
                           size_t len);

/*
 * The program's argv: the session's with each "@@N" (N 1..999, no leading zero) replaced by
 * args[N-1]. A missing one is CAS_E_INVALID. *unused gets how many args no @@N named. *out is a
 * NULL-terminated array of borrowed pointers (free only the array).
 */
cas_rc cas_run_fill_argv(const struct cas_run_answer *a, char *const *args, size_t arg_count,
                         char ***out, size_t *unused, struct cas_err *err) CAS_MUST_CHECK;

/*
 * The program's environment: exactly the session's, plus each host_env name with its value from
 * host_envp ("" when unset), which replaces a session value of the same name. *out is a
 * NULL-terminated array of wiping allocations: free it with cas_run_env_free.
 */
cas_rc cas_run_build_env(const struct cas_run_answer *a, char *const *host_envp, char ***out,
                         struct cas_err *err) CAS_MUST_CHECK;
void cas_run_env_free(char **env);

/*
 * Writes the injection files under root ("" in production): parent directories made 0700 when
 * missing, each file replaced atomically with exactly its mode, its content wiped and freed right
 * after; when one fails, those written before it are removed again. Every path is walked without
 * following a symbolic link: one on the way is CAS_E_IO naming it. With private_tmpfs, first a
 * private mount namespace with a tmpfs (mode 0700) on every parent directory, so the files live in
 * memory and only this process and its program see them; then a file whose parent is "/" is
 * CAS_E_INVALID naming it, before anything is made. *on_tmpfs says whether the namespace was
 * there (no CAP_SYS_ADMIN: written directly, as api.md §4 allows).
 */
cas_rc cas_run_write_files(struct cas_run_answer *a, const char *root, bool private_tmpfs,
                           bool *on_tmpfs, struct cas_err *err) CAS_MUST_CHECK;

/* Removes the injection files again (the program could not be started after they were written). */
void cas_run_remove_files(const struct cas_run_answer *a, const char *root);

/* A path as injection files need it: absolute, no empty, '.' or '..' segments, no trailing '/'. */
bool cas_run_path_ok(const char *path, size_t len);

#endif
