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

static const char help_self_show[] =
    "Usage: cas self show\n"
    "\n"
    "Prints the CLI's identity certificate (PEM), then 'Key hash: ' and its key hash. The\n"
    "identity (a P-256 key and a self-signed certificate) is created on first use and kept in\n"
    "the CLI state file (see 'cas help').\n";
static const char help_self_cert[] = "Usage: cas self show-certificate\n"
                                     "\n"
                                     "Prints the CLI's identity certificate (PEM).\n";
static const char help_self_hash[] =
    "Usage: cas self show-key-hash [--hex]\n"
    "\n"
    "Prints the key hash of the CLI's identity: SHA-256 of its SubjectPublicKeyInfo in SCONE's\n"
    "Base58Check form (50 characters), or as 64 lowercase hex digits with --hex. Session\n"
    "policies name clients by this hash.\n";
static const char help_cert_hash[] =
    "Usage: cas cert show-key-hash FILE [--hex]\n"
    "\n"
    "Prints the key hash of the first certificate in the PEM FILE, in Base58Check form or, with\n"
    "--hex, as 64 lowercase hex digits.\n";
static const char help_quote_verify[] =
    "Usage: cas quote verify QUOTE [--collateral DIR | --pccs URL] [--at TIME] [--json]\n"
    "\n"
    "Verifies an Intel DCAP quote (SGX quote v3, TDX quote v4 or v5) against its collateral\n"
    "and prints the verdict: evidence type, the root that signed, TCB status, advisories,\n"
    "every measurement, the debug flag, FMSPC and platform id.\n"
    "\n"
    "  --collateral DIR  collateral files laid out as in shared/testdata/dcap/<case>/\n"
    "                    (default: the folder holding QUOTE)\n"
    "  --pccs URL        fetch the collateral from a PCCS (API v4), e.g. https://pccs:8081\n"
    "  --at TIME         verify at TIME, RFC 3339 or Unix seconds (default: now)\n"
    "  --json            print one JSON object instead of 'Name: value' lines\n"
    "\n"
    "Exit 0 when the quote is authentic and its TCB status determined, whatever that status\n"
    "but Revoked (judging it is policy's job); 1 naming the failed check otherwise.\n";

const struct cas_cmd cas_commands[] = {
    {"version", NULL, cas_cmd_version, "the CLI's version and default release signer", help_version,
     NULL},
    {"self", "show", cas_cmd_self_show, "the CLI's identity certificate and key hash",
     help_self_show, NULL},
    {"self", "show-certificate", cas_cmd_self_show_certificate, "the CLI's identity certificate",
     help_self_cert, NULL},
    {"self", "show-key-hash", cas_cmd_self_show_key_hash, "the key hash of the CLI's identity",
     help_self_hash, NULL},
    {"cert", "show-key-hash", cas_cmd_cert_show_key_hash, "the key hash of a certificate",
     help_cert_hash, NULL},
    {"quote", "verify", cas_cmd_quote_verify, "verify an Intel DCAP quote and print its verdict",
     help_quote_verify, NULL},

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
