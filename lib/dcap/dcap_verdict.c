/*
 * dcap_verdict.c - a verdict as one JSON object (jansson), the form `cas quote verify --json`
 * prints and a service can send: evidence type, root, TCB status, advisories, platform, every
 * measurement in lowercase hex, times in RFC 3339.
 */
#include <stdint.h>

#include <jansson.h>

#include "dcap/verify.h"
#include "util/codec.h"

/* Adds key: lowercase hex of n (at most 64) bytes; false when out of memory. */
static bool
set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];

    cas_hex_encode(p, n, hex);
    return json_object_set_new(o, key, json_string(hex)) == 0;
}

static bool
set_time(json_t *o, const char *key, int64_t t)
{
    char s[21];

    cas_dcap_time_format(t, s);
    return json_object_set_new(o, key, json_string(s)) == 0;
}

static json_t *
report_json(const struct cas_quote *q)
{
    static const char *const rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    json_t *r = json_object();
    bool ok = r != NULL;

    if (ok && q->body_type == CAS_DCAP_BODY_SGX) {
        ok = set_hex(r, "mrenclave", q->sgx.mrenclave, 32) &&
             set_hex(r, "mrsigner", q->sgx.mrsigner, 32) &&
             json_object_set_new(r, "isvprodid", json_integer(q->sgx.isvprodid)) == 0 &&
             json_object_set_new(r, "isvsvn", json_integer(q->sgx.isvsvn)) == 0 &&
             set_hex(r, "attributes", q->sgx.attributes, 16) &&
             set_hex(r, "report_data", q->sgx.report_data, 64);
    } else if (ok) {
        ok = set_hex(r, "mrtd", q->td.mrtd, 48);
        for (int i = 0; i < 4 && ok; i++)
            ok = set_hex(r, rtmr[i], q->td.rtmr[i], 48);
        ok = ok && set_hex(r, "mrconfigid", q->td.mrconfigid, 48) &&
             set_hex(r, "mrowner", q->td.mrowner, 48) &&
             set_hex(r, "mrownerconfig", q->td.mrownerconfig, 48) &&
             set_hex(r, "mrseam", q->td.mrseam, 48) &&
             set_hex(r, "td_attributes", q->td.td_attributes, 8) &&
             set_hex(r, "tee_tcb_svn", q->td.tee_tcb_svn, 16) &&
             set_hex(r, "report_data", q->td.report_data, 64);
        if (ok && q->body_type == CAS_DCAP_BODY_TD15)
            ok = set_hex(r, "tee_tcb_svn2", q->td.tee_tcb_svn2, 16) &&
                 set_hex(r, "mr_servicetd", q->td.mrservicetd, 48);
    }
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *
cas_dcap_verdict_json(const struct cas_dcap_verdict *v)
{
    json_t *o = json_object(), *adv = json_array();
    bool ok = o != NULL && adv != NULL;

    if (ok && v->failed != CAS_DCAP_CHECK_NONE)
        ok = json_object_set_new(o, "failed_check", json_string(cas_dcap_check_name(v->failed))) ==
             0;
    if (ok && v->evidence_type != NULL)
        ok = json_object_set_new(o, "evidence_type", json_string(v->evidence_type)) == 0 &&
             json_object_set_new(o, "debug", json_boolean(v->debug)) == 0 &&
             json_object_set_new(o, "report", report_json(&v->quote)) == 0;
    if (ok && v->has_platform)
        ok = json_object_set_new(o, "root", json_string(v->root)) == 0 &&
             set_hex(o, "fmspc", v->fmspc, 6) && set_hex(o, "platform_id", v->platform_id, 32);
    if (ok && v->has_status) {
        ok =
            json_object_set_new(o, "tcb_status", json_string(cas_dcap_status_name(v->status))) == 0;
        for (unsigned i = 0; i < v->advisories.count && ok; i++)
            ok = json_array_append_new(adv, json_string(v->advisories.id[i])) == 0;
    }
    ok = ok && json_object_set(o, "advisory_ids", adv) == 0 && set_time(o, "verified_at", v->at);
    if (ok && v->failed == CAS_DCAP_CHECK_NONE && v->has_status)
        ok = set_time(o, "collateral_valid_until", v->collateral_expires);
    json_decref(adv);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
