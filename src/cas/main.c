/*
 * main.c - the `cas` (and `scone`) command line: global options, the object word, dispatch to
 * the command table of commands.c, help, and the refusals compat.md §2 lists. Output rules of
 * api.md §3: results on stdout only, `cas: ` errors on stderr, exit 0 / 1 / 2.
 */
#include <stdarg.h>

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas/version.h"
#include "cli.h"
#include "util/alloc.h"
#include "util/log.h"

void
cas_cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cas: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
cas_cli_error_chain(const struct cas_err *err)
{
    const char *m;

    for (unsigned i = 0; (m = cas_err_get(err, i)) != NULL; i++)
        cas_cli_error("%s", m);
}

int
cas_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("cas: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fprintf(stderr, "cas: see 'cas help%s%s'\n", cmd ? " " : "", cmd ? cmd : "");
    return CAS_EXIT_USAGE;
}

static const char g_usage[] =
    "Usage: %s [-c FILE | --config FILE] [-h] [-V] [cas] COMMAND [ARGS...]\n"
    "\n"
    "Attest a CAS, manage its sessions and read public values.\n"
    "\n"
    "Global options (before the command):\n"
    "  -c, --config FILE   CLI state file (default: $CAS_CLI_CONFIG, else\n"
    "                      $XDG_CONFIG_HOME/cas/config.json, else ~/.config/cas/config.json)\n"
    "  -h, --help          this help; 'cas help COMMAND' or 'cas COMMAND --help' for a command\n"
    "  -V, --version       the CLI's version (as 'cas version')\n"
    "\n"
    "Commands:\n";

static void
print_usage(const char *prog, FILE *f)
{
    fprintf(f, g_usage, prog);
    for (unsigned i = 0; i < cas_commands_count; i++) {
        const struct cas_cmd *c = &cas_commands[i];
        char words[64];
        if (c->summary == NULL || c->run == NULL)
            continue;
        (void)snprintf(words, sizeof(words), "%s%s%s", c->word, c->sub ? " " : "",
                       c->sub ? c->sub : "");
        fprintf(f, "  %-28s %s\n", words, c->summary);
    }
    fputs("\nThe program also runs as 'scone'; an object word 'cas' before the command is "
          "skipped,\nso 'cas cas attest' and 'scone cas session check' work.\n",
          f);
}

/* The rows for word (and sub, when the word has subcommands). */
static const struct cas_cmd *
lookup(const char *word, const char *sub, int *has_subs)
{
    const struct cas_cmd *one = NULL;

    *has_subs = 0;
    for (unsigned i = 0; i < cas_commands_count; i++) {
        const struct cas_cmd *c = &cas_commands[i];
        if (strcmp(c->word, word) != 0)
            continue;
        if (c->sub == NULL)
            one = c;
        else if (sub != NULL && strcmp(c->sub, sub) == 0)
            return c;
        else
            *has_subs = 1;
    }
    return one;
}

static void
list_subs(const char *word, FILE *f)
{
    fprintf(f, "Commands of 'cas %s':\n", word);
    for (unsigned i = 0; i < cas_commands_count; i++) {
        const struct cas_cmd *c = &cas_commands[i];
        if (strcmp(c->word, word) == 0 && c->sub != NULL && c->run != NULL && c->summary)
            fprintf(f, "  %-20s %s\n", c->sub, c->summary);
    }
}

static int
refuse(const struct cas_cmd *c)
{
    if (c->sub != NULL)
        cas_cli_error("'%s %s' %s", c->word, c->sub, c->refusal);
    else
        cas_cli_error("'%s' %s", c->word, c->refusal);
    return CAS_EXIT_USAGE;
}

