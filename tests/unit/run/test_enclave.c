/*
 * test_enclave.c - cas-run's enclave API connection (lib/client/enclave.c) against a TLS server
 * in a thread on 127.0.0.1: calls share one connection and present the client certificate; a
 * server that closes the connection makes the next call fail (the render token is bound to it);
 * a chain from another root, or a leaf without DNS:cas, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/enclave.h"
#include "crypto/pki.h"
#include "util/secret.h"

struct server {
    SSL_CTX *ctx;
    int lfd;
    unsigned port;
    bool close_after_answer; /* "Connection: close" and close */
    int connections;         /* accepted so far */
    bool saw_client_cert;
    pthread_t thread;
};

struct pki {
    EVP_PKEY *root_key, *leaf_key, *client_key;
    X509 *root, *leaf, *client;
};

static X509 *
issue(enum cas_cert_kind kind, const char *dns, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    const char *names[] = {dns};
    struct cas_cert_spec spec = {.kind = kind,
                                 .common_name = kind == CAS_CERT_ROOT_CA ? "test root" : "test",
                                 .dns = names,
                                 .dns_count = dns != NULL ? 1 : 0,
                                 .not_before = time(NULL) - 60,
                                 .not_after = time(NULL) + 3600};
    struct cas_err err = {0};
    X509 *out = NULL;

    assert_int_equal(cas_cert_issue(&spec, key, issuer, issuer_key, &out, &err), CAS_OK);
    return out;
}

static void
make_pki(struct pki *p, const char *leaf_dns)
{
    struct cas_err err = {0};

    assert_int_equal(cas_key_new_p256(&p->root_key, &err), CAS_OK);
    assert_int_equal(cas_key_new_p256(&p->leaf_key, &err), CAS_OK);
    assert_int_equal(cas_key_new_p256(&p->client_key, &err), CAS_OK);
    p->root = issue(CAS_CERT_ROOT_CA, NULL, p->root_key, NULL, p->root_key);
    p->leaf = issue(CAS_CERT_TLS_SERVER, leaf_dns, p->leaf_key, p->root, p->root_key);
    p->client = issue(CAS_CERT_TLS_CLIENT, NULL, p->client_key, NULL, p->client_key);
}

static void
free_pki(struct pki *p)
{
    X509_free(p->root);
    X509_free(p->leaf);
    X509_free(p->client);
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->leaf_key);
    EVP_PKEY_free(p->client_key);
}

static int
accept_any(int ok, X509_STORE_CTX *ctx)
{
    (void)ok;
    (void)ctx;
    return 1; /* casd takes self-signed client certificates: the key is the identity */
}

/* Reads one request (head and Content-Length body); false at the end of the connection. */
static bool
read_request(SSL *ssl)
{
    char buf[8192];
    size_t len = 0, want = 0;
    char *end = NULL;

    while (end == NULL || len < want) {
        int n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - 1 - len));
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(buf, "Content-Length: ");
            want = (size_t)(end - buf) + 4 + (cl != NULL ? strtoul(cl + 16, NULL, 10) : 0);
        }
    }
    return true;
}

static void *
serve(void *arg)
{
    struct server *s = arg;
    int fd;

    while ((fd = accept(s->lfd, NULL, NULL)) >= 0) {
        SSL *ssl = SSL_new(s->ctx);
        int requests = 0;

        s->connections++;
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            X509 *peer = SSL_get1_peer_certificate(ssl);
            s->saw_client_cert = peer != NULL;
            X509_free(peer);
            while (read_request(ssl)) {
                char body[64], head[256];
                int bn = snprintf(body, sizeof(body), "{\"connection\": %d, \"request\": %d}",
                                  s->connections, ++requests);
                int hn = snprintf(head, sizeof(head),
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %d\r\n%s\r\n",
                                  bn, s->close_after_answer ? "Connection: close\r\n" : "");
                SSL_write(ssl, head, hn);
                SSL_write(ssl, body, bn);
                if (s->close_after_answer)
                    break;
            }
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        close(fd);
    }
    return NULL;
}

