/* identity.c - the CLI identity: parse, load, create (identity.h). */
#include "client/identity.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "client/state.h"
#include "crypto/pki.h"
#include "util/buf.h"
#include "util/err_openssl.h"
#include "util/file.h"
#include "util/secret.h"

#define IDENTITY_MAX (1024 * 1024)

cas_rc
cas_cli_identity_parse(const struct cas_secret *pem, bool key_optional, struct cas_cli_identity *id,
                       struct cas_err *err)
{
    size_t len;
    const uint8_t *p = cas_secret_peek(pem, &len);
    BIO *bio = NULL;
    cas_rc rc;

    memset(id, 0, sizeof(*id));
    if (len > IDENTITY_MAX)
        return cas_err_set(err, CAS_E_TOOBIG, "identity is larger than 1 MiB");
    /* Each PEM reader skips blocks of other types, so the order in the file does not matter. */
    if ((bio = BIO_new_mem_buf(p, (int)len)) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "out of memory");
    id->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (id->cert == NULL) {
        rc = cas_err_openssl(err, CAS_E_INVALID, "identity has no PEM certificate");
        goto fail;
    }
    ERR_clear_error();
    if ((bio = BIO_new_mem_buf(p, (int)len)) == NULL) {
        rc = cas_err_openssl(err, CAS_E_NOMEM, "out of memory");
        goto fail;
    }
    id->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (id->key == NULL && !key_optional) {
        rc = cas_err_set(err, CAS_E_INVALID, "identity has no PEM private key");
        goto fail;
    }
    if (id->key != NULL && X509_check_private_key(id->cert, id->key) != 1) {
        rc = cas_err_openssl(err, CAS_E_INVALID,
                             "the private key and the certificate of the identity do not match");
        goto fail;
    }
    if ((rc = cas_cert_key_hash(id->cert, id->key_hash, err)) != CAS_OK)
        goto fail;
    return CAS_OK;
fail:
    cas_cli_identity_release(id);
    return rc;
}

cas_rc
cas_cli_identity_load_file(const char *path, bool key_optional, struct cas_cli_identity *id,
                           struct cas_err *err)
{
    struct cas_secret *pem = NULL;
    cas_rc rc;

    memset(id, 0, sizeof(*id));
    if ((rc = cas_file_read_secret(path, IDENTITY_MAX, &pem, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot read identity '%s'", path);
    rc = cas_cli_identity_parse(pem, key_optional, id, err);
    cas_secret_free(pem);
    if (rc != CAS_OK)
        return cas_err_wrap(err, "identity '%s' is not usable", path);
    return CAS_OK;
}

static cas_rc
create(struct cas_cli_identity *id, struct cas_secret **pem_out, struct cas_err *err)
{
    const struct cas_cert_spec spec = {CAS_CERT_TLS_CLIENT, "cas cli",          NULL, 0,
                                       time(NULL) - 3600,   CAS_NOT_AFTER_NEVER};
    struct cas_secret *key_pem = NULL;
    struct cas_buf b;
    char *cert_pem = NULL;
    size_t len = 0;
    const uint8_t *kp;
    cas_rc rc;

    memset(id, 0, sizeof(*id));
    *pem_out = NULL;
    if ((rc = cas_key_new_p256(&id->key, err)) != CAS_OK ||
        (rc = cas_cert_issue(&spec, id->key, NULL, id->key, &id->cert, err)) != CAS_OK ||
        (rc = cas_cert_key_hash(id->cert, id->key_hash, err)) != CAS_OK ||
        (rc = cas_key_to_pem(id->key, &key_pem, err)) != CAS_OK ||
        (rc = cas_cert_to_pem(id->cert, &cert_pem, err)) != CAS_OK)
        goto out;
    cas_buf_init_secret(&b, IDENTITY_MAX);
    kp = cas_secret_peek(key_pem, &len);
    cas_buf_add(&b, kp, len);
    cas_buf_adds(&b, cert_pem);
    if (b.failed)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
    else
        rc = cas_secret_from(b.buf, b.len, pem_out, err);
    cas_buf_release(&b);
out:
    cas_secret_free(key_pem);
    free(cert_pem);
    if (rc != CAS_OK)
        cas_cli_identity_release(id);
    return rc;
}

cas_rc
cas_cli_identity_ensure(struct cas_cli_state *st, struct cas_cli_identity *id, struct cas_err *err)
{
    json_t *v = json_object_get(st->root, "identity");
    struct cas_secret *pem = NULL;
    size_t len;
    cas_rc rc;

    if (json_is_string(v)) {
        if ((rc = cas_secret_from(json_string_value(v), json_string_length(v), &pem, err)) !=
            CAS_OK)
            return rc;
        rc = cas_cli_identity_parse(pem, false, id, err);
        cas_secret_free(pem);
        if (rc != CAS_OK)
            return cas_err_wrap(err, "the identity in CLI state '%s' is not usable", st->path);
        return CAS_OK;
    }
    if ((rc = create(id, &pem, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot create the CLI identity");
    {
        const uint8_t *p = cas_secret_peek(pem, &len);
        rc = json_object_set_new(st->root, "identity", json_stringn((const char *)p, len)) == 0
                 ? CAS_OK
                 : cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    cas_secret_free(pem);
    if (rc == CAS_OK)
        rc = cas_cli_state_save(st, err);
    if (rc != CAS_OK)
        cas_cli_identity_release(id);
    return rc;
}

cas_rc
cas_cli_identity_cert_pem(const struct cas_cli_identity *id, char **out, struct cas_err *err)
{
    return cas_cert_to_pem(id->cert, out, err);
}

void
cas_cli_identity_release(struct cas_cli_identity *id)
{
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
    memset(id, 0, sizeof(*id));
}
