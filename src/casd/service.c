/*
 * service.c - the enclave API (api.md §2.4): POST /v1/service/attest verifies a launcher's
 * evidence, bound to the client certificate of this very connection, decides with lib/attest
 * whether it satisfies the service and the session's security section, and only then renders
 * the service's argv, environment, working directory and injection files with their secrets;
 * POST /v1/service/render renders file templates the launcher read, under a single-use token
 * bound to the same client key. Every attempt is audited (time, caller, config id, verdict),
 * never with a secret.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/attest.h"
#include "casd.h"
#include "dcap/collateral.h"
#include "dcap/collateral_cache.h"
#include "dcap/verify.h"
#include "evidence.h"
#include "policy/names.h"
#include "policy/placeholder.h"
#include "policy/policy.h"
#include "secrets/secrets.h"
#include "store/session_cache.h"
#include "store/sessions.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/json_span.h"
#include "util/log.h"
#include "util/ratelimit.h"
#include "util/secret.h"
#include "values.h"

#define TOKEN_TTL_S 60
#define MAX_TOKENS 1024
#define OUT_MAX (8u * 1024u * 1024u)

/* ---- render tokens ---- */

struct token {
    uint8_t token[32];
    uint8_t caller[32];
    char session[1100];
    char hash[65];
    char service[130];
    int64_t expires;
    bool used;
};

static pthread_mutex_t g_tokens_lock = PTHREAD_MUTEX_INITIALIZER;
static struct token g_tokens[MAX_TOKENS];

static bool
token_new(const uint8_t caller[32], const char *session, const char *hash, const char *service,
          int64_t now, char hex[65])
{
    struct token *slot = NULL;

    pthread_mutex_lock(&g_tokens_lock);
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        if (g_tokens[i].used || g_tokens[i].expires < now) {
            slot = &g_tokens[i];
            break;
        }
    }
    if (slot != NULL && RAND_bytes(slot->token, 32) == 1) {
        memcpy(slot->caller, caller, 32);
        (void)snprintf(slot->session, sizeof(slot->session), "%s", session);
        (void)snprintf(slot->hash, sizeof(slot->hash), "%s", hash);
        (void)snprintf(slot->service, sizeof(slot->service), "%s", service);
        slot->expires = now + TOKEN_TTL_S;
        slot->used = false;
        cas_hex_encode(slot->token, 32, hex);
    } else {
        slot = NULL;
    }
    pthread_mutex_unlock(&g_tokens_lock);
    return slot != NULL;
}

/* Takes (and spends) the token: true when it exists, is unused and unexpired, and is bound to
 * caller. */
static bool
token_take(const char *hex, const uint8_t caller[32], int64_t now, struct token *out)
{
    uint8_t raw[32];
    bool ok = false;

    if (hex == NULL || !cas_hex_decode_exact(hex, strlen(hex), raw, 32))
        return false;
    pthread_mutex_lock(&g_tokens_lock);
    for (size_t i = 0; i < MAX_TOKENS && !ok; i++) {
        struct token *t = &g_tokens[i];
        if (t->used || t->expires < now || CRYPTO_memcmp(t->token, raw, 32) != 0)
            continue;
        t->used = true; /* single use, even when the caller is wrong */
        ok = CRYPTO_memcmp(t->caller, caller, 32) == 0;
        if (ok)
            *out = *t;
    }
    pthread_mutex_unlock(&g_tokens_lock);
    return ok;
}

/* Spends the token hex (from token_new) whatever its state: its attestation was not completed. */
static void
token_revoke(const char *hex)
{
    uint8_t raw[32];

    if (hex == NULL || !cas_hex_decode_exact(hex, strlen(hex), raw, 32))
        return;
    pthread_mutex_lock(&g_tokens_lock);
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        if (CRYPTO_memcmp(g_tokens[i].token, raw, 32) == 0)
            g_tokens[i].used = true;
    }
    pthread_mutex_unlock(&g_tokens_lock);
    OPENSSL_cleanse(raw, sizeof(raw));
}

static void reply_msg(struct cas_http_req *req, int status, const char *a, const char *b);

/* ---- access-token guessing ---- */

/*
 * Wrong service access tokens are counted per caller key and per peer address, each in a table of
 * fixed size (util/ratelimit.h). After the free failures each further one doubles a backoff from
 * 1 s to 5 min, during which attestations from that key (address) get 429 with Retry-After, the
 * token unchecked. A right token clears its key's count, never its address's: else fresh keys
 * interleaved with one valid service would guess without limit. The address allows more failures,
 * as several services may share one (NAT).
 */
#define GUESS_FREE_PER_KEY 5
#define GUESS_FREE_PER_ADDR 20
#define GUESS_FIRST_MS 1000
#define GUESS_MAX_MS (5 * 60 * 1000)
#define GUESS_FORGET_MS (60 * 60 * 1000)
#define GUESS_REPORT_MS (60 * 1000)
#define GUESS_SLOTS 4096

