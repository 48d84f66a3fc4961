/* cmd_version.c - `cas version` and `cas -V`: the CLI's version and its default release signer. */
#include <stdio.h>

#include "cas/version.h"
#include "cli.h"

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
    else
        printf("Release signer: the software TEE simulator's published signing key, ISVPRODID "
               "%d, ISVSVN %d\n",
               CAS_RELEASE_ISVPRODID, CAS_RELEASE_ISVSVN);
    return CAS_EXIT_OK;
}
