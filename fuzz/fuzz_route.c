/*
 * fuzz_route.c - one HTTP route of casd, driven in-process from raw request bytes through the
 * real evhttp parser, server.c's dispatch and casd's handlers (lib/http/harness.h), with a
 * store, identity and simulator TEE set up as main.c does. Built once per route (route.cmake):
 * ROUTE_API selects the client (0) or enclave (1) API and ROUTE_PREFIX ("METHOD /path") is the
 * start of every request, so the target stays on its route.
 *
 * Input: byte 0 picks the TLS identity (0 none, 1 the creator of the seeded sessions, 2 another
 * fixed key, 3 the next 32 input bytes); the rest follows ROUTE_PREFIX verbatim (path suffix,
 * query, version, headers, body). Property beyond the sanitizers: every request a handler saw
 * was answered by that handler.
 *
 * State (sessions, values, tokens) accumulates across inputs and is rebuilt from scratch every
 * EPOCH_EXECS inputs so the store, and so the cost of an input, stays bounded.
 */
#include <stdint.h>

#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "casd.h"
#include "crypto/seal.h"
#include "dcap/collateral_cache.h"
#include "http/harness.h"
#include "http/server_int.h"
#include "store/session_cache.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/log.h"
#include "util/secret.h"

#ifndef ROUTE_API
#define ROUTE_API 0
#endif
#ifndef ROUTE_PREFIX
#define ROUTE_PREFIX "GET /v1/health"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EPOCH_EXECS 10000
#define EXCHANGE_TIMEOUT_MS 20000
#define INSTANCE_ID "00112233445566778899aabbccddeeff"

static const uint8_t g_creator[32] = {0xc0, 0xc0, 0xc0, 0xc0, 1,  2,  3,  4,  5,  6,  7,
                                      8,    9,    10,   11,   12, 13, 14, 15, 16, 17, 18,
                                      19,   20,   21,   22,   23, 24, 25, 26, 27, 28};
