/* session_file.c - options and local parsing of the session commands (session_file.h). */
#include "session_file.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casconn.h"
#include "policy/policy.h"
#include "util/alloc.h"
#include "util/file.h"

extern char **environ;

/* A session file is at most 1 MiB; reading a little more lets the parser say so. */
#define SESSION_READ_MAX (4u * 1024u * 1024u)

int
cas_session_opts_parse(const char *cmd, unsigned which, size_t min, size_t max, int argc,
                       char **argv, struct cas_session_opts *o)
{
    static const struct option lo[] = {{"use-env", no_argument, NULL, 'U'},
                                       {"name", required_argument, NULL, 'n'},
                                       {"fail-on-warning", no_argument, NULL, 'W'},
                                       {"identity", required_argument, NULL, 'I'},
                                       {"cas", required_argument, NULL, 'c'},
                                       {"retries", required_argument, NULL, 'R'},
                                       {"cas-cert", required_argument, NULL, 'K'},
                                       {"hash", required_argument, NULL, 'H'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"with-self-as-creator", required_argument, NULL, 'S'},
                                       {NULL, 0, NULL, 0}};
    int opt;

    memset(o, 0, sizeof(*o));
    o->retries = cas_cli_default_retries();
    while ((opt = getopt_long(argc, argv, ":e:n:c:", lo, NULL)) != -1) {
        unsigned need = opt == 'e' || opt == 'U' || opt == 'n' || opt == 'W' ? SO_VARS
                        : opt == 'c' || opt == 'R' || opt == 'K'             ? SO_CAS
                        : opt == 'I'                                         ? SO_IDENTITY
                        : opt == 'H'                                         ? SO_HASH
                        : opt == 'J'                                         ? SO_JSON
                        : opt == 'S'                                         ? SO_SELF
                                                                             : 0;
        if (opt == ':')
            return cas_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        if (need == 0 || (which & need) == 0) {
            /* argv[optind - 1] is the option's value when it came as a separate word */
            const char *word = optarg != NULL && optind >= 2 && argv[optind - 1] == optarg
                                   ? argv[optind - 2]
                                   : argv[optind - 1];
            return cas_cli_usage(cmd, "'%s' does not take option '%s'", cmd, word);
        }
        switch (opt) {
        case 'e': {
            const char **v;
            const char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg)
                return cas_cli_usage(cmd, "-e takes NAME=VALUE, not '%s'", optarg);
            if ((v = cas_realloc(o->vars, (o->var_count + 1) * sizeof(*v))) == NULL) {
                cas_cli_error("out of memory");
                return CAS_EXIT_FAIL;
            }
            o->vars = v;
            o->vars[o->var_count++] = optarg;
            break;
        }
        case 'U':
            o->use_env = true;
            break;
        case 'n':
            o->name = optarg;
            break;
        case 'W':
            o->fail_on_warning = true;
            break;
        case 'I':
            o->identity = optarg;
            break;
        case 'c':
            o->cas = optarg;
            break;
        case 'R':
            if (!cas_cli_parse_retries(optarg, &o->retries))
                return cas_cli_usage(cmd, "--retries takes 0 to 20, not '%s'", optarg);
            break;
        case 'K':
            o->cas_cert = optarg;
            break;
        case 'H':
            o->hash = optarg;
            break;
        case 'J':
            o->json = true;
            break;
        case 'S':
            if (strcmp(optarg, "signer") == 0) {
                cas_cli_error("'--with-self-as-creator signer' is not supported by cas yet (it "
                              "comes with session signing)");
                return CAS_EXIT_USAGE;
            }
            if (strcmp(optarg, "tls") != 0)
                return cas_cli_usage(cmd, "--with-self-as-creator takes 'tls', not '%s'", optarg);
            o->self_as_creator = true;
            break;
        default:
            return cas_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    while (optind < argc) {
        if (o->n_operands == max || o->n_operands == 2)
            return cas_cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
        o->operands[o->n_operands++] = argv[optind++];
    }
    if (o->n_operands < min)
        return cas_cli_usage(cmd, "'%s' needs %s", cmd, min == 1 ? "an argument" : "arguments");
    return CAS_EXIT_OK;
}

void
cas_session_opts_release(struct cas_session_opts *o)
{
    free(o->vars);
    o->vars = NULL;
}

void
cas_session_print_diags(const char *file, const struct cas_policy_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "%s:%u:%u: %s: %s\n", file, d->items[i].line, d->items[i].column,
                d->items[i].severity == CAS_POLICY_ERROR ? "error" : "warning", d->items[i].text);
    if (d->truncated)
        fprintf(stderr, "%s: error: more than %u problems; fix these first\n", file,
                CAS_POLICY_MAX_DIAGS);
}

int
cas_session_parse_text(const struct cas_session_opts *o, const char *file, const uint8_t *data,
                       size_t len, struct cas_policy **out)
{
    struct cas_policy_options po = {.substitute = true,
                                    .vars = o->vars,
                                    .var_count = o->var_count,
                                    .env = o->use_env ? (const char *const *)environ : NULL,
                                    .name = o->name,
                                    .fail_on_warning = o->fail_on_warning,
                                    .warn_exports = o->warn_exports};
    struct cas_policy_diags d;
    struct cas_err err = {0};
    cas_rc rc;

    *out = NULL;
    cas_policy_diags_init(&d);
    rc = cas_policy_parse(data, len, &po, out, &d, &err);
    cas_session_print_diags(file, &d);
    cas_policy_diags_release(&d);
    if (rc == CAS_E_INVALID)
        return CAS_EXIT_FAIL;
    if (rc != CAS_OK) {
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}

int
cas_session_load(const struct cas_session_opts *o, struct cas_policy **out)
{
    struct cas_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    int st;

    *out = NULL;
    if (cas_file_read(o->operands[0], SESSION_READ_MAX, &data, &len, &err) != CAS_OK) {
        cas_err_wrap(&err, "Cannot read session file '%s'", o->operands[0]);
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    st = cas_session_parse_text(o, o->operands[0], data, len, out);
    OPENSSL_cleanse(data, len);
    free(data);
    return st;
}
