/*
 * cmd_session_local.c - the session commands that need no CAS (api.md §3.3): `cas session check
 * FILE` prints the normalised session or every problem, `cas session calculate-hash FILE` prints
 * its hash (policy.md §12). Template variables come from -e and --use-env (policy.md §4).
 * Problems go to stderr as FILE:LINE:COLUMN: error: TEXT; they never quote a secret value.
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "policy/policy.h"
#include "util/alloc.h"
#include "util/file.h"

extern char **environ;

/* A session file is at most 1 MiB; reading a little more lets the parser say so. */
#define SESSION_READ_MAX 4194304u
#define STATE_MAX 1048576u

struct local_opts {
    const char *file;
    const char **vars;
    size_t var_count;
    bool use_env, fail_on_warning, self_as_creator;
    const char *name, *identity;
};

static void
local_opts_release(struct local_opts *o)
{
    free(o->vars);
}

/* Parses the options both commands share; is_hash enables --identity and
 * --with-self-as-creator. Returns CAS_EXIT_OK or CAS_EXIT_USAGE (reported). */
static int
parse_opts(const char *cmd, bool is_hash, int argc, char **argv, struct local_opts *o)
{
    static const struct option lo[] = {{"use-env", no_argument, NULL, 'U'},
                                       {"name", required_argument, NULL, 'n'},
                                       {"fail-on-warning", no_argument, NULL, 'W'},
                                       {"identity", required_argument, NULL, 'I'},
                                       {"with-self-as-creator", required_argument, NULL, 'S'},
                                       {NULL, 0, NULL, 0}};
    int opt;

    memset(o, 0, sizeof(*o));
    while ((opt = getopt_long(argc, argv, ":e:n:", lo, NULL)) != -1) {
        switch (opt) {
        case 'e': {
            const char **v;
            if (strchr(optarg, '=') == NULL || optarg[0] == '=')
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
            if (!is_hash)
                return cas_cli_usage(cmd, "'%s' takes no --identity", cmd);
            o->identity = optarg;
            break;
        case 'S':
            if (!is_hash)
                return cas_cli_usage(cmd, "'%s' takes no --with-self-as-creator", cmd);
            if (strcmp(optarg, "signer") == 0) {
                cas_cli_error("'--with-self-as-creator signer' is not supported by cas yet (it "
                              "comes with session signing)");
                return CAS_EXIT_USAGE;
            }
            if (strcmp(optarg, "tls") != 0)
                return cas_cli_usage(cmd, "--with-self-as-creator takes 'tls', not '%s'", optarg);
            o->self_as_creator = true;
            break;
        case ':':
            return cas_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cas_cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cas_cli_usage(
            cmd, argc - optind < 1 ? "'%s' needs a session FILE" : "'%s' takes one session FILE",
            cmd);
    o->file = argv[optind];
    return CAS_EXIT_OK;
}

static void
print_diags(const char *file, const struct cas_policy_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "%s:%u:%u: %s: %s\n", file, d->items[i].line, d->items[i].column,
                d->items[i].severity == CAS_POLICY_ERROR ? "error" : "warning", d->items[i].text);
    if (d->truncated)
        fprintf(stderr, "%s: error: more than %u problems; fix these first\n", file,
                CAS_POLICY_MAX_DIAGS);
}

/* Reads and checks FILE; prints its problems. CAS_EXIT_OK with *out set, or CAS_EXIT_FAIL. */
static int
load(const struct local_opts *o, struct cas_policy **out)
{
    struct cas_policy_options po = {.substitute = true,
                                    .vars = o->vars,
                                    .var_count = o->var_count,
                                    .env = o->use_env ? (const char *const *)environ : NULL,
                                    .name = o->name,
                                    .fail_on_warning = o->fail_on_warning};
    struct cas_policy_diags d;
    struct cas_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    cas_rc rc;

    *out = NULL;
    if (cas_file_read(o->file, SESSION_READ_MAX, &data, &len, &err) != CAS_OK) {
        cas_err_wrap(&err, "Cannot read session file '%s'", o->file);
        cas_cli_error_chain(&err);
        return CAS_EXIT_FAIL;
    }
    cas_policy_diags_init(&d);
    rc = cas_policy_parse(data, len, &po, out, &d, &err);
    OPENSSL_cleanse(data, len);
    free(data);
    print_diags(o->file, &d);
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
cas_cmd_session_check(struct cas_cli *cli, int argc, char **argv)
{
    struct local_opts o;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    char *yaml = NULL;
    size_t len = 0;
    int rc;

    (void)cli;
    if ((rc = parse_opts("session check", false, argc, argv, &o)) != CAS_EXIT_OK ||
        (rc = load(&o, &p)) != CAS_EXIT_OK)
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
    local_opts_release(&o);
    return rc;
}

/* The key hash (SHA-256 of the DER SPKI, api.md §1) of the certificate in a PEM identity; a
 * private key in the same text must match it. */
static cas_rc
identity_key_hash(const char *pem, size_t len, const char *what, uint8_t out[32],
                  struct cas_err *err)
{
    BIO *bio = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    unsigned char *der = NULL;
    int n;
    cas_rc rc = CAS_OK;

    if (len > (size_t)INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Cannot read %s", what);
    if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
        rc = cas_err_set(err, CAS_E_INVALID, "%s holds no PEM certificate", what);
        goto out;
    }
    if (strstr(pem, "PRIVATE KEY-----") != NULL) {
        BIO_free(bio);
        if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
            (k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
            rc = cas_err_set(err, CAS_E_INVALID, "%s holds a private key cas cannot read", what);
            goto out;
        }
        if (X509_check_private_key(x, k) != 1) {
            rc = cas_err_set(err, CAS_E_INVALID, "the key and the certificate in %s do not match",
                             what);
            goto out;
        }
    }
    if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0 ||
        EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_set(err, CAS_E_CRYPTO, "Cannot compute the key hash of %s", what);
out:
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    X509_free(x);
    BIO_free(bio);
    return rc;
}

/* The CLI state file of api.md §3 ("State"), or NULL when HOME is unknown too. */
static const char *
state_path(const struct cas_cli *cli, char *buf, size_t cap)
{
    const char *e;
    int n;

    if (cli->config != NULL)
        return cli->config;
    if ((e = getenv("CAS_CLI_CONFIG")) != NULL && e[0] != '\0')
        return e;
    if ((e = getenv("XDG_CONFIG_HOME")) != NULL && e[0] != '\0')
        n = snprintf(buf, cap, "%s/cas/config.json", e);
    else if ((e = getenv("HOME")) != NULL && e[0] != '\0')
        n = snprintf(buf, cap, "%s/.config/cas/config.json", e);
    else
        return NULL;
    return n > 0 && (size_t)n < cap ? buf : NULL;
}

/* The uploader's key hash: --identity FILE, else the CLI state's identity (never created
 * here: a later issue owns the state file). */
static cas_rc
uploader_key_hash(const struct cas_cli *cli, const struct local_opts *o, uint8_t out[32],
                  struct cas_err *err)
{
    char pathbuf[4096];
    const char *path;
    uint8_t *data = NULL;
    size_t len = 0;
    json_t *state = NULL, *id;
    json_error_t jerr;
    struct stat st;
    cas_rc rc;

    if (o->identity != NULL) {
        if ((rc = cas_file_read(o->identity, STATE_MAX, &data, &len, err)) != CAS_OK)
            return cas_err_wrap(err, "Cannot read identity file '%s'", o->identity);
        rc = identity_key_hash((const char *)data, len, "the identity file", out, err);
        OPENSSL_cleanse(data, len);
        free(data);
        return rc;
    }
    if ((path = state_path(cli, pathbuf, sizeof(pathbuf))) == NULL || stat(path, &st) != 0)
        return cas_err_set(err, CAS_E_NOTFOUND,
                           "--with-self-as-creator tls needs an identity: the CLI has none yet "
                           "(no state file%s%s); give --identity FILE",
                           path ? " " : "", path ? path : "");
    if ((st.st_mode & 077) != 0)
        return cas_err_set(err, CAS_E_DENIED,
                           "CLI state file '%s' is readable by others; chmod 600 %s", path, path);
    if ((rc = cas_file_read(path, STATE_MAX, &data, &len, err)) != CAS_OK)
        return cas_err_wrap(err, "Cannot read CLI state file '%s'", path);
    state = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    OPENSSL_cleanse(data, len);
    free(data);
    if (state == NULL || !json_is_string(id = json_object_get(state, "identity")))
        rc = cas_err_set(err, CAS_E_INVALID,
                         "CLI state file '%s' holds no identity; give "
                         "--identity FILE",
                         path);
    else
        rc = identity_key_hash(json_string_value(id), json_string_length(id), "the CLI identity",
                               out, err);
    json_decref(state);
    return rc;
}

int
cas_cmd_session_calculate_hash(struct cas_cli *cli, int argc, char **argv)
{
    struct local_opts o;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    uint8_t self[32], digest[32];
    char hex[65];
    int rc;

    if ((rc = parse_opts("session calculate-hash", true, argc, argv, &o)) != CAS_EXIT_OK ||
        (rc = load(&o, &p)) != CAS_EXIT_OK)
        goto out;
    if (o.self_as_creator && uploader_key_hash(cli, &o, self, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        rc = CAS_EXIT_FAIL;
        goto out;
    }
    if (cas_policy_hash(p, o.self_as_creator ? self : NULL, digest, hex, &err) != CAS_OK) {
        cas_cli_error_chain(&err);
        rc = CAS_EXIT_FAIL;
        goto out;
    }
    printf("%s\n", hex);
out:
    cas_policy_free(p);
    local_opts_release(&o);
    return rc;
}
