/*
 * dcap_collateral.c - the collateral bytes of a quote: from a testdata-style folder, from the
 * api.md §1 JSON object, field by field; sealed with the SHA-256 that identifies the set.
 */
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcap/collateral.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/file.h"

struct field_desc {
    const char *name; /* JSON key */
    const char *file; /* in a testdata folder */
    bool der;         /* base64 in JSON */
};

static const struct field_desc fields[CAS_DCAP_FIELD_COUNT] = {
    [CAS_DCAP_TCB_INFO] = {"tcb_info", "tcb_info.json", false},
    [CAS_DCAP_QE_IDENTITY] = {"qe_identity", "qe_identity.json", false},
    [CAS_DCAP_TCB_INFO_ISSUER_CHAIN] = {"tcb_info_issuer_chain", "tcb_info_issuer_chain.pem",
                                        false},
    [CAS_DCAP_QE_IDENTITY_ISSUER_CHAIN] = {"qe_identity_issuer_chain",
                                           "qe_identity_issuer_chain.pem", false},
    [CAS_DCAP_PCK_CRL_ISSUER_CHAIN] = {"pck_crl_issuer_chain", "pck_crl_issuer_chain.pem", false},
    [CAS_DCAP_PCK_CRL] = {"pck_crl", "pck_crl.der", true},
    [CAS_DCAP_ROOT_CA_CRL] = {"root_ca_crl", "root_ca_crl.der", true},
};

const char *
cas_dcap_field_name(enum cas_dcap_field f)
{
    return (unsigned)f < CAS_DCAP_FIELD_COUNT ? fields[f].name : "unknown";
}

const char *
cas_dcap_field_file(enum cas_dcap_field f)
{
    return (unsigned)f < CAS_DCAP_FIELD_COUNT ? fields[f].file : "unknown";
}

void
cas_dcap_collateral_init(struct cas_dcap_collateral *c)
{
    memset(c, 0, sizeof(*c));
}

void
cas_dcap_collateral_release(struct cas_dcap_collateral *c)
{
    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT; i++)
        free(c->f[i].p);
    memset(c, 0, sizeof(*c));
}

cas_rc
cas_dcap_collateral_set(struct cas_dcap_collateral *c, enum cas_dcap_field f, const void *p,
                        size_t len, struct cas_err *err)
{
    uint8_t *copy;

    if ((unsigned)f >= CAS_DCAP_FIELD_COUNT)
        return cas_err_set(err, CAS_E_INTERNAL, "Collateral field %u does not exist", f);
    if (len > CAS_DCAP_FIELD_MAX)
        return cas_err_set(err, CAS_E_TOOBIG,
                           "Collateral '%s' of %zu bytes is over the %d-byte "
                           "limit",
                           fields[f].name, len, CAS_DCAP_FIELD_MAX);
    if ((copy = cas_malloc(len + 1)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for collateral '%s'", fields[f].name);
    if (len != 0)
        memcpy(copy, p, len);
    copy[len] = 0;
    free(c->f[f].p);
    c->f[f].p = copy;
    c->f[f].len = len;
    c->sealed = false;
    return CAS_OK;
}

cas_rc
cas_dcap_collateral_seal(struct cas_dcap_collateral *c, struct cas_err *err)
{
    EVP_MD_CTX *md = NULL;
    cas_rc rc = CAS_OK;

    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT; i++) {
        if (c->f[i].p == NULL || c->f[i].len == 0)
            return cas_err_set(err, CAS_E_INVALID, "Collateral '%s' is missing", fields[i].name);
    }
    if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = cas_err_set(err, CAS_E_NOMEM, "Cannot hash the collateral");
        goto out;
    }
    /* Each field is framed by its length, so no two different sets hash alike. */
    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT; i++) {
        uint8_t n[8];
        for (unsigned k = 0; k < 8; k++)
            n[k] = (uint8_t)((uint64_t)c->f[i].len >> (8 * k));
        if (EVP_DigestUpdate(md, n, sizeof(n)) != 1 ||
            EVP_DigestUpdate(md, c->f[i].p, c->f[i].len) != 1) {
            rc = cas_err_set(err, CAS_E_CRYPTO, "Cannot hash the collateral");
            goto out;
        }
    }
    if (EVP_DigestFinal_ex(md, c->id, NULL) != 1) {
        rc = cas_err_set(err, CAS_E_CRYPTO, "Cannot hash the collateral");
        goto out;
    }
    c->sealed = true;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

