/*
 * attest.c - the service attestation decision (attest.h). Variants are tried in order; the
 * evidence passes when one variant holds entirely. When none does, every failed factor of every
 * variant is reported, so the user sees what each alternative lacked.
 */
#include "attest/attest.h"

#include <stdarg.h>

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/codec.h"

void
cas_attest_problem(struct cas_attest_decision *d, const char *fmt, ...)
{
    va_list ap;

    if (d->n >= CAS_ATTEST_PROBLEMS)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(d->problems[d->n++], CAS_ATTEST_PROBLEM_LEN, fmt, ap);
    va_end(ap);
}

/* One variant in plain values: from the policy, or from a config fragment. */
struct variant {
    const char *mrenclave[16];
    size_t n_mrenclave;
    bool has_signer, has_svn, has_min, has_max;
    const char *mrsigner;
    long long isvprodid, svn, svn_min, svn_max;
};

static bool
parse_num(const char *s, long long *out)
{
    long long v = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 6)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

static const char *
json_text(const json_t *j, char *buf, size_t cap)
{
    if (json_is_string(j))
        return json_string_value(j);
    if (json_is_integer(j)) {
        (void)snprintf(buf, cap, "%lld", (long long)json_integer_value(j));
        return buf;
    }
    return NULL;
}

/* A variant from a config fragment object {mrenclave: hex|[hex], signer: {...}}. */
static bool
variant_from_json(const json_t *o, struct variant *v, char num[4][24])
{
    const json_t *m = json_object_get(o, "mrenclave"), *s = json_object_get(o, "signer"), *e;
    size_t i;

    memset(v, 0, sizeof(*v));
    if (!json_is_object(o))
        return false;
    if (json_is_string(m)) {
        v->mrenclave[v->n_mrenclave++] = json_string_value(m);
    } else if (json_is_array(m)) {
        json_array_foreach(m, i, e)
        {
            if (json_is_string(e) && v->n_mrenclave < 16)
                v->mrenclave[v->n_mrenclave++] = json_string_value(e);
        }
    }
    if (json_is_object(s)) {
        v->has_signer = true;
        v->mrsigner = json_string_value(json_object_get(s, "mrsigner"));
        if (!parse_num(json_text(json_object_get(s, "isvprodid"), num[0], 24), &v->isvprodid))
            return false;
        v->has_svn = parse_num(json_text(json_object_get(s, "isvsvn"), num[1], 24), &v->svn);
        v->has_min =
            parse_num(json_text(json_object_get(s, "isvsvn_min"), num[2], 24), &v->svn_min);
        v->has_max =
            parse_num(json_text(json_object_get(s, "isvsvn_max"), num[3], 24), &v->svn_max);
    }
    return v->n_mrenclave > 0 || v->has_signer;
}

static void
variant_from_policy(const struct cas_policy_variant *pv, struct variant *v)
{
    memset(v, 0, sizeof(*v));
    for (size_t i = 0; i < pv->mrenclave_count && v->n_mrenclave < 16; i++) {
        if (pv->mrenclave[i].text != NULL)
            v->mrenclave[v->n_mrenclave++] = pv->mrenclave[i].text;
    }
    if (pv->has_signer) {
        v->has_signer = true;
        v->mrsigner = pv->signer.mrsigner.text;
        (void)parse_num(pv->signer.isvprodid.text, &v->isvprodid);
        v->has_svn = pv->signer.has_isvsvn && parse_num(pv->signer.isvsvn.text, &v->svn);
        v->has_min =
            pv->signer.has_isvsvn_min && parse_num(pv->signer.isvsvn_min.text, &v->svn_min);
        v->has_max =
            pv->signer.has_isvsvn_max && parse_num(pv->signer.isvsvn_max.text, &v->svn_max);
    }
}

/* Checks one variant; adds one problem per failed factor; true when it holds. */
static bool
check_variant(const struct variant *v, const struct cas_dcap_verdict *vd,
              struct cas_attest_decision *d)
{
    bool td = vd->quote.body_type != CAS_DCAP_BODY_SGX, ok = true;
    char seen[97], want[1024];
    size_t off = 0;

