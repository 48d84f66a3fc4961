/*
 * dcap_json.c - TCB Info (v2, v3; SGX and TDX) and Enclave Identity (v2; QE and TD_QE) bodies
 * from Intel PCS into struct cas_dcap_tcb_info / cas_dcap_qe_identity (Intel PCS API v4,
 * "TCB Info" and "Enclave Identity" models). The signature covers the inner object's exact
 * bytes, so a small scanner finds that byte range in the text, and jansson (duplicates
 * refused) decodes the same text; nothing is re-serialised. No signature is verified here.
 */
#include <stdint.h>

#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "dcap/collateral.h"
#include "dcap/tcb.h"
#include "util/alloc.h"
#include "util/codec.h"
#include "util/reader.h"

#define SCAN_DEPTH_MAX 64

static const char *const status_names[] = {
    [CAS_DCAP_UP_TO_DATE] = "UpToDate",
    [CAS_DCAP_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [CAS_DCAP_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [CAS_DCAP_OUT_OF_DATE] = "OutOfDate",
    [CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [CAS_DCAP_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
    [CAS_DCAP_REVOKED] = "Revoked",
};

const char *
cas_dcap_status_name(enum cas_dcap_status s)
{
    if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
        return "Unknown";
    return status_names[s];
}

bool
cas_dcap_status_parse(const char *s, enum cas_dcap_status *out)
{
    for (unsigned i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum cas_dcap_status)i;
            return true;
        }
    }
    return false;
}

bool
cas_dcap_advisories_add(struct cas_dcap_advisories *a, const char *id)
{
    size_t n = strlen(id);

    for (unsigned i = 0; i < a->count; i++) {
        if (strcmp(a->id[i], id) == 0)
            return true;
    }
    if (a->count >= CAS_DCAP_MAX_ADVISORIES || n >= CAS_DCAP_ADVISORY_LEN)
        return false;
    memcpy(a->id[a->count], id, n + 1);
    a->count++;
    return true;
}

/* ---- the byte range of a top-level member's value ---- */

static void
skip_ws(struct cas_reader *r)
{
    while (r->off < r->len && (r->buf[r->off] == ' ' || r->buf[r->off] == '\t' ||
                               r->buf[r->off] == '\n' || r->buf[r->off] == '\r'))
        r->off++;
}

/* A string starting at r->off ('"'); leaves r after the closing quote. */
static bool
skip_string(struct cas_reader *r)
{
    if (r->off >= r->len || r->buf[r->off] != '"')
        return false;
    for (size_t i = r->off + 1; i < r->len; i++) {
        if (r->buf[i] == '\\')
            i++;
        else if (r->buf[i] == '"') {
            r->off = i + 1;
            return true;
        }
    }
    return false;
}

/* Any value: strings, nested objects and arrays (depth-capped), literals and numbers. */
static bool
skip_value(struct cas_reader *r)
{
    unsigned depth = 0;

    skip_ws(r);
    if (r->off >= r->len)
        return false;
    if (r->buf[r->off] == '"')
        return skip_string(r);
    if (r->buf[r->off] != '{' && r->buf[r->off] != '[') {
        size_t start = r->off;
        while (r->off < r->len && strchr(",}] \t\r\n", r->buf[r->off]) == NULL)
            r->off++;
        return r->off > start;
    }
    while (r->off < r->len) {
        uint8_t c = r->buf[r->off];
        if (c == '"') {
            if (!skip_string(r))
                return false;
            continue;
        }
        if (c == '{' || c == '[') {
            if (++depth > SCAN_DEPTH_MAX)
                return false;
        } else if (c == '}' || c == ']') {
            r->off++;
            if (--depth == 0)
                return true;
            continue;
        }
        r->off++;
    }
    return false;
}

/* The raw bytes of member `key` of the top-level object (keys compared as written). */
static bool
member_span(const uint8_t *text, size_t len, const char *key, struct cas_span *out)
{
    struct cas_reader r;
    size_t klen = strlen(key);

    cas_rd_init(&r, text, len);
    skip_ws(&r);
    if (r.off >= r.len || r.buf[r.off] != '{')
        return false;
    r.off++;
    for (;;) {
        size_t kstart, vstart;
        bool match;
        skip_ws(&r);
        kstart = r.off;
        if (!skip_string(&r))
            return false;
        match = r.off - kstart == klen + 2 && memcmp(text + kstart + 1, key, klen) == 0;
        skip_ws(&r);
        if (r.off >= r.len || r.buf[r.off] != ':')
            return false;
        r.off++;
        skip_ws(&r);
        vstart = r.off;
        if (!skip_value(&r))
            return false;
        if (match) {
            out->buf = text + vstart;
            out->len = r.off - vstart;
            return true;
        }
        skip_ws(&r);
        if (r.off >= r.len || r.buf[r.off] != ',')
            return false;
        r.off++;
    }
}

/* ---- typed members ---- */

static cas_rc
bad(struct cas_err *err, const char *what, const char *key, const char *why)
{
    return cas_err_set(err, CAS_E_INVALID, "%s field '%s' %s", what, key, why);
}

static cas_rc
get_uint(const json_t *o, const char *what, const char *key, json_int_t max, unsigned *out,
         struct cas_err *err)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        return bad(err, what, key, "is missing or not an integer");
    if (json_integer_value(v) < 0 || json_integer_value(v) > max)
        return bad(err, what, key, "is out of range");
    *out = (unsigned)json_integer_value(v);
    return CAS_OK;
}

static cas_rc
get_hex(const json_t *o, const char *what, const char *key, uint8_t *out, size_t n,
        struct cas_err *err)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v) ||
        !cas_hex_decode_exact(json_string_value(v), json_string_length(v), out, n))
        return cas_err_set(err, CAS_E_INVALID, "%s field '%s' is not %zu bytes of hex", what, key,
                           n);
    return CAS_OK;
}

