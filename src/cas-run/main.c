/*
 * main.c - cas-run, the launcher (api.md §4): opens PROGRAM once, obtains evidence for it bound
 * to a fresh TLS key, attests it over casd's enclave API (§2.4), renders file templates on the
 * same connection, fills host arguments and variables, writes the injection files and fexecve's
 * the opened PROGRAM with exactly the session's argv and environment. Every failure prints one
 * `cas-run: ` line (and the CAS's problems) and exits 1 before anything is written or executed;
 * bad usage exits 2. Secrets (the token, environment, files) are never printed or logged.
 */
#include <stdarg.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cas/version.h"
#include "client/enclave.h"
#include "client/evjson.h"
#include "client/https.h"
#include "crypto/pki.h"
#include "run.h"
#include "tee/provider.h"
#include "tee/sim.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/file.h"
#include "util/secret.h"

extern char **environ;

#define EXIT_USAGE 2
#define CERT_MAX ((size_t)1024 * 1024)
#define TOKEN_MAX ((size_t)64 * 1024)
#define TEMPLATE_MAX ((size_t)1024 * 1024) /* policy.md §6 */

static const char g_usage[] =
    "Usage: cas-run [FLAGS] PROGRAM [ARGS...]\n"
    "       cas-run --measure PROGRAM\n"
    "\n"
    "Attests PROGRAM to a CAS, fetches its session's configuration, writes its injection files\n"
    "and executes it with the session's arguments and environment.\n"
    "\n"
    "  --cas-addr HOST[:PORT]      CAS_ADDR (SCONE_CAS_ADDR): the enclave API [port 18765]\n"
    "  --cas-cert FILE             CAS_CERT: the CAS chain, as `cas show-certificate` prints\n"
    "  --config-id SESSION/SERVICE CAS_CONFIG_ID (SCONE_CONFIG_ID)\n"
    "  --access-token-file FILE    the service access token (CAS_ACCESS_TOKEN,\n"
    "                              SCONE_SERVICE_ACCESS_TOKEN: the token itself)\n"
    "  --tee sim|gramine|tsm       CAS_TEE: the evidence provider [sim]\n"
    "  --measure PROGRAM           print the MRENCLAVE the simulator reports for PROGRAM\n"
    "  -h, --help                  this help\n"
    "  -V, --version               version and build time\n"
    "\n"
    "Simulator settings: CAS_SIM_TCB_STATUS, CAS_SIM_ADVISORIES (comma-separated),\n"
    "CAS_SIM_SIGNING_KEY (RSA-3072 PEM file), CAS_SIM_ISVPRODID, CAS_SIM_ISVSVN [0].\n";

struct run {
    struct cas_run_settings set;
    const char *program;
    char **args;
    size_t arg_count;
    int fd;
    X509 *root;
    EVP_PKEY *key;
    X509 *cert;
    struct cas_tee_provider *tee;
    struct cas_tee_evidence ev;
    struct cas_secret *token;
    struct cas_enclave_conn *conn;
    struct cas_run_answer answer;
    char **argv;
    char **envp;
};

static void
harden(void)
{
    struct rlimit none = {0, 0};

    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core dumps, no ptrace by the same user */
    (void)setrlimit(RLIMIT_CORE, &none);
    (void)CRYPTO_secure_malloc_init((size_t)1024 * 1024, 32); /* private keys in a locked heap */
    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cas-run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'cas-run --help'.\n", stderr);
    return EXIT_USAGE;
}

static int
fail(const struct cas_err *err)
{
    char line[CAS_ERR_DEPTH * CAS_ERR_LEN];

    cas_err_join(err, line, sizeof(line));
    fprintf(stderr, "cas-run: %s\n", line);
    return EXIT_FAILURE;
}

