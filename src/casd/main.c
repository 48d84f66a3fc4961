/*
 * main.c - casd: configuration, hardening, the data directory (lock, sealing key), the store,
 * the identity, the two HTTPS listeners, and an orderly stop on SIGTERM/SIGINT. Signals are
 * blocked in every thread and taken here with sigtimedwait, which also paces the leaf renewal.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cas/version.h"
#include "casd.h"
#include "crypto/seal.h"
#include "crypto/tls.h"
#include "dcap/collateral_cache.h"
#include "join.h"
#include "keygen.h"
#include "store/session_cache.h"
#include "store/store.h"
#include "tee/sim.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/config.h"
#include "util/file.h"
#include "util/log.h"
#include "util/secret.h"

static const struct cas_opt g_opts[] = {
    {"data_dir", "data-dir", "DIR", CAS_OPT_STR, "./cas-data",
     "state (mode 0700): database, sealed keys, lock, cas-chain.pem"},
    {"listen", "listen", "ADDR:PORT", CAS_OPT_STR, "127.0.0.1:8081", "client API"},
    {"enclave_listen", "enclave-listen", "ADDR:PORT", CAS_OPT_STR, "127.0.0.1:18765",
     "enclave API"},
    {"database", "database", "URI", CAS_OPT_STR, NULL,
     "database; default SQLite DATA_DIR/cas.db (WAL)"},
    {"tee", "tee", "sim|gramine|tsm", CAS_OPT_STR, "sim", "casd's own evidence provider"},
    {"dns_names", "dns-name", "NAME", CAS_OPT_LIST, NULL,
     "extra subjectAltName of the TLS certificate (DNS name or IP)"},
    {"threads", "threads", "N", CAS_OPT_INT, NULL, "worker threads [default: number of cores]"},
    {"keygen_threads", "keygen-threads", "N", CAS_OPT_INT, NULL,
     "threads generating the keys of uploads [default: number of cores]"},
    {"keygen_queue", "keygen-queue", "N", CAS_OPT_INT, "64",
     "uploads waiting for key generation (503 above)"},
    {"log_level", "log-level", "LEVEL", CAS_OPT_STR, "info", "error, warn, info or debug"},
    {"pccs_url", "pccs-url", "URL", CAS_OPT_STR, NULL,
     "PCCS (v4 API) for collateral of hardware evidence"},
    {"collateral_dir", "collateral-dir", "DIR", CAS_OPT_STR, NULL,
     "collateral files laid out as in tests/data/dcap"},
    {"metrics", "metrics", "on|off", CAS_OPT_SWITCH, "on", "GET /metrics"},
    {"max_body", "max-body", "BYTES", CAS_OPT_INT, "1048576", "request body limit (413 above)"},
    {"max_session_secrets", "max-session-secrets", "N", CAS_OPT_INT, "512",
     "secrets a session may declare (422 above; 0: no limit)"},
    {"max_session_rsa_keys", "max-session-rsa-keys", "N", CAS_OPT_INT, "32",
     "RSA keys a session may have generated (422 above; 0: no limit)"},
    {"max_session_generated_bytes", "max-session-generated-bytes", "BYTES", CAS_OPT_INT, "4194304",
     "estimated bytes of a session's values (422 above; 0: no limit)"},
    {"uploads_per_minute", "uploads-per-minute", "N", CAS_OPT_INT, "120",
     "session uploads per caller key and minute (429 above; 0: no limit)"},
    {"max_values_answer", "max-values-answer", "BYTES", CAS_OPT_INT, "8388608",
     "size of a values API answer (413 above; 0: no limit)"},
    {"header_timeout", "header-timeout", "SECONDS", CAS_OPT_INT, "10",
     "TLS handshake, request line and headers must arrive within this"},
    {"body_min_rate", "body-min-rate", "BYTES", CAS_OPT_INT, "4096",
     "bytes per second a request must keep to past header_timeout"},
    {"sim_tcb_status", "sim-tcb-status", "STATUS", CAS_OPT_STR, "OutOfDate",
     "simulator only: the TCB status of casd's evidence"},
    {"sim_advisories", "sim-advisory", "ID", CAS_OPT_LIST, NULL,
     "simulator only: advisory IDs [default: INTEL-SA-00828, INTEL-SA-00837]"},
    {"sim_signing_key", "sim-signing-key", "FILE", CAS_OPT_STR, NULL,
     "simulator only: RSA-3072 key whose modulus is casd's MRSIGNER [default: built-in]"},
};

#define MAX_CONNS 4096
#define MAX_HEADERS (16 * 1024)
#define IDLE_TIMEOUT_S 60
#define STOP_GRACE_MS 10000

static void
usage(FILE *f)
{
    struct cas_config cfg;

    cas_config_init(&cfg, g_opts, sizeof(g_opts) / sizeof(g_opts[0]));
    fputs("Usage: casd [--config FILE] [FLAGS]\n"
          "\n"
          "The cas configuration and attestation service. Without arguments it starts on its\n"
          "embedded defaults: SQLite in ./cas-data, the software TEE simulator, loopback only.\n"
          "\n"
          "  --config FILE                  settings file: one 'key = value' per line, '#'\n"
          "                                 comments, list keys repeated; flags win over it\n"
          "  -h, --help                     this help\n"
          "  -V, --version                  version and build time\n",
          f);
    cas_config_print_help(&cfg, f);
    cas_config_release(&cfg);
}

static void
harden(void)
{
    struct rlimit none = {0, 0};

    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core dumps, no ptrace by the same user */
    (void)setrlimit(RLIMIT_CORE, &none);
    /* OpenSSL keeps private keys in a locked, non-dumped heap from here on. */
    if (CRYPTO_secure_malloc_init(4 * 1024 * 1024, 32) != 1)
        CAS_LOG(WARN, "casd.secure_heap", CAS_LF_STR("hint", "OpenSSL's secure heap is off"));
}

