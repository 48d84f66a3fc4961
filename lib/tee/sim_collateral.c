/*
 * sim_collateral.c - what the simulator signs besides quotes: TCB Info v3 for its FMSPC and QE
 * Identity v2 (the PCS API v4 bodies, signed over the exact bytes of their inner object), the
 * root CA and PCK CRLs and the issuer chains, gathered into the collateral JSON of api.md §1 and
 * cached per UTC day. Also the status names, the configuration, and the testdata-like directory
 * writer. How each status comes out is in docs/internals/tee.md, "TCB levels".
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/file.h"

#define COLLATERAL_JSON_MAX ((size_t)1024 * 1024)
#define DAY_SECONDS 86400
/* 9999-12-01T00:00:00Z: nextUpdate, 30 days on, still has a four-digit year. */
#define COLLATERAL_TIME_MAX INT64_C(253399622400)

static const char *const status_names[CAS_TEE_TCB_STATUS_COUNT] = {
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
};

const char *
cas_tee_tcb_status_name(enum cas_tee_tcb_status s)
{
    if ((unsigned)s >= CAS_TEE_TCB_STATUS_COUNT)
        return NULL;
    return status_names[s];
}

cas_rc
cas_tee_tcb_status_parse(const char *s, enum cas_tee_tcb_status *out, struct cas_err *err)
{
    for (unsigned i = 0; i < CAS_TEE_TCB_STATUS_COUNT; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum cas_tee_tcb_status)i;
            return CAS_OK;
        }
    }
    return cas_err_set(err, CAS_E_INVALID,
                       "Unknown TCB status '%.64s' - Expected UpToDate, SWHardeningNeeded, "
                       "ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, "
                       "OutOfDateConfigurationNeeded or Revoked",
                       s);
}

void
cas_tee_sim_config_init(struct cas_tee_sim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tcb_status = CAS_TEE_TCB_OUT_OF_DATE;
    memcpy(cfg->advisories[0], "INTEL-SA-00828", sizeof("INTEL-SA-00828"));
    memcpy(cfg->advisories[1], "INTEL-SA-00837", sizeof("INTEL-SA-00837"));
    cfg->advisory_count = 2;
}

void
cas_tee_sim_config_clear_advisories(struct cas_tee_sim_config *cfg)
{
    memset(cfg->advisories, 0, sizeof(cfg->advisories));
    cfg->advisory_count = 0;
}

cas_rc
cas_tee_sim_config_add_advisory(struct cas_tee_sim_config *cfg, const char *id, struct cas_err *err)
{
    size_t len = strlen(id);

    if (len == 0 || len >= CAS_TEE_SIM_ADVISORY_LEN)
        return cas_err_set(err, CAS_E_INVALID, "Advisory ID must have 1 to %d characters",
                           CAS_TEE_SIM_ADVISORY_LEN - 1);
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return cas_err_set(err, CAS_E_INVALID,
                               "Advisory ID '%.64s' has a character other than letters, digits "
                               "and '-'",
                               id);
    }
    if (cfg->advisory_count >= CAS_TEE_SIM_MAX_ADVISORIES)
        return cas_err_set(err, CAS_E_INVALID, "More than %d advisory IDs",
                           CAS_TEE_SIM_MAX_ADVISORIES);
    memcpy(cfg->advisories[cfg->advisory_count++], id, len + 1);
    return CAS_OK;
}

/* RFC 3339 in UTC at second precision, as PCS writes dates. */
static void
format_date(int64_t t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        memcpy(out, "1970-01-01T00:00:00Z", 21);
}

static void
hex_upper(const uint8_t *p, size_t n, char *out)
{
    cas_hex_encode(p, n, out);
    for (size_t i = 0; i < 2 * n; i++)
        if (out[i] >= 'a' && out[i] <= 'f')
            out[i] = (char)(out[i] - 'a' + 'A');
}

