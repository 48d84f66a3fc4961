/*
 * fuzz_dcap_quote.c - cas_dcap_quote_parse() and the PCK extension reader behind
 * cas_dcap_quote_pck() on arbitrary bytes. Property: an accepted quote lies inside its input,
 * its signed part starts at byte 0, every span ends within the structural length, and
 * everything after that length is zero padding.
 */
#include <stdint.h>

#include <stdlib.h>

#include "dcap/pck.h"
#include "dcap/quote.h"

static int
within(const struct cas_span *s, const uint8_t *data, size_t len)
{
    return s->buf >= data && s->len <= len && (size_t)(s->buf - data) <= len - s->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cas_quote q;
    struct cas_dcap_pck_info pck;
    struct cas_err err = {0};
    bool platform;

    if (cas_dcap_quote_parse(data, size, &q, &err) != CAS_OK)
        return 0;
    if (q.quote_len > size || q.signed_part.buf != data ||
        !within(&q.signed_part, data, q.quote_len) || !within(&q.cert_data, data, q.quote_len) ||
        !within(&q.qe_auth_data, data, q.quote_len) ||
        !within(&q.qe_report_bytes, data, q.quote_len) || q.qe_report_bytes.len != 384)
        abort();
    for (size_t i = q.quote_len; i < size; i++) {
        if (data[i] != 0)
            abort();
    }
    if (cas_dcap_quote_pck(&q, &pck, &platform, &err) == CAS_OK && pck.sgx_type > 255)
        abort(); /* the reader caps every SVN and the type at one byte */
    return 0;
}
