/*
 * casd.h - the state casd's handlers share: configuration values, the store, the identity and
 * what the status page shows. Set up by main.c before the workers start; read-only afterwards
 * except where a field says how it is guarded.
 */
#ifndef CASD_CASD_H
#define CASD_CASD_H

#include <pthread.h>
#include <time.h>

#include "http/server.h"
#include "identity.h"
#include "selfattest.h"

struct cas_store;
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
};

/* The session API (sessions.c). */
void casd_handle_session_upload(struct cas_http_req *req);
void casd_handle_session_read(struct cas_http_req *req);
void casd_handle_session_list(struct cas_http_req *req);
void casd_handle_session_delete(struct cas_http_req *req);
void casd_handle_values(struct cas_http_req *req);

/* Routes of the client API and the enclave API (routes.c). */
extern const struct cas_http_route casd_client_routes[];
extern const size_t casd_client_route_count;
extern const struct cas_http_route casd_enclave_routes[];
extern const size_t casd_enclave_route_count;

#endif
