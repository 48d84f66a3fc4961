/*
 * fuzz_join_msg.c - the attested join's request and answer (client/joinmsg.h), parsed from the
 * same bytes. Property: an accepted message holds a quote within bounds and, for an answer, a
 * key of exactly CAS_SEAL_KEY_LEN bytes; a refused one holds nothing.
 */
#include <stdint.h>

#include <stdlib.h>

#include "client/joinmsg.h"
#include "crypto/seal.h"
#include "dcap/quote.h"
#include "util/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(cas_rc rc, const struct cas_join_msg *m, bool answer)
{
    if (rc != CAS_OK) {
        if (m->root != NULL || m->quote != NULL || m->sealing_key != NULL)
            abort();
        return;
    }
    if (m->quote == NULL || m->quote_len == 0 || m->quote_len > CAS_DCAP_QUOTE_MAX ||
        (m->collateral != NULL && !json_is_object(m->collateral)))
        abort();
    if (answer && cas_secret_len(m->sealing_key) != CAS_SEAL_KEY_LEN)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cas_join_msg m;
    struct cas_err err = {0};
    cas_rc rc;

    rc = cas_join_request_parse(data, size, &m, &err);
    check(rc, &m, false);
    cas_join_msg_release(&m);
    rc = cas_join_answer_parse(data, size, &m, &err);
    check(rc, &m, true);
    cas_join_msg_release(&m);
    return 0;
}
