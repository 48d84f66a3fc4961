/*
 * harness.h - the server's dispatch and routing, driven in-process from raw request bytes, for
 * fuzz targets and tests. One listener's routing table is served by the real evhttp parser and
 * server.c's own dispatcher on a private event loop, without TLS, over an abstract AF_UNIX
 * socket: no port, no thread. The caller's TLS identity (a client key hash, or none) is given
 * per exchange. Never linked into casd: production connections take the identity from TLS only.
 *
 * Not thread safe: one harness per thread.
 */
#ifndef CAS_HTTP_HARNESS_H
#define CAS_HTTP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "cas/err.h"
#include "http/server.h"

struct cas_http_harness;
struct cas_buf;

/* Serves listener l (address ignored) with cfg's limits (threads, max_conns ignored). */
cas_rc cas_http_harness_new(const struct cas_http_config *cfg, const struct cas_http_listener *l,
                            struct cas_http_harness **out, struct cas_err *err) CAS_MUST_CHECK;
/*
 * Opens a connection, writes the len bytes of raw (request line, headers, body: anything),
 * shuts down the writing side and runs the loop until casd closes the connection or timeout_ms
 * pass; every byte casd answered is appended to resp. peer: the 32-byte key hash the handlers
 * see as the client's certificate, or NULL for a client without one. CAS_E_IO when the channel
 * itself fails; a timeout is not an error (resp holds what came).
 */
cas_rc cas_http_harness_exchange(struct cas_http_harness *h, const uint8_t *peer, const void *raw,
                                 size_t len, unsigned timeout_ms, struct cas_buf *resp,
                                 struct cas_err *err) CAS_MUST_CHECK;
/* The status code of the first response in resp's text, or 0 when there is none. */
int cas_http_harness_status(const char *resp, size_t len);
/* The harness's server, for what reads a server (cas_http_server_metrics). */
struct cas_http_server *cas_http_harness_server(struct cas_http_harness *h);
void cas_http_harness_free(struct cas_http_harness *h);

#endif
