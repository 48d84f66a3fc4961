/*
 * cmd_session_local.c - the session commands that need no CAS (api.md §3.3): `cas session check
 * FILE` prints the normalised session or every problem, `cas session calculate-hash FILE` prints
 * its hash (policy.md §12). Options and file handling are session_file.c's; identities are
 * lib/client's. Problems go to stderr as FILE:LINE:COLUMN: error: TEXT, never quoting a value.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/identity.h"
#include "client/state.h"
#include "policy/policy.h"
#include "session_file.h"

int
cas_cmd_session_check(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_session_opts o;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    char *yaml = NULL;
    size_t len = 0;
    int rc;

    (void)cli;
    if ((rc = cas_session_opts_parse("session check", SO_VARS, 1, 1, argc, argv, &o)) !=
        CAS_EXIT_OK)
        return rc;
    o.warn_exports = true; /* offline: casd judges exports with its database at upload */
    if ((rc = cas_session_load(&o, &p)) != CAS_EXIT_OK)
        goto out;
    if (cas_policy_emit_yaml(p, NULL, &yaml, &len, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        rc = CAS_EXIT_FAIL;
        goto out;
    }
    if (fwrite(yaml, 1, len, stdout) != len || fflush(stdout) != 0) {
        cas_cli_error("cannot write the session to stdout");
        rc = CAS_EXIT_FAIL;
    }
out:
    if (yaml != NULL) {
        OPENSSL_cleanse(yaml, len);
        free(yaml);
    }
    cas_policy_free(p);
    cas_session_opts_release(&o);
    return rc;
}

/* The uploader's key hash: --identity FILE (a certificate suffices), else the CLI state's
 * identity. The state is read only if it exists: calculate-hash never creates one. */
static int
uploader_key_hash(struct cas_cli *cli, const struct cas_session_opts *o, uint8_t out[32])
{
    struct cas_cli_identity id = {0};
    struct cas_cli_state st = {0};
    struct cas_err err = {0};
    cas_rc rc;

    if (o->identity != NULL) {
        rc = cas_cli_identity_load_file(o->identity, true, &id, &err);
    } else if ((rc = cas_cli_state_load(cli->config, &st, &err)) == CAS_OK) {
        if (!st.exists || !json_is_string(json_object_get(st.root, "identity")))
            rc = cas_err_set(&err, CAS_E_NOTFOUND,
                             "--with-self-as-creator tls needs an identity and the CLI has none "
                             "yet (no identity in '%s'); give --identity FILE",
                             st.path);
        else
            rc = cas_cli_identity_ensure(&st, &id, &err);
        cas_cli_state_release(&st);
    }
    if (rc != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    memcpy(out, id.key_hash, 32);
    cas_cli_identity_release(&id);
    return CAS_EXIT_OK;
}

int
cas_cmd_session_calculate_hash(struct cas_cli *cli, int argc, char **argv)
{
    struct cas_session_opts o;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    uint8_t self[32], digest[32];
    char hex[65];
    int rc;

    if ((rc = cas_session_opts_parse("session calculate-hash", SO_VARS | SO_IDENTITY | SO_SELF, 1,
                                     1, argc, argv, &o)) != CAS_EXIT_OK)
        return rc;
    if ((rc = cas_session_load(&o, &p)) != CAS_EXIT_OK)
        goto out;
    if (o.self_as_creator && (rc = uploader_key_hash(cli, &o, self)) != CAS_EXIT_OK)
        goto out;
    if (cas_policy_hash(p, o.self_as_creator ? self : NULL, digest, hex, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        rc = CAS_EXIT_FAIL;
        goto out;
    }
    printf("%s\n", hex);
out:
    cas_policy_free(p);
    cas_session_opts_release(&o);
    return rc;
}
