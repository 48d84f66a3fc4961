/*
 * secrets.h - the values of session secrets (spec/policy.md §8, §9; api.md §2.2): generating
 * every kind, checking explicit values, deciding what survives an update or is due for renewal,
 * encoding a value as one byte string for the store, the values API JSON, and rendering a value
 * in each placeholder format.
 *
 * This module stores nothing and reads no clock: the caller keeps values (sealed) and passes
 * `now` (Unix seconds, UTC). Secrets that name other secrets (`private_key`, `issuer`) get their
 * values through a resolver the caller supplies, so generate in cas_secrets_order() order.
 *
 * Secret bytes live in struct cas_secret only; no error message carries a value. Thread safe:
 * no shared state (distinct values may be used from distinct threads).
 */
#ifndef CAS_SECRETS_SECRETS_H
#define CAS_SECRETS_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <stdbool.h>

#include "cas/err.h"
#include "policy/placeholder.h"
#include "policy/policy.h"

struct cas_secret;

/* RFC 5280's "no well-defined expiration", 99991231235959Z, as Unix seconds. */
#define CAS_SECRETS_NEVER ((int64_t)253402300799)
/* Ceilings: one text or byte field of a value, the certificates in a chain, an encoding. */
#define CAS_SECRETS_FIELD_MAX (1024u * 1024u)
#define CAS_SECRETS_CHAIN_MAX 16u
#define CAS_SECRETS_ENCODED_MAX (4u * CAS_SECRETS_FIELD_MAX + 64u)

/*
 * One secret's value. Which fields are set depends on the kind (unused ones are NULL or 0):
 *   ascii            data: the text (UTF-8, no NUL)
 *   binary           data: the bytes (1 to 65,536)
 *   private-key      data: unencrypted PEM PKCS#8; key_type
 *   public-key       pem: PEM SubjectPublicKeyInfo
 *   x509, x509-ca    pem: the certificate's PEM; chain: PEM of its issuers, from the first
 *                    intermediate up to the root (NULL when self-signed or none was given);
 *                    key: PKCS#8 PEM of its private key (NULL when unknown, or left out on
 *                    import); not_before, not_after (CAS_SECRETS_NEVER: never expires);
 *                    renew_at: when a third of its life remains (0: never re-issued)
 *   config-fragment  data: the value as RFC 8785 canonical JSON text
 * pem and chain are NUL-terminated heap strings (public data).
 */
struct cas_secret_value {
    enum cas_policy_kind kind;
    enum cas_policy_key_type key_type;
    bool is_generated; /* made by the server, not given in the session */
    struct cas_secret *data;
    char *pem;
    char *chain;
    struct cas_secret *key;
    int64_t not_before, not_after, renew_at;
    /* In-memory forms of data/key (the private key) and pem (the certificate), kept when this
     * process made them so issuing from them needs no PEM decoding; never encoded or copied. */
    struct evp_pkey_st *obj_key;
    struct x509_st *obj_cert;
};

/* Wipes and frees; NULL is fine. */
void cas_secrets_value_free(struct cas_secret_value *v);

/*
 * A deep copy; with_key false leaves out a certificate's private key (an import whose exporter
 * does not export the key secret to the importer, policy.md §8.3).
 */
cas_rc cas_secrets_value_dup(const struct cas_secret_value *v, bool with_key,
                             struct cas_secret_value **out, struct cas_err *err) CAS_MUST_CHECK;

/*
 * Looks up the current value of the secret `name` (of the same session, or the value an import
 * resolves to). *out is borrowed and must stay valid until the call that asked returns; NULL
 * with CAS_OK, or CAS_E_NOTFOUND, both mean "no value". Any other code aborts the caller.
 */
typedef cas_rc (*cas_secrets_resolve_fn)(void *ctx, const char *name,
                                         const struct cas_secret_value **out, struct cas_err *err);

/*
 * The value of secret def: a generated one (with policy.md §8's defaults) or, for an explicit
 * value, the checked and normalised one. now is the issue time of certificates. References
 * (private_key, issuer) go through resolve(ctx, …). Errors name the secret, never its value:
 * CAS_E_INVALID for a bad explicit value or reference, CAS_E_UNSUPPORTED for an imported secret
 * (its value comes from its exporter), CAS_E_CRYPTO, CAS_E_NOMEM.
 */
cas_rc cas_secrets_make(const struct cas_policy_secret *def, int64_t now,
                        cas_secrets_resolve_fn resolve, void *ctx, struct cas_secret_value **out,
                        struct cas_err *err) CAS_MUST_CHECK;

/* ---- updates and renewal (policy.md §8.1, §8.2) ---- */

