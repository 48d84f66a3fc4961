/*
 * dcap_pck.c - the SGX extensions of a PCK certificate, through a DER reader that checks every
 * length against what is left (definite lengths up to 3 bytes, single-byte tags: all the
 * profile uses). Each required field must appear exactly once.
 */
#include <stdint.h>

#include <openssl/sha.h>
#include <string.h>

#include "dcap/pck.h"
#include "util/reader.h"

#define TAG_INTEGER 0x02
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_ENUMERATED 0x0a
#define TAG_SEQUENCE 0x30

/* 1.2.840.113741.1.13.1 */
static const uint8_t sgx_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

enum { F_PPID = 1, F_TCB = 2, F_PCEID = 3, F_FMSPC = 4, F_SGXTYPE = 5 };

static bool
rd_tlv(struct cas_reader *r, uint8_t want_tag, struct cas_reader *val)
{
    size_t save = r->off, len = 0;
    uint8_t tag, b;

    if (!cas_rd_u8(r, &tag) || tag != want_tag || !cas_rd_u8(r, &b))
        goto fail;
    if (b < 0x80) {
        len = b;
    } else {
        unsigned n = b & 0x7fu;
        if (n == 0 || n > 3)
            goto fail;
        for (unsigned i = 0; i < n; i++) {
            if (!cas_rd_u8(r, &b))
                goto fail;
            len = len << 8 | b;
        }
    }
    if (!cas_rd_sub(r, len, val))
        goto fail;
    return true;
fail:
    r->off = save;
    return false;
}

/* An OID under the SGX arc: its one or two trailing components (.N or .2.N). */
static bool
sgx_suffix(const struct cas_reader *oid, unsigned *a, unsigned *b)
{
    size_t base = sizeof(sgx_oid);

    if (oid->len < base + 1 || oid->len > base + 2 || memcmp(oid->buf, sgx_oid, base) != 0)
        return false;
    for (size_t i = base; i < oid->len; i++) {
        if (oid->buf[i] & 0x80)
            return false; /* every component here is below 128 */
    }
    *a = oid->buf[base];
    *b = oid->len == base + 2 ? oid->buf[base + 1] : 0;
    return true;
}

static bool
rd_uint(struct cas_reader *r, uint8_t tag, unsigned max, unsigned *out)
{
    struct cas_reader v;
    unsigned x = 0;
    uint8_t b;

    if (!rd_tlv(r, tag, &v) || v.len == 0 || v.len > 3 || (v.buf[0] & 0x80))
        return false;
    while (cas_rd_u8(&v, &b))
        x = x << 8 | b;
    if (x > max)
        return false;
    *out = x;
    return true;
}

static bool
rd_octets(struct cas_reader *r, uint8_t *out, size_t n)
{
    struct cas_reader v;

    return rd_tlv(r, TAG_OCTET_STRING, &v) && v.len == n && cas_rd_bytes(&v, out, n);
}

/* The TCB SEQUENCE: .2.1 to .2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN, each once. */
static bool
parse_tcb(struct cas_reader *seq, struct cas_dcap_pck_info *out)
{
    uint32_t seen = 0;

    while (cas_rd_left(seq) != 0) {
        struct cas_reader item, oid;
        unsigned a, b, v;
        if (!rd_tlv(seq, TAG_SEQUENCE, &item) || !rd_tlv(&item, TAG_OID, &oid) ||
            !sgx_suffix(&oid, &a, &b) || a != F_TCB || b < 1 || b > 18 || (seen & 1u << b))
            return false;
        seen |= 1u << b;
        if (b <= 16) {
            if (!rd_uint(&item, TAG_INTEGER, 255, &v))
                return false;
            out->tcb.comp[b - 1] = (uint8_t)v;
        } else if (b == 17) {
            if (!rd_uint(&item, TAG_INTEGER, 65535, &v))
                return false;
            out->tcb.pcesvn = (uint16_t)v;
        } else if (!rd_octets(&item, out->cpusvn, 16)) {
            return false;
        }
        if (cas_rd_left(&item) != 0)
            return false;
    }
    return seen == 0x7fffeu; /* bits 1..18 */
}

static bool
parse_field(unsigned a, struct cas_reader *item, struct cas_dcap_pck_info *out)
{
    struct cas_reader tcb;

    switch (a) {
    case F_PPID:
        return rd_octets(item, out->ppid, 16);
    case F_TCB:
        return rd_tlv(item, TAG_SEQUENCE, &tcb) && parse_tcb(&tcb, out);
    case F_PCEID:
        return rd_octets(item, out->pce_id, 2);
    case F_FMSPC:
        return rd_octets(item, out->fmspc, 6);
    case F_SGXTYPE:
        return rd_uint(item, TAG_ENUMERATED, 255, &out->sgx_type);
    default: /* PlatformInstanceID, Configuration (Platform CA certificates): not used */
        item->off = item->len;
        return true;
    }
}

cas_rc
cas_dcap_pck_ext_parse(const uint8_t *der, size_t len, struct cas_dcap_pck_info *out,
                       struct cas_err *err)
{
    struct cas_reader r, seq;
    unsigned seen = 0;

    memset(out, 0, sizeof(*out));
    cas_rd_init(&r, der, len);
    if (!rd_tlv(&r, TAG_SEQUENCE, &seq) || cas_rd_left(&r) != 0)
        return cas_err_set(err, CAS_E_INVALID, "PCK certificate SGX extension is not a SEQUENCE");
    while (cas_rd_left(&seq) != 0) {
        struct cas_reader item, oid;
        unsigned a, b;
        if (!rd_tlv(&seq, TAG_SEQUENCE, &item) || !rd_tlv(&item, TAG_OID, &oid) ||
            !sgx_suffix(&oid, &a, &b) || b != 0 || a > 31 || (seen & 1u << a) ||
            !parse_field(a, &item, out) || cas_rd_left(&item) != 0)
            return cas_err_set(err, CAS_E_INVALID,
                               "PCK certificate SGX extension is malformed at byte %zu",
                               (size_t)(seq.buf - der) + seq.off);
        seen |= 1u << a;
    }
    if ((seen & 0x3eu) != 0x3eu)
        return cas_err_set(err, CAS_E_INVALID,
                           "PCK certificate SGX extension lacks PPID, TCB, PCE ID, FMSPC or type");
    return CAS_OK;
}

void
cas_dcap_platform_id(const struct cas_dcap_pck_info *pck, uint8_t out[32])
{
    uint8_t buf[18];

    memcpy(buf, pck->ppid, 16);
    memcpy(buf + 16, pck->pce_id, 2);
    SHA256(buf, sizeof(buf), out);
}