/* The quota settings (quota.h), in struct casd_quota_limits order. */
static const char *const quota_keys[] = {"max_session_secrets", "max_session_rsa_keys",
                                         "max_session_generated_bytes", "uploads_per_minute",
                                         "max_values_answer"};

static cas_rc
validate(const struct cas_config *cfg, struct cas_err *err)
{
    const char *tee = cas_config_get(cfg, "tee");
    long long max_body = cas_config_get_int(cfg, "max_body");
    long long threads = cas_config_get_int(cfg, "threads");
    enum cas_tee_tcb_status st;

    if (strcmp(tee, "sim") != 0 && strcmp(tee, "gramine") != 0 && strcmp(tee, "tsm") != 0)
        return cas_err_set(err, CAS_E_INVALID, "tee '%s' is not sim, gramine or tsm", tee);
    if (cas_tee_tcb_status_parse(cas_config_get(cfg, "sim_tcb_status"), &st, err) != CAS_OK)
        return cas_err_wrap(err, "sim_tcb_status");
    if (max_body < 1024 || max_body > 64LL * 1024 * 1024)
        return cas_err_set(err, CAS_E_INVALID, "max_body must be between 1024 and 67108864");
    if (cas_config_get_int(cfg, "header_timeout") < 1 ||
        cas_config_get_int(cfg, "header_timeout") > 3600)
        return cas_err_set(err, CAS_E_INVALID, "header_timeout must be between 1 and 3600");
    if (cas_config_get_int(cfg, "body_min_rate") < 1 ||
        cas_config_get_int(cfg, "body_min_rate") > 1024LL * 1024 * 1024)
        return cas_err_set(err, CAS_E_INVALID, "body_min_rate must be between 1 and 1073741824");
    if (cas_config_get(cfg, "threads") != NULL && (threads < 1 || threads > 256))
        return cas_err_set(err, CAS_E_INVALID, "threads must be between 1 and 256");
    if (cas_config_get(cfg, "keygen_threads") != NULL &&
        (cas_config_get_int(cfg, "keygen_threads") < 1 ||
         cas_config_get_int(cfg, "keygen_threads") > 256))
        return cas_err_set(err, CAS_E_INVALID, "keygen_threads must be between 1 and 256");
    if (cas_config_get_int(cfg, "keygen_queue") < 1 ||
        cas_config_get_int(cfg, "keygen_queue") > 100000)
        return cas_err_set(err, CAS_E_INVALID, "keygen_queue must be between 1 and 100000");
    for (size_t i = 0; i < sizeof(quota_keys) / sizeof(quota_keys[0]); i++) {
        if (cas_config_get_int(cfg, quota_keys[i]) < 0)
            return cas_err_set(err, CAS_E_INVALID, "%s must be 0 (no limit) or more",
                               quota_keys[i]);
    }
    {
        enum cas_log_level lv;
        if (cas_log_parse_level(cas_config_get(cfg, "log_level"), &lv) != 0)
            return cas_err_set(err, CAS_E_INVALID,
                               "log_level '%s' is not error, warn, info or debug",
                               cas_config_get(cfg, "log_level"));
        cas_log_set_level(lv);
    }
    return CAS_OK;
}