static const uint8_t g_other[32] = {0x07, 0x07, 0x07, 0x07, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                    9,    9,    9,    9,    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static const struct cas_opt g_tee_opts[] = {
    {"tee", "tee", "NAME", CAS_OPT_STR, "sim", ""},
    {"sim_tcb_status", "sim-tcb-status", "STATUS", CAS_OPT_STR, "OutOfDate", ""},
    {"sim_advisories", "sim-advisory", "ID", CAS_OPT_LIST, NULL, ""},
    {"sim_signing_key", "sim-signing-key", "FILE", CAS_OPT_STR, NULL, ""},
};

/* Sessions every epoch starts with, created by g_creator: reads, updates, values and the
 * service attestation of the creator are reachable from the first input. */
static const char *const g_seed_sessions[] = {
    "name: fz_plain\nversion: \"0.3\"\n",
    "name: fz_values\nversion: \"0.3\"\naccess_policy:\n  read: [ANY]\nsecrets:\n"
    "  - name: greeting\n    kind: ascii\n    value: \"hello\"\n    export_public: true\n"
    "  - name: hidden\n    kind: ascii\n    value: \"not-public\"\n",
    "name: fz_service\nversion: \"0.3\"\nservices:\n  - name: web\n    command: web --port 1\n"
    "    environment:\n      GREETING: \"$$SCONE::greeting$$\"\n    attestation:\n"
    "      mrenclave: [0000000000000000000000000000000000000000000000000000000000000000]\n"
    "secrets:\n  - name: greeting\n    kind: ascii\n    value: \"hi\"\n",
};

static struct {
    bool ready;
    char dir[64];
    struct cas_config tee_cfg;
    struct casd d;
    struct cas_secret *key;
    struct cas_http_harness *h;
    struct cas_http_server *h_srv; /* the harness's server: its no_reply counter */
    unsigned long execs;
} g;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
die(const char *what, const struct cas_err *err)
{
    fprintf(stderr, "fuzz_route: %s: %s\n", what, cas_err_get(err, 0) ? cas_err_get(err, 0) : "");
    abort();
}

static void
epoch_end(void)
{
    cas_http_harness_free(g.h);
    g.h = NULL;
    cas_session_cache_free(g.d.policies);
    g.d.policies = NULL;
    cas_dcap_collateral_cache_free(g.d.collateral);
    g.d.collateral = NULL;
    casd_identity_release(&g.d.identity);
    memset(&g.d.identity, 0, sizeof(g.d.identity));
    cas_store_close(g.d.store);
    g.d.store = NULL;
    cas_secret_free(g.key);
    g.key = NULL;
    (void)nftw(g.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void
at_exit(void)
{
    if (!g.ready)
        return;
    epoch_end();
    casd_tee_release(&g.d.tee);
    casd_service_limits_free(&g.d);
    casd_quota_release(&g.d.quota);
    cas_config_release(&g.tee_cfg);
}

static void
epoch_begin(void)
{
    struct cas_err err = {0};
    char db[PATH_MAX];
    const struct cas_http_listener l[2] = {
        {.name = "client",
         .address = "",
         .routes = casd_client_routes,
         .route_count = casd_client_route_count},
        {.name = "enclave",
         .address = "",
         .routes = casd_enclave_routes,
         .route_count = casd_enclave_route_count,
         .require_client_cert = true},
    };
    const struct cas_http_config hc = {.threads = 1,
                                       .max_body = 1048576,
                                       .max_headers = 16 * 1024,
                                       .max_conns = 1,
                                       .idle_timeout_s = 60,
                                       .app = &g.d};
    const struct cas_http_listener sl = l[0];
    struct cas_http_harness *seeder = NULL;

    (void)snprintf(g.dir, sizeof(g.dir), "%s", "/tmp/cas-fuzz-route-XXXXXX");
    if (mkdtemp(g.dir) == NULL)
        abort();
    (void)snprintf(db, sizeof(db), "%s/cas.db", g.dir);
    g.d.data_dir = g.dir;
    if (cas_store_open(NULL, db, &g.d.store, &err) != CAS_OK)
        die("cannot open the store", &err);
    if (cas_secret_random(CAS_SEAL_KEY_LEN, &g.key, &err) != CAS_OK)
        die("cannot make a sealing key", &err);
    g.d.sealing_key = g.key;
    if ((g.d.policies = casd_policy_cache_new(&g.d)) == NULL ||
        (g.d.collateral = cas_dcap_collateral_cache_new(CASD_COLLATERAL_CACHE_MAX)) == NULL)
        abort();
    if (casd_identity_load(g.d.store, g.key, INSTANCE_ID, NULL, 0, time(NULL), &g.d.identity,
                           &err) != CAS_OK)
        die("cannot set up the identity", &err);
    if (cas_http_harness_new(&hc, &l[ROUTE_API], &g.h, &err) != CAS_OK)
        die("cannot start the harness", &err);
    g.d.srv = g.h_srv = cas_http_harness_server(g.h);
    /* The sessions, uploaded as any client would, through the client API. */
    if (cas_http_harness_new(&hc, &sl, &seeder, &err) != CAS_OK)
        die("cannot start the seeding harness", &err);
    for (size_t i = 0; i < sizeof(g_seed_sessions) / sizeof(g_seed_sessions[0]); i++) {
        struct cas_buf req, resp;
        int status;
        cas_buf_init(&req, 64 * 1024);
        cas_buf_init(&resp, 1024 * 1024);
        cas_buf_addf(&req,
                     "POST /v1/sessions HTTP/1.1\r\nHost: cas\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(g_seed_sessions[i]), g_seed_sessions[i]);
        if (cas_http_harness_exchange(seeder, g_creator, req.buf, req.len, EXCHANGE_TIMEOUT_MS,
                                      &resp, &err) != CAS_OK)
            die("cannot seed a session", &err);
        status = cas_http_harness_status(resp.buf, resp.len);
        if (status != 201 && status != 200) {
            fprintf(stderr, "fuzz_route: seed session %zu refused:\n%.*s\n", i, (int)resp.len,
                    resp.buf);
            abort();
        }
        cas_buf_release(&req);
        cas_buf_release(&resp);
    }
    cas_http_harness_free(seeder);
}

static void
setup_once(void)
{
    struct cas_err err = {0};

    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free); /* as casd does */
    cas_log_set_level(CAS_LOG_ERROR);
    g.d.tee_name = "sim";
    g.d.started_at = time(NULL);
    g.d.metrics = true;
    pthread_mutex_init(&g.d.id_lock, NULL);
    {
        /* casd's default quotas, but for the upload rate: the fuzzer is one key at full speed. */
        const struct casd_quota_limits lim = {
            .max_session_secrets = CASD_QUOTA_DEFAULT_SECRETS,
            .max_session_rsa_keys = CASD_QUOTA_DEFAULT_RSA_KEYS,
            .max_session_generated_bytes = CASD_QUOTA_DEFAULT_GENERATED,
            .uploads_per_minute = 0,
            .max_values_answer = CASD_QUOTA_DEFAULT_VALUES_ANSWER,
        };
        if (!casd_quota_init(&g.d.quota, &lim) || !casd_service_limits_new(&g.d))
            abort();
    }
    cas_config_init(&g.tee_cfg, g_tee_opts, sizeof(g_tee_opts) / sizeof(g_tee_opts[0]));
    if (casd_tee_init(&g.d.tee, &g.tee_cfg, &err) != CAS_OK)
        die("cannot set up the simulator", &err);
    epoch_begin();
    g.ready = true;
    atexit(at_exit);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char prefix[] = ROUTE_PREFIX;
    struct cas_err err = {0};
    struct cas_buf req, resp;
    const uint8_t *peer = NULL;
    size_t skip = 1;

    if (!g.ready)
        setup_once();
    if (++g.execs % EPOCH_EXECS == 0) {
        epoch_end();
        epoch_begin();
    }
    if (size < 1)
        return 0;
    switch (data[0] & 3) {
    case 1:
        peer = g_creator;
        break;
    case 2:
        peer = g_other;
        break;
    case 3:
        if (size >= 33) {
            peer = data + 1;
            skip = 33;
        }
        break;
    default:
        break;
    }
    cas_buf_init(&req, 4 * 1024 * 1024);
    cas_buf_init(&resp, 16 * 1024 * 1024);
    cas_buf_add(&req, prefix, sizeof(prefix) - 1);
    cas_buf_add(&req, data + skip, size - skip);
    if (req.failed)
        abort();
    if (cas_http_harness_exchange(g.h, peer, req.buf, req.len, EXCHANGE_TIMEOUT_MS, &resp, &err) !=
        CAS_OK)
        die("the exchange failed", &err);
    if (getenv("FUZZ_ROUTE_PRINT") != NULL) /* to look at what a corpus file gets */
        fprintf(stderr, "%.*s\n", (int)resp.len, resp.buf);
    if (atomic_load(&g.h_srv->no_reply) != 0)
        abort(); /* a handler returned without replying (server.h: reply exactly once) */
    cas_buf_release(&req);
    cas_buf_release(&resp);
    return 0;
}
