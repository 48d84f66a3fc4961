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
    "  --collateral DIR  collateral files laid out as in tests/data/dcap/<case>/\n"
    "                    (default: the folder holding QUOTE)\n"
    "  --pccs URL        fetch the collateral from a PCCS (API v4), e.g. https://pccs:8081\n"
    "  --at TIME         verify at TIME, RFC 3339 or Unix seconds (default: now)\n"
    "  --json            print one JSON object instead of 'Name: value' lines\n"
    "\n"
    "Exit 0 when the quote is authentic and its TCB status determined, whatever that status\n"
    "but Revoked (judging it is policy's job); 1 naming the failed check otherwise.\n";

static const char help_attest[] =
    "Usage: cas attest [OPTIONS] ADDRESS[:PORT] [MRENCLAVE]\n"
    "\n"
    "Verifies that the CAS at ADDRESS (default port 8081) runs the expected code in a genuine\n"
    "enclave on an acceptable platform, and that its evidence binds this very TLS connection;\n"
    "then pins its certificate chain, key hash and measurements in the CLI state. Every later\n"
    "command talks to a CAS only through its pin.\n"
    "\n"
    "  --mrenclave HEX     expected MRENCLAVE (repeatable; any match; MRENCLAVE is one more)\n"
    "  --mrsigner HEX      expected signer (needs --isvprodid and --isvsvn); default: the\n"
    "                      release signer built into cas ('cas version')\n"
    "  --isvprodid N       expected ISVPRODID\n"
    "  --isvsvn N          ISVSVN at least N\n"
    "  -c HASH             expected CAS key hash (Base58Check or 64 hex)\n"
    "  -G, --accept-group-out-of-date     accept an out-of-date platform (dangerous)\n"
    "  -C, --accept-configuration-needed  accept a platform needing configuration (less secure)\n"
    "  -S, --accept-sw-hardening-needed   accept missing software hardening (less secure)\n"
    "  --only_for_testing-debug           accept a debug CAS, simulator evidence included\n"
    "  --only_for_testing-ignore-signer   do not check MRSIGNER, ISVPRODID, ISVSVN\n"
    "  --only_for_testing-trust-any       accept any MRENCLAVE (debug CAS only)\n"
    "  --offline-report FILE  verify a saved /v1/attest answer instead of connecting\n"
    "  --nonce HEX            the nonce that answer was fetched with\n"
    "  --verification-time DATE  check validity at DATE (yyyy-mm-dd, dd.mm.yyyy, dd-mm-yyyy)\n"
    "  --retries N            retries after connection errors (default 3)\n"
    "\n"
    "On success stdout is exactly two lines; warnings go to stderr. On failure each failed check\n"
    "prints a 'cas: CAS ... is not trustworthy: ...' line naming the flag that would accept it,\n"
    "and the CLI state is unchanged.\n";
static const char help_list[] = "Usage: cas list\n\nOne line per attested CAS, sorted; '* ' marks "
                                "the default.\n";
static const char help_set_default[] =
    "Usage: cas set-default CAS\n\nMakes the attested CAS the default of later commands.\n";
static const char help_show_certificate[] =
    "Usage: cas show-certificate [CAS]\n"
    "\n"
    "Prints the pinned certificate chain of CAS (default: the default CAS) in PEM, intermediate\n"
    "first and the self-signed root last, and nothing else: usable as 'curl --cacert' and\n"
    "'openssl s_client -CAfile'.\n";
static const char help_show_identification[] =
    "Usage: cas show-identification [CAS] [-c | -C | -T] [--hex]\n"
    "\n"
    "  -c, --cas-key-hash       the CAS key hash (Base58Check; --hex for 64 hex digits)\n"
    "  -C, --cas-certificate    the CAS root certificate (PEM)\n"
    "  -T, --certificate-chain  the pinned chain, as show-certificate (the default)\n";
static const char help_cas_version[] =
    "Usage: cas cas version [-c CAS]\n\nAsks the CAS (through its pin) for its version and build "
    "time.\n";
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
#define CAS_OPTS                                                                                   \
    "  -c, --cas CAS       the attested CAS to use (default: the default CAS)\n"                   \
    "  --cas-cert FILE     trust the chain in FILE for this command instead of a pin\n"            \
    "  --retries N         retries after connection errors (default 3)\n"                          \
    "  --identity FILE     the client identity (PEM key and certificate) instead of the CLI's\n"