static cas_rc
get_time(const json_t *o, const char *what, const char *key, int64_t *out, struct cas_err *err)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v) ||
        !cas_dcap_time_parse(json_string_value(v), json_string_length(v), false, out))
        return bad(err, what, key, "is missing or not an RFC 3339 time");
    return CAS_OK;
}

static cas_rc
get_status(const json_t *o, const char *what, enum cas_dcap_status *out, struct cas_err *err)
{
    const json_t *v = json_object_get(o, "tcbStatus");

    if (!json_is_string(v) || !cas_dcap_status_parse(json_string_value(v), out))
        return bad(err, what, "tcbStatus", "is missing or not a known TCB status");
    return CAS_OK;
}

static cas_rc
get_advisories(const json_t *o, const char *what, struct cas_dcap_advisories *a,
               struct cas_err *err)
{
    const json_t *arr = json_object_get(o, "advisoryIDs");

    a->count = 0;
    if (arr == NULL)
        return CAS_OK;
    if (!json_is_array(arr))
        return bad(err, what, "advisoryIDs", "is not a list");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s) ||
            !cas_dcap_advisories_add(a, json_string_value(s)))
            return bad(err, what, "advisoryIDs", "holds a bad or an excess entry");
    }
    return CAS_OK;
}

/* The "tcbLevels" list of o: 1 to CAS_DCAP_MAX_LEVELS entries. */
static cas_rc
get_levels(const json_t *o, const char *what, const json_t **levels, unsigned *count,
           struct cas_err *err)
{
    *levels = json_object_get(o, "tcbLevels");
    if (!json_is_array(*levels) || json_array_size(*levels) == 0 ||
        json_array_size(*levels) > CAS_DCAP_MAX_LEVELS)
        return bad(err, what, "tcbLevels", "is not a list of 1 to 128 levels");
    *count = (unsigned)json_array_size(*levels);
    return CAS_OK;
}

/* Component SVNs: v3 lists {"svn": n} objects, v2 names them sgxtcbcomp01svn..16svn. */
static cas_rc
get_components(const json_t *tcb, const char *key, unsigned version, uint8_t out[16],
               struct cas_err *err)
{
    const json_t *arr;

    if (version == 2 && strcmp(key, "sgxtcbcomponents") == 0) {
        for (unsigned i = 0; i < 16; i++) {
            char name[24];
            unsigned v;
            cas_rc rc;
            (void)snprintf(name, sizeof(name), "sgxtcbcomp%02usvn", i + 1);
            if ((rc = get_uint(tcb, "TCB info level", name, 255, &v, err)) != CAS_OK)
                return rc;
            out[i] = (uint8_t)v;
        }
        return CAS_OK;
    }
    arr = json_object_get(tcb, key);
    if (!json_is_array(arr) || json_array_size(arr) != 16)
        return bad(err, "TCB info level", key, "is not a list of 16 components");
    for (size_t i = 0; i < 16; i++) {
        unsigned v;
        cas_rc rc;
        if ((rc = get_uint(json_array_get(arr, i), "TCB info component", "svn", 255, &v, err)) !=
            CAS_OK)
            return rc;
        out[i] = (uint8_t)v;
    }
    return CAS_OK;
}

