/*
 * commands.c - the table of `cas` commands: what runs, and what is refused and why
 * (compat.md §2: "later" commands get "is not supported by cas yet", "not planned" ones the
 * reason). A new command is one row here and one file cmd_<word>.c.
 */
#include "cli.h"

#define LATER "is not supported by cas yet"
#define TOOLCHAIN "is not planned: it belongs to SCONE's toolchain, not to a CAS"

static const char help_version[] =
    "Usage: cas version\n"
    "\n"
    "Prints the CLI's version and build time, then the release signer it expects of a CAS\n"
    "when 'cas attest' is not told otherwise. 'cas -V' is the same; 'cas cas version' asks a "
    "CAS.\n";

static const char help_session_check[] =
    "Usage: cas session check [OPTIONS] FILE\n"
    "\n"
    "Checks the session FILE locally (no CAS needed): prints the normalised session (defaults\n"
    "filled in, explicit secret values included, as written) and exits 0, or prints every\n"
    "problem as FILE:LINE:COLUMN: error: TEXT on stderr and exits 1. Warnings are printed the\n"
    "same way and do not fail the check unless --fail-on-warning is given.\n"
    "\n"
    "Options:\n"
    "  -e NAME=VALUE        value of the template variable $NAME or ${NAME} (repeatable; the\n"
    "                       last one wins; beats --use-env)\n"
    "      --use-env        take template variables from the environment too\n"
    "  -n, --name NAME      replace the session's name (after substitution)\n"
    "      --fail-on-warning  treat warnings as errors\n"
    "  -h, --help           this help\n";

static const char help_session_hash[] =
    "Usage: cas session calculate-hash [OPTIONS] FILE\n"
    "\n"
    "Prints the hash of the session FILE (64 lowercase hex), computed offline exactly as a CAS\n"
    "computes it (policy.md section 12). When the session references its creator (explicitly\n"
    "or through the default access policy) and FILE gives no creator, the hash needs the\n"
    "uploader's key: --with-self-as-creator tls uses the CLI identity, or --identity's.\n"
    "\n"
    "Options:\n"
    "  -e NAME=VALUE        value of the template variable $NAME or ${NAME} (repeatable)\n"
    "      --use-env        take template variables from the environment too\n"
    "  -n, --name NAME      replace the session's name (after substitution)\n"
    "      --fail-on-warning  treat warnings as errors\n"
    "      --identity FILE  a PEM certificate (and optionally its key) to use as the identity\n"
    "      --with-self-as-creator tls\n"
    "                       pretend the identity created the session\n"
    "  -h, --help           this help\n";

const struct cas_cmd cas_commands[] = {
    {"version", NULL, cas_cmd_version, "the CLI's version and default release signer", help_version,
     NULL},
    {"session", "check", cas_cmd_session_check, "check a session file and print it normalised",
     help_session_check, NULL},
    {"session", "calculate-hash", cas_cmd_session_calculate_hash,
     "print the hash of a session file, offline", help_session_hash, NULL},

    /* compat.md §2: later */
    {"verify-audit-log", NULL, NULL, NULL, NULL, LATER},
    {"attest-audit-log", NULL, NULL, NULL, NULL, LATER},
    {"session", "sign", NULL, NULL, NULL, LATER},
    {"session", "encrypt", NULL, NULL, NULL, LATER},
    {"self", "show-session-signing-key", NULL, NULL, NULL,
     LATER " (it comes with session signing)"},

    /* compat.md §2: not planned, with the reason */
    {"provision", NULL, NULL, NULL, NULL,
     "is not planned: casd is configured by its operator; a CAS has no owner role"},
    {"update-config", NULL, NULL, NULL, NULL,
     "is not planned: casd is configured by its operator; a CAS has no owner role"},
    {"register-backup", NULL, NULL, NULL, NULL,
     "is not planned: casd instances share one database and join by attestation"},
    {"register-upgrade", NULL, NULL, NULL, NULL,
     "is not planned: casd instances share one database and join by attestation"},
    {"start-upgrade", NULL, NULL, NULL, NULL,
     "is not planned: casd instances share one database and join by attestation"},
    {"self", "show-certificate-hash", NULL, NULL, NULL,
     "is not planned: certificate hashes are deprecated by SCONE; policies use key hashes "
     "('cas self show-key-hash')"},
    {"fspf", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"las", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"signer", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"gcc", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"g++", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"gccgo", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"gfortran", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"rustc", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"cargo", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"gdb", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"binary-fs", NULL, NULL, NULL, NULL, TOOLCHAIN},
    {"help-markdown", NULL, NULL, NULL, NULL, TOOLCHAIN},
};

const unsigned cas_commands_count = sizeof(cas_commands) / sizeof(cas_commands[0]);