/* Flags over variables; returns 0, or an exit status. */
static int
parse_args(int argc, char **argv, struct run *r, bool *measure)
{
    static const struct option opts[] = {
        {"cas-addr", required_argument, NULL, 'a'},
        {"cas-cert", required_argument, NULL, 'c'},
        {"config-id", required_argument, NULL, 'i'},
        {"access-token-file", required_argument, NULL, 't'},
        {"tee", required_argument, NULL, 'T'},
        {"measure", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *measure = false;
    opterr = 0;
    /* '+': options end at PROGRAM; its own ARGS are never taken for ours. */
    while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            r->set.cas_addr = optarg;
            break;
        case 'c':
            r->set.cas_cert = optarg;
            break;
        case 'i':
            r->set.config_id = optarg;
            break;
        case 't':
            r->set.access_token_file = optarg;
            break;
        case 'T':
            r->set.tee = optarg;
            break;
        case 'm':
            *measure = true;
            break;
        case 'h':
            fputs(g_usage, stdout);
            exit(EXIT_SUCCESS);
        case 'V':
            printf("cas-run %s (%s)\n", CAS_VERSION, CAS_BUILD_TIME);
            exit(EXIT_SUCCESS);
        default:
            return usage_error("bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "PROGRAM is missing");
    r->program = argv[optind];
    r->args = argv + optind + 1;
    r->arg_count = (size_t)(argc - optind - 1);
    if (strcmp(r->set.tee, "sim") != 0 && strcmp(r->set.tee, "gramine") != 0 &&
        strcmp(r->set.tee, "tsm") != 0)
        return usage_error("tee '%s' is not sim, gramine or tsm", r->set.tee);
    if (*measure) {
        if (strcmp(r->set.tee, "sim") != 0)
            return usage_error("%s", "--measure works with --tee sim only");
        if (r->arg_count > 0)
            return usage_error("unexpected argument '%s' after --measure PROGRAM", r->args[0]);
        return 0;
    }
    if (r->set.cas_addr == NULL)
        return usage_error("%s", "CAS_ADDR (or --cas-addr) is not set");
    if (r->set.cas_cert == NULL)
        return usage_error("%s", "CAS_CERT (or --cas-cert) is not set");
    if (r->set.config_id == NULL || r->set.config_id[0] == '\0')
        return usage_error("%s", "CAS_CONFIG_ID (or --config-id) is not set");
    return 0;
}

static cas_rc
open_program(struct run *r, struct cas_err *err)
{
    if ((r->fd = open(r->program, O_RDONLY | O_CLOEXEC)) < 0)
        return cas_err_set(err, CAS_E_IO, "cannot open program '%s': %s", r->program,
                           strerror(errno));
    return CAS_OK;
}

static int
measure_only(struct run *r)
{
    struct cas_err err = {0};
    uint8_t mr[32];
    char hex[65];

    if (open_program(r, &err) != CAS_OK || cas_tee_sim_measure_fd(r->fd, mr, &err) != CAS_OK)
        return fail(&err);
    cas_hex_encode(mr, 32, hex);
    printf("%s\n", hex);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* What the simulator reports for the opened PROGRAM (api.md §1.1). */
static cas_rc
sim_settings(struct run *r, struct cas_tee_options *opt, struct cas_err *err)
{
    const struct cas_run_settings *s = &r->set;
    const char *adv = s->sim_advisories;
    cas_rc rc;

    if (s->sim_tcb_status != NULL &&
        cas_tee_tcb_status_parse(s->sim_tcb_status, &opt->sim.tcb_status, err) != CAS_OK)
        return cas_err_wrap(err, "CAS_SIM_TCB_STATUS");
    if (adv != NULL) {
        cas_tee_sim_config_clear_advisories(&opt->sim);
        while (*adv != '\0') {
            size_t n = strcspn(adv, ",");
            char id[CAS_TEE_SIM_ADVISORY_LEN];

            if (n >= sizeof(id))
                return cas_err_set(err, CAS_E_INVALID, "CAS_SIM_ADVISORIES has an ID too long");
            memcpy(id, adv, n);
            id[n] = '\0';
            if (n > 0 && cas_tee_sim_config_add_advisory(&opt->sim, id, err) != CAS_OK)
                return cas_err_wrap(err, "CAS_SIM_ADVISORIES");
            adv += n + (adv[n] == ',' ? 1 : 0);
        }
    }
    if ((rc = cas_run_parse_u16("CAS_SIM_ISVPRODID", s->sim_isvprodid, &opt->enclave.isvprodid,
                                err)) != CAS_OK ||
        (rc = cas_run_parse_u16("CAS_SIM_ISVSVN", s->sim_isvsvn, &opt->enclave.isvsvn, err)) !=
            CAS_OK)
        return rc;
    if (cas_tee_sim_measure_fd(r->fd, opt->enclave.mrenclave, err) != CAS_OK)
        return cas_err_wrap(err, "cannot measure program '%s'", r->program);
    if (s->sim_signing_key != NULL)
        rc = cas_tee_sim_mrsigner_from_file(s->sim_signing_key, opt->enclave.mrsigner, err);
    else
        rc = cas_tee_sim_mrsigner_default(opt->enclave.mrsigner, err);
    return rc != CAS_OK ? cas_err_wrap(err, "CAS_SIM_SIGNING_KEY") : CAS_OK;
}

/* The CAS_CERT root; a fresh P-256 key and self-signed client certificate; evidence binding
 * SHA-256 of that certificate's SPKI (api.md §2.4). */
static cas_rc
prepare(struct run *r, struct cas_err *err)
{
    struct cas_tee_options opt;
    struct cas_cert_spec spec = {.kind = CAS_CERT_TLS_CLIENT, .common_name = "cas-run"};
    uint8_t rd[CAS_TEE_REPORT_DATA_LEN] = {0}, *chain = NULL;
    size_t chain_len = 0;
    cas_rc rc;

    if (cas_file_read(r->set.cas_cert, CERT_MAX, &chain, &chain_len, err) != CAS_OK)
        return cas_err_wrap(err, "cannot read CAS_CERT");
    r->root = cas_https_chain_root((const char *)chain, chain_len);
    free(chain);
    if (r->root == NULL)
        return cas_err_set(err, CAS_E_INVALID,
                           "CAS_CERT '%s' holds no self-signed root certificate", r->set.cas_cert);
    spec.not_before = time(NULL) - 300;
    spec.not_after = spec.not_before + (time_t)24 * 3600;
    if (cas_key_new_p256(&r->key, err) != CAS_OK ||
        cas_cert_issue(&spec, r->key, NULL, r->key, &r->cert, err) != CAS_OK ||
        cas_cert_key_hash(r->cert, rd, err) != CAS_OK)
        return cas_err_wrap(err, "cannot make the launcher's TLS key");
    cas_tee_options_init(&opt);
    opt.tee = r->set.tee;
    if (strcmp(r->set.tee, "sim") == 0 && (rc = sim_settings(r, &opt, err)) != CAS_OK)
        return rc;
    if (cas_tee_provider_new(&opt, &r->tee, err) != CAS_OK ||
        cas_tee_provider_get_evidence(r->tee, rd, &r->ev, err) != CAS_OK)
        return cas_err_wrap(err, "cannot obtain evidence from TEE '%s'", r->set.tee);
    if (r->set.access_token_file != NULL) {
        size_t n = 0;
        const uint8_t *t;

        if (cas_file_read_secret(r->set.access_token_file, TOKEN_MAX, &r->token, err) != CAS_OK)
            return cas_err_wrap(err, "cannot read the access token file");
        t = cas_secret_peek(r->token, &n);
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
            n--;
        cas_secret_truncate(r->token, n);
    } else if (r->set.access_token != NULL) {
        return cas_secret_from(r->set.access_token, strlen(r->set.access_token), &r->token, err);
    }
    return CAS_OK;
}

static cas_rc
post_json(struct run *r, const char *path, json_t *body, long *status, struct cas_secret **answer,
          struct cas_err *err)
{
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    cas_rc rc;

    json_decref(body);
    if (text == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the request to '%s'", path);
    rc = cas_enclave_post(r->conn, path, text, strlen(text), status, answer, err);
    cas_wipe_free(text); /* it held the access token */
    return rc;
}

static cas_rc
attest(struct run *r, long *status, struct cas_secret **answer, struct cas_err *err)
{
    char url[300];
    json_t *body, *evidence, *collateral, *token;
    size_t n = 0;
    cas_rc rc;

    if ((rc = cas_run_enclave_url(r->set.cas_addr, url, sizeof(url), err)) != CAS_OK ||
        (rc = cas_enclave_conn_new(url, r->root, r->key, r->cert, &r->conn, err)) != CAS_OK)
        return rc;
    if (r->token != NULL) {
        const uint8_t *t = cas_secret_peek(r->token, &n);

        if ((token = json_stringn((const char *)t, n)) == NULL)
            return cas_err_set(err, CAS_E_INVALID, "the access token is not UTF-8 text");
    } else {
        token = json_null();
    }
    /* Hardware evidence goes with null collateral: casd fetches it. */
    if ((rc = cas_evidence_to_json(&r->ev, &evidence, &collateral, err)) != CAS_OK) {
        json_decref(token);
        return rc;
    }
    body = json_pack("{s:s, s:o, s:o, s:o, s:[]}", "config_id", r->set.config_id, "evidence",
                     evidence, "collateral", collateral, "access_token", token, "features");
    return post_json(r, "/v1/service/attest", body, status, answer, err);
}

/* Templates are read from this machine's file system and sent for rendering (policy.md §6). */
static cas_rc
render(struct run *r, long *status, struct cas_secret **answer, struct cas_err *err)
{
    json_t *list = json_array(), *body;
    struct cas_secret *content = NULL;

    for (size_t i = 0; list != NULL && i < r->answer.template_count; i++) {
        const char *path = r->answer.templates[i];
        size_t n = 0;
        cas_rc rc = cas_file_read_secret(path, TEMPLATE_MAX, &content, err);

        if (rc != CAS_OK) {
            json_decref(list);
            return cas_err_wrap(err, "cannot read the template of injection file '%s'", path);
        }
        const uint8_t *bytes = cas_secret_peek(content, &n);

        json_array_append_new(
            list, json_pack("{s:s, s:o}", "path", path, "content", cas_json_b64(bytes, n)));
        cas_secret_free(content);
        content = NULL;
    }
    body = json_pack("{s:s, s:o}", "render_token", r->answer.render_token, "templates", list);
    return post_json(r, "/v1/service/render", body, status, answer, err);
}

/* One enclave API call whose 200 answer parse() takes; prints and fails on anything else. */
static int
call(struct run *r, const char *what,
     cas_rc (*send)(struct run *, long *, struct cas_secret **, struct cas_err *),
     cas_rc (*parse)(const uint8_t *, size_t, struct cas_run_answer *, struct cas_err *))
{
    struct cas_err err = {0};
    struct cas_secret *answer = NULL;
    long status = 0;
    size_t len = 0;
    const uint8_t *body;
    int st = EXIT_SUCCESS;

    if (send(r, &status, &answer, &err) != CAS_OK) {
        cas_err_wrap(&err, "%s failed", what);
        st = fail(&err);
        goto out;
    }
    body = cas_secret_peek(answer, &len);
    if (status != 200) {
        cas_run_print_refusal(stderr, what, status, body, len);
        st = EXIT_FAILURE;
    } else if (parse(body, len, &r->answer, &err) != CAS_OK) {
        st = fail(&err);
    }
out:
    cas_secret_free(answer);
    return st;
}

static cas_rc
launch_prepare(struct run *r, struct cas_err *err)
{
    size_t unused = 0;
    bool on_tmpfs = false;
    cas_rc rc;

    if ((rc = cas_run_fill_argv(&r->answer, r->args, r->arg_count, &r->argv, &unused, err)) !=
            CAS_OK ||
        (rc = cas_run_build_env(&r->answer, environ, &r->envp, err)) != CAS_OK)
        return rc;
    if (unused > 0)
        fprintf(stderr,
                "cas-run: warning: %zu argument%s after the program %s not named by @@N in the "
                "session's command and %s dropped\n",
                unused, unused == 1 ? "" : "s", unused == 1 ? "is" : "are",
                unused == 1 ? "is" : "are");
    /* The connection goes before anything lands on disk: the program inherits no socket. */
    cas_enclave_conn_free(r->conn);
    r->conn = NULL;
    if (cas_run_write_files(&r->answer, "", true, &on_tmpfs, err) != CAS_OK)
        return cas_err_wrap(err, "cannot write the injection files");
    if (chdir(r->answer.pwd) != 0) {
        rc = cas_err_set(err, CAS_E_IO, "cannot change to the session's pwd '%s': %s",
                         r->answer.pwd, strerror(errno));
        cas_run_remove_files(&r->answer, "");
        return rc;
    }
    return CAS_OK;
}

static void
run_release(struct run *r)
{
    cas_enclave_conn_free(r->conn);
    cas_run_answer_release(&r->answer);
    free(r->argv);
    cas_run_env_free(r->envp);
    cas_secret_free(r->token);
    cas_tee_evidence_release(&r->ev);
    cas_tee_provider_free(r->tee);
    X509_free(r->cert);
    EVP_PKEY_free(r->key);
    X509_free(r->root);
    if (r->fd >= 0)
        close(r->fd);
}

int
main(int argc, char **argv)
{
    struct run r = {.fd = -1};
    struct cas_err err = {0};
    bool measure = false;
    int st;

    harden();
    if (cas_run_settings_from_env(environ, &r.set, &err) != CAS_OK) {
        st = usage_error("%s", cas_err_get(&err, 0));
        goto out;
    }
    if ((st = parse_args(argc, argv, &r, &measure)) != 0)
        goto out;
    if (measure) {
        st = measure_only(&r);
        goto out;
    }
    if (open_program(&r, &err) != CAS_OK || prepare(&r, &err) != CAS_OK) {
        st = fail(&err);
        goto out;
    }
    if ((st = call(&r, "attestation", attest, cas_run_answer_parse)) != EXIT_SUCCESS)
        goto out;
    if (r.answer.template_count > 0 && (st = call(&r, "rendering the file templates", render,
                                                  cas_run_render_parse)) != EXIT_SUCCESS)
        goto out;
    if (launch_prepare(&r, &err) != CAS_OK) {
        st = fail(&err);
        goto out;
    }
    fflush(NULL);
    fexecve(r.fd, r.argv, r.envp);
    /* A script's interpreter opens it as /dev/fd/N, which close-on-exec would have closed. */
    if (errno == ENOENT && fcntl(r.fd, F_SETFD, 0) == 0)
        fexecve(r.fd, r.argv, r.envp);
    fprintf(stderr, "cas-run: cannot execute program '%s': %s\n", r.program, strerror(errno));
    cas_run_remove_files(&r.answer, "");
    st = EXIT_FAILURE;
out:
    run_release(&r);
    return st;
}
