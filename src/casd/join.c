/* join.c - the attested join of a new instance (join.h). */
#include "join.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest/peer.h"
#include "casd.h"
#include "client/enclave.h"
#include "client/evjson.h"
#include "client/joinmsg.h"
#include "crypto/binding.h"
#include "crypto/pki.h"
#include "evidence.h"
#include "store/store.h"
#include "tee/provider.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/secret.h"

#define JOIN_PATH "/v1/cas/join"
#define JOIN_CONFIG_ID "cas/join" /* what the audit log names a join attempt */
#define MAX_MEMBERS 16
#define ADDR_MAX 300

/* ---- the member list ---- */

cas_rc
casd_member_register(struct cas_store *st, const char *instance_id, const char *addr, int64_t now,
                     struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    struct cas_param p[3] = {CAS_PTEXT(instance_id), CAS_PTEXT(addr), CAS_PINT(now)};
    cas_rc rc;

    if ((rc = cas_store_begin(st, CAS_TX_WRITE, &tx, err)) != CAS_OK)
        return rc;
    if ((rc = cas_tx_exec(tx,
                          "INSERT INTO cas_member (instance, enclave_addr, seen_at)"
                          " VALUES ($1, $2, $3) ON CONFLICT (instance) DO UPDATE"
                          " SET enclave_addr = excluded.enclave_addr, seen_at = excluded.seen_at",
                          p, 3, NULL, NULL, NULL, err)) != CAS_OK ||
        (rc = cas_tx_commit(tx, err)) != CAS_OK) {
        cas_tx_rollback(tx);
        return rc;
    }
    return CAS_OK;
}

void
casd_member_unregister(struct cas_store *st, const char *instance_id)
{
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    struct cas_param p[1] = {CAS_PTEXT(instance_id)};

    if (cas_store_begin(st, CAS_TX_WRITE, &tx, &err) != CAS_OK ||
        cas_tx_exec(tx, "DELETE FROM cas_member WHERE instance = $1", p, 1, NULL, NULL, NULL,
                    &err) != CAS_OK ||
        cas_tx_commit(tx, &err) != CAS_OK) {
        cas_tx_rollback(tx);
        cas_log_err(CAS_LOG_WARN, "casd.member_unregister_failed", &err);
    }
}

void
casd_member_address(const char *listen, char *out, size_t cap)
{
    const char *colon = strrchr(listen, ':');
    size_t host_len = colon != NULL ? (size_t)(colon - listen) : 0;
    char host[256];

    if (colon != NULL &&
        ((host_len == 7 && strncmp(listen, "0.0.0.0", 7) == 0) ||
         (host_len == 4 && strncmp(listen, "[::]", 4) == 0) || host_len == 0) &&
        gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        (void)snprintf(out, cap, "%s%s", host, colon);
        return;
    }
    (void)snprintf(out, cap, "%s", listen);
}

/* ---- shared ---- */

/* ---- the running instance's side ---- */

static void
refuse(struct cas_http_req *req, int status, const char *a, const char *b)
{
    const char *msgs[2] = {a, b};

    cas_http_reply_msgs(req, status, msgs, b != NULL ? 2 : 1);
}