bool
casd_service_limits_new(struct casd *d)
{
    struct cas_ratelimit_cfg cfg = {.slots = GUESS_SLOTS,
                                    .free_failures = GUESS_FREE_PER_KEY,
                                    .first_ms = GUESS_FIRST_MS,
                                    .max_ms = GUESS_MAX_MS,
                                    .forget_ms = GUESS_FORGET_MS,
                                    .report_ms = GUESS_REPORT_MS};

    if (RAND_bytes((unsigned char *)&cfg.salt, sizeof(cfg.salt)) != 1 ||
        (d->token_keys = cas_ratelimit_new(&cfg)) == NULL)
        return false;
    cfg.free_failures = GUESS_FREE_PER_ADDR;
    return (d->token_addrs = cas_ratelimit_new(&cfg)) != NULL;
}

void
casd_service_limits_free(struct casd *d)
{
    cas_ratelimit_free(d->token_keys);
    cas_ratelimit_free(d->token_addrs);
    d->token_keys = d->token_addrs = NULL;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The table key of a peer address guessing the token of one session: SHA-256 of both, so an
 * address that guesses at one session's token does not lock out the other sessions' services
 * behind the same address (one host, a NAT). False when the address is unknown. */
static bool
addr_key(const struct cas_http_req *req, const char *session, uint8_t key[32])
{
    EVP_MD_CTX *md;
    bool ok;

    if (req->peer_addr[0] == '\0' || (md = EVP_MD_CTX_new()) == NULL)
        return false;
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(md, req->peer_addr, strlen(req->peer_addr) + 1) == 1 &&
         EVP_DigestUpdate(md, session, strlen(session)) == 1 &&
         EVP_DigestFinal_ex(md, key, NULL) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

struct backoff {
    int64_t wait_ms;   /* 0: go ahead */
    uint64_t reported; /* refusals to report now (once per GUESS_REPORT_MS), or 0 */
    bool by_addr;      /* the address backs off (else the key) */
};

static struct backoff
backoff_of(struct casd *d, const struct cas_http_req *req, const char *session, int64_t now)
{
    struct cas_ratelimit_verdict k = cas_ratelimit_check(d->token_keys, req->peer_key_hash, now);
    struct cas_ratelimit_verdict a = {0, 0};
    uint8_t ak[32];

    if (addr_key(req, session, ak))
        a = cas_ratelimit_check(d->token_addrs, ak, now);
    if (a.wait_ms > k.wait_ms)
        return (struct backoff){.wait_ms = a.wait_ms, .reported = a.reported, .by_addr = true};
    return (struct backoff){.wait_ms = k.wait_ms, .reported = k.reported, .by_addr = false};
}

/* After the decision: a wrong token counts against key and address, a right one clears the key. */
static void
count_token(struct casd *d, const struct cas_http_req *req, const char *session,
            const struct cas_policy *p, const struct cas_attest_decision *dec, int64_t now)
{
    uint8_t ak[32];

    if (p->security.service_access_token == NULL)
        return;
    if (!dec->wrong_token) {
        cas_ratelimit_clear(d->token_keys, req->peer_key_hash);
        return;
    }
    atomic_fetch_add(&d->token_failures, 1);
    (void)cas_ratelimit_fail(d->token_keys, req->peer_key_hash, now);
    if (addr_key(req, session, ak))
        (void)cas_ratelimit_fail(d->token_addrs, ak, now);
}

/* 429 while backing off; the refusals are audited and logged once per GUESS_REPORT_MS. */
static void
reply_backoff(struct casd *d, struct cas_http_req *req, const char *config_id, const char *first,
              const struct backoff *b)
{
    char why[300], secs[24];
    long long s = (long long)((b->wait_ms + 999) / 1000);

    atomic_fetch_add(&d->token_refused, 1);
    if (b->reported > 0) {
        char verdict[200];
        (void)snprintf(verdict, sizeof(verdict),
                       "%llu attempt(s) refused (429) while backing off after wrong access tokens "
                       "from this %s",
                       (unsigned long long)b->reported, b->by_addr ? "address" : "client key");
        CAS_LOG(WARN, "casd.token_backoff", CAS_LF_STR("config_id", config_id),
                CAS_LF_STR("address", req->peer_addr),
                CAS_LF_INT("refused", (long long)b->reported), CAS_LF_INT("retry_after_s", s),
                CAS_LF_STR("by", b->by_addr ? "address" : "key"));
        casd_audit(d, CASD_AUDIT_SERVICE, req->peer_key_hash, config_id, CASD_AUDIT_DENIED,
                   verdict);
    }
    (void)snprintf(why, sizeof(why),
                   "too many wrong service access tokens from this %s; try again in %lld s",
                   b->by_addr ? "address" : "client key", s);
    (void)snprintf(secs, sizeof(secs), "%lld", s);
    cas_http_add_header(req, "Retry-After", secs);
    reply_msg(req, 429, first, why);
}

/* ---- rendering ---- */

struct render_ctx {
    struct casd *d;
    struct cas_tx *tx;
    const char *session;
    const struct cas_policy *p;
    const struct cas_policy_image *img; /* for provide_secrets, or NULL */
    json_t *fragments;                  /* secret name -> parsed config fragment */
};

static const json_t *
fragment_of(void *arg, const char *secret)
{
    struct render_ctx *c = arg;
    struct cas_secret_value *v = NULL;
    struct cas_err err = {0};
    json_t *j = json_object_get(c->fragments, secret);
    size_t len;
    const uint8_t *b;

    if (j != NULL)
        return j;
    if (casd_values_get(c->d, c->tx, c->session, c->p, secret, &v, &err) != CAS_OK || v == NULL ||
        v->kind != CAS_POLICY_KIND_CONFIG_FRAGMENT)
        goto out;
    b = cas_secret_peek(v->data, &len);
    j = json_loadb((const char *)b, len, JSON_DECODE_ANY, NULL);
    if (j != NULL)
        json_object_set_new(c->fragments, secret, j);
out:
    cas_secrets_value_free(v);
    return j;
}

/*
 * Appends text with each placeholder replaced (policy.md §9). text_only: argv, environment and
 * pwd, where binary output is refused.
 */
static cas_rc
render_text(struct render_ctx *c, const char *text, size_t len, bool text_only, bool template,
            struct cas_buf *out, struct cas_err *err)
{
    size_t pos = 0, copied = 0;
    bool found;
    struct cas_policy_placeholder ph;
    cas_rc rc;

    for (;;) {
        struct cas_secret_value *v = NULL;
        struct cas_secret *r = NULL;
        bool is_binary = false;
        size_t rl;
        const uint8_t *rb;

        if ((rc = cas_policy_placeholder_next(text, len, &pos, &found, &ph, err)) != CAS_OK)
            return cas_err_wrap(err, "a placeholder cannot be read");
        if (!found)
            break;
        cas_buf_add(out, text + copied, ph.offset - copied);
        copied = ph.offset + ph.len;
        if (template && c->img != NULL && c->img->has_provide_secrets) {
            bool allowed = false;
            for (size_t i = 0; i < c->img->provide_count; i++)
                allowed |= strcmp(c->img->provide_secrets[i], ph.secret) == 0;
            if (!allowed)
                return cas_err_set(err, CAS_E_DENIED,
                                   "image '%s' does not provide secret '%s' to templates "
                                   "(provide_secrets)",
                                   c->img->name, ph.secret);
        }
        if ((rc = casd_values_get(c->d, c->tx, c->session, c->p, ph.secret, &v, err)) != CAS_OK)
            return rc;
        rc = cas_secrets_render(v, ph.format, ph.escape_json, &r, &is_binary, err);
        cas_secrets_value_free(v);
        if (rc != CAS_OK)
            return cas_err_wrap(err, "secret '%s'", ph.secret);
        if (is_binary && text_only) {
            cas_secret_free(r);
            return cas_err_set(err, CAS_E_INVALID,
                               "secret '%s' renders as binary bytes, which arguments, "
                               "environment and pwd cannot hold; use a text format such as :hex",
                               ph.secret);
        }
        rb = cas_secret_peek(r, &rl);
        cas_buf_add(out, rb, rl);
        cas_secret_free(r);
    }
    cas_buf_add(out, text + copied, len - copied);
    if (out->failed)
        return cas_err_set(err, CAS_E_TOOBIG, "the rendered configuration is too large");
    return CAS_OK;
}

static cas_rc
render_string(struct render_ctx *c, const struct cas_policy_text *t, bool text_only, json_t **out,
              struct cas_err *err)
{
    struct cas_buf b;
    cas_rc rc;

    cas_buf_init_secret(&b, OUT_MAX);
    rc = render_text(c, t->text, t->len, text_only, false, &b, err);
    if (rc == CAS_OK && (*out = json_stringn(b.buf, b.len)) == NULL)
        rc = cas_err_set(err, CAS_E_INVALID, "a rendered value is not UTF-8 text");
    cas_buf_release(&b);
    return rc;
}

static cas_rc
b64_of(const struct cas_buf *b, json_t **out, struct cas_err *err)
{
    char *text = cas_b64_alloc((const uint8_t *)b->buf, b->len, false);

    *out = text != NULL ? json_string(text) : NULL;
    cas_wipe_free(text);
    return *out != NULL ? CAS_OK : cas_err_set(err, CAS_E_NOMEM, "out of memory");
}

static const struct cas_policy_image *
image_of(const struct cas_policy *p, const struct cas_policy_service *svc)
{
    for (size_t i = 0; svc->image_name != NULL && i < p->image_count; i++) {
        if (strcmp(p->images[i].name, svc->image_name) == 0)
            return &p->images[i];
    }
    return NULL;
}

/* The 200 answer: argv, env, host_env, pwd, files, templates, render_token. */
static cas_rc
configuration(struct render_ctx *c, const struct cas_policy_service *svc, const char *hash,
              const uint8_t caller[32], int64_t now, json_t **out, struct cas_err *err)
{
    json_t *argv = json_array(), *env = json_object(), *host = json_array(), *files = json_array(),
           *templates = json_array(), *v = NULL, *pwd = NULL;
    char token[65] = "", argbuf[16];
    cas_rc rc = CAS_OK;

    for (size_t i = 0; rc == CAS_OK && i < svc->argc; i++) {
        if (svc->host_arg[i] != 0) {
            (void)snprintf(argbuf, sizeof(argbuf), "@@%u", svc->host_arg[i]);
            json_array_append_new(argv, json_string(argbuf));
        } else if ((rc = render_string(c, &svc->argv[i], true, &v, err)) == CAS_OK) {
            json_array_append_new(argv, v);
        }
    }
    for (size_t i = 0; rc == CAS_OK && i < svc->env_count; i++) {
        if (svc->env[i].from_host)
            json_array_append_new(host, json_string(svc->env[i].name));
        else if ((rc = render_string(c, &svc->env[i].value, true, &v, err)) == CAS_OK)
            json_object_set_new(env, svc->env[i].name, v);
    }
    if (rc == CAS_OK)
        rc = render_string(c, &svc->pwd, true, &pwd, err);
    for (size_t i = 0; rc == CAS_OK && c->img != NULL && i < c->img->file_count; i++) {
        const struct cas_policy_injection *f = &c->img->files[i];
        struct cas_buf b;
        json_t *content = NULL;
        if (!f->has_content) {
            json_array_append_new(templates, json_string(f->path));
            continue;
        }
        cas_buf_init_secret(&b, OUT_MAX);
        rc = render_text(c, f->content.text, f->content.len, false, false, &b, err);
        if (rc == CAS_OK)
            rc = b64_of(&b, &content, err);
        cas_buf_release(&b);
        if (rc == CAS_OK)
            json_array_append_new(files, json_pack("{s:s, s:i, s:o}", "path", f->path, "mode",
                                                   (int)f->permission, "content", content));
    }
    if (rc == CAS_OK && json_array_size(templates) > 0 &&
        !token_new(caller, c->session, hash, svc->name, now, token))
        rc = cas_err_set(err, CAS_E_IO, "too many render tokens are outstanding; try again");
    if (rc != CAS_OK) {
        json_decref(argv);
        json_decref(env);
        json_decref(host);
        json_decref(files);
        json_decref(templates);
        json_decref(pwd);
        return rc;
    }
    *out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "session_hash", hash, "argv", argv,
                     "env", env, "host_env", host, "pwd", pwd, "files", files, "templates",
                     templates, "render_token", token[0] ? json_string(token) : json_null());
    return *out != NULL ? CAS_OK : cas_err_set(err, CAS_E_NOMEM, "out of memory");
}

/* ---- parsed policies ---- */

static cas_rc
build_policy(const struct cas_session_row *row, void *arg, void **obj, struct cas_err *err)
{
    struct cas_policy *p = NULL;
    cas_rc rc = casd_session_open(arg, row, &p, NULL, err);

    *obj = p;
    return rc;
}

static void
drop_policy(void *obj)
{
    cas_policy_free(obj);
}

struct cas_session_cache *
casd_policy_cache_new(struct casd *d)
{
    return cas_session_cache_new(CASD_POLICY_CACHE_MAX, build_policy, drop_policy, d);
}

/* ---- attest ---- */

static void
reply_msg(struct cas_http_req *req, int status, const char *a, const char *b)
{
    const char *msgs[2] = {a, b};

    cas_http_reply_msgs(req, status, msgs, b != NULL ? 2 : 1);
}

/* 400 or 404 before any policy was asked, audited too (api.md: every attempt is), under the
 * config id when the request gave a readable one. */
static void
reply_invalid(struct cas_http_req *req, const char *config_id, int status, const char *a,
              const char *b)
{
    reply_msg(req, status, a, b);
    casd_audit(req->app, CASD_AUDIT_SERVICE, req->peer_key_hash,
               config_id != NULL && config_id[0] != '\0' ? config_id : "(none)", CASD_AUDIT_OTHER,
               b != NULL ? b : a);
}

static json_t *
verdict_json(const struct cas_dcap_verdict *vd, bool have)
{
    char mre[97] = "", mrs[65] = "", pid[65] = "";
    json_t *adv;

    if (!have)
        return json_null();
    adv = json_array();
    if (vd->quote.body_type == CAS_DCAP_BODY_SGX) {
        cas_hex_encode(vd->quote.sgx.mrenclave, 32, mre);
        cas_hex_encode(vd->quote.sgx.mrsigner, 32, mrs);
    } else {
        cas_hex_encode(vd->quote.td.mrtd, 48, mre);
    }
    if (vd->has_platform)
        cas_hex_encode(vd->platform_id, 32, pid);
    for (unsigned i = 0; i < vd->advisories.count; i++)
        json_array_append_new(adv, json_string(vd->advisories.id[i]));
    return json_pack("{s:s?, s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:o, s:s}", "evidence_type",
                     vd->evidence_type, "root", vd->root, "mrenclave", mre, "mrsigner", mrs,
                     "isvprodid", (int)vd->quote.sgx.isvprodid, "isvsvn", (int)vd->quote.sgx.isvsvn,
                     "debug", vd->debug, "tcb_status",
                     vd->failed == CAS_DCAP_CHECK_TCB_REVOKED ? "Revoked"
                                                              : cas_dcap_status_name(vd->status),
                     "advisories", adv, "platform_id", pid);
}

struct attest_req {
    const char *config_id, *token;
    char session[1100], service[130];
    uint8_t *quote;
    size_t quote_len;
    const json_t *collateral; /* borrowed from the request body */
    bool has_evidence;
    json_t *features;
};

static bool
has_feature(const json_t *features, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(features, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return true;
    }
    return false;
}

/* 422 when the service needs what cas-run lacks (decided after attestation). */
static bool
launcher_lacks(struct cas_http_req *req, const struct attest_req *a,
               const struct cas_policy_service *svc, const struct cas_policy_image *img)
{
    char first[1400], why[1400];

    (void)snprintf(first, sizeof(first), "Service '%s' cannot be started by this launcher",
                   a->config_id);
    if (img != NULL && img->volume_count > 0 && !has_feature(a->features, "volumes")) {
        (void)snprintf(why, sizeof(why),
                       "image '%s' mounts volume '%s' at '%s'; SCONE volumes are not supported by "
                       "cas-run",
                       img->name, img->volumes[0].name, img->volumes[0].path);
        reply_msg(req, 422, first, why);
        return true;
    }
    if (svc->fspf_path != NULL && !has_feature(a->features, "fspf")) {
        (void)snprintf(why, sizeof(why),
                       "service '%s' uses fspf_path '%s'; SCONE file system protection is not "
                       "supported by cas-run",
                       svc->name, svc->fspf_path);
        reply_msg(req, 422, first, why);
        return true;
    }
    return false;
}

/* base64 text of a quote, decoded into a->quote (malloc'd; NULL on failure). */
static bool
decode_quote(const char *b64, size_t len, struct attest_req *a)
{
    if (len > 4 * CAS_DCAP_QUOTE_MAX / 3 + 4 || (a->quote = cas_malloc(len)) == NULL)
        return false;
    if (cas_b64_decode(b64, len, a->quote, len, &a->quote_len, false))
        return true;
    free(a->quote);
    a->quote = NULL;
    return false;
}

static bool
parse_request(struct cas_http_req *req, json_t *body, struct attest_req *a)
{
    json_t *ev = json_object_get(body, "evidence"), *col = json_object_get(body, "collateral");
    const char *slash, *q;

    a->config_id = json_string_value(json_object_get(body, "config_id"));
    a->token = json_string_value(json_object_get(body, "access_token"));
    a->features = json_object_get(body, "features");
    if (a->config_id == NULL || strlen(a->config_id) > 1100) {
        reply_invalid(req, NULL, 400, "Invalid request", "config_id must be '<session>/<service>'");
        return false;
    }
    {
        const char *at = strrchr(a->config_id, '@');
        if (at != NULL && at[1] != '\0' && strspn(at + 1, "0123456789") == strlen(at + 1)) {
            reply_invalid(req, a->config_id, 400, "Invalid request",
                          "one-time passwords are not supported by cas yet");
            return false;
        }
    }
    slash = strrchr(a->config_id, '/');
    if (slash == NULL || slash == a->config_id || (size_t)(slash - a->config_id) >= 1100 ||
        strlen(slash + 1) >= sizeof(a->service))
        return true; /* not found, answered by the caller */
    (void)snprintf(a->session, sizeof(a->session), "%.*s", (int)(slash - a->config_id),
                   a->config_id);
    (void)snprintf(a->service, sizeof(a->service), "%s", slash + 1);
    if (a->quote != NULL) { /* decoded by load_body */
        a->has_evidence = true;
    } else if (json_is_object(ev) && json_is_string(json_object_get(ev, "quote"))) {
        q = json_string_value(json_object_get(ev, "quote"));
        if (!decode_quote(q, strlen(q), a)) {
            reply_invalid(req, a->config_id, 400, "Invalid request",
                          "evidence.quote is not base64 of a quote");
            return false;
        }
        a->has_evidence = true;
    }
    if (json_is_object(col))
        a->collateral = col;
    return true;
}

/*
 * The request body as JSON. Two members are big: the collateral (about 15 KiB of JSON, the same
 * with every attestation of a platform) and the base64 quote (about 6 KiB). When casd parsed
 * those exact collateral bytes before, it is null in the text parsed, and *col gets a copy of what
 * they gave (*have_col). When the quote is plain base64 (no escapes can hide in it), it is decoded
 * from the text into a->quote and "" is parsed in its place. Anything unexpected: the whole body
 * is parsed, as without either. *span tells where the collateral's text is, for learning it after
 * a full parse (span->found).
 */
struct span {
    size_t start, end;
    bool found;
};

/* The quote in text[start, end) when it is "<base64>", decoded into a->quote. The decoder is
 * strict (only the alphabet, '=' only at the end), so no escape or control character can have
 * been inside: the JSON string is that text. */
static bool
quote_from_text(const char *text, size_t start, size_t end, struct attest_req *a)
{
    return end - start >= 3 && text[start] == '"' && text[end - 1] == '"' &&
           decode_quote(text + start + 1, end - start - 2, a);
}

/* text with up to two spans replaced (given in order, not overlapping), in memory that is wiped
 * when freed: it holds the access token. */
static char *
text_without(const char *text, size_t len, size_t cut[2][2], const char *const put[2], size_t n_cut,
             size_t *out_len)
{
    size_t n = len, at = 0, from = 0;
    char *sub;

    for (size_t i = 0; i < n_cut; i++)
        n = n - (cut[i][1] - cut[i][0]) + strlen(put[i]);
    if ((sub = cas_wipe_malloc(n)) == NULL)
        return NULL;
    for (size_t i = 0; i < n_cut; i++) {
        memcpy(sub + at, text + from, cut[i][0] - from);
        at += cut[i][0] - from;
        memcpy(sub + at, put[i], strlen(put[i]));
        at += strlen(put[i]);
        from = cut[i][1];
    }
    memcpy(sub + at, text + from, len - from);
    *out_len = n;
    return sub;
}

static json_t *
load_body(struct casd *d, const struct cas_http_req *req, struct span *span,
          struct cas_dcap_collateral *col, bool *have_col, struct attest_req *a)
{
    const char *text = (const char *)req->body;
    size_t len = req->body_len, n, es, ee, qs, qe, cut[2][2], n_cut = 0;
    const char *put[2];
    bool quoted = false;
    char *sub;
    json_t *body = NULL, *q;

    *have_col = false;
    span->found = cas_json_member_span(text, len, "collateral", &span->start, &span->end) &&
                  text[span->start] == '{';
    if (span->found && cas_dcap_collateral_cache_get(d->collateral, text + span->start,
                                                     span->end - span->start, col))
        *have_col = true;
    if (cas_json_member_span(text, len, "evidence", &es, &ee) && text[es] == '{' &&
        cas_json_member_span(text + es, ee - es, "quote", &qs, &qe))
        quoted = quote_from_text(text, es + qs, es + qe, a);
    if (quoted)
        cut[n_cut][0] = es + qs, cut[n_cut][1] = es + qe, put[n_cut++] = "\"\"";
    if (*have_col)
        cut[n_cut][0] = span->start, cut[n_cut][1] = span->end, put[n_cut++] = "null";
    if (n_cut == 2 && span->start < es) { /* the collateral comes first in the text */
        cut[1][0] = cut[0][0], cut[1][1] = cut[0][1], put[1] = put[0];
        cut[0][0] = span->start, cut[0][1] = span->end, put[0] = "null";
    }
    if (n_cut > 0 && (sub = text_without(text, len, cut, put, n_cut, &n)) != NULL) {
        body = json_loadb(sub, n, JSON_REJECT_DUPLICATES, NULL);
        cas_wipe_free(sub);
    }
    q = json_object_get(json_object_get(body, "evidence"), "quote");
    if (n_cut > 0 && !(json_is_object(body) &&
                       (!*have_col || json_is_null(json_object_get(body, "collateral"))) &&
                       (!quoted || (json_is_string(q) && json_string_length(q) == 0)))) {
        json_decref(body);
        body = NULL;
    }
    if (body == NULL) { /* the whole body, parsed as without the shortcuts */
        if (*have_col)
            cas_dcap_collateral_release(col);
        *have_col = false;
        free(a->quote);
        a->quote = NULL;
        a->quote_len = 0;
        body = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    }
    return body;
}

/*
 * The session's current version in a new read transaction *tx. It is asked of the database every
 * time; only its unsealing and parsing are saved when another attestation already built that
 * very version. Certificates due for renewal are re-issued first (policy.md §8.1: at the next
 * read or attestation), then the version is looked up again, in a new transaction.
 */
static cas_rc
lookup(struct casd *d, const char *name, struct cas_tx **tx, char hash[65], const void **obj,
       struct cas_session_ref **ref, bool *found, struct cas_err *err)
{
    cas_rc rc = cas_store_begin(d->store, CAS_TX_READ, tx, err);

    return rc != CAS_OK
               ? rc
               : cas_session_cache_current(d->policies, *tx, name, hash, obj, ref, found, err);
}

static cas_rc
current_session(struct casd *d, const char *name, int64_t now, struct cas_tx **tx, char hash[65],
                const void **obj, struct cas_session_ref **ref, bool *found, struct cas_err *err)
{
    bool due = false;
    cas_rc rc;

    if ((rc = lookup(d, name, tx, hash, obj, ref, found, err)) != CAS_OK || !*found ||
        (rc = cas_store_secret_due(*tx, name, now, &due, err)) != CAS_OK || !due)
        return rc;
    cas_tx_rollback(*tx);
    *tx = NULL;
    rc = casd_values_renew(d, name, hash, *obj, now, err);
    cas_session_ref_release(d->policies, *ref);
    *ref = NULL;
    *obj = NULL;
    return rc != CAS_OK ? rc : lookup(d, name, tx, hash, obj, ref, found, err);
}

/*
 * Records the attempt. The read transaction ends first: the record is then written on the
 * connection just given back, whose page cache stays valid for the next attestation (a write on
 * another connection would make this one read its pages again).
 */
static void
audit(struct casd *d, struct cas_tx **tx, const struct cas_http_req *req, const char *config_id,
      enum casd_outcome o, const char *verdict)
{
    cas_tx_rollback(*tx);
    *tx = NULL;
    casd_audit(d, CASD_AUDIT_SERVICE, req->peer_key_hash, config_id, o, verdict);
}

/* 503 for an attempt that would have succeeded but whose audit record could not be written. */
static void
reply_unrecorded(struct cas_http_req *req, const char *first, const struct cas_err *err)
{
    char why[CAS_ERR_LEN + 200], cause[CAS_ERR_LEN];

    casd_audit_cause(err, cause, sizeof(cause));
    (void)snprintf(why, sizeof(why),
                   "its audit record could not be written (%s); casd hands out no configuration "
                   "it has not recorded - try again, and see casd.audit_failed in casd's log",
                   cause);
    reply_msg(req, 503, first, why);
}

void
casd_handle_service_attest(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct attest_req a = {0};
    struct cas_session_ref *ref = NULL;
    const struct cas_policy *p = NULL;
    const void *obj = NULL;
    char cur_hash[65] = "";
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    struct cas_dcap_collateral col;
    struct span span = {0};
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev = {0};
    struct cas_attest_decision dec;
    struct render_ctx rc_ctx = {0};
    const struct cas_policy_service *svc = NULL;
    char failure[1024] = "", first[1300];
    uint8_t want_rd[64] = {0};
    json_t *body = NULL, *answer = NULL;
    int64_t now = (int64_t)time(NULL), now_ms = mono_ms();
    bool found = false, have_col = false;
    struct backoff bo;

    memset(&vd, 0, sizeof(vd));
    cas_dcap_collateral_init(&col);
    if (!req->has_peer) {
        reply_msg(req, 403, "Attestation failed", "a client certificate is required");
        return;
    }
    body = load_body(d, req, &span, &col, &have_col, &a);
    if (!json_is_object(body)) {
        reply_invalid(req, NULL, 400, "Invalid request", "the body is not a JSON object");
        goto out;
    }
    if (!parse_request(req, body, &a))
        goto out;
    if (a.session[0] == '\0' || !cas_policy_name_valid(a.session)) {
        reply_invalid(req, a.config_id, 404, "Session not found", NULL);
        goto out;
    }
    (void)snprintf(first, sizeof(first), "Attestation of service '%s' failed", a.config_id);
    if ((bo = backoff_of(d, req, a.session, now_ms)).wait_ms > 0) {
        reply_backoff(d, req, a.config_id, first, &bo);
        goto out;
    }
    if (current_session(d, a.session, now, &tx, cur_hash, &obj, &ref, &found, &err) != CAS_OK)
        goto fail;
    if (!found) {
        reply_msg(req, 404, "Session not found", NULL);
        audit(d, &tx, req, a.config_id, CASD_AUDIT_OTHER, "session not found");
        goto out;
    }
    p = obj;
    for (size_t i = 0; i < p->service_count && svc == NULL; i++) {
        if (strcmp(p->services[i].name, a.service) == 0)
            svc = &p->services[i];
    }
    if (svc == NULL) {
        reply_msg(req, 404, "Service not found", NULL);
        audit(d, &tx, req, a.config_id, CASD_AUDIT_OTHER, "service not found");
        goto out;
    }
    /* The evidence: verified, and bound to this connection's client key (api.md §2.4). */
    ev.present = a.has_evidence;
    ev.vd = &vd;
    if (a.has_evidence && p->security.mode != CAS_POLICY_MODE_NONE) {
        struct cas_err verr = {0};
        cas_rc vrc = CAS_OK;
        if (!have_col) {
            vrc = casd_evidence_collateral(d, a.collateral, &col, &verr);
            if (vrc == CAS_OK && a.collateral != NULL && span.found)
                cas_dcap_collateral_cache_learn(d->collateral, (const char *)req->body + span.start,
                                                span.end - span.start, &col);
        }
        memcpy(want_rd, req->peer_key_hash, 32);
        casd_evidence_verify(d, a.quote, a.quote_len, vrc, &verr, &col, want_rd, now, &vd, &ev,
                             failure, sizeof(failure));
    }
    rc_ctx = (struct render_ctx){d, tx, a.session, p, image_of(p, svc), json_object()};
    if (cas_attest_decide(p, svc, &ev, a.token, fragment_of, &rc_ctx, &dec, &err) != CAS_OK)
        goto fail;
    count_token(d, req, a.session, p, &dec, now_ms);
    if (dec.n > 0) {
        json_t *msgs = json_array();
        json_array_append_new(msgs, json_string(first));
        for (unsigned i = 0; i < dec.n; i++)
            json_array_append_new(msgs, json_string(dec.problems[i]));
        audit(d, &tx, req, a.config_id, CASD_AUDIT_DENIED, dec.problems[0]);
        cas_http_reply_json(req, 403,
                            json_pack("{s:o, s:o}", "msg", msgs, "verdict",
                                      verdict_json(&vd, ev.present && vd.evidence_type != NULL)));
        goto out;
    }
    if (launcher_lacks(req, &a, svc, rc_ctx.img)) {
        audit(d, &tx, req, a.config_id, CASD_AUDIT_OTHER, "launcher lacks a feature");
        goto out;
    }
    if (configuration(&rc_ctx, svc, cur_hash, req->peer_key_hash, now, &answer, &err) != CAS_OK) {
        audit(d, &tx, req, a.config_id, CASD_AUDIT_OTHER, "configuration failed");
        cas_err_wrap(&err, "Failed to configure service '%s'", a.config_id);
        if (err.rc == CAS_E_DENIED)
            err.rc = CAS_E_CONFLICT; /* an import that no longer resolves */
        cas_http_reply_err(req, &err);
        goto out;
    }
    /* The record is committed before anything leaves; without it nothing does (fail closed). */
    cas_tx_rollback(tx);
    tx = NULL;
    if (casd_audit_ok(d, CASD_AUDIT_SERVICE, req->peer_key_hash, a.config_id, "ok", &err) !=
        CAS_OK) {
        token_revoke(json_string_value(json_object_get(answer, "render_token")));
        json_decref(answer);
        reply_unrecorded(req, first, &err);
        goto out;
    }
    cas_http_reply_json(req, 200, answer);
    goto out;
fail:
    atomic_fetch_add(&d->db_errors, 1);
    cas_log_err(CAS_LOG_ERROR, "casd.service_error", &err);
    cas_err_wrap(&err, "Failed to attest service '%s'", a.config_id ? a.config_id : "?");
    cas_http_reply_err(req, &err);
out:
    json_decref(rc_ctx.fragments);
    cas_tx_rollback(tx);
    cas_session_ref_release(d->policies, ref);
    cas_dcap_collateral_release(&col);
    free(a.quote);
    json_decref(body);
}

/* ---- render ---- */

void
casd_handle_service_render(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct token t;
    struct cas_session_row row = {0};
    struct cas_policy *p = NULL;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    const struct cas_policy_service *svc = NULL;
    struct render_ctx c = {0};
    json_t *body = NULL, *files = NULL, *e;
    bool found = false;
    size_t i;

    body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!req->has_peer || !json_is_object(body) ||
        !token_take(json_string_value(json_object_get(body, "render_token")), req->peer_key_hash,
                    (int64_t)time(NULL), &t)) {
        reply_msg(req, 403, "Failed to render templates",
                  "the render token is unknown, used, expired or bound to another connection");
        goto out;
    }
    if (cas_store_begin(d->store, CAS_TX_READ, &tx, &err) != CAS_OK ||
        cas_store_session_version(tx, t.session, t.hash, &row, &found, &err) != CAS_OK || !found ||
        casd_session_open(d, &row, &p, NULL, &err) != CAS_OK) {
        if (!found)
            cas_err_set(&err, CAS_E_NOTFOUND, "session '%s' changed", t.session);
        goto fail;
    }
    for (size_t k = 0; k < p->service_count && svc == NULL; k++) {
        if (strcmp(p->services[k].name, t.service) == 0)
            svc = &p->services[k];
    }
    c = (struct render_ctx){
        d, tx, t.session, p, svc != NULL ? image_of(p, svc) : NULL, json_object()};
    files = json_array();
    json_array_foreach(json_object_get(body, "templates"), i, e)
    {
        const char *path = json_string_value(json_object_get(e, "path"));
        const char *content = json_string_value(json_object_get(e, "content"));
        const struct cas_policy_injection *f = NULL;
        struct cas_buf in, out;
        json_t *enc = NULL;
        size_t cl = content != NULL ? strlen(content) : 0, n = 0;
        cas_rc rc;

        for (size_t k = 0; path != NULL && c.img != NULL && k < c.img->file_count; k++) {
            if (!c.img->files[k].has_content && strcmp(c.img->files[k].path, path) == 0)
                f = &c.img->files[k];
        }
        if (f == NULL || content == NULL) {
            cas_err_set(&err, CAS_E_INVALID, "'%s' is not a template of this service",
                        path != NULL ? path : "?");
            goto fail;
        }
        cas_buf_init_secret(&in, OUT_MAX);
        cas_buf_init_secret(&out, OUT_MAX);
        if (cl / 4 * 3 + 3 > OUT_MAX || (cas_buf_add(&in, "", 0), 0)) {
            cas_err_set(&err, CAS_E_TOOBIG, "template '%s' is too large", path);
            goto fail;
        }
        {
            uint8_t *raw = cas_wipe_malloc(cl / 4 * 3 + 3);
            if (raw == NULL || !cas_b64_decode(content, cl, raw, cl / 4 * 3 + 3, &n, false)) {
                cas_wipe_free(raw);
                cas_err_set(&err, CAS_E_INVALID, "template '%s' is not base64", path);
                goto fail;
            }
            cas_buf_add(&in, raw, n);
            cas_wipe_free(raw);
        }
        rc = render_text(&c, in.buf, in.len, false, true, &out, &err);
        if (rc == CAS_OK)
            rc = b64_of(&out, &enc, &err);
        cas_buf_release(&in);
        cas_buf_release(&out);
        if (rc != CAS_OK)
            goto fail;
        json_array_append_new(files, json_pack("{s:s, s:i, s:o}", "path", path, "mode",
                                               (int)f->permission, "content", enc));
    }
    cas_http_reply_json(req, 200, json_pack("{s:o}", "files", files));
    files = NULL;
    goto out;
fail:
    cas_err_wrap(&err, "Failed to render templates");
    cas_http_reply_err(req, &err);
out:
    json_decref(files);
    json_decref(c.fragments);
    cas_tx_rollback(tx);
    cas_policy_free(p);
    cas_session_row_release(&row);
    json_decref(body);
}

/* ---- metrics ---- */

void
casd_service_metrics(struct casd *d, struct cas_buf *b)
{
    cas_buf_addf(b,
                 "# HELP cas_audit_failures_total Audit records that could not be written; an "
                 "attestation or join that would have succeeded is then refused (503).\n"
                 "# TYPE cas_audit_failures_total counter\n"
                 "cas_audit_failures_total %lu\n",
                 atomic_load(&d->audit_failures));
    cas_buf_addf(b,
                 "# HELP cas_access_token_failures_total Service attestations with a wrong or "
                 "missing access token.\n"
                 "# TYPE cas_access_token_failures_total counter\n"
                 "cas_access_token_failures_total %lu\n"
                 "# HELP cas_access_token_backoff_total Service attestations refused (429) while "
                 "their client key or address backs off after wrong access tokens.\n"
                 "# TYPE cas_access_token_backoff_total counter\n"
                 "cas_access_token_backoff_total %lu\n",
                 atomic_load(&d->token_failures), atomic_load(&d->token_refused));
}
