/*
 * fuzz_dcap_collateral.c - the collateral parsers on arbitrary bytes: TCB info, QE identity,
 * the api.md §1 collateral JSON object, the PCK SGX extension DER and PCS times. Properties:
 * an accepted TCB info or QE identity has 1 to CAS_DCAP_MAX_LEVELS levels, terminated advisory
 * IDs, and parses again to the same signed digest; an accepted time formats and parses back
 * to itself.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "dcap/collateral.h"
#include "dcap/pck.h"
#include "dcap/tcb.h"

static void
check_advisories(const struct cas_dcap_advisories *a)
{
    if (a->count > CAS_DCAP_MAX_ADVISORIES)
        abort();
    for (unsigned i = 0; i < a->count; i++) {
        if (memchr(a->id[i], 0, CAS_DCAP_ADVISORY_LEN) == NULL)
            abort();
    }
}

static void
tcb_info(const uint8_t *data, size_t size)
{
    struct cas_dcap_tcb_info *ti = NULL, *again = NULL;
    struct cas_err err = {0};

    if (cas_dcap_tcb_info_parse(data, size, &ti, &err) != CAS_OK)
        return;
    if (ti->level_count < 1 || ti->level_count > CAS_DCAP_MAX_LEVELS ||
        ti->module_count > CAS_DCAP_MAX_MODULES)
        abort();
    for (unsigned i = 0; i < ti->level_count; i++)
        check_advisories(&ti->levels[i].advisories);
    if (cas_dcap_tcb_info_parse(data, size, &again, &err) != CAS_OK ||
        memcmp(again->signed_digest, ti->signed_digest, 32) != 0)
        abort();
    cas_dcap_tcb_info_free(again);
    cas_dcap_tcb_info_free(ti);
}

static void
qe_identity(const uint8_t *data, size_t size)
{
    struct cas_dcap_qe_identity *qi = NULL, *again = NULL;
    struct cas_err err = {0};

    if (cas_dcap_qe_identity_parse(data, size, &qi, &err) != CAS_OK)
        return;
    if (qi->level_count < 1 || qi->level_count > CAS_DCAP_MAX_LEVELS)
        abort();
    for (unsigned i = 0; i < qi->level_count; i++)
        check_advisories(&qi->levels[i].advisories);
    if (cas_dcap_qe_identity_parse(data, size, &again, &err) != CAS_OK ||
        memcmp(again->signed_digest, qi->signed_digest, 32) != 0)
        abort();
    cas_dcap_qe_identity_free(again);
    cas_dcap_qe_identity_free(qi);
}

static void
times(const uint8_t *data, size_t size)
{
    char out[21];
    int64_t t, back;

    if (size > 64 || !cas_dcap_time_parse((const char *)data, size, false, &t))
        return;
    cas_dcap_time_format(t, out);
    if (t >= 0 && t < 253402300800LL && /* years 1970..9999 format as themselves */
        (!cas_dcap_time_parse(out, strlen(out), false, &back) || back != t))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cas_dcap_collateral c;
    struct cas_dcap_pck_info pck;
    struct cas_err err = {0};

    tcb_info(data, size);
    qe_identity(data, size);
    if (cas_dcap_collateral_from_json((const char *)data, size, &c, &err) == CAS_OK) {
        if (!c.sealed)
            abort();
        cas_dcap_collateral_release(&c);
    }
    if (cas_dcap_pck_ext_parse(data, size, &pck, &err) == CAS_OK && pck.sgx_type > 255)
        abort();
    times(data, size);
    return 0;
}