/* 200 with this instance's evidence bound to the newcomer's nonce and key, and the key. */
static void
hand_over(struct casd *d, struct cas_http_req *req, const uint8_t nonce[32])
{
    struct cas_tee_evidence ev = {0};
    struct cas_err err = {0};
    uint8_t rd[64];
    size_t klen = 0;
    const uint8_t *key = cas_secret_peek(d->sealing_key, &klen);
    json_t *answer, *evidence = NULL, *collateral = NULL;
    cas_rc rc;

    if (!cas_binding_join(nonce, req->peer_key_hash, d->identity.root, rd)) {
        refuse(req, 500, "Join failed", "cannot compute the report data");
        return;
    }
    if ((rc = casd_tee_evidence(&d->tee, rd, &ev, &err)) != CAS_OK) {
        cas_err_wrap(&err, "Join failed");
        cas_http_reply_err(req, &err);
        return;
    }
    rc = cas_evidence_to_json(&ev, &evidence, &collateral, &err);
    cas_tee_evidence_release(&ev);
    if (rc != CAS_OK) {
        cas_err_wrap(&err, "Join failed");
        cas_http_reply_err(req, &err);
        return;
    }
    answer = json_pack("{s:o, s:o, s:o}", "evidence", evidence, "collateral", collateral,
                       "sealing_key", cas_json_b64(key, klen));
    if (answer == NULL) {
        casd_audit(d, CASD_AUDIT_JOIN, req->peer_key_hash, JOIN_CONFIG_ID, CASD_AUDIT_OTHER,
                   "out of memory");
        refuse(req, 500, "Join failed", "out of memory");
        return;
    }
    /* The sealing key leaves only once its handing over is recorded (fail closed). */
    if (casd_audit_ok(d, CASD_AUDIT_JOIN, req->peer_key_hash, JOIN_CONFIG_ID,
                      "ok: sealing key handed over", &err) != CAS_OK) {
        char why[CAS_ERR_LEN + 200], cause[CAS_ERR_LEN];
        json_decref(answer);
        casd_audit_cause(&err, cause, sizeof(cause));
        (void)snprintf(why, sizeof(why),
                       "its audit record could not be written (%s); the sealing key is handed "
                       "over only once recorded - try again, and see casd.audit_failed in the "
                       "log of this instance",
                       cause);
        refuse(req, 503, "Join failed", why);
        return;
    }
    cas_http_reply_json(req, 200, answer);
}

void
casd_handle_join(struct cas_http_req *req)
{
    struct casd *d = req->app;
    struct cas_join_msg m;
    struct cas_dcap_collateral col;
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision dec;
    struct cas_err err = {0};
    uint8_t want_rd[64] = {0};
    char failure[1024] = "";
    json_t *msgs;

    if (!req->has_peer) {
        refuse(req, 403, "Join refused", "a client certificate is required");
        return;
    }
    if (!d->tee.measured) {
        refuse(req, 503, "Join refused",
               "this instance has not verified its own evidence, so it cannot judge another's");
        return;
    }
    if (cas_join_request_parse(req->body, req->body_len, &m, &err) != CAS_OK) {
        refuse(req, 400, "Invalid request", cas_err_get(&err, 0));
        return;
    }
    cas_dcap_collateral_init(&col);
    memcpy(want_rd, req->peer_key_hash, 32);
    casd_evidence_check(d, m.quote, m.quote_len, m.collateral, want_rd, (int64_t)time(NULL), &col,
                        &vd, &ev, failure, sizeof(failure));
    cas_attest_peer(&d->tee.self, &ev, CAS_PEER_NEWCOMER, &dec);
    if (dec.n > 0) {
        casd_audit(d, CASD_AUDIT_JOIN, req->peer_key_hash, JOIN_CONFIG_ID, CASD_AUDIT_DENIED,
                   dec.problems[0]);
        msgs = json_array();
        json_array_append_new(msgs, json_string("Join of a new instance refused"));
        for (unsigned i = 0; i < dec.n; i++)
            json_array_append_new(msgs, json_string(dec.problems[i]));
        cas_http_reply_json(req, 403, json_pack("{s:o}", "msg", msgs));
    } else {
        hand_over(d, req, m.nonce);
    }
    cas_dcap_collateral_release(&col);
    cas_join_msg_release(&m);
}

/* ---- the newcomer's side ---- */

struct members {
    char addr[MAX_MEMBERS][ADDR_MAX];
    size_t n;
    const char *self;
};

static cas_rc
read_member(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct members *ms = arg;
    const char *id = cas_row_text(row, 0), *addr = cas_row_text(row, 1);

    (void)err;
    if (id == NULL || addr == NULL || strcmp(id, ms->self) == 0 || ms->n >= MAX_MEMBERS ||
        strlen(addr) >= ADDR_MAX)
        return CAS_OK;
    (void)snprintf(ms->addr[ms->n++], ADDR_MAX, "%s", addr);
    return CAS_OK;
}

/* What the newcomer sends and must find again in the answer. */
struct ask {
    EVP_PKEY *key;
    X509 *cert;
    X509 *root;
    uint8_t key_hash[32];
    uint8_t nonce[32];
    char *body;
};

static void
ask_release(struct ask *a)
{
    EVP_PKEY_free(a->key);
    X509_free(a->cert);
    X509_free(a->root);
    free(a->body);
}

