/*
 * secrets_x509.c - certificates of x509 and x509-ca secrets (policy.md §8.1). Issues generated
 * ones exactly as the spec lists (random positive 16-byte serial, notBefore an hour back, subject
 * CN only, SKI and AKI, basicConstraints and keyUsage critical, EKU from `endpoint`, SANs built
 * as GENERAL_NAMEs, never through OpenSSL's config-string parser, so no name can inject one),
 * and checks explicit ones: every certificate parses and is signed by the one after it, an
 * x509-ca is a CA, a given key matches.
 */
#include "secrets_x509.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "crypto/pki.h"
#include "secrets_int.h"
#include "util/err_openssl.h"
#include "util/secret.h"

#define HOUR_S 3600

struct ext_def {
    int nid;
    const char *value;
};

static cas_rc
add_exts(X509 *cert, X509V3_CTX *ctx, const struct ext_def *defs, size_t n, struct cas_err *err)
{
    for (size_t i = 0; i < n; i++) {
        X509_EXTENSION *ext;
        if (defs[i].value == NULL)
            continue;
        ext = X509V3_EXT_conf_nid(NULL, ctx, defs[i].nid, defs[i].value);
        if (ext == NULL || X509_add_ext(cert, ext, -1) != 1) {
            X509_EXTENSION_free(ext);
            return cas_err_openssl(err, CAS_E_CRYPTO, "cannot add the extension %s",
                                   OBJ_nid2sn(defs[i].nid));
        }
        X509_EXTENSION_free(ext);
    }
    return CAS_OK;
}

static cas_rc
push_name(GENERAL_NAMES *gens, const char *entry, bool is_ip, struct cas_err *err)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    size_t len = strlen(entry);

    if (gn == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "out of memory for a subjectAltName");
    if (is_ip) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(entry);
        if (ip == NULL) {
            GENERAL_NAME_free(gn);
            ERR_clear_error();
            return cas_err_set(err, CAS_E_INVALID, "san 'ip:%.100s' is not an IP address", entry);
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else {
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        bool ok = len > 0 && len <= 253;
        for (size_t i = 0; ok && i < len; i++)
            ok = entry[i] > 0x20 && entry[i] < 0x7f;
        if (dns == NULL || !ok || ASN1_STRING_set(dns, entry, (int)len) != 1) {
            ASN1_IA5STRING_free(dns);
            GENERAL_NAME_free(gn);
            return cas_err_set(err, CAS_E_INVALID, "DNS name '%.100s' is not a host name", entry);
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
    }
    if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
        GENERAL_NAME_free(gn);
        return cas_err_openssl(err, CAS_E_NOMEM, "out of memory for a subjectAltName");
    }
    return CAS_OK;
}

/* subjectAltName from `dns` and `san` ("dns:…", "ip:…"), when there is any. */
static cas_rc
add_san(X509 *cert, const struct cas_policy_secret *def, struct cas_err *err)
{
    GENERAL_NAMES *gens;
    cas_rc rc = CAS_OK;

    if (def->dns_count == 0 && def->san_count == 0)
        return CAS_OK;
    if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "out of memory for subjectAltNames");
    for (size_t i = 0; i < def->san_count && rc == CAS_OK; i++) {
        const char *s = def->san[i];
        if (strncmp(s, "dns:", 4) == 0)
            rc = push_name(gens, s + 4, false, err);
        else if (strncmp(s, "ip:", 3) == 0)
            rc = push_name(gens, s + 3, true, err);
        else
            rc = cas_err_set(err, CAS_E_INVALID, "san '%.100s' is neither dns: nor ip:", s);
    }
    for (size_t i = 0; i < def->dns_count && rc == CAS_OK; i++)
        rc = push_name(gens, def->dns[i], false, err);
    if (rc == CAS_OK && X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, 0) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot add the subjectAltNames");
    GENERAL_NAMES_free(gens);
    return rc;
}

static const char *
common_name(const struct cas_policy_secret *def)
{
    if (def->common_name != NULL)
        return def->common_name;
    for (size_t i = 0; i < def->san_count; i++)
        if (strncmp(def->san[i], "dns:", 4) == 0)
            return def->san[i] + 4;
    return def->dns_count > 0 ? def->dns[0] : def->name;
}

/* ECDSA-SHA384 for a P-384 issuer key, Ed25519 alone, SHA-256 otherwise (§8.1). */
static const EVP_MD *
sign_md(const EVP_PKEY *key)
{
    enum cas_policy_key_type t;

    if (EVP_PKEY_is_a(key, "ED25519"))
        return NULL;
    if (key_type_of(key, &t) && t == CAS_POLICY_KEY_P384)
        return EVP_sha384();
    return EVP_sha256();
}

