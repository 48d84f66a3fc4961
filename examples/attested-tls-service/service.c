/*
 * service.c - the example attested TLS service (README.md beside it): a tiny HTTPS server that
 * knows nothing of attestation. cas-run attests it, writes the certificate and key its session
 * holds as injection files, and starts it; clients then trust only the session's CA.
 *
 *   attested-tls-service [PORT [CERT [KEY]]]    defaults: $SERVICE_PORT, $SERVICE_CERT,
 *                                                $SERVICE_KEY; then 8443, server.crt, server.key
 *
 * Listens on 127.0.0.1:PORT and answers every GET with a short text, one connection at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REQUEST_MAX 8192

static const char g_reply[] = "Hello from the attested TLS service\n";

static const char *
setting(int argc, char **argv, int i, const char *var, const char *fallback)
{
    const char *v = getenv(var);

    if (argc > i)
        return argv[i];
    return v != NULL && v[0] != '\0' ? v : fallback;
}

static int
listen_on(unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
        fprintf(stderr, "attested-tls-service: cannot listen on 127.0.0.1:%u: %s\n", port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads the request head (bounded), answers it, closes. */
static void
serve(SSL_CTX *ctx, int fd)
{
    struct timeval tv = {.tv_sec = 5};
    char req[REQUEST_MAX + 1], head[160];
    size_t len = 0;
    SSL *ssl = SSL_new(ctx);
    int n;

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
        goto out;
    while (len < REQUEST_MAX) {
        n = SSL_read(ssl, req + len, (int)(REQUEST_MAX - len));
        if (n <= 0)
            goto out;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    if (strncmp(req, "GET ", 4) == 0) {
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     sizeof(g_reply) - 1);
        if (n > 0 && (size_t)n < sizeof(head) && SSL_write(ssl, head, n) == n)
            (void)SSL_write(ssl, g_reply, (int)sizeof(g_reply) - 1);
    } else {
        static const char bad[] = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
        (void)SSL_write(ssl, bad, (int)sizeof(bad) - 1);
    }
    (void)SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    ERR_clear_error();
    close(fd);
}

int
main(int argc, char **argv)
{
    const char *port_text = setting(argc, argv, 1, "SERVICE_PORT", "8443");
    const char *cert = setting(argc, argv, 2, "SERVICE_CERT", "server.crt");
    const char *key = setting(argc, argv, 3, "SERVICE_KEY", "server.key");
    char *end = NULL;
    unsigned long port = strtoul(port_text, &end, 10);
    SSL_CTX *ctx;
    int lfd;

    if (port == 0 || port > 65535 || end == NULL || *end != '\0') {
        fprintf(stderr, "attested-tls-service: '%s' is not a port\n", port_text);
        return 2;
    }
    (void)signal(SIGPIPE, SIG_IGN);
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        fprintf(stderr, "attested-tls-service: cannot load certificate '%s' and key '%s'\n", cert,
                key);
        SSL_CTX_free(ctx);
        return 1;
    }
    if ((lfd = listen_on((unsigned)port)) < 0) {
        SSL_CTX_free(ctx);
        return 1;
    }
    printf("attested-tls-service: listening on https://127.0.0.1:%lu/\n", port);
    fflush(stdout);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        serve(ctx, fd);
    }
    fprintf(stderr, "attested-tls-service: accept failed: %s\n", strerror(errno));
    close(lfd);
    SSL_CTX_free(ctx);
    return 1;
}