static int
path_in(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);

    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Holds the data directory's lock for the life of the process (fcntl: released on exit). */
static cas_rc
lock_data_dir(const char *dir, int *fd_out, struct cas_err *err)
{
    char path[PATH_MAX], pid[32];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd, n;

    if (path_in(path, sizeof(path), dir, "casd.lock") != 0)
        return cas_err_set(err, CAS_E_INVALID, "data directory path is too long");
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return cas_err_set(err, CAS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long holder = fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK ? (long)who.l_pid : -1;
        close(fd);
        return cas_err_set(err, CAS_E_CONFLICT, "data directory '%s' is in use by process %ld", dir,
                           holder);
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n)
        CAS_LOG(WARN, "casd.lock_pid", CAS_LF_STR("path", path));
    *fd_out = fd;
    return CAS_OK;
}

/* How this start came by its sealing key. */
enum key_source {
    KEY_FILE,   /* DATA_DIR/sealing.key */
    KEY_NEW,    /* made for a fresh database, written before anything is sealed under it */
    KEY_JOINED, /* handed over by a running instance: written once it opened the CAS root */
};

static cas_rc
save_sealing_key(const char *path, const struct cas_secret *key, struct cas_err *err)
{
    return cas_file_write_atomic(path, cas_secret_peek(key, NULL), CAS_SEAL_KEY_LEN, 0600, err);
}

/* DATA_DIR/sealing.key: 32 bytes, a regular file of mode 0600 (api.md §2). */
static cas_rc
read_sealing_key(const char *path, struct cas_secret **out, struct cas_err *err)
{
    struct stat st;
    cas_rc rc;

    if (lstat(path, &st) != 0)
        return CAS_E_NOTFOUND;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0)
        return cas_err_set(err, CAS_E_DENIED,
                           "sealing key '%s' must be a regular file of mode 0600", path);
    if ((rc = cas_file_read_secret(path, 64, out, err)) != CAS_OK)
        return rc;
    if (cas_secret_len(*out) != CAS_SEAL_KEY_LEN) {
        cas_secret_free(*out);
        *out = NULL;
        return cas_err_set(err, CAS_E_INVALID, "sealing key '%s' is not %d bytes", path,
                           CAS_SEAL_KEY_LEN);
    }
    return CAS_OK;
}

/*
 * The sealing key of this CAS: the data directory's; a new one for a fresh database; or, on a
 * PostgreSQL database that already holds a CAS, the one a running instance hands over after the
 * attested join (join.h). A data directory that has served a CAS (cas-chain.pem) on a database
 * that holds none is refused: the database was emptied or replaced.
 */
static cas_rc
obtain_sealing_key(struct casd *d, const char *instance_id, const char *key_path,
                   const char *chain_path, struct cas_secret **key, enum key_source *src,
                   struct cas_err *err)
{
    bool has_identity = false;
    struct stat st;
    cas_rc rc;