static void
start_server(struct server *s, const struct pki *p, bool close_after_answer)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);

    memset(s, 0, sizeof(*s));
    s->close_after_answer = close_after_answer;
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    assert_int_equal(SSL_CTX_use_certificate(s->ctx, p->leaf), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, p->leaf_key), 1);
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, accept_any);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
stop_server(struct server *s)
{
    shutdown(s->lfd, SHUT_RDWR); /* accept() returns: the thread ends */
    pthread_join(s->thread, NULL);
    close(s->lfd);
    SSL_CTX_free(s->ctx);
}

static cas_rc
post(struct cas_enclave_conn *c, const char *path, long *status, char *answer, size_t cap,
     struct cas_err *err)
{
    struct cas_secret *body = NULL;
    size_t len = 0;
    const uint8_t *p;
    cas_rc rc = cas_enclave_post(c, path, "{}", 2, status, &body, err);

    if (rc == CAS_OK) {
        p = cas_secret_peek(body, &len);
        snprintf(answer, cap, "%.*s", (int)len, (const char *)p);
    }
    cas_secret_free(body);
    return rc;
}

/* One test's world: a PKI, a server presenting its leaf, a connection trusting `trusted`. */
struct world {
    struct pki p, other;
    struct server s;
    struct cas_enclave_conn *c;
    struct cas_err err;
    char answer[128];
    long status;
};

/* leaf_dns: the server leaf's DNS name; trust_other: the client trusts an unrelated root. */
static void
open_world(struct world *w, const char *leaf_dns, bool close_after_answer, bool trust_other)
{
    char url[64];

    memset(w, 0, sizeof(*w));
    make_pki(&w->p, leaf_dns);
    make_pki(&w->other, "cas");
    start_server(&w->s, &w->p, close_after_answer);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", w->s.port);
    assert_int_equal(cas_enclave_conn_new(url, trust_other ? w->other.root : w->p.root,
                                          w->p.client_key, w->p.client, &w->c, &w->err),
                     CAS_OK);
}

static void
close_world(struct world *w)
{
    cas_enclave_conn_free(w->c);
    stop_server(&w->s);
    free_pki(&w->p);
    free_pki(&w->other);
}

static cas_rc
call(struct world *w, const char *path)
{
    return post(w->c, path, &w->status, w->answer, sizeof(w->answer), &w->err);
}

static void
test_calls_share_one_connection_and_present_the_client_certificate(void **state)
{
    struct world w;
    (void)state;

    open_world(&w, "cas", false, false);
    assert_int_equal(call(&w, "/v1/service/attest"), CAS_OK);
    assert_int_equal(w.status, 200);
    assert_string_equal(w.answer, "{\"connection\": 1, \"request\": 1}");
    assert_int_equal(call(&w, "/v1/service/render"), CAS_OK);
    assert_string_equal(w.answer, "{\"connection\": 1, \"request\": 2}");
    close_world(&w);
    assert_int_equal(w.s.connections, 1);
    assert_true(w.s.saw_client_cert);
}

static void
test_a_second_call_on_a_new_connection_fails(void **state)
{
    struct world w;
    (void)state;

    open_world(&w, "cas", true, false);
    assert_int_equal(call(&w, "/v1/service/attest"), CAS_OK);
    assert_int_equal(call(&w, "/v1/service/render"), CAS_E_IO);
    assert_non_null(strstr(w.err.msg[0], "was not kept for '/v1/service/render'"));
    close_world(&w);
}

static void
test_a_chain_from_another_root_is_refused(void **state)
{
    struct world w;
    (void)state;

    open_world(&w, "cas", false, true);
    assert_int_equal(call(&w, "/v1/service/attest"), CAS_E_DENIED);
    assert_non_null(strstr(w.err.msg[0], "has no certificate for DNS:cas from CAS_CERT's root"));
    assert_int_equal(w.status, 0);
    close_world(&w);
}

static void
test_a_leaf_without_dns_cas_is_refused(void **state)
{
    struct world w;
    (void)state;

    open_world(&w, "localhost", false, false);
    assert_int_equal(call(&w, "/v1/service/attest"), CAS_E_DENIED);
    close_world(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls_share_one_connection_and_present_the_client_certificate),
        cmocka_unit_test(test_a_second_call_on_a_new_connection_fails),
        cmocka_unit_test(test_a_chain_from_another_root_is_refused),
        cmocka_unit_test(test_a_leaf_without_dns_cas_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
