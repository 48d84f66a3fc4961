/*
 * casconn.h - how every cas command but `attest` reaches a CAS (api.md §3 "Talking to a CAS"):
 * by name (or the default) through its pin in the CLI state, or for one command through a chain
 * file (--cas-cert), with retries; the pin's messages are printed here.
 */
#ifndef CAS_CLI_CASCONN_H
#define CAS_CLI_CASCONN_H

#include <stddef.h>

#include <openssl/x509.h>
#include <stdbool.h>

#include "cli.h"

struct cas_cli_state;
struct cas_cli_identity;
struct cas_https_response;

struct cas_addr {
    char host[256]; /* without brackets */
    unsigned port;
    char name[300]; /* the CAS's name: the address without the default port */
    char base[320]; /* https://host:port */
};

/* Parses HOST[:PORT] (HOST a DNS name, IPv4 or [IPv6]); false when it is not one. */
bool cas_addr_parse(const char *text, unsigned default_port, struct cas_addr *out);

struct cas_cli_cas {
    struct cas_addr addr;
    X509 *root; /* the trust anchor: pinned root, or the root of --cas-cert */
    char key_hash[51];
    const char *name; /* borrowed from addr */
};

/*
 * Resolves name (NULL: the default) to a pinned CAS, or with cas_cert to that chain file
 * (warning 'CAS ... was not attested'). Prints the `cas: ` lines and returns an exit status.
 */
int cas_cli_cas_open(struct cas_cli_state *st, const char *name, const char *cas_cert,
                     struct cas_cli_cas *out);
void cas_cli_cas_release(struct cas_cli_cas *c);

/* One call through the pin; prints failures (the pin's message, connection errors). */
int cas_cli_cas_call(struct cas_cli_cas *c, const char *method, const char *path, const void *body,
                     size_t body_len, const struct cas_cli_identity *id, unsigned retries,
                     struct cas_https_response *resp);

/* --retries default: $CAS_CLI_RETRIES, then $SCONE_CLI_RETRIES, then 3. */
unsigned cas_cli_default_retries(void);
/* Parses a --retries value (0 to 20). */
bool cas_cli_parse_retries(const char *s, unsigned *out);

#endif