cas_rc
cas_dcap_collateral_from_dir(const char *dir, struct cas_dcap_collateral *c, struct cas_err *err)
{
    cas_rc rc = CAS_OK;

    cas_dcap_collateral_init(c);
    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT && rc == CAS_OK; i++) {
        char path[4096];
        uint8_t *data = NULL;
        size_t len = 0;
        if (snprintf(path, sizeof(path), "%s/%s", dir, fields[i].file) >= (int)sizeof(path)) {
            rc = cas_err_set(err, CAS_E_INVALID, "Collateral folder name '%s' is too long", dir);
            break;
        }
        if ((rc = cas_file_read(path, CAS_DCAP_FIELD_MAX, &data, &len, err)) == CAS_OK)
            rc = cas_dcap_collateral_set(c, (enum cas_dcap_field)i, data, len, err);
        free(data);
    }
    if (rc == CAS_OK)
        rc = cas_dcap_collateral_seal(c, err);
    if (rc != CAS_OK) {
        cas_dcap_collateral_release(c);
        return cas_err_wrap(err, "Cannot read the collateral in '%s'", dir);
    }
    return CAS_OK;
}

static cas_rc
set_from_json(struct cas_dcap_collateral *c, unsigned i, const json_t *v, struct cas_err *err)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    uint8_t *der;
    size_t der_len = 0;
    cas_rc rc;

    if (!json_is_string(v) || strlen(s) != len)
        return cas_err_set(err, CAS_E_INVALID, "Collateral '%s' is missing or not a string",
                           fields[i].name);
    if (!fields[i].der)
        return cas_dcap_collateral_set(c, (enum cas_dcap_field)i, s, len, err);
    if (len > CAS_DCAP_FIELD_MAX / 3 * 4 + 4)
        return cas_err_set(err, CAS_E_TOOBIG, "Collateral '%s' is over its size limit",
                           fields[i].name);
    if ((der = cas_malloc(len / 4 * 3 + 3)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for collateral '%s'", fields[i].name);
    if (!cas_b64_decode(s, len, der, len / 4 * 3 + 3, &der_len, false))
        rc = cas_err_set(err, CAS_E_INVALID, "Collateral '%s' is not base64", fields[i].name);
    else
        rc = cas_dcap_collateral_set(c, (enum cas_dcap_field)i, der, der_len, err);
    free(der);
    return rc;
}

cas_rc
cas_dcap_collateral_from_json(const char *text, size_t len, struct cas_dcap_collateral *c,
                              struct cas_err *err)
{
    json_error_t jerr;
    json_t *root;
    cas_rc rc = CAS_OK;

    cas_dcap_collateral_init(c);
    if (len > CAS_DCAP_FIELD_COUNT * (size_t)CAS_DCAP_FIELD_MAX * 2)
        return cas_err_set(err, CAS_E_TOOBIG, "Collateral JSON of %zu bytes is too big", len);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return cas_err_set(err, CAS_E_INVALID, "Collateral is not a JSON object: %s",
                           root == NULL ? jerr.text : "another type");
    }
    rc = cas_dcap_collateral_from_object(root, c, err);
    json_decref(root);
    return rc;
}

cas_rc
cas_dcap_collateral_from_object(const json_t *root, struct cas_dcap_collateral *c,
                                struct cas_err *err)
{
    cas_rc rc = CAS_OK;

    cas_dcap_collateral_init(c);
    if (!json_is_object(root))
        return cas_err_set(err, CAS_E_INVALID, "Collateral is not a JSON object");
    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT && rc == CAS_OK; i++)
        rc = set_from_json(c, i, json_object_get(root, fields[i].name), err);
    if (rc == CAS_OK)
        rc = cas_dcap_collateral_seal(c, err);
    if (rc != CAS_OK)
        cas_dcap_collateral_release(c);
    return rc;
}

cas_rc
cas_dcap_collateral_to_json(const struct cas_dcap_collateral *c, char **out, struct cas_err *err)
{
    json_t *root = json_object();
    cas_rc rc = CAS_OK;

    *out = NULL;
    if (root == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for collateral JSON");
    for (unsigned i = 0; i < CAS_DCAP_FIELD_COUNT && rc == CAS_OK; i++) {
        const struct cas_dcap_blob *b = &c->f[i];
        char *b64 = NULL;
        json_t *v;
        if (b->p == NULL) {
            rc = cas_err_set(err, CAS_E_INVALID, "Collateral '%s' is missing", fields[i].name);
            break;
        }
        if (fields[i].der) {
            if ((b64 = cas_malloc(cas_b64_encoded_len(b->len) + 1)) == NULL) {
                rc = cas_err_set(err, CAS_E_NOMEM, "Out of memory for collateral JSON");
                break;
            }
            cas_b64_encode(b->p, b->len, b64, false);
            v = json_string(b64);
        } else {
            v = json_stringn((const char *)b->p, b->len);
        }
        free(b64);
        if (v == NULL || json_object_set_new(root, fields[i].name, v) != 0)
            rc = cas_err_set(err, CAS_E_INVALID, "Collateral '%s' cannot be JSON text",
                             fields[i].name);
    }
    if (rc == CAS_OK && (*out = json_dumps(root, JSON_COMPACT)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "Out of memory for collateral JSON");
    json_decref(root);
    return rc;
}
