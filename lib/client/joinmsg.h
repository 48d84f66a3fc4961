/*
 * joinmsg.h - the two messages of the attested join (src/casd/join.h, docs/operations.md):
 *   request: {"nonce": <64 hex>, "evidence": {"type", "quote": <base64>}, "collateral": {...}|null}
 *   answer:  {"evidence": {"type", "quote"}, "collateral": {...}|null, "sealing_key": <base64>}
 * Parsed from untrusted bytes with bounds: a quote of at most CAS_DCAP_QUOTE_MAX bytes, a key of
 * exactly CAS_SEAL_KEY_LEN, duplicate keys refused. The key lands in a struct cas_secret only.
 */
#ifndef CAS_CLIENT_JOINMSG_H
#define CAS_CLIENT_JOINMSG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <stdbool.h>

#include "cas/err.h"

struct cas_secret;

struct cas_join_msg {
    json_t *root;      /* the parsed document (owns collateral) */
    uint8_t nonce[32]; /* request only */
    uint8_t *quote;    /* owned */
    size_t quote_len;
    const json_t *collateral;       /* an object, or NULL when absent or null */
    struct cas_secret *sealing_key; /* answer only */
};

/* On failure m is released (holds nothing) and err says what is wrong. */
cas_rc cas_join_request_parse(const void *body, size_t len, struct cas_join_msg *m,
                              struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_join_answer_parse(const void *body, size_t len, struct cas_join_msg *m,
                             struct cas_err *err) CAS_MUST_CHECK;
void cas_join_msg_release(struct cas_join_msg *m);

#endif