/* ---- the PCS body: {"<inner>":{...},"signature":"<hex>"} ---- */

struct body {
    json_t *root;        /* the whole document */
    const json_t *inner; /* borrowed from root */
};

static cas_rc
load_body(const uint8_t *text, size_t len, const char *inner_key, const char *what, struct body *b,
          uint8_t sig[64], uint8_t digest[32], struct cas_err *err)
{
    struct cas_span span;
    json_error_t jerr;
    const json_t *s;

    b->root = NULL;
    b->inner = NULL;
    if (len > CAS_DCAP_BODY_MAX)
        return cas_err_set(err, CAS_E_TOOBIG, "%s of %zu bytes is over the %d-byte limit", what,
                           len, CAS_DCAP_BODY_MAX);
    if (memchr(text, 0, len) != NULL)
        return cas_err_set(err, CAS_E_INVALID, "%s holds a NUL byte", what);
    b->root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (b->root == NULL)
        return cas_err_set(err, CAS_E_INVALID, "%s is not JSON: %s at line %d", what, jerr.text,
                           jerr.line);
    b->inner = json_object_get(b->root, inner_key);
    if (!json_is_object(b->inner) || !member_span(text, len, inner_key, &span) || span.len == 0 ||
        span.buf[0] != '{')
        return cas_err_set(err, CAS_E_INVALID, "%s has no '%s' object", what, inner_key);
    s = json_object_get(b->root, "signature");
    if (!json_is_string(s) ||
        !cas_hex_decode_exact(json_string_value(s), json_string_length(s), sig, 64))
        return cas_err_set(err, CAS_E_INVALID, "%s field 'signature' is not 64 bytes of hex", what);
    SHA256(span.buf, span.len, digest);
    return CAS_OK;
}

static cas_rc
parse_level(const json_t *lv, const struct cas_dcap_tcb_info *ti, struct cas_dcap_tcb_level *l,
            struct cas_err *err)
{
    const json_t *tcb = json_object_get(lv, "tcb");
    unsigned pcesvn;
    cas_rc rc;

    if (!json_is_object(tcb))
        return bad(err, "TCB info level", "tcb", "is missing");
    if ((rc = get_components(tcb, "sgxtcbcomponents", ti->version, l->sgx, err)) != CAS_OK ||
        (rc = get_uint(tcb, "TCB info level", "pcesvn", 65535, &pcesvn, err)) != CAS_OK ||
        (ti->is_tdx &&
         (rc = get_components(tcb, "tdxtcbcomponents", ti->version, l->tdx, err)) != CAS_OK) ||
        (rc = get_status(lv, "TCB info level", &l->status, err)) != CAS_OK ||
        (rc = get_time(lv, "TCB info level", "tcbDate", &l->tcb_date, err)) != CAS_OK ||
        (rc = get_advisories(lv, "TCB info level", &l->advisories, err)) != CAS_OK)
        return rc;
    l->pcesvn = (uint16_t)pcesvn;
    return CAS_OK;
}