    if (td)
        cas_hex_encode(vd->quote.td.mrtd, 48, seen);
    else
        cas_hex_encode(vd->quote.sgx.mrenclave, 32, seen);
    if (v->n_mrenclave > 0) {
        bool match = false;
        for (size_t i = 0; i < v->n_mrenclave; i++) {
            match |= strcmp(v->mrenclave[i], seen) == 0;
            off += (size_t)snprintf(want + off, sizeof(want) - off, "%s%s", i ? " or " : "",
                                    v->mrenclave[i]);
            if (off >= sizeof(want))
                off = sizeof(want) - 1;
        }
        if (!match) {
            cas_attest_problem(d, "Unexpected enclave measurement (%s, %s) - Expected %s",
                               td ? "MRTD" : "MRENCLAVE", seen, want);
            ok = false;
        }
    }
    if (v->has_signer) {
        const struct cas_sgx_report *r = &vd->quote.sgx;
        char signer[65];
        if (td) {
            cas_attest_problem(
                d, "Unexpected evidence type (%s) - Expected SGX evidence for a signer variant",
                vd->evidence_type);
            return false;
        }
        cas_hex_encode(r->mrsigner, 32, signer);
        if (v->mrsigner == NULL || strcmp(v->mrsigner, signer) != 0) {
            cas_attest_problem(d, "Unexpected enclave signer (MRSIGNER, %s) - Expected %s", signer,
                               v->mrsigner != NULL ? v->mrsigner : "(none)");
            ok = false;
        }
        if ((long long)r->isvprodid != v->isvprodid) {
            cas_attest_problem(d, "Unexpected product (ISVPRODID, %u) - Expected %lld",
                               r->isvprodid, v->isvprodid);
            ok = false;
        }
        if (v->has_svn && (long long)r->isvsvn != v->svn) {
            cas_attest_problem(d,
                               "Unexpected security version (ISVSVN, %u) - Expected exactly %lld",
                               r->isvsvn, v->svn);
            ok = false;
        }
        if (v->has_min && (long long)r->isvsvn < v->svn_min) {
            cas_attest_problem(d,
                               "Unexpected security version (ISVSVN, %u) - Expected at least %lld",
                               r->isvsvn, v->svn_min);
            ok = false;
        }
        if (v->has_max && (long long)r->isvsvn > v->svn_max) {
            cas_attest_problem(d,
                               "Unexpected security version (ISVSVN, %u) - Expected at most %lld",
                               r->isvsvn, v->svn_max);
            ok = false;
        }
    }
    return ok;
}

/* Tries each variant (placeholders expanded); true when one holds. */
static bool
variants_hold(const struct cas_policy_service *svc, const struct cas_dcap_verdict *vd,
              cas_attest_fragment_fn fragment, void *ctx, struct cas_attest_decision *d)
{
    struct cas_attest_decision scratch = {0};
    struct variant v;
    char num[4][24];

    for (size_t i = 0; i < svc->variant_count; i++) {
        const struct cas_policy_variant *pv = &svc->variants[i];
        if (pv->whole.ph != NULL) {
            const json_t *f = fragment != NULL ? fragment(ctx, pv->whole.ph->secret) : NULL;
            const json_t *e;
            size_t j;
            if (json_is_object(f)) {
                if (variant_from_json(f, &v, num) && check_variant(&v, vd, &scratch))
                    return true;
            } else if (json_is_array(f)) {
                json_array_foreach(f, j, e)
                {
                    if (variant_from_json(e, &v, num) && check_variant(&v, vd, &scratch))
                        return true;
                }
            } else {
                cas_attest_problem(&scratch, "Variant $$SCONE::%s$$ does not resolve to a variant",
                                   pv->whole.ph->secret);
            }
            continue;
        }
        variant_from_policy(pv, &v);
        if (check_variant(&v, vd, &scratch))
            return true;
    }
    for (unsigned i = 0; i < scratch.n; i++)
        cas_attest_problem(d, "%s", scratch.problems[i]);
    if (svc->variant_count == 0)
        cas_attest_problem(d,
                           "Service has no attestation variant - Expected one unless mode is none");
    return false;
}