/* One TCB level: the 16 components with delta added to the first two, PCESVN + delta. */
static json_t *
tcb_level(int delta, const char *date, enum cas_tee_tcb_status status,
          const struct cas_tee_sim_config *advisories_from)
{
    json_t *comps = json_array(), *level = NULL, *ids = NULL;

    if (comps == NULL)
        return NULL;
    for (int i = 0; i < SIM_TCB_COMP_COUNT; i++) {
        int svn = sim_tcb_comps[i] + (i < 2 ? delta : 0);
        if (json_array_append_new(comps, json_pack("{s:i}", "svn", svn)) != 0) {
            json_decref(comps);
            return NULL;
        }
    }
    level = json_pack("{s:{s:o,s:i},s:s,s:s}", "tcb", "sgxtcbcomponents", comps, "pcesvn",
                      SIM_PCESVN + delta, "tcbDate", date, "tcbStatus",
                      cas_tee_tcb_status_name(status));
    if (level == NULL || advisories_from == NULL || advisories_from->advisory_count == 0)
        return level;
    if ((ids = json_array()) == NULL || json_object_set_new(level, "advisoryIDs", ids) != 0) {
        json_decref(level);
        return NULL;
    }
    for (size_t i = 0; i < advisories_from->advisory_count; i++) {
        if (json_array_append_new(ids, json_string(advisories_from->advisories[i])) != 0) {
            json_decref(level);
            return NULL;
        }
    }
    return level;
}

/*
 * The levels, newest first as PCS orders them. The platform's own level carries the configured
 * status and advisories; an UpToDate level above it (higher SVNs) exists when the status says
 * the platform is behind (OutOfDate*, Revoked); an OutOfDate level below it (lower SVNs) closes
 * the list unless the platform is Revoked, which PCS lists last.
 */
static json_t *
tcb_levels(const struct cas_tee_sim_config *cfg)
{
    static const char *const dates[] = {"2026-05-13T00:00:00Z", "2025-11-11T00:00:00Z",
                                        "2025-05-13T00:00:00Z"};
    enum cas_tee_tcb_status st = cfg->tcb_status;
    bool behind = st == CAS_TEE_TCB_OUT_OF_DATE ||
                  st == CAS_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED || st == CAS_TEE_TCB_REVOKED;
    json_t *levels = json_array();
    size_t d = 0;

    if (levels == NULL)
        return NULL;
    if ((behind && json_array_append_new(
                       levels, tcb_level(1, dates[d++], CAS_TEE_TCB_UP_TO_DATE, NULL)) != 0) ||
        json_array_append_new(levels, tcb_level(0, dates[d++], st, cfg)) != 0 ||
        (st != CAS_TEE_TCB_REVOKED &&
         json_array_append_new(levels, tcb_level(-1, dates[d], CAS_TEE_TCB_OUT_OF_DATE, NULL)) !=
             0)) {
        json_decref(levels);
        return NULL;
    }
    return levels;
}

static json_t *
tcb_info_body(const struct cas_tee_sim *sim, const char *issue, const char *next)
{
    char fmspc[13];

    hex_upper(sim->fmspc, sizeof(sim->fmspc), fmspc);
    return json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:o}", "id", "SGX", "version", 3,
                     "issueDate", issue, "nextUpdate", next, "fmspc", fmspc, "pceId", "0000",
                     "tcbType", 0, "tcbEvaluationDataNumber", SIM_TCB_EVALUATION_DATA_NUMBER,
                     "tcbLevels", tcb_levels(&sim->cfg));
}

static json_t *
qe_identity_body(const struct cas_tee_sim *sim, const char *issue, const char *next)
{
    char mrsigner[65];

    hex_upper(sim->qe_mrsigner, sizeof(sim->qe_mrsigner), mrsigner);
    return json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:[{s:{s:i},s:s,s:s}]}", "id",
                     "QE", "version", 2, "issueDate", issue, "nextUpdate", next,
                     "tcbEvaluationDataNumber", SIM_TCB_EVALUATION_DATA_NUMBER, "miscselect",
                     "00000000", "miscselectMask", "FFFFFFFF", "attributes",
                     "11000000000000000000000000000000", "attributesMask",
                     "FBFFFFFFFFFFFFFF0000000000000000", "mrsigner", mrsigner, "isvprodid",
                     SIM_QE_ISVPRODID, "tcbLevels", "tcb", "isvsvn", SIM_QE_ISVSVN, "tcbDate",
                     "2026-05-13T00:00:00Z", "tcbStatus", "UpToDate");
}

