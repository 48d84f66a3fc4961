/*
 * harness.c - harness.h: one worker of server.c without its thread or TLS. The listener's
 * evhttp is set up by cas_http_wl_configure, as every worker's is, so requests pass through the
 * real parser, limits and dispatch; only the bufferevent is plain, and the peer identity comes
 * from wl.test_peer, set for the length of one exchange.
 */
#include "http/harness.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http/server_int.h"
#include "util/alloc.h"
#include "util/buf.h"

struct cas_http_harness {
    struct cas_http_server srv;
    struct worker w;
    struct sockaddr_un addr; /* the abstract address the kernel gave the listening socket */
    socklen_t addr_len;
    int fd;
};

struct exchange {
    struct event_base *base;
    int fd;
    const uint8_t *raw;
    size_t len, off;
    struct cas_buf *resp;
    bool done, failed;
};

void
cas_http_harness_free(struct cas_http_harness *h)
{
    if (h == NULL)
        return;
    if (h->w.wl[0].http != NULL)
        evhttp_free(h->w.wl[0].http); /* its connections and the listener with it */
    if (h->w.base != NULL)
        event_base_free(h->w.base);
    if (h->fd >= 0)
        close(h->fd);
    free(h);
}

cas_rc
cas_http_harness_new(const struct cas_http_config *cfg, const struct cas_http_listener *l,
                     struct cas_http_harness **out, struct cas_err *err)
{
    struct cas_http_harness *h = NULL;
    struct wl *wl;
    cas_rc rc = CAS_OK;

    *out = NULL;
    if ((h = cas_calloc(1, sizeof(*h))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    h->fd = -1;
    h->srv.cfg = *cfg;
    h->srv.listeners[0] = *l;
    h->srv.n_listeners = 1;
    h->srv.fds[0] = -1;
    h->w.srv = &h->srv;
    h->w.max_conns = 1;
    wl = &h->w.wl[0];
    wl->w = &h->w;
    /* An abstract address chosen by the kernel (autobind): nothing on disk, no name clashes. */
    h->addr.sun_family = AF_UNIX;
    h->addr_len = sizeof(h->addr);
    if ((h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
        bind(h->fd, (struct sockaddr *)&h->addr, sizeof(sa_family_t)) != 0 ||
        listen(h->fd, 16) != 0 ||
        getsockname(h->fd, (struct sockaddr *)&h->addr, &h->addr_len) != 0) {
        rc = cas_err_set(err, CAS_E_IO, "cannot open the harness socket: %s", strerror(errno));
        goto out;
    }
    if ((h->w.base = event_base_new()) == NULL || (wl->http = evhttp_new(h->w.base)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "cannot create an event loop");
        goto out;
    }
    cas_http_wl_configure(wl);
    wl->lev = evconnlistener_new(h->w.base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, h->fd);
    if (wl->lev == NULL || (wl->bound = evhttp_bind_listener(wl->http, wl->lev)) == NULL) {
        rc = cas_err_set(err, CAS_E_IO, "cannot accept on the harness socket");
        goto out;
    }
    *out = h;
    h = NULL;
out:
    cas_http_harness_free(h);
    return rc;
}

static void
on_client(evutil_socket_t fd, short what, void *arg)
{
    struct exchange *x = arg;
    char chunk[16384];
    ssize_t n;

    if ((what & EV_TIMEOUT) != 0) {
        x->done = true;
        event_base_loopbreak(x->base);
        return;
    }
    if ((what & EV_WRITE) != 0 && x->off < x->len) {
        n = send(fd, x->raw + x->off, x->len - x->off, MSG_NOSIGNAL);
        if (n > 0)
            x->off += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            x->off = x->len; /* casd closed early: what it answered is still to be read */
        if (x->off == x->len)
            (void)shutdown(fd, SHUT_WR);
    }
    if ((what & EV_READ) != 0) {
        n = recv(fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            cas_buf_add(x->resp, chunk, (size_t)n);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            x->done = true; /* casd closed the connection: the exchange is over */
            event_base_loopbreak(x->base);
        }
    }
}

cas_rc
cas_http_harness_exchange(struct cas_http_harness *h, const uint8_t *peer, const void *raw,
                          size_t len, unsigned timeout_ms, struct cas_buf *resp,
                          struct cas_err *err)
{
    struct exchange x = {.base = h->w.base, .fd = -1, .raw = raw, .len = len, .resp = resp};
    struct event *ev = NULL;
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    cas_rc rc = CAS_OK;

    if ((x.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
        connect(x.fd, (struct sockaddr *)&h->addr, h->addr_len) != 0) {
        rc =
            cas_err_set(err, CAS_E_IO, "cannot connect to the harness socket: %s", strerror(errno));
        goto out;
    }
    if (len == 0)
        (void)shutdown(x.fd, SHUT_WR);
    ev = event_new(h->w.base, x.fd, EV_READ | EV_WRITE | EV_PERSIST, on_client, &x);
    if (ev == NULL || event_add(ev, &tv) != 0) {
        rc = cas_err_set(err, CAS_E_NOMEM, "cannot watch the harness connection");
        goto out;
    }
    h->w.wl[0].test_peer = peer;
    while (!x.done) {
        if (event_base_loop(h->w.base, EVLOOP_ONCE) < 0) {
            rc = cas_err_set(err, CAS_E_IO, "the harness loop failed");
            break;
        }
        if (x.off == x.len && (event_get_events(ev) & EV_WRITE) != 0) {
            (void)event_del(ev); /* all written: from now on only read */
            (void)event_assign(ev, h->w.base, x.fd, EV_READ | EV_PERSIST, on_client, &x);
            (void)event_add(ev, &tv);
        }
    }
    h->w.wl[0].test_peer = NULL;
out:
    if (ev != NULL)
        event_free(ev);
    if (x.fd >= 0)
        close(x.fd);
    return rc;
}

struct cas_http_server *
cas_http_harness_server(struct cas_http_harness *h)
{
    return &h->srv;
}

int
cas_http_harness_status(const char *resp, size_t len)
{
    /* "HTTP/1.1 200 OK": three digits after the first space */
    const char *sp = memchr(resp, ' ', len);
    size_t at;

    if (sp == NULL)
        return 0;
    at = (size_t)(sp - resp) + 1;
    if (len - at < 3 || resp[at] < '1' || resp[at] > '5' || resp[at + 1] < '0' ||
        resp[at + 1] > '9' || resp[at + 2] < '0' || resp[at + 2] > '9')
        return 0;
    return (resp[at] - '0') * 100 + (resp[at + 1] - '0') * 10 + (resp[at + 2] - '0');
}