static void
check_platform(const struct cas_policy_service *svc, const struct cas_dcap_verdict *vd,
               cas_attest_fragment_fn fragment, void *ctx, struct cas_attest_decision *d)
{
    char seen[65];
    struct cas_buf want;
    bool match = false;

    if (svc->platform_count == 0)
        return;
    cas_hex_encode(vd->platform_id, 32, seen);
    cas_buf_init(&want, CAS_ATTEST_PROBLEM_LEN / 2);
    for (size_t i = 0; i < svc->platform_count; i++) {
        const struct cas_policy_value *pv = &svc->platforms[i];
        if (pv->text != NULL) {
            match |= vd->has_platform && strcmp(pv->text, seen) == 0;
            cas_buf_addf(&want, "%s%s", want.len ? ", " : "", pv->text);
        } else if (pv->ph != NULL && fragment != NULL) {
            const json_t *f = fragment(ctx, pv->ph->secret), *e;
            size_t j;
            if (json_is_string(f)) {
                match |= vd->has_platform && strcmp(json_string_value(f), seen) == 0;
                cas_buf_addf(&want, "%s%s", want.len ? ", " : "", json_string_value(f));
            }
            json_array_foreach(f, j, e)
            {
                if (!json_is_string(e))
                    continue;
                match |= vd->has_platform && strcmp(json_string_value(e), seen) == 0;
                cas_buf_addf(&want, "%s%s", want.len ? ", " : "", json_string_value(e));
            }
        }
    }
    if (!match)
        cas_attest_problem(d, "Unexpected platform (%s) - Expected one of %s", seen, want.buf);
    cas_buf_release(&want);
}

static bool
ignored(const struct cas_policy_security *sec, const char *id)
{
    if (sec->ignore_all_advisories)
        return true;
    for (size_t i = 0; i < sec->advisory_count; i++) {
        if (strcmp(sec->advisories[i], id) == 0)
            return true;
    }
    return false;
}

/* policy.md §11 step 3. */
static void
check_tcb(const struct cas_policy_security *sec, const struct cas_attest_evidence *ev,
          struct cas_attest_decision *d)
{
    static const struct {
        const char *id;
        unsigned tol;
    } shortcuts[] = {{"INTEL-SA-00233", CAS_POLICY_TOL_HYPERTHREADING},
                     {"INTEL-SA-00219", CAS_POLICY_TOL_INSECURE_IGPU},
                     {"INTEL-SA-00657", CAS_POLICY_TOL_AEPIC_LEAK}};
    const struct cas_dcap_verdict *vd = ev->vd;
    enum cas_dcap_status s = vd->status;
    bool ood = s == CAS_DCAP_OUT_OF_DATE || s == CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED ||
               s == CAS_DCAP_TD_RELAUNCH_ADVISED ||
               s == CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    bool conf = s == CAS_DCAP_CONFIGURATION_NEEDED ||
                s == CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
                s == CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED ||
                s == CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    bool sw =
        s == CAS_DCAP_SW_HARDENING_NEEDED || s == CAS_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED;
    struct cas_buf all, missing_adv, fix;
    unsigned remaining = 0;
    bool adv_ok = true;