static cas_rc
set_serial(X509 *cert, struct cas_err *err)
{
    BIGNUM *bn = BN_new();
    cas_rc rc = CAS_OK;

    /* 127 random bits with the top one set: positive, and its DER exactly 16 bytes long */
    if (bn == NULL || BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot set a random serial number");
    BN_free(bn);
    return rc;
}

struct issue {
    const struct cas_policy_secret *def;
    EVP_PKEY *key;      /* the subject's */
    X509 *issuer;       /* NULL: self-signed */
    EVP_PKEY *sign_key; /* the issuer's, or key */
    int64_t not_before, not_after;
};

/*
 * The certificate's SubjectPublicKeyInfo from key. OpenSSL 3.0's X509_set_pubkey encodes the key
 * through its provider encoders and decodes it back, which cost more than the signature here
 * (bench/sessions.sh, callgrind). This module only encodes the certificates it issues, never
 * uses their key in memory, so EC and EdDSA keys are set field by field; others take that path.
 */
static bool
set_spki(X509 *cert, EVP_PKEY *key)
{
    X509_PUBKEY *spki = X509_get_X509_PUBKEY(cert);
    unsigned char point[160], *copy;
    char group[64];
    size_t len = 0;
    int alg = NID_undef, curve = NID_undef;

    if (EVP_PKEY_is_a(key, "EC") &&
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) == 1) {
        curve = OBJ_txt2nid(group);
        alg = curve != NID_undef ? NID_X9_62_id_ecPublicKey : NID_undef;
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        alg = NID_ED25519;
    }
    if (alg == NID_undef || spki == NULL ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                        sizeof(point), &len) != 1 ||
        len == 0 || (copy = OPENSSL_memdup(point, len)) == NULL) {
        ERR_clear_error();
        return X509_set_pubkey(cert, key) == 1;
    }
    if (X509_PUBKEY_set0_param(
            spki, OBJ_nid2obj(alg), alg == NID_X9_62_id_ecPublicKey ? V_ASN1_OBJECT : V_ASN1_UNDEF,
            alg == NID_X9_62_id_ecPublicKey ? OBJ_nid2obj(curve) : NULL, copy, (int)len) != 1) {
        OPENSSL_free(copy);
        return false;
    }
    return true;
}

static cas_rc
build(const struct issue *is, X509 **out, struct cas_err *err)
{
    const struct cas_policy_secret *def = is->def;
    bool ca = def->kind == CAS_POLICY_KIND_X509_CA, rsa = EVP_PKEY_is_a(is->key, "RSA");
    const char *cn = common_name(def);
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    cas_rc rc;
    const struct ext_def exts[] = {
        {NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {NID_key_usage, ca    ? "critical,keyCertSign,cRLSign,digitalSignature"
                        : rsa ? "critical,digitalSignature,keyEncipherment"
                              : "critical,digitalSignature"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_ext_key_usage, def->endpoint == CAS_POLICY_EP_SERVER   ? "serverAuth"
                            : def->endpoint == CAS_POLICY_EP_CLIENT ? "clientAuth"
                                                                    : NULL},
    };

    *out = NULL;
    if (cert == NULL || name == NULL) {
        rc = cas_err_openssl(err, CAS_E_NOMEM, "out of memory for a certificate");
        goto out;
    }
    if (X509_set_version(cert, X509_VERSION_3) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_subject_name(cert, name) != 1 ||
        X509_set_issuer_name(cert, is->issuer != NULL ? X509_get_subject_name(is->issuer) : name) !=
            1 ||
        !set_spki(cert, is->key) ||
        ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)is->not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)is->not_after) == NULL) {
        rc = cas_err_openssl(err, CAS_E_INVALID,
                             "cannot fill in the certificate (common name "
                             "at most 64 characters)");
        goto out;
    }
    X509V3_set_ctx(&ctx, is->issuer != NULL ? is->issuer : cert, cert, NULL, NULL, 0);
    if ((rc = set_serial(cert, err)) != CAS_OK ||
        (rc = add_exts(cert, &ctx, exts, sizeof(exts) / sizeof(exts[0]), err)) != CAS_OK ||
        (rc = add_san(cert, def, err)) != CAS_OK)
        goto out;
    if (X509_sign(cert, is->sign_key, sign_md(is->sign_key)) <= 0) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot sign the certificate");
        goto out;
    }
    *out = cert;
    cert = NULL;
out:
    X509_free(cert);
    X509_NAME_free(name);
    return rc;
}

static cas_rc
copy_secret(const struct cas_secret *s, struct cas_secret **out, struct cas_err *err)
{
    size_t len;
    const uint8_t *p = cas_secret_peek(s, &len);

    return cas_secret_from(p, len, out, err);
}

