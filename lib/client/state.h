/*
 * state.h - the cas CLI's state file (api.md §3 "State"): the identity, the default CAS and every
 * attested CAS with its pin. JSON {"format": "cas-cli-1", ...}, created 0600 in a 0700 directory,
 * written atomically; one readable by group or others is refused; one of another format is read
 * but never rewritten. It holds a private key: jansson is given wiping allocators while loaded.
 */
#ifndef CAS_CLIENT_STATE_H
#define CAS_CLIENT_STATE_H

#include <jansson.h>
#include <stdbool.h>

#include "cas/err.h"

#define CAS_CLI_FORMAT "cas-cli-1"
#define CAS_CLI_STATE_MAX (16 * 1024 * 1024)

struct cas_cli_state {
    char *path;
    json_t *root; /* always an object */
    bool exists;  /* the file was there when loaded */
    bool foreign; /* another format: never rewritten */
};

/* The file to use: explicit (-c), else $CAS_CLI_CONFIG, else $XDG_CONFIG_HOME/cas/config.json,
 * else ~/.config/cas/config.json. Returns a malloc'd path. */
cas_rc cas_cli_state_path(const char *explicit_path, char **out,
                          struct cas_err *err) CAS_MUST_CHECK;
/* Loads the state (an empty one when the file does not exist yet). */
cas_rc cas_cli_state_load(const char *explicit_path, struct cas_cli_state *st,
                          struct cas_err *err) CAS_MUST_CHECK;
/* Writes it back atomically, creating the directory 0700 and the file 0600. */
cas_rc cas_cli_state_save(struct cas_cli_state *st, struct cas_err *err) CAS_MUST_CHECK;
void cas_cli_state_release(struct cas_cli_state *st);

/* Installs jansson allocators that wipe every block they free (once per process). */
void cas_cli_json_wiping(void);

#endif
