/* joinmsg.c - parsing the attested join's messages (joinmsg.h). */
#include "client/joinmsg.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/seal.h"
#include "dcap/quote.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/secret.h"

#define MAX_MSG ((size_t)4 * 1024 * 1024)

void
cas_join_msg_release(struct cas_join_msg *m)
{
    json_decref(m->root);
    free(m->quote);
    cas_secret_free(m->sealing_key);
    memset(m, 0, sizeof(*m));
}

/* The document, its evidence.quote and its collateral: what both messages carry. */
static cas_rc
common(const void *body, size_t len, struct cas_join_msg *m, struct cas_err *err)
{
    const json_t *ev, *col;
    const char *q;
    size_t qlen;

    memset(m, 0, sizeof(*m));
    if (len > MAX_MSG)
        return cas_err_set(err, CAS_E_TOOBIG, "the message is over %zu bytes", MAX_MSG);
    m->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(m->root))
        return cas_err_set(err, CAS_E_INVALID, "the message is not a JSON object");
    ev = json_object_get(m->root, "evidence");
    q = json_string_value(json_object_get(ev, "quote"));
    if (!json_is_object(ev) || !json_is_string(json_object_get(ev, "type")) || q == NULL)
        return cas_err_set(err, CAS_E_INVALID,
                           "evidence must be {\"type\": <text>, \"quote\": <base64>}");
    qlen = strlen(q);
    if (qlen > 4 * (CAS_DCAP_QUOTE_MAX / 3 + 1) || (m->quote = cas_malloc(qlen + 1)) == NULL ||
        !cas_b64_decode(q, qlen, m->quote, qlen + 1, &m->quote_len, false) || m->quote_len == 0 ||
        m->quote_len > CAS_DCAP_QUOTE_MAX)
        return cas_err_set(err, CAS_E_INVALID, "evidence.quote is not base64 of a quote");
    col = json_object_get(m->root, "collateral");
    if (col != NULL && !json_is_object(col) && !json_is_null(col))
        return cas_err_set(err, CAS_E_INVALID, "collateral must be an object or null");
    m->collateral = json_is_object(col) ? col : NULL;
    return CAS_OK;
}

cas_rc
cas_join_request_parse(const void *body, size_t len, struct cas_join_msg *m, struct cas_err *err)
{
    const char *nonce;
    cas_rc rc;

    if ((rc = common(body, len, m, err)) != CAS_OK) {
        cas_join_msg_release(m);
        return rc;
    }
    nonce = json_string_value(json_object_get(m->root, "nonce"));
    if (nonce == NULL || strlen(nonce) != 64 || !cas_hex_decode_exact(nonce, 64, m->nonce, 32)) {
        cas_join_msg_release(m);
        return cas_err_set(err, CAS_E_INVALID, "nonce must be 64 hex digits");
    }
    return CAS_OK;
}

cas_rc
cas_join_answer_parse(const void *body, size_t len, struct cas_join_msg *m, struct cas_err *err)
{
    uint8_t raw[CAS_SEAL_KEY_LEN + 3];
    size_t raw_len = 0;
    const char *k;
    cas_rc rc;

    if ((rc = common(body, len, m, err)) != CAS_OK) {
        cas_join_msg_release(m);
        return rc;
    }
    k = json_string_value(json_object_get(m->root, "sealing_key"));
    if (k == NULL || !cas_b64_decode(k, strlen(k), raw, sizeof(raw), &raw_len, false) ||
        raw_len != CAS_SEAL_KEY_LEN) {
        OPENSSL_cleanse(raw, sizeof(raw));
        cas_join_msg_release(m);
        return cas_err_set(err, CAS_E_INVALID, "sealing_key must be base64 of %d bytes",
                           CAS_SEAL_KEY_LEN);
    }
    rc = cas_secret_from(raw, raw_len, &m->sealing_key, err);
    OPENSSL_cleanse(raw, sizeof(raw));
    if (rc != CAS_OK)
        cas_join_msg_release(m);
    return rc;
}
