/* tls.c - server TLS contexts and the peer's key hash (tls.h). */
#include "crypto/tls.h"

#include <openssl/err.h>

#include "crypto/pki.h"
#include "util/err_openssl.h"

/*
 * Any certificate the client sends is accepted here: the handshake only proves the client holds
 * the key (its CertificateVerify), and every handler authorises by that key's hash (api.md §2.2).
 * So no chain is built at all: OpenSSL calls this instead of X509_verify_cert, which would look
 * for issuers and check the self-signature and validity only for every finding to be ignored.
 */
static int
accept_any(X509_STORE_CTX *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return 1;
}

cas_rc
cas_tls_server_ctx(X509 *leaf, EVP_PKEY *key, X509 *const *chain, size_t chain_count,
                   bool require_client_cert, SSL_CTX **out, struct cas_err *err)
{
    static char groups[] = "X25519:P-256:P-384"; /* the macro takes char * */
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int mode = SSL_VERIFY_PEER | (require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);

    *out = NULL;
    if (ctx == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "cannot create a TLS context");
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
        SSL_CTX_set1_groups_list(ctx, groups) != 1 || SSL_CTX_use_certificate(ctx, leaf) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    for (size_t i = 0; i < chain_count; i++) {
        if (SSL_CTX_add1_chain_cert(ctx, chain[i]) != 1)
            goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* No session is ever resumed, yet TLS 1.3 would still send two tickets after each handshake
     * (copying the session and deriving a PSK for each): send none. */
    if (SSL_CTX_set_num_tickets(ctx, 0) != 1)
        goto fail;
    SSL_CTX_set_verify(ctx, mode, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, accept_any, NULL);
    *out = ctx;
    return CAS_OK;
fail:
    SSL_CTX_free(ctx);
    return cas_err_openssl(err, CAS_E_CRYPTO, "cannot configure the TLS context");
}

bool
cas_tls_peer_key_hash(SSL *ssl, uint8_t out[32])
{
    X509 *peer = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;
    struct cas_err err = {0};

    if (peer == NULL)
        return false;
    if (cas_cert_key_hash(peer, out, &err) != CAS_OK) {
        ERR_clear_error();
        return false;
    }
    return true;
}