static cas_rc
parse_module(const json_t *m, bool with_id, struct cas_dcap_tdx_module *out, struct cas_err *err)
{
    const json_t *levels;
    cas_rc rc;

    if (!json_is_object(m))
        return cas_err_set(err, CAS_E_INVALID, "TCB info TDX module is not an object");
    if (with_id) {
        const json_t *id = json_object_get(m, "id");
        if (!json_is_string(id) || json_string_length(id) >= sizeof(out->id) ||
            strlen(json_string_value(id)) != json_string_length(id))
            return bad(err, "TDX module identity", "id", "is missing or too long");
        memcpy(out->id, json_string_value(id), json_string_length(id) + 1);
    }
    if ((rc = get_hex(m, "TDX module", "mrsigner", out->mrsigner, 48, err)) != CAS_OK ||
        (rc = get_hex(m, "TDX module", "attributes", out->attributes, 8, err)) != CAS_OK ||
        (rc = get_hex(m, "TDX module", "attributesMask", out->attributes_mask, 8, err)) != CAS_OK)
        return rc;
    if (!with_id)
        return CAS_OK;
    if ((rc = get_levels(m, "TDX module identity", &levels, &out->level_count, err)) != CAS_OK)
        return rc;
    if ((out->levels = cas_calloc(out->level_count, sizeof(*out->levels))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the TDX module identity levels");
    for (unsigned i = 0; i < out->level_count; i++) {
        const json_t *lv = json_array_get(levels, i);
        struct cas_dcap_module_level *l = &out->levels[i];
        unsigned isvsvn;
        if ((rc = get_uint(json_object_get(lv, "tcb"), "TDX module level", "isvsvn", 255, &isvsvn,
                           err)) != CAS_OK ||
            (rc = get_status(lv, "TDX module level", &l->status, err)) != CAS_OK ||
            (rc = get_advisories(lv, "TDX module level", &l->advisories, err)) != CAS_OK)
            return rc;
        l->isvsvn = (uint8_t)isvsvn;
    }
    return CAS_OK;
}

static cas_rc
parse_tcb_info_inner(const json_t *t, struct cas_dcap_tcb_info *ti, struct cas_err *err)
{
    const json_t *id = json_object_get(t, "id"), *levels, *mods;
    cas_rc rc;

    if ((rc = get_uint(t, "TCB info", "version", 3, &ti->version, err)) != CAS_OK)
        return rc;
    if (ti->version == 2 && id == NULL)
        ti->is_tdx = false;
    else if (ti->version == 3 && json_is_string(id) && strcmp(json_string_value(id), "SGX") == 0)
        ti->is_tdx = false;
    else if (ti->version == 3 && json_is_string(id) && strcmp(json_string_value(id), "TDX") == 0)
        ti->is_tdx = true;
    else
        return cas_err_set(err, CAS_E_INVALID,
                           "TCB info version %u with this id is not "
                           "supported (v2, or v3 with id SGX or TDX)",
                           ti->version);
    if ((rc = get_time(t, "TCB info", "issueDate", &ti->issue_date, err)) != CAS_OK ||
        (rc = get_time(t, "TCB info", "nextUpdate", &ti->next_update, err)) != CAS_OK ||
        (rc = get_hex(t, "TCB info", "fmspc", ti->fmspc, 6, err)) != CAS_OK ||
        (rc = get_hex(t, "TCB info", "pceId", ti->pce_id, 2, err)) != CAS_OK ||
        (rc = get_uint(t, "TCB info", "tcbType", 0, &ti->tcb_type, err)) != CAS_OK ||
        (rc = get_uint(t, "TCB info", "tcbEvaluationDataNumber", UINT32_MAX, &ti->eval_number,
                       err)) != CAS_OK)
        return rc;
    if ((rc = get_levels(t, "TCB info", &levels, &ti->level_count, err)) != CAS_OK)
        return rc;
    if ((ti->levels = cas_calloc(ti->level_count, sizeof(*ti->levels))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the TCB info levels");
    for (unsigned i = 0; i < ti->level_count; i++) {
        if ((rc = parse_level(json_array_get(levels, i), ti, &ti->levels[i], err)) != CAS_OK)
            return cas_err_wrap(err, "TCB info level %u is not valid", i);
    }
    if (!ti->is_tdx)
        return CAS_OK;
    if ((rc = parse_module(json_object_get(t, "tdxModule"), false, &ti->module, err)) != CAS_OK)
        return rc;
    ti->has_module = true;
    mods = json_object_get(t, "tdxModuleIdentities");
    if (mods == NULL)
        return CAS_OK;
    if (!json_is_array(mods) || json_array_size(mods) > CAS_DCAP_MAX_MODULES)
        return bad(err, "TCB info", "tdxModuleIdentities", "is not a list of at most 16");
    for (size_t i = 0; i < json_array_size(mods); i++) {
        ti->module_count++;
        if ((rc = parse_module(json_array_get(mods, i), true, &ti->modules[i], err)) != CAS_OK)
            return rc;
    }
    return CAS_OK;
}

cas_rc
cas_dcap_tcb_info_parse(const uint8_t *body, size_t len, struct cas_dcap_tcb_info **out,
                        struct cas_err *err)
{
    struct cas_dcap_tcb_info *ti;
    struct body b;
    cas_rc rc;

    *out = NULL;
    if ((ti = cas_calloc(1, sizeof(*ti))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for TCB info");
    if ((rc = load_body(body, len, "tcbInfo", "TCB info", &b, ti->signature, ti->signed_digest,
                        err)) != CAS_OK ||
        (rc = parse_tcb_info_inner(b.inner, ti, err)) != CAS_OK)
        goto out;
    *out = ti;
    ti = NULL;
out:
    json_decref(b.root);
    cas_dcap_tcb_info_free(ti);
    return rc;
}

void
cas_dcap_tcb_info_free(struct cas_dcap_tcb_info *ti)
{
    if (ti == NULL)
        return;
    for (unsigned i = 0; i < ti->module_count; i++)
        free(ti->modules[i].levels);
    free(ti->levels);
    free(ti);
}

static cas_rc
parse_qe_identity_inner(const json_t *t, struct cas_dcap_qe_identity *qi, struct cas_err *err)
{
    const json_t *id = json_object_get(t, "id"), *levels;
    uint8_t misc[4], mask[4];
    unsigned prodid;
    cas_rc rc;

    if ((rc = get_uint(t, "QE identity", "version", 2, &qi->version, err)) != CAS_OK)
        return rc;
    if (qi->version != 2 || !json_is_string(id) ||
        (strcmp(json_string_value(id), "QE") != 0 && strcmp(json_string_value(id), "TD_QE") != 0))
        return cas_err_set(err, CAS_E_INVALID,
                           "QE identity is not supported (version 2 with id QE or TD_QE)");
    qi->is_td_qe = strcmp(json_string_value(id), "TD_QE") == 0;
    if ((rc = get_time(t, "QE identity", "issueDate", &qi->issue_date, err)) != CAS_OK ||
        (rc = get_time(t, "QE identity", "nextUpdate", &qi->next_update, err)) != CAS_OK ||
        (rc = get_uint(t, "QE identity", "tcbEvaluationDataNumber", UINT32_MAX, &qi->eval_number,
                       err)) != CAS_OK ||
        (rc = get_hex(t, "QE identity", "miscselect", misc, 4, err)) != CAS_OK ||
        (rc = get_hex(t, "QE identity", "miscselectMask", mask, 4, err)) != CAS_OK ||
        (rc = get_hex(t, "QE identity", "attributes", qi->attributes, 16, err)) != CAS_OK ||
        (rc = get_hex(t, "QE identity", "attributesMask", qi->attributes_mask, 16, err)) !=
            CAS_OK ||
        (rc = get_hex(t, "QE identity", "mrsigner", qi->mrsigner, 32, err)) != CAS_OK ||
        (rc = get_uint(t, "QE identity", "isvprodid", 65535, &prodid, err)) != CAS_OK)
        return rc;
    /* miscselect is written as the big-endian hex of the 32-bit value. */
    qi->miscselect =
        (uint32_t)misc[0] << 24 | (uint32_t)misc[1] << 16 | (uint32_t)misc[2] << 8 | misc[3];
    qi->miscselect_mask =
        (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 | (uint32_t)mask[2] << 8 | mask[3];
    qi->isvprodid = (uint16_t)prodid;
    if ((rc = get_levels(t, "QE identity", &levels, &qi->level_count, err)) != CAS_OK)
        return rc;
    if ((qi->levels = cas_calloc(qi->level_count, sizeof(*qi->levels))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for the QE identity levels");
    for (unsigned i = 0; i < qi->level_count; i++) {
        const json_t *lv = json_array_get(levels, i);
        struct cas_dcap_qe_level *l = &qi->levels[i];
        unsigned isvsvn;
        if ((rc = get_uint(json_object_get(lv, "tcb"), "QE identity level", "isvsvn", 65535,
                           &isvsvn, err)) != CAS_OK ||
            (rc = get_status(lv, "QE identity level", &l->status, err)) != CAS_OK ||
            (rc = get_time(lv, "QE identity level", "tcbDate", &l->tcb_date, err)) != CAS_OK ||
            (rc = get_advisories(lv, "QE identity level", &l->advisories, err)) != CAS_OK)
            return rc;
        l->isvsvn = (uint16_t)isvsvn;
    }
    return CAS_OK;
}

cas_rc
cas_dcap_qe_identity_parse(const uint8_t *body, size_t len, struct cas_dcap_qe_identity **out,
                           struct cas_err *err)
{
    struct cas_dcap_qe_identity *qi;
    struct body b;
    cas_rc rc;

    *out = NULL;
    if ((qi = cas_calloc(1, sizeof(*qi))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "Out of memory for QE identity");
    if ((rc = load_body(body, len, "enclaveIdentity", "QE identity", &b, qi->signature,
                        qi->signed_digest, err)) != CAS_OK ||
        (rc = parse_qe_identity_inner(b.inner, qi, err)) != CAS_OK)
        goto out;
    *out = qi;
    qi = NULL;
out:
    json_decref(b.root);
    cas_dcap_qe_identity_free(qi);
    return rc;
}

void
cas_dcap_qe_identity_free(struct cas_dcap_qe_identity *qi)
{
    if (qi == NULL)
        return;
    free(qi->levels);
    free(qi);
}
