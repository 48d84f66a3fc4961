/*
 * casd.h - the state casd's handlers share: configuration values, the store, the identity and
 * what the status page shows. Set up by main.c before the workers start; read-only afterwards
 * except where a field says how it is guarded.
 */
#ifndef CASD_CASD_H
#define CASD_CASD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "http/server.h"
#include "identity.h"
#include "quota.h"
#include "selfattest.h"

struct cas_store;
struct casd_keygen;
struct cas_ratelimit;
struct cas_secret;

struct casd {
    struct cas_store *store;
    const char *data_dir;
    const char *tee_name;
    time_t started_at;
    pthread_mutex_t id_lock; /* guards identity.leaf* during renewal */
    struct casd_identity identity;
    struct casd_tee tee;
    const struct cas_secret *sealing_key; /* values at rest are sealed under it */
    const char *collateral_dir;           /* collateral of hardware evidence, or NULL */
    struct cas_http_server *srv;          /* for /metrics */
    struct cas_session_cache *policies;   /* parsed session versions (casd_policy_cache_new) */
    struct cas_dcap_collateral_cache *collateral; /* parsed collateral, by its JSON text */
    bool metrics;                                 /* GET /metrics is on */
    struct casd_quota quota;                      /* quotas and their refusal counters (quota.h) */
    struct casd_keygen *keygen; /* where uploads generate RSA keys (keygen.h); NULL: inline */
    /* Counters for /metrics (atomic: every worker adds). */
    atomic_ulong attest_ok, attest_denied, attest_other;
    atomic_ulong join_ok, join_denied, join_other; /* the attested join, asked of this instance */
    atomic_ulong sessions_created, sessions_updated, sessions_deleted, sessions_refused;
    atomic_ulong db_errors;
    atomic_ulong audit_failures; /* audit records that could not be written (evidence.c) */
    /* Wrong service access tokens, by caller key and by peer address (service.c). */
    struct cas_ratelimit *token_keys, *token_addrs;
    atomic_ulong token_failures, token_refused; /* wrong tokens; attempts answered 429 */
};

struct cas_session_row;
struct cas_policy;

/* Opens (unseals) and parses a stored session version; *yaml (optional) gets its text. */
cas_rc casd_session_open(struct casd *d, const struct cas_session_row *row, struct cas_policy **p,
                         struct cas_secret **yaml, struct cas_err *err) CAS_MUST_CHECK;

/* Parsed session versions, validated against the database on every use (service.c). Kept few:
 * a policy's explicit secret values stay in locked pages while it is cached. */
#define CASD_POLICY_CACHE_MAX 64
/* Collateral sets kept by their JSON text: one per platform TCB level in use, give or take. */
#define CASD_COLLATERAL_CACHE_MAX 16
struct cas_session_cache;
struct cas_dcap_collateral_cache;
struct cas_session_cache *casd_policy_cache_new(struct casd *d);

/* Whether exporter's secret `theirs` is exported to importer (by session or namespace); a pin
 * on the importer that does not equal importer_hash (NULL: not checked) clears *pin_ok. */
struct cas_policy_secret;
bool casd_export_grants(const char *exporter, const struct cas_policy_secret *theirs,
                        const char *importer, const char *importer_hash, bool *pin_ok,
                        const char **pin);

/* The session API (sessions.c). */
void casd_handle_session_upload(struct cas_http_req *req);
void casd_handle_session_read(struct cas_http_req *req);
void casd_handle_session_list(struct cas_http_req *req);
void casd_handle_session_delete(struct cas_http_req *req);
void casd_handle_values(struct cas_http_req *req);
/* The enclave API (service.c). */
void casd_handle_service_attest(struct cas_http_req *req);
void casd_handle_service_render(struct cas_http_req *req);
/* The access-token limiters of casd (token_keys, token_addrs): false when out of memory. */
bool casd_service_limits_new(struct casd *d);
void casd_service_limits_free(struct casd *d);
/* Appends the enclave API's own counters (audit failures, access-token guessing) to /metrics. */
struct cas_buf;
void casd_service_metrics(struct casd *d, struct cas_buf *b);

/* Routes of the client API and the enclave API (routes.c). */
extern const struct cas_http_route casd_client_routes[];
extern const size_t casd_client_route_count;
extern const struct cas_http_route casd_enclave_routes[];
extern const size_t casd_enclave_route_count;

#endif