/* {"<key>":<body>,"signature":"<hex r||s>"}: the signature covers body's exact bytes. */
static cas_rc
sign_body(const struct cas_tee_sim *sim, const char *key, json_t *body, char **out,
          struct cas_err *err)
{
    char *text = NULL, hex[129];
    uint8_t sig[64];
    struct cas_buf b;
    cas_rc rc;

    *out = NULL;
    if (body == NULL || (text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(body);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory building '%s'", key);
    }
    json_decref(body);
    if ((rc = sim_sign_raw(sim->tcb_key, text, strlen(text), sig, err)) != CAS_OK)
        goto out;
    cas_hex_encode(sig, sizeof(sig), hex);
    cas_buf_init(&b, COLLATERAL_JSON_MAX);
    cas_buf_addf(&b, "{\"%s\":%s,\"signature\":\"%s\"}", key, text, hex);
    if (b.failed || (*out = cas_buf_detach(&b, NULL)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory building '%s'", key);
    cas_buf_release(&b);
out:
    free(text);
    return rc;
}

static cas_rc
chain_pem(X509 *first, X509 *root, char **pem, struct cas_err *err)
{
    size_t len = 0;
    cas_rc rc;

    *pem = NULL;
    if ((rc = sim_append_pem(first, pem, &len, err)) != CAS_OK ||
        (rc = sim_append_pem(root, pem, &len, err)) != CAS_OK) {
        free(*pem);
        *pem = NULL;
    }
    return rc;
}

static cas_rc
crl_b64(X509 *ca, EVP_PKEY *key, int64_t this_update, char **out, struct cas_err *err)
{
    uint8_t *der = NULL;
    size_t len = 0;
    cas_rc rc;

    *out = NULL;
    if ((rc = sim_make_crl(ca, key, this_update, &der, &len, err)) != CAS_OK)
        return rc;
    if ((*out = cas_malloc(cas_b64_encoded_len(len) + 1)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory encoding a CRL");
    else
        cas_b64_encode(der, len, *out, false);
    free(der);
    return rc;
}

/* Signs the whole collateral for the day starting at day_start. */
static cas_rc
build_collateral(const struct cas_tee_sim *sim, int64_t day_start, char **json, struct cas_err *err)
{
    char issue[21], next[21];
    char *tcb = NULL, *qe = NULL, *tcb_chain = NULL, *pck_chain = NULL, *pck_crl = NULL;
    char *root_crl = NULL;
    json_t *obj = NULL;
    cas_rc rc;

    *json = NULL;
    format_date(day_start, issue);
    format_date(day_start + (int64_t)SIM_COLLATERAL_DAYS * DAY_SECONDS, next);
    if ((rc = sign_body(sim, "tcbInfo", tcb_info_body(sim, issue, next), &tcb, err)) != CAS_OK ||
        (rc = sign_body(sim, "enclaveIdentity", qe_identity_body(sim, issue, next), &qe, err)) !=
            CAS_OK ||
        (rc = chain_pem(sim->tcb_cert, sim->root, &tcb_chain, err)) != CAS_OK ||
        (rc = chain_pem(sim->pck_ca, sim->root, &pck_chain, err)) != CAS_OK ||
        (rc = crl_b64(sim->pck_ca, sim->pck_ca_key, day_start, &pck_crl, err)) != CAS_OK ||
        (rc = crl_b64(sim->root, sim->root_key, day_start, &root_crl, err)) != CAS_OK)
        goto out;
    obj = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "tcb_info", tcb, "qe_identity", qe,
                    "tcb_info_issuer_chain", tcb_chain, "qe_identity_issuer_chain", tcb_chain,
                    "pck_crl_issuer_chain", pck_chain, "pck_crl", pck_crl, "root_ca_crl", root_crl);
    if (obj == NULL || (*json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory building the collateral");
out:
    json_decref(obj);
    free(tcb);
    free(qe);
    free(tcb_chain);
    free(pck_chain);
    free(pck_crl);
    free(root_crl);
    return rc;
}

cas_rc
cas_tee_sim_collateral(struct cas_tee_sim *sim, int64_t now, char **json, size_t *json_len,
                       struct cas_err *err)
{
    int64_t day = now / DAY_SECONDS;
    char *fresh = NULL;
    cas_rc rc = CAS_OK;

    *json = NULL;
    *json_len = 0;
    if (now < 0 || now > COLLATERAL_TIME_MAX)
        return cas_err_set(err, CAS_E_INVALID,
                           "Collateral time %lld is outside 1970-01-01 to 9999-12-01",
                           (long long)now);
    pthread_mutex_lock(&sim->lock);
    if (sim->cached_day != day) {
        if ((rc = build_collateral(sim, day * DAY_SECONDS, &fresh, err)) != CAS_OK)
            goto out;
        free(sim->cached_json);
        sim->cached_json = fresh;
        sim->cached_len = strlen(fresh);
        sim->cached_day = day;
    }
    if ((*json = cas_strndup(sim->cached_json, sim->cached_len)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory copying the collateral");
        goto out;
    }
    *json_len = sim->cached_len;
out:
    pthread_mutex_unlock(&sim->lock);
    if (rc != CAS_OK)
        cas_err_wrap(err, "Failed to sign the simulator collateral");
    return rc;
}

static cas_rc
write_member(const char *dir, const char *file, const void *p, size_t len, struct cas_err *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);

    if (n < 0 || (size_t)n >= sizeof(path))
        return cas_err_set(err, CAS_E_INVALID, "Path '%.200s/%s' is too long", dir, file);
    return cas_file_write_atomic(path, p, len, 0644, err);
}

/* Writes collateral member `key` (a JSON string) to dir/file, base64-decoded if der. */
static cas_rc
write_string_member(const char *dir, json_t *obj, const char *key, const char *file, bool der,
                    struct cas_err *err)
{
    json_t *v = json_object_get(obj, key);
    const char *s;
    uint8_t *bytes = NULL;
    size_t len, out_len = 0;
    cas_rc rc;

    if (!json_is_string(v))
        return cas_err_set(err, CAS_E_INVALID, "Collateral has no string '%s'", key);
    s = json_string_value(v);
    len = json_string_length(v);
    if (!der)
        return write_member(dir, file, s, len, err);
    if ((bytes = cas_malloc(len + 1)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory decoding '%s'", key);
    if (!cas_b64_decode(s, len, bytes, len + 1, &out_len, false))
        rc = cas_err_set(err, CAS_E_INVALID, "Collateral '%s' is not base64", key);
    else
        rc = write_member(dir, file, bytes, out_len, err);
    free(bytes);
    return rc;
}

cas_rc
cas_tee_collateral_write_dir(const char *dir, const uint8_t *quote, size_t quote_len,
                             const char *json, size_t json_len, struct cas_err *err)
{
    static const struct {
        const char *key, *file;
        bool der;
    } members[] = {
        {"tcb_info", "tcb_info.json", false},
        {"qe_identity", "qe_identity.json", false},
        {"tcb_info_issuer_chain", "tcb_info_issuer_chain.pem", false},
        {"qe_identity_issuer_chain", "qe_identity_issuer_chain.pem", false},
        {"pck_crl_issuer_chain", "pck_crl_issuer_chain.pem", false},
        {"pck_crl", "pck_crl.der", true},
        {"root_ca_crl", "root_ca_crl.der", true},
    };
    json_t *obj = NULL;
    json_error_t jerr;
    cas_rc rc = CAS_OK;

    if (json_len > COLLATERAL_JSON_MAX)
        return cas_err_set(err, CAS_E_TOOBIG, "Collateral is larger than %zu bytes",
                           COLLATERAL_JSON_MAX);
    if ((obj = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        rc = cas_err_set(err, CAS_E_INVALID, "Collateral is not JSON: %s", jerr.text);
        goto out;
    }
    if (!json_is_object(obj)) {
        rc = cas_err_set(err, CAS_E_INVALID, "Collateral is not a JSON object");
        goto out;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = cas_err_set(err, CAS_E_IO, "cannot make '%s': %s", dir, strerror(errno));
        goto out;
    }
    if ((rc = write_member(dir, "quote.bin", quote, quote_len, err)) != CAS_OK)
        goto out;
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        if ((rc = write_string_member(dir, obj, members[i].key, members[i].file, members[i].der,
                                      err)) != CAS_OK)
            goto out;
out:
    json_decref(obj);
    if (rc != CAS_OK)
        cas_err_wrap(err, "Failed to write the collateral to '%s'", dir);
    return rc;
}