enum cas_secrets_action {
    CAS_SECRETS_KEEP,   /* the predecessor's value survives */
    CAS_SECRETS_MAKE,   /* cas_secrets_make() a new value (generate, re-issue, or explicit) */
    CAS_SECRETS_IMPORT, /* imported: nothing stored; resolve it from the exporter */
};

/*
 * What an update does to secret new_def, given the predecessor's secret of the same name
 * (old_def, NULL when the predecessor had none) and its stored value (old_value, NULL when none).
 * A generated value survives when both are generated, of the same kind, and: ascii/binary have
 * the same size; private keys say `migrate: true` on both sides with the same key_type.
 * Public keys are derived again, certificates always re-issued (§8.2).
 */
enum cas_secrets_action cas_secrets_on_update(const struct cas_policy_secret *old_def,
                                              const struct cas_secret_value *old_value,
                                              const struct cas_policy_secret *new_def);

/* Whether the generated certificate v is due for re-issue at now (a third of its life left). */
bool cas_secrets_is_due(const struct cas_secret_value *v, int64_t now);

/*
 * order[0..p->secret_count) receives the indices of p->secrets so that each secret follows the
 * secrets its private_key and issuer name. A cycle of issuers is CAS_E_INVALID naming a secret
 * on it. References to secrets p does not declare are ignored (the policy reports those).
 */
cas_rc cas_secrets_order(const struct cas_policy *p, size_t *order,
                         struct cas_err *err) CAS_MUST_CHECK;

/*
 * Renewal sweep: reissue[i] is set for each generated x509/x509-ca secret i of p that is due at
 * now, or whose issuer (in p) is re-issued in this sweep (§8.1: "certificates it issued are
 * re-issued with it"). Current values come from resolve; a secret without one is not marked.
 * Re-issue the marked secrets with cas_secrets_make() in cas_secrets_order() order.
 */
cas_rc cas_secrets_renewals(const struct cas_policy *p, cas_secrets_resolve_fn resolve, void *ctx,
                            int64_t now, bool *reissue, struct cas_err *err) CAS_MUST_CHECK;

/* ---- storage encoding (docs/internals/secrets.md) ---- */

/*
 * One versioned byte string holding v (key material included: the caller seals it). *out is a
 * new secret of at most CAS_SECRETS_ENCODED_MAX bytes.
 */
cas_rc cas_secrets_encode(const struct cas_secret_value *v, struct cas_secret **out,
                          struct cas_err *err) CAS_MUST_CHECK;

/*
 * The value in p[0..len), read as untrusted: wrong magic or version, a field over its ceiling or
 * not allowed for the kind, inconsistent times, embedded NUL in text, trailing bytes: all
 * CAS_E_INVALID. An accepted input encodes back to exactly the same bytes.
 */
cas_rc cas_secrets_decode(const uint8_t *p, size_t len, struct cas_secret_value **out,
                          struct cas_err *err) CAS_MUST_CHECK;

/* ---- the values API (api.md §2.2) ---- */

/*
 * {"kind", "value", "expires", "renew"}, built in that order. Dump it with JSON_PRESERVE_ORDER
 * (cas_secrets_json_dump does); a private-key value puts key text into jansson's heap, so casd
 * must have given jansson wiping allocators.
 */
cas_rc cas_secrets_value_json(const struct cas_secret_value *v, json_t **out,
                              struct cas_err *err) CAS_MUST_CHECK;

/*
 * j as api.md prints it: one line, ", " and ": " separators, key order kept, e.g.
 * {"kind": "string", "value": "42", "expires": null, "renew": null}. Into a secret, since a
 * private-key value is one. Not terminated; cas_secret_len() gives the length.
 */
cas_rc cas_secrets_json_dump(const json_t *j, struct cas_secret **out,
                             struct cas_err *err) CAS_MUST_CHECK;

/* ---- placeholders (policy.md §9) ---- */

/* Whether kind has format f (CAS_FMT_DEFAULT: always, but see cas_secrets_render). */
bool cas_secrets_kind_has_format(enum cas_policy_kind kind, enum cas_policy_format f);

/*
 * v rendered in format f, then JSON-escaped when escape_json (RFC 8259 §7, no quotes). *is_binary
 * says the bytes are not text (§9's asterisk: the caller refuses them in argv, environment and
 * pwd); binary formats with escape_json are CAS_E_INVALID. A format the kind lacks, or a format
 * needing a private key the value does not carry (privatekey, pkcs12-with-private-key), is
 * CAS_E_INVALID; the caller wraps the error with the secret's name.
 */
cas_rc cas_secrets_render(const struct cas_secret_value *v, enum cas_policy_format f,
                          bool escape_json, struct cas_secret **out, bool *is_binary,
                          struct cas_err *err) CAS_MUST_CHECK;

#endif
