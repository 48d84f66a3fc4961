/*
 * secrets_x509.h - certificates of x509 and x509-ca secrets (policy.md §8.1): issuing generated
 * ones, checking explicit ones. Internal to lib/secrets.
 */
#ifndef CAS_SECRETS_X509_H
#define CAS_SECRETS_X509_H

#include "secrets/secrets.h"

/* Issues def's certificate at now into v (pem, chain, key, times). */
cas_rc x509_issue(const struct cas_policy_secret *def, int64_t now, cas_secrets_resolve_fn resolve,
                  void *ctx, struct cas_secret_value *v, struct cas_err *err) CAS_MUST_CHECK;

/* Checks def's explicit certificate and chain and fills v. */
cas_rc x509_explicit(const struct cas_policy_secret *def, cas_secrets_resolve_fn resolve, void *ctx,
                     struct cas_secret_value *v, struct cas_err *err) CAS_MUST_CHECK;

#endif