/* The subject key: private_key's value, or a fresh P-256 key when none is named. */
static cas_rc
subject_key(const struct cas_policy_secret *def, cas_secrets_resolve_fn resolve, void *ctx,
            EVP_PKEY **key, struct cas_secret_value *v, struct cas_err *err)
{
    const struct cas_secret_value *kv;
    cas_rc rc;

    if ((rc = resolve_named("private_key", def->private_key, CAS_POLICY_KIND_PRIVATE_KEY, resolve,
                            ctx, &kv, err)) != CAS_OK)
        return rc;
    if (kv == NULL) {
        if ((*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
            return cas_err_openssl(err, CAS_E_CRYPTO, "cannot generate a key");
        return cas_key_to_pem(*key, &v->key, err);
    }
    if (kv->obj_key != NULL && EVP_PKEY_up_ref(kv->obj_key) == 1)
        *key = kv->obj_key;
    else if ((rc = key_from_secret(kv->data, key, err)) != CAS_OK)
        return rc;
    return copy_secret(kv->data, &v->key, err);
}

static size_t
count_certs(const char *pem)
{
    size_t n = 0;

    while (pem != NULL && (pem = strstr(pem, "-----BEGIN CERTIFICATE-----")) != NULL) {
        n++;
        pem++;
    }
    return n;
}

cas_rc
x509_issue(const struct cas_policy_secret *def, int64_t now, cas_secrets_resolve_fn resolve,
           void *ctx, struct cas_secret_value *v, struct cas_err *err)
{
    const struct cas_secret_value *iv = NULL;
    struct issue is = {.def = def};
    EVP_PKEY *ikey = NULL;
    X509 *cert = NULL;
    struct cas_buf b;
    cas_rc rc;

    if (def->valid_for_s > (uint64_t)(CAS_SECRETS_NEVER - now) || now < HOUR_S)
        return cas_err_set(err, CAS_E_INVALID, "valid_for ends after the year 9999");
    is.not_before = now - HOUR_S;
    is.not_after = def->valid_for_s != 0 ? now + (int64_t)def->valid_for_s : CAS_SECRETS_NEVER;
    if ((rc = subject_key(def, resolve, ctx, &is.key, v, err)) != CAS_OK ||
        (rc = resolve_named("issuer", def->issuer, CAS_POLICY_KIND_X509_CA, resolve, ctx, &iv,
                            err)) != CAS_OK)
        goto out;
    is.sign_key = is.key;
    if (iv != NULL) {
        if (iv->key == NULL) {
            rc = cas_err_set(err, CAS_E_INVALID, "issuer '%s' comes without its private key",
                             def->issuer);
            goto out;
        }
        if (count_certs(iv->chain) + 1 > CAS_SECRETS_CHAIN_MAX) {
            rc = cas_err_set(err, CAS_E_INVALID, "issuer '%s' is more than %u levels deep",
                             def->issuer, CAS_SECRETS_CHAIN_MAX);
            goto out;
        }
        /* The issuer's key and certificate as made in this process, else from their PEM. */
        if (iv->obj_key != NULL && EVP_PKEY_up_ref(iv->obj_key) == 1)
            ikey = iv->obj_key;
        else if ((rc = key_from_secret(iv->key, &ikey, err)) != CAS_OK)
            goto out;
        if (iv->obj_cert != NULL && X509_up_ref(iv->obj_cert) == 1)
            is.issuer = iv->obj_cert;
        else if ((rc = cas_cert_from_pem(iv->pem, strlen(iv->pem), &is.issuer, err)) != CAS_OK)
            goto out;
        is.sign_key = ikey;
    }
    if ((rc = build(&is, &cert, err)) != CAS_OK)
        goto out;
    cas_buf_init(&b, CAS_SECRETS_FIELD_MAX);
    cert_pem_add(&b, cert);
    if ((rc = buf_to_str(&b, &v->pem, err)) != CAS_OK)
        goto out;
    if (iv != NULL) {
        cas_buf_init(&b, CAS_SECRETS_FIELD_MAX);
        cas_buf_adds(&b, iv->pem);
        if (iv->chain != NULL)
            cas_buf_adds(&b, iv->chain);
        if ((rc = buf_to_str(&b, &v->chain, err)) != CAS_OK)
            goto out;
    }
    v->not_before = is.not_before;
    v->not_after = is.not_after;
    /* re-issued once less than a third of the life remains (§8.1) */
    if (def->valid_for_s != 0)
        v->renew_at = is.not_after - (is.not_after - is.not_before) / 3;
    /* Kept for certificates this one issues next (its key is the subject key). */
    v->obj_cert = cert;
    cert = NULL;
    if (EVP_PKEY_up_ref(is.key) == 1)
        v->obj_key = is.key;
out:
    X509_free(cert);
    X509_free(is.issuer);
    EVP_PKEY_free(is.key);
    EVP_PKEY_free(ikey);
    return rc;
}

/* ---- explicit certificates ---- */

static cas_rc
check_chain(const struct cas_policy_secret *def, STACK_OF(X509) * certs, struct cas_err *err)
{
    int n = sk_X509_num(certs);

    if (n < 1)
        return cas_err_set(err, CAS_E_INVALID, "expected PEM certificates");
    if ((size_t)n > CAS_SECRETS_CHAIN_MAX)
        return cas_err_set(err, CAS_E_INVALID, "the chain holds more than %u certificates",
                           CAS_SECRETS_CHAIN_MAX);
    for (int i = 0; i + 1 < n; i++) {
        X509 *c = sk_X509_value(certs, i), *up = sk_X509_value(certs, i + 1);
        EVP_PKEY *k = X509_get0_pubkey(up);
        if (X509_check_issued(up, c) != X509_V_OK || k == NULL || X509_verify(c, k) != 1) {
            ERR_clear_error();
            return cas_err_set(err, CAS_E_INVALID,
                               "certificate %d is not issued by certificate %d after it", i + 1,
                               i + 2);
        }
    }
    if (def->kind == CAS_POLICY_KIND_X509_CA && X509_check_ca(sk_X509_value(certs, 0)) < 1)
        return cas_err_set(err, CAS_E_INVALID,
                           "an x509-ca value must be a CA certificate (basicConstraints CA:TRUE)");
    return CAS_OK;
}

/* v->key when private_key names a key that matches; a generated key cannot match (a warning at
 * check time), so the certificate then simply has no key. */
static cas_rc
match_key(const struct cas_policy_secret *def, X509 *cert, cas_secrets_resolve_fn resolve,
          void *ctx, struct cas_secret_value *v, struct cas_err *err)
{
    const struct cas_secret_value *kv = NULL;
    EVP_PKEY *key = NULL;
    cas_rc rc;

    if (def->private_key == NULL || resolve == NULL)
        return CAS_OK;
    if ((rc = resolve(ctx, def->private_key, &kv, err)) == CAS_E_NOTFOUND || kv == NULL) {
        cas_err_clear(err);
        return CAS_OK;
    }
    if (rc != CAS_OK)
        return cas_err_wrap(err, "cannot resolve private_key '%s'", def->private_key);
    if (kv->kind != CAS_POLICY_KIND_PRIVATE_KEY)
        return cas_err_set(err, CAS_E_INVALID, "private_key '%s' is not of kind private-key",
                           def->private_key);
    if ((rc = key_from_secret(kv->data, &key, err)) != CAS_OK)
        return rc;
    if (X509_check_private_key(cert, key) == 1)
        rc = copy_secret(kv->data, &v->key, err);
    else if (!kv->is_generated)
        rc = cas_err_set(err, CAS_E_INVALID, "the certificate does not match private_key '%s'",
                         def->private_key);
    ERR_clear_error();
    EVP_PKEY_free(key);
    return rc;
}

cas_rc
x509_explicit(const struct cas_policy_secret *def, cas_secrets_resolve_fn resolve, void *ctx,
              struct cas_secret_value *v, struct cas_err *err)
{
    size_t len;
    const char *text = (const char *)cas_secret_peek(def->value, &len);
    STACK_OF(X509) *certs = NULL;
    X509 *cert;
    struct cas_buf b;
    cas_rc rc;

    if ((rc = certs_from_pem(text, len, &certs, err)) != CAS_OK ||
        (rc = check_chain(def, certs, err)) != CAS_OK)
        goto out;
    cert = sk_X509_value(certs, 0);
    if (!asn1_time_unix(X509_get0_notBefore(cert), &v->not_before) ||
        !asn1_time_unix(X509_get0_notAfter(cert), &v->not_after) ||
        v->not_after > CAS_SECRETS_NEVER || v->not_before > v->not_after) {
        rc = cas_err_set(err, CAS_E_INVALID, "the certificate's validity is unreadable");
        goto out;
    }
    if ((rc = match_key(def, cert, resolve, ctx, v, err)) != CAS_OK)
        goto out;
    cas_buf_init(&b, CAS_SECRETS_FIELD_MAX);
    cert_pem_add(&b, cert);
    if ((rc = buf_to_str(&b, &v->pem, err)) != CAS_OK || sk_X509_num(certs) < 2)
        goto out;
    cas_buf_init(&b, CAS_SECRETS_FIELD_MAX);
    for (int i = 1; i < sk_X509_num(certs); i++)
        cert_pem_add(&b, sk_X509_value(certs, i));
    rc = buf_to_str(&b, &v->chain, err);
out:
    sk_X509_pop_free(certs, X509_free);
    return rc;
}
