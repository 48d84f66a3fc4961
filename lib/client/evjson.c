/* evjson.c - evidence in the APIs' JSON (evjson.h). */
#include "client/evjson.h"

#include "util/alloc.h"
#include "util/codec.h"

json_t *
cas_json_b64(const uint8_t *p, size_t n)
{
    char *text = cas_b64_alloc(p, n, false);
    json_t *j = text != NULL ? json_string(text) : NULL;

    cas_wipe_free(text);
    return j;
}

cas_rc
cas_evidence_to_json(const struct cas_tee_evidence *ev, json_t **evidence, json_t **collateral,
                     struct cas_err *err)
{
    json_t *col = json_null();

    *evidence = NULL;
    *collateral = NULL;
    if (ev->collateral != NULL && (col = json_loadb(ev->collateral, ev->collateral_len,
                                                    JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return cas_err_set(err, CAS_E_INTERNAL, "the evidence's collateral is not JSON");
    *evidence =
        json_pack("{s:s, s:o}", "type", ev->type, "quote", cas_json_b64(ev->quote, ev->quote_len));
    if (*evidence == NULL) {
        json_decref(col);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the evidence");
    }
    *collateral = col;
    return CAS_OK;
}