    *key = NULL;
    *src = KEY_FILE;
    if ((rc = casd_identity_exists(d->store, &has_identity, err)) != CAS_OK)
        return rc;
    if (!has_identity && lstat(chain_path, &st) == 0)
        return cas_err_set(err, CAS_E_CONFLICT,
                           "the database holds no CAS, but this data directory served one "
                           "('%s'): the database was emptied or replaced. Restore it from its "
                           "backup, or remove the data directory to start a new CAS",
                           chain_path);
    if ((rc = read_sealing_key(key_path, key, err)) != CAS_E_NOTFOUND)
        return rc;
    if (!has_identity) {
        *src = KEY_NEW;
        if ((rc = cas_secret_random(CAS_SEAL_KEY_LEN, key, err)) != CAS_OK)
            return rc;
        return save_sealing_key(key_path, *key, err);
    }
    if (strcmp(cas_store_engine(d->store), "postgresql") != 0)
        return cas_err_set(err, CAS_E_NOTFOUND,
                           "sealing key '%s' is missing but the database has data: restore the "
                           "key file from its backup (without it nothing stored can be opened)",
                           key_path);
    CAS_LOG(INFO, "casd.joining",
            CAS_LF_STR("why", "the database holds a CAS and this instance has no sealing key"));
    *src = KEY_JOINED;
    if ((rc = casd_join(d, instance_id, key, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot join the CAS in the database by attestation");
    return CAS_OK;
}

/*
 * After the identity failed to load: a key made for a fresh database that another instance
 * initialised at the same moment sealed nothing; it is removed so the next start joins.
 */
static void
explain_lost_race(struct casd *d, const char *key_path, enum key_source src, struct cas_err *err)
{
    bool has_identity = false;
    struct cas_err e2 = {0};

    if (src != KEY_NEW || casd_identity_exists(d->store, &has_identity, &e2) != CAS_OK ||
        !has_identity)
        return;
    (void)unlink(key_path);
    cas_err_wrap(err, "another instance initialised this CAS at the same moment; start again "
                      "to join it");
}

/* A stable random id for this instance, kept in DATA_DIR/instance-id. */
static cas_rc
load_instance_id(const char *dir, char id[33], struct cas_err *err)
{
    char path[PATH_MAX];
    uint8_t *text = NULL, raw[16];
    size_t len = 0;
    struct cas_secret *rnd = NULL;
    cas_rc rc;

    if (path_in(path, sizeof(path), dir, "instance-id") != 0)
        return cas_err_set(err, CAS_E_INVALID, "data directory path is too long");
    rc = cas_file_read(path, 64, &text, &len, err);
    if (rc == CAS_OK) {
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        rc = len == 32 && cas_hex_decode_exact((const char *)text, 32, raw, 16)
                 ? CAS_OK
                 : cas_err_set(err, CAS_E_INVALID, "'%s' does not hold 32 hex digits", path);
        if (rc == CAS_OK)
            cas_hex_encode(raw, 16, id);
        free(text);
        return rc;
    }
    if (rc != CAS_E_NOTFOUND)
        return rc;
    if ((rc = cas_secret_random(16, &rnd, err)) != CAS_OK)
        return rc;
    cas_hex_encode(cas_secret_peek(rnd, NULL), 16, id);
    cas_secret_free(rnd);
    id[32] = '\n';
    rc = cas_file_write_atomic(path, id, 33, 0600, err);
    id[32] = '\0';
    return rc;
}

static cas_rc
make_tls(struct casd *d, struct cas_http_server *srv, struct cas_err *err)
{
    SSL_CTX *client = NULL, *enclave = NULL;
    X509 *chain[1] = {d->identity.intermediate};
    cas_rc rc;

    if ((rc = cas_tls_server_ctx(d->identity.leaf, d->identity.leaf_key, chain, 1, false, &client,
                                 err)) != CAS_OK ||
        (rc = cas_tls_server_ctx(d->identity.leaf, d->identity.leaf_key, chain, 1, true, &enclave,
                                 err)) != CAS_OK) {
        SSL_CTX_free(client);
        return rc;
    }
    cas_http_server_set_tls(srv, 0, client);
    cas_http_server_set_tls(srv, 1, enclave);
    SSL_CTX_free(client);
    SSL_CTX_free(enclave);
    return CAS_OK;
}

static int
fail(const char *what, const struct cas_err *err)
{
    const char *m;

    fprintf(stderr, "casd: %s", what);
    for (unsigned i = 0; (m = cas_err_get(err, i)) != NULL; i++)
        fprintf(stderr, ": %s", m);
    fputc('\n', stderr);
    return 1;
}

int
main(int argc, char **argv)
{
    struct cas_config cfg;
    enum cas_config_action action;
    struct cas_err err = {0};
    struct casd d = {0};
    struct cas_secret *sealing_key = NULL;
    struct cas_http_server *srv = NULL;
    char db_path[PATH_MAX], chain_path[PATH_MAX], key_path[PATH_MAX], instance_id[34];
    const char *const *dns;
    size_t n_dns;
    int lock_fd = -1, status = 1, sig;
    sigset_t sigs;
    enum key_source key_src = KEY_FILE;
    char member_addr[300];

    /* Rendered configurations and private-key values pass through jansson: wipe what it frees. */
    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free);
    cas_config_init(&cfg, g_opts, sizeof(g_opts) / sizeof(g_opts[0]));
    if (cas_config_from_args(&cfg, argc, argv, &action, &err) != CAS_OK) {
        fail("bad configuration", &err);
        cas_config_release(&cfg);
        return 2;
    }
    if (action == CAS_CONFIG_HELP) {
        usage(stdout);
        cas_config_release(&cfg);
        return 0;
    }
    if (action == CAS_CONFIG_VERSION) {
        printf("casd %s (%s)\n", CAS_VERSION, CAS_BUILD_TIME);
        cas_config_release(&cfg);
        return 0;
    }
    if (validate(&cfg, &err) != CAS_OK) {
        fail("bad configuration", &err);
        cas_config_release(&cfg);
        return 2;
    }
    harden();
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread created later inherits the mask */
    signal(SIGPIPE, SIG_IGN);

    d.data_dir = cas_config_get(&cfg, "data_dir");
    d.tee_name = cas_config_get(&cfg, "tee");
    d.started_at = time(NULL);
    pthread_mutex_init(&d.id_lock, NULL);
    dns = cas_config_get_list(&cfg, "dns_names", &n_dns);
    umask(077); /* database, WAL and key files: the owner's alone */
    if (cas_dir_ensure_private(d.data_dir, &err) != CAS_OK) {
        status = fail("cannot use the data directory", &err);
        goto out;
    }
    if (lock_data_dir(d.data_dir, &lock_fd, &err) != CAS_OK) {
        fprintf(stderr, "casd: %s\n", cas_err_get(&err, 0)); /* api.md §2's exact words */
        goto out;
    }
    if (path_in(db_path, sizeof(db_path), d.data_dir, "cas.db") != 0 ||
        path_in(chain_path, sizeof(chain_path), d.data_dir, "cas-chain.pem") != 0 ||
        path_in(key_path, sizeof(key_path), d.data_dir, "sealing.key") != 0) {
        fprintf(stderr, "casd: data directory path is too long\n");
        goto out;
    }
    if (cas_store_open(cas_config_get(&cfg, "database"), db_path, &d.store, &err) != CAS_OK) {
        status = fail("cannot open the database", &err);
        goto out;
    }
    d.collateral_dir = cas_config_get(&cfg, "collateral_dir");
    d.metrics = cas_config_get_switch(&cfg, "metrics");
    {
        const struct casd_quota_limits lim = {
            .max_session_secrets = (uint64_t)cas_config_get_int(&cfg, quota_keys[0]),
            .max_session_rsa_keys = (uint64_t)cas_config_get_int(&cfg, quota_keys[1]),
            .max_session_generated_bytes = (uint64_t)cas_config_get_int(&cfg, quota_keys[2]),
            .uploads_per_minute = (uint64_t)cas_config_get_int(&cfg, quota_keys[3]),
            .max_values_answer = (uint64_t)cas_config_get_int(&cfg, quota_keys[4]),
        };
        if (!casd_quota_init(&d.quota, &lim)) {
            fprintf(stderr, "casd: out of memory\n");
            goto out;
        }
    }
    if (casd_tee_init(&d.tee, &cfg, &err) != CAS_OK) {
        status = fail("cannot attest casd itself", &err);
        goto out;
    }
    /* A database that already holds a CAS identity needs the sealing key it was made with. */
    if (load_instance_id(d.data_dir, instance_id, &err) != CAS_OK ||
        obtain_sealing_key(&d, instance_id, key_path, chain_path, &sealing_key, &key_src, &err) !=
            CAS_OK) {
        status = fail("cannot start", &err);
        goto out;
    }
    d.sealing_key = sealing_key;
    if ((d.policies = casd_policy_cache_new(&d)) == NULL ||
        (d.collateral = cas_dcap_collateral_cache_new(CASD_COLLATERAL_CACHE_MAX)) == NULL ||
        !casd_service_limits_new(&d)) {
        fprintf(stderr, "casd: out of memory\n");
        goto out;
    }
    if (casd_identity_load(d.store, sealing_key, instance_id, dns, n_dns, time(NULL), &d.identity,
                           &err) != CAS_OK) {
        explain_lost_race(&d, key_path, key_src, &err);
        status = fail("cannot set up the CAS identity", &err);
        goto out;
    }
    if ((key_src == KEY_JOINED && save_sealing_key(key_path, sealing_key, &err) != CAS_OK) ||
        cas_file_write_atomic(chain_path, d.identity.chain_pem, strlen(d.identity.chain_pem), 0644,
                              &err) != CAS_OK) {
        status = fail("cannot set up the CAS identity", &err);
        goto out;
    }
    {
        const struct cas_http_listener listeners[2] = {
            {"client", cas_config_get(&cfg, "listen"), casd_client_routes, casd_client_route_count,
             false},
            {"enclave", cas_config_get(&cfg, "enclave_listen"), casd_enclave_routes,
             casd_enclave_route_count, true},
        };
        const struct cas_http_config hc = {
            .threads = (unsigned)cas_config_get_int(&cfg, "threads"),
            .max_body = (size_t)cas_config_get_int(&cfg, "max_body"),
            .max_headers = MAX_HEADERS,
            .max_conns = MAX_CONNS,
            .idle_timeout_s = IDLE_TIMEOUT_S,
            .header_timeout_s = (unsigned)cas_config_get_int(&cfg, "header_timeout"),
            .body_min_rate = (unsigned)cas_config_get_int(&cfg, "body_min_rate"),
            .app = &d,
        };
        if (casd_keygen_new((unsigned)cas_config_get_int(&cfg, "keygen_threads"),
                            (size_t)cas_config_get_int(&cfg, "keygen_queue"), &d.keygen,
                            &err) != CAS_OK) {
            status = fail("cannot start the key generation threads", &err);
            goto out;
        }
        if (cas_http_server_new(&hc, listeners, 2, &srv, &err) != CAS_OK ||
            make_tls(&d, srv, &err) != CAS_OK) {
            status = fail("cannot start the HTTPS listeners", &err);
            goto out;
        }
        d.srv = srv; /* before the workers start: /metrics reads it */
        if (cas_http_server_start(srv, &err) != CAS_OK) {
            status = fail("cannot start the HTTPS listeners", &err);
            goto out;
        }
    }
    /* Listed once it answers: a new instance joins through any listed one (join.h). */
    casd_member_address(cas_config_get(&cfg, "enclave_listen"), member_addr, sizeof(member_addr));
    if (casd_member_register(d.store, instance_id, member_addr, time(NULL), &err) != CAS_OK) {
        status = fail("cannot list this instance in the database", &err);
        goto out;
    }
    CAS_LOG(INFO, "casd.started", CAS_LF_STR("version", CAS_VERSION),
            CAS_LF_STR("cas_key_hash", d.identity.key_hash_b58),
            CAS_LF_STR("listen", cas_config_get(&cfg, "listen")),
            CAS_LF_STR("enclave_listen", cas_config_get(&cfg, "enclave_listen")),
            CAS_LF_STR("data_dir", d.data_dir), CAS_LF_STR("database", cas_store_engine(d.store)),
            CAS_LF_STR("tee", d.tee_name), CAS_LF_STR("mrenclave", d.tee.mrenclave),
            CAS_LF_INT("pid", getpid()));

    for (;;) {
        struct timespec tick = {60, 0};
        sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (casd_member_register(d.store, instance_id, member_addr, time(NULL), &err) != CAS_OK)
            cas_log_err(CAS_LOG_WARN, "casd.member_refresh_failed", &err);
        if (casd_identity_leaf_due(&d.identity, time(NULL))) {
            pthread_mutex_lock(&d.id_lock);
            if (casd_identity_renew_leaf(d.store, sealing_key, instance_id, dns, n_dns, time(NULL),
                                         &d.identity, &err) != CAS_OK ||
                make_tls(&d, srv, &err) != CAS_OK)
                cas_log_err(CAS_LOG_ERROR, "casd.renew_failed", &err);
            else
                CAS_LOG(INFO, "casd.tls_renewed",
                        CAS_LF_INT("not_after", d.identity.leaf_not_after));
            pthread_mutex_unlock(&d.id_lock);
        }
    }
    CAS_LOG(INFO, "casd.stopping", CAS_LF_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    cas_http_server_stop(srv, STOP_GRACE_MS);
    casd_member_unregister(d.store, instance_id);
    status = 0;
out:
    cas_http_server_stop(srv, 0); /* no handler submits to the pool any more, */
    casd_keygen_free(d.keygen);   /* whose last continuations run in the free below */
    cas_http_server_free(srv);
    cas_session_cache_free(d.policies);
    cas_dcap_collateral_cache_free(d.collateral);
    casd_service_limits_free(&d);
    casd_quota_release(&d.quota);
    cas_store_close(d.store);
    if (status == 0)
        CAS_LOG(INFO, "casd.stopped", CAS_LF_STR("database", "closed"));
    casd_identity_release(&d.identity);
    casd_tee_release(&d.tee);
    cas_secret_free(sealing_key);
    if (lock_fd >= 0)
        close(lock_fd);
    pthread_mutex_destroy(&d.id_lock);
    cas_config_release(&cfg);
    return status;
}