/* `cas help [COMMAND...]`: the same text as `COMMAND --help`. */
static int
run_help(const char *prog, int argc, char **argv)
{
    const struct cas_cmd *c;
    int has_subs;

    if (argc < 1) {
        print_usage(prog, stdout);
        return CAS_EXIT_OK;
    }
    if (strcmp(argv[0], "cas") == 0 && argc > 1) { /* cas help cas attest */
        argv++;
        argc--;
    }
    c = lookup(argv[0], argc > 1 ? argv[1] : NULL, &has_subs);
    if (c == NULL && has_subs) {
        list_subs(argv[0], stdout);
        return argc > 1 ? cas_cli_usage(NULL, "unknown command '%s %s'", argv[0], argv[1])
                        : CAS_EXIT_OK;
    }
    if (c == NULL)
        return cas_cli_usage(NULL, "unknown command '%s'", argv[0]);
    if (c->run == NULL)
        return refuse(c);
    fputs(c->help, stdout);
    return CAS_EXIT_OK;
}

static int
wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {"output", required_argument, NULL, 'o'},
                                       {NULL, 0, NULL, 0}};
    struct cas_cli cli = {.prog = "cas", .config = NULL};
    const char *base = strrchr(argv[0], '/');
    const struct cas_cmd *c;
    int opt, has_subs, words;

    base = base ? base + 1 : argv[0];
    /* Explicit secret values and the identity's key pass through jansson: wipe what it frees. */
    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free);
    if (strcmp(base, "scone") == 0)
        cli.prog = "scone";
    cas_log_set_level(CAS_LOG_WARN);
    if (getenv("SCONE_CLI_CONFIG") != NULL)
        fprintf(stderr, "warning: SCONE_CLI_CONFIG is ignored: cas keeps its own state (see "
                        "'cas help')\n");

    /* Global options stop at the first operand: the command's own options follow it. */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:c:hVo:", lo, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cli.config = optarg;
            break;
        case 'h':
            print_usage(cli.prog, stdout);
            return CAS_EXIT_OK;
        case 'V': {
            char word[] = "version";
            char *vargv[] = {word, NULL};
            return cas_cmd_version(&cli, 1, vargv);
        }
        case 'o':
            cas_cli_error("global option '-o' is not supported by cas yet");
            return CAS_EXIT_USAGE;
        case ':':
            return cas_cli_usage(NULL, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cas_cli_usage(NULL, "unknown global option '%s'", argv[optind - 1]);
        }
    }
    argc -= optind;
    argv += optind;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (argv[i][0] == '@') {
            cas_cli_error("argument files ('@FILE') are not supported by cas yet");
            return CAS_EXIT_USAGE;
        }
    }
    /* The object word: `cas cas attest`. `cas cas version` is the CAS's version (a row). */
    if (argc > 1 && strcmp(argv[0], "cas") == 0 && strcmp(argv[1], "version") != 0) {
        argc--;
        argv++;
    }
    if (argc < 1) {
        print_usage(cli.prog, stderr);
        return CAS_EXIT_USAGE;
    }
    if (strcmp(argv[0], "help") == 0)
        return run_help(cli.prog, argc - 1, argv + 1);

    c = lookup(argv[0], argc > 1 ? argv[1] : NULL, &has_subs);
    if (c == NULL && has_subs) {
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            list_subs(argv[0], stdout);
            return CAS_EXIT_OK;
        }
        list_subs(argv[0], stderr);
        return argc > 1 ? cas_cli_usage(argv[0], "unknown command '%s %s'", argv[0], argv[1])
                        : cas_cli_usage(argv[0], "'%s' needs a command", argv[0]);
    }
    if (c == NULL)
        return cas_cli_usage(NULL, "unknown command '%s'", argv[0]);
    if (c->run == NULL)
        return refuse(c);
    words = c->sub != NULL ? 2 : 1;
    if (wants_help(argc - words, argv + words)) {
        fputs(c->help, stdout);
        return CAS_EXIT_OK;
    }
    optind = 0; /* a fresh getopt scan for the command (0 also resets GNU's internal state) */
    opterr = 0;
    return c->run(&cli, argc - words + 1, argv + words - 1);
}