#define VAR_OPTS                                                                                   \
    "  -e NAME=VALUE       a template variable (repeatable; wins over --use-env)\n"                \
    "  --use-env           take template variables from the environment\n"                         \
    "  -n, --name NAME     the session's name, after substitution\n"                               \
    "  --fail-on-warning   treat warnings as errors\n"
static const char help_session_create[] =
    "Usage: cas session create FILE [OPTIONS]\n"
    "\n"
    "Checks FILE locally (problems as FILE:LINE:COLUMN), uploads the normalised session and\n"
    "prints its hash (64 hex) once it equals the hash computed locally. A file with a\n"
    "predecessor updates, as the CAS decides.\n\n" VAR_OPTS CAS_OPTS;
static const char help_session_update[] =
    "Usage: cas session update FILE [OPTIONS]\n"
    "\n"
    "As create, for a successor: a missing 'predecessor' is filled in with the active session's\n"
    "hash (this needs 'read' on it).\n\n" VAR_OPTS CAS_OPTS;
static const char help_session_read[] = "Usage: cas session read NAME [--hash HASH] [OPTIONS]\n"
                                        "\n"
                                        "Prints the normalised session (or an earlier version with "
                                        "--hash).\n\n" CAS_OPTS;
static const char help_session_delete[] = "Usage: cas session delete NAME [OPTIONS]\n"
                                          "\n"
                                          "Deletes every version and secret value of NAME (needs "
                                          "its 'delete' right).\n\n" CAS_OPTS;
static const char help_session_list[] = "Usage: cas session list NAMESPACE [OPTIONS]\n"
                                        "\n"
                                        "One session name per line (needs 'list_sessions' on "
                                        "NAMESPACE).\n\n" CAS_OPTS;
static const char help_session_verify[] =
    "Usage: cas session verify FILE [OPTIONS]\n"
    "\n"
    "Compares FILE, normalised, with the active session of its name (creator and predecessor\n"
    "taken from the CAS where FILE omits them). Equal: prints the active hash. Different: exit\n"
    "1 naming the first differing path; no value is printed.\n\n" VAR_OPTS CAS_OPTS;
static const char help_values_get[] =
    "Usage: cas values get SESSION [SECRET] [-c CAS] [--json]\n"
    "\n"
    "Prints a public value (export_public: true): text, hex, PEM or JSON; with --json or\n"
    "without SECRET, the CAS's JSON answer.\n";

const struct cas_cmd cas_commands[] = {
    {"version", NULL, cas_cmd_version, "the CLI's version and default release signer", help_version,
     NULL},
    {"attest", NULL, cas_cmd_attest, "verify a CAS and pin its certificate", help_attest, NULL},
    {"session", "create", cas_cmd_session_create, "upload a new session", help_session_create,
     NULL},
    {"session", "update", cas_cmd_session_update, "upload a successor of a session",
     help_session_update, NULL},
    {"session", "read", cas_cmd_session_read, "print a session", help_session_read, NULL},
    {"session", "delete", cas_cmd_session_delete, "delete a session", help_session_delete, NULL},
    {"session", "list", cas_cmd_session_list, "the sessions of a namespace", help_session_list,
     NULL},
    {"session", "verify", cas_cmd_session_verify, "compare a file with the active session",
     help_session_verify, NULL},
    {"values", "get", cas_cmd_values_get, "read a public value", help_values_get, NULL},
    {"list", NULL, cas_cmd_list, "the attested CASes", help_list, NULL},
    {"set-default", NULL, cas_cmd_set_default, "choose the default CAS", help_set_default, NULL},
    {"show-certificate", NULL, cas_cmd_show_certificate, "the pinned chain of a CAS (PEM)",
     help_show_certificate, NULL},
    {"show-identification", NULL, cas_cmd_show_identification, "a CAS's key hash or certificates",
     help_show_identification, NULL},
    {"cas", "version", cas_cmd_cas_version, "a CAS's version, asked through its pin",
     help_cas_version, NULL},
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