static cas_rc
ask_new(struct casd *d, struct ask *a, struct cas_err *err)
{
    const struct cas_cert_spec spec = {CAS_CERT_TLS_CLIENT, "casd-join", NULL, 0, 0,
                                       CAS_NOT_AFTER_NEVER};
    struct cas_tee_evidence ev = {0};
    uint8_t rd[64] = {0};
    char nonce_hex[65];
    json_t *evidence = NULL, *collateral = NULL, *body;
    cas_rc rc;

    if ((rc = casd_identity_root_cert(d->store, &a->root, err)) != CAS_OK ||
        (rc = cas_key_new_p256(&a->key, err)) != CAS_OK ||
        (rc = cas_cert_issue(&spec, a->key, NULL, a->key, &a->cert, err)) != CAS_OK ||
        (rc = cas_cert_key_hash(a->cert, a->key_hash, err)) != CAS_OK)
        return rc;
    if (RAND_bytes(a->nonce, sizeof(a->nonce)) != 1)
        return cas_err_set(err, CAS_E_CRYPTO, "no random bytes for the join's nonce");
    memcpy(rd, a->key_hash, 32);
    if ((rc = casd_tee_evidence(&d->tee, rd, &ev, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot make this instance's evidence");
    rc = cas_evidence_to_json(&ev, &evidence, &collateral, err);
    cas_tee_evidence_release(&ev);
    if (rc != CAS_OK)
        return rc;
    cas_hex_encode(a->nonce, 32, nonce_hex);
    body = json_pack("{s:s, s:o, s:o}", "nonce", nonce_hex, "evidence", evidence, "collateral",
                     collateral);
    if (body == NULL || (a->body = json_dumps(body, JSON_COMPACT)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory for the join request");
    json_decref(body);
    return rc;
}

/* The 403's problems, one per line after the first. */
static cas_rc
refused(const char *addr, const json_t *answer, struct cas_err *err)
{
    const json_t *msgs = json_object_get(answer, "msg");
    struct cas_buf b;
    size_t i;
    const json_t *m;
    cas_rc rc;

    cas_buf_init(&b, 16 * 1024);
    json_array_foreach(msgs, i, m)
    {
        if (i > 0 && json_is_string(m))
            cas_buf_addf(&b, "\n  %s", json_string_value(m));
    }
    rc = cas_err_set(err, CAS_E_DENIED, "the instance at '%s' refused this one:%s", addr,
                     b.len > 0 ? b.buf : " (no reason given)");
    cas_buf_release(&b);
    return rc;
}

/* Checks the running instance's answer; CAS_OK: *key is its sealing key. */
static cas_rc
accept_answer(struct casd *d, const struct ask *a, const char *addr, const void *text, size_t len,
              struct cas_secret **key, struct cas_err *err)
{
    struct cas_join_msg m;
    struct cas_dcap_collateral col;
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision dec;
    uint8_t want_rd[64];
    char failure[1024] = "";
    struct cas_buf b;
    cas_rc rc;

    if ((rc = cas_join_answer_parse(text, len, &m, err)) != CAS_OK)
        return cas_err_wrap(err, "the instance at '%s' answered an invalid join", addr);
    if (!cas_binding_join(a->nonce, a->key_hash, a->root, want_rd)) {
        cas_join_msg_release(&m);
        return cas_err_set(err, CAS_E_CRYPTO, "cannot compute the expected report data");
    }
    cas_dcap_collateral_init(&col);
    casd_evidence_check(d, m.quote, m.quote_len, m.collateral, want_rd, (int64_t)time(NULL), &col,
                        &vd, &ev, failure, sizeof(failure));
    cas_attest_peer(&d->tee.self, &ev, CAS_PEER_SOURCE, &dec);
    cas_dcap_collateral_release(&col);
    if (dec.n == 0) {
        *key = m.sealing_key;
        m.sealing_key = NULL;
        cas_join_msg_release(&m);
        return CAS_OK;
    }
    cas_join_msg_release(&m);
    cas_buf_init(&b, 16 * 1024);
    for (unsigned i = 0; i < dec.n; i++)
        cas_buf_addf(&b, "\n  %s", dec.problems[i]);
    rc = cas_err_set(err, CAS_E_DENIED,
                     "the instance at '%s' does not satisfy this CAS's own policy, so its key is "
                     "refused:%s",
                     addr, b.buf != NULL ? b.buf : "");
    cas_buf_release(&b);
    return rc;
}

/* One attempt: CAS_E_IO when the instance could not be reached (the caller tries the next). */
static cas_rc
ask_one(struct casd *d, const struct ask *a, const char *addr, struct cas_secret **key,
        struct cas_err *err)
{
    struct cas_enclave_conn *c = NULL;
    struct cas_secret *text = NULL;
    char url[ADDR_MAX + 16];
    long status = 0;
    size_t len = 0;
    json_t *answer = NULL;
    cas_rc rc;

    (void)snprintf(url, sizeof(url), "https://%s", addr);
    if ((rc = cas_enclave_conn_new(url, a->root, a->key, a->cert, &c, err)) != CAS_OK)
        return rc;
    rc = cas_enclave_post(c, JOIN_PATH, a->body, strlen(a->body), &status, &text, err);
    cas_enclave_conn_free(c);
    if (rc != CAS_OK)
        return rc == CAS_E_DENIED ? cas_err_set(err, CAS_E_IO,
                                                "the instance at '%s' has no certificate of "
                                                "this CAS's root for DNS:cas",
                                                addr)
                                  : rc;
    if (status == 200) {
        const uint8_t *p = cas_secret_peek(text, &len);
        rc = accept_answer(d, a, addr, p, cas_secret_len(text), key, err);
    } else if (status == 403) {
        answer = json_loadb((const char *)cas_secret_peek(text, &len), cas_secret_len(text),
                            JSON_REJECT_DUPLICATES, NULL);
        rc = refused(addr, answer, err);
        json_decref(answer);
    } else { /* e.g. 503 when it cannot record the join: its reason, when it gave one */
        const char *why;
        answer = json_loadb((const char *)cas_secret_peek(text, &len), cas_secret_len(text),
                            JSON_REJECT_DUPLICATES, NULL);
        why = json_string_value(json_array_get(json_object_get(answer, "msg"), 1));
        rc = cas_err_set(err, CAS_E_IO, "the instance at '%s' answered HTTP %ld%s%.400s", addr,
                         status, why != NULL ? ": " : "", why != NULL ? why : "");
        json_decref(answer);
    }
    cas_secret_free(text);
    return rc;
}

cas_rc
casd_join(struct casd *d, const char *instance_id, struct cas_secret **key, struct cas_err *err)
{
    struct members ms = {.self = instance_id};
    struct ask a = {0};
    struct cas_tx *tx = NULL;
    struct cas_buf tried;
    cas_rc rc;

    *key = NULL;
    if (!d->tee.measured)
        return cas_err_set(err, CAS_E_UNSUPPORTED,
                           "this instance has not verified its own evidence, so it cannot judge "
                           "the instance it would join");
    if ((rc = cas_store_begin(d->store, CAS_TX_READ, &tx, err)) != CAS_OK)
        return rc;
    rc = cas_tx_exec(
        tx, "SELECT instance, enclave_addr FROM cas_member ORDER BY seen_at DESC, instance", NULL,
        0, read_member, &ms, NULL, err);
    cas_tx_rollback(tx);
    if (rc != CAS_OK)
        return rc;
    if (ms.n == 0)
        return cas_err_set(err, CAS_E_IO,
                           "no running instance of this CAS is listed in the database to join");
    if ((rc = ask_new(d, &a, err)) != CAS_OK) {
        ask_release(&a);
        return rc;
    }
    cas_buf_init(&tried, 64 * 1024);
    rc = CAS_E_IO;
    for (size_t i = 0; i < ms.n; i++) {
        struct cas_err one = {0};
        char why[1024];
        CAS_LOG(INFO, "casd.join_asking", CAS_LF_STR("instance_addr", ms.addr[i]));
        rc = ask_one(d, &a, ms.addr[i], key, &one);
        if (rc == CAS_OK) {
            CAS_LOG(INFO, "casd.joined", CAS_LF_STR("instance_addr", ms.addr[i]));
            break;
        }
        if (rc != CAS_E_IO) {
            *err = one;
            break;
        }
        cas_err_join(&one, why, sizeof(why));
        cas_buf_addf(&tried, "%s%s", tried.len > 0 ? "; " : "", why);
    }
    if (rc == CAS_E_IO)
        cas_err_set(err, CAS_E_IO, "no running instance of this CAS answered: %s", tried.buf);
    cas_buf_release(&tried);
    ask_release(&a);
    return rc;
}
