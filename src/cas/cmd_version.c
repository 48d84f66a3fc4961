/* cmd_version.c - `cas version` and `cas -V`: the CLI's version and its default release signer. */
#include <stdio.h>
#include <string.h>

#include "cas/version.h"
#include "cli.h"
#include "tee/sim.h"
#include "util/codec.h"

int
cas_cmd_version(struct cas_cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argv;
    if (argc > 1)
        return cas_cli_usage("version", "'version' takes no arguments");
    printf("cas %s (%s)\n", CAS_VERSION, CAS_BUILD_TIME);
    if (CAS_RELEASE_MRSIGNER[0] != '\0')
        printf("Release signer: MRSIGNER %s, ISVPRODID %d, ISVSVN %d\n", CAS_RELEASE_MRSIGNER,
               CAS_RELEASE_ISVPRODID, CAS_RELEASE_ISVSVN);
    else {
        /* Unset at build time: the simulator's published signing key (api.md §3.1). */
        const char *pem = cas_tee_sim_signing_key_pem();
        uint8_t mrsigner[32];
        char hex[65];
        struct cas_err err = {0};
        if (cas_tee_sim_mrsigner_from_pem(pem, strlen(pem), mrsigner, &err) != CAS_OK) {
            cas_cli_error_chain(&err);
            return CAS_EXIT_FAIL;
        }
        cas_hex_encode(mrsigner, 32, hex);
        printf("Release signer: MRSIGNER %s (the software TEE simulator's published key), "
               "ISVPRODID %d, ISVSVN %d\n",
               hex, CAS_RELEASE_ISVPRODID, CAS_RELEASE_ISVSVN);
    }
    return CAS_EXIT_OK;
}
