/* casconn.c - reaching a CAS through its pin (casconn.h). */
#include "casconn.h"

#include <jansson.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/https.h"
#include "client/state.h"
#include "crypto/pki.h"
#include "util/codec.h"
#include "util/file.h"

bool
cas_addr_parse(const char *text, unsigned default_port, struct cas_addr *out)
{
    const char *host = text, *colon = NULL, *end;
    size_t hl;
    unsigned long port = default_port;
    bool v6 = false;

    memset(out, 0, sizeof(*out));
    if (text[0] == '[') {
        end = strchr(text, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return false;
        host = text + 1;
        hl = (size_t)(end - host);
        colon = end[1] == ':' ? end + 1 : NULL;
        v6 = true;
    } else {
        colon = strchr(text, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            return false; /* a bare IPv6 address needs brackets */
        hl = colon != NULL ? (size_t)(colon - text) : strlen(text);
    }
    if (hl == 0 || hl >= sizeof(out->host))
        return false;
    for (size_t i = 0; i < hl; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || (v6 && c == ':')))
            return false;
    }
    if (colon != NULL) {
        char *e;
        if (colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return false;
        port = strtoul(colon + 1, &e, 10);
        if (port == 0 || port > 65535)
            return false;
    }
    memcpy(out->host, host, hl);
    out->host[hl] = '\0';
    out->port = (unsigned)port;
    if (port == default_port)
        (void)snprintf(out->name, sizeof(out->name), v6 ? "[%s]" : "%s", out->host);
    else
        (void)snprintf(out->name, sizeof(out->name), v6 ? "[%s]:%u" : "%s:%u", out->host,
                       out->port);
    (void)snprintf(out->base, sizeof(out->base), v6 ? "https://[%s]:%u" : "https://%s:%u",
                   out->host, out->port);
    return true;
}

unsigned
cas_cli_default_retries(void)
{
    const char *e = getenv("CAS_CLI_RETRIES");
    unsigned n = 3;

    if (e == NULL || e[0] == '\0')
        e = getenv("SCONE_CLI_RETRIES");
    if (e != NULL && e[0] != '\0' && !cas_cli_parse_retries(e, &n))
        n = 3;
    return n;
}

bool
cas_cli_parse_retries(const char *s, unsigned *out)
{
    if (s[0] == '\0' || strlen(s) > 2 || strspn(s, "0123456789") != strlen(s) ||
        strtoul(s, NULL, 10) > 20)
        return false;
    *out = (unsigned)strtoul(s, NULL, 10);
    return true;
}

int
cas_cli_cas_open(struct cas_cli_state *st, const char *name, const char *cas_cert,
                 struct cas_cli_cas *out)
{
    json_t *all = json_object_get(st->root, "cas"), *entry;
    struct cas_addr a;
    uint8_t h[32];
    struct cas_err err = {0};

    memset(out, 0, sizeof(*out));
    if (name == NULL) {
        json_t *d = json_object_get(st->root, "default");
        if (!json_is_string(d)) {
            if (cas_cert != NULL)
                return cas_cli_usage(NULL, "--cas-cert needs a CAS address (-c/--cas ADDRESS)");
            cas_cli_error("no CAS attested; run 'cas attest' first");
            return CAS_EXIT_FAIL;
        }
        name = json_string_value(d);
    }
    if (!cas_addr_parse(name, 8081, &a))
        return cas_cli_usage(NULL, "'%s' is not a CAS address (HOST[:PORT])", name);
    out->addr = a;
    out->name = out->addr.name;
    if (cas_cert != NULL) {
        uint8_t *pem = NULL;
        size_t len = 0;
        struct cas_err e2 = {0};
        if (cas_file_read(cas_cert, 1024 * 1024, &pem, &len, &e2) != CAS_OK) {
            cas_cli_error_chain(&e2);
            return CAS_EXIT_FAIL;
        }
        out->root = cas_https_chain_root((const char *)pem, len);
        free(pem);
        if (out->root == NULL) {
            cas_cli_error("'%s' holds no self-signed root certificate", cas_cert);
            return CAS_EXIT_FAIL;
        }
        fprintf(stderr, "warning: CAS '%s' was not attested\n", out->name);
    } else {
        const char *chain;
        entry = json_is_object(all) ? json_object_get(all, out->name) : NULL;
        chain = json_string_value(json_object_get(entry, "chain"));
        if (chain == NULL) {
            cas_cli_error("CAS '%s' is not attested; run 'cas attest %s' first", out->name,
                          out->name);
            return CAS_EXIT_FAIL;
        }
        out->root = cas_https_chain_root(chain, strlen(chain));
        if (out->root == NULL) {
            cas_cli_error("the pinned chain of CAS '%s' in '%s' is damaged; attest it again",
                          out->name, st->path);
            return CAS_EXIT_FAIL;
        }
    }
    if (cas_cert_key_hash(out->root, h, &err) == CAS_OK)
        cas_keyhash_to_b58(h, out->key_hash);
    return CAS_EXIT_OK;
}

void
cas_cli_cas_release(struct cas_cli_cas *c)
{
    X509_free(c->root);
    memset(c, 0, sizeof(*c));
}

int
cas_cli_cas_call(struct cas_cli_cas *c, const char *method, const char *path, const void *body,
                 size_t body_len, const struct cas_cli_identity *id, unsigned retries,
                 struct cas_https_response *resp)
{
    char url[1024];
    struct cas_err err = {0};
    struct cas_https_request req = {0};

    (void)snprintf(url, sizeof(url), "%s%s", c->addr.base, path);
    req.method = method;
    req.url = url;
    req.body = body;
    req.body_len = body_len;
    req.content_type = body != NULL ? "application/yaml" : NULL;
    req.retries = retries;
    req.pinned_root = c->root;
    req.identity = id;
    if (cas_https_do(&req, resp, &err) != CAS_OK) {
        if (resp->pin_mismatch)
            cas_cli_error("CAS '%s' presents a certificate that does not chain to its pinned key "
                          "%s; if it was reinstalled, attest it again with 'cas attest'",
                          c->name, c->key_hash);
        else
            cas_cli_error("cannot reach %s: %s", url, cas_err_get(&err, 0));
        cas_https_response_release(resp);
        return CAS_EXIT_FAIL;
    }
    return CAS_EXIT_OK;
}