    if (ev->revoked) {
        cas_attest_problem(d, "TCB status Revoked: no tolerance accepts a revoked platform");
        return;
    }
    if (s == CAS_DCAP_UP_TO_DATE)
        return;
    cas_buf_init(&all, 512);
    cas_buf_init(&missing_adv, 512);
    cas_buf_init(&fix, 512);
    for (unsigned i = 0; i < vd->advisories.count; i++) {
        const char *id = vd->advisories.id[i];
        bool covered = false;
        cas_buf_addf(&all, "%s%s", i ? ", " : "", id);
        for (size_t k = 0; k < sizeof(shortcuts) / sizeof(shortcuts[0]); k++)
            covered |= strcmp(shortcuts[k].id, id) == 0 && (sec->tolerate & shortcuts[k].tol);
        if (covered)
            continue;
        remaining++;
        if (!ignored(sec, id)) {
            adv_ok = false;
            cas_buf_addf(&missing_adv, "%s%s", missing_adv.len ? ", " : "", id);
        }
    }
    if (remaining == 0 && vd->advisories.count > 0)
        goto out;
    if ((!ood || (sec->tolerate & CAS_POLICY_TOL_OUTDATED_TCB)) &&
        (!conf || (sec->tolerate & CAS_POLICY_TOL_INSECURE_CONFIG)) &&
        (!sw || (sec->tolerate & CAS_POLICY_TOL_SW_HARDENING)) && adv_ok)
        goto out;
    if (ood && !(sec->tolerate & CAS_POLICY_TOL_OUTDATED_TCB))
        cas_buf_addf(&fix, "%soutdated-tcb", fix.len ? " and " : "");
    if (conf && !(sec->tolerate & CAS_POLICY_TOL_INSECURE_CONFIG))
        cas_buf_addf(&fix, "%sinsecure-configuration", fix.len ? " and " : "");
    if (sw && !(sec->tolerate & CAS_POLICY_TOL_SW_HARDENING))
        cas_buf_addf(&fix, "%ssoftware-hardening-needed", fix.len ? " and " : "");
    cas_attest_problem(
        d, "TCB status %s (%s): add %s%s%s%s%s", cas_dcap_status_name(s),
        all.len ? all.buf : "no advisories", fix.len ? fix.buf : "", fix.len ? " to tolerate" : "",
        fix.len && !adv_ok ? " and " : "",
        /* policy.md §11's words when none of the advisories is ignored yet */
        adv_ok ? "" : (strcmp(missing_adv.buf, all.buf) == 0 ? "the advisories" : missing_adv.buf),
        adv_ok ? "" : " to ignore_advisories");
out:
    cas_buf_release(&all);
    cas_buf_release(&missing_adv);
    cas_buf_release(&fix);
}

cas_rc
cas_attest_decide(const struct cas_policy *p, const struct cas_policy_service *svc,
                  const struct cas_attest_evidence *ev, const char *access_token,
                  cas_attest_fragment_fn fragment, void *ctx, struct cas_attest_decision *out,
                  struct cas_err *err)
{
    const struct cas_policy_security *sec = &p->security;
    const char *want = sec->service_access_token;

    (void)err;
    memset(out, 0, sizeof(*out));
    if (sec->mode != CAS_POLICY_MODE_NONE) {
        if (!ev->present) {
            cas_attest_problem(out, "No evidence - Expected evidence of the service's TEE (or "
                                    "security.attestation.mode: none)");
        } else if (!ev->verified) {
            cas_attest_problem(out, "Evidence does not verify: %s",
                               ev->failure != NULL ? ev->failure : "?");
        } else {
            (void)variants_hold(svc, ev->vd, fragment, ctx, out);
            check_platform(svc, ev->vd, fragment, ctx, out);
            if (ev->vd->debug && !(sec->tolerate & CAS_POLICY_TOL_DEBUG_MODE))
                cas_attest_problem(out,
                                   "Enclave runs in debug mode, which cannot protect secrets - add "
                                   "debug-mode to security.attestation.tolerate to accept it");
            if (ev->simulator && sec->mode != CAS_POLICY_MODE_SIM)
                cas_attest_problem(
                    out, "evidence comes from the software TEE simulator; it is accepted only "
                         "under 'mode: sim' with tolerate: [debug-mode]");
            check_tcb(sec, ev, out);
        }
    }
    if (want != NULL) {
        size_t wl = strlen(want);
        if (access_token == NULL || strlen(access_token) != wl ||
            CRYPTO_memcmp(access_token, want, wl) != 0) {
            out->wrong_token = true;
            cas_attest_problem(out, "Wrong or missing service access token");
        }
    }
    return CAS_OK;
}
