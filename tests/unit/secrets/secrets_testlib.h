/* secrets_testlib.h - helpers shared by the lib/secrets tests: sessions from YAML text, a value
 * store behind the resolver, certificates and texts out of values. */
#ifndef CAS_TEST_SECRETS_TESTLIB_H
#define CAS_TEST_SECRETS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "secrets/secrets.h"

/* 2026-11-22T12:00:00Z: every test's "now". */
#define TL_NOW ((int64_t)1795348800)
#define TL_MAX 64

struct tl_store {
    size_t n;
    const char *names[TL_MAX];
    struct cas_secret_value *vals[TL_MAX];
};

/* A session with every secret made at TL_NOW: the fixture of most test files. */
struct tl_fx {
    struct cas_policy *p;
    struct tl_store st;
};
struct tl_fx *tl_fx_new(const char *yaml);
/* cmocka group teardown for a struct tl_fx in *state. */
int tl_fx_teardown(void **state);

/* The parsed session (fails the test when it does not parse). */
struct cas_policy *tl_policy(const char *yaml);
/* cas_secrets_resolve_fn over a struct tl_store. */
cas_rc tl_resolve(void *ctx, const char *name, const struct cas_secret_value **out,
                  struct cas_err *err);
/* Makes every non-imported secret of p in cas_secrets_order() order; returns the first error. */
cas_rc tl_make_all(const struct cas_policy *p, struct tl_store *st, int64_t now,
                   struct cas_err *err);
/* Adds (takes) or replaces a value. */
void tl_put(struct tl_store *st, const char *name, struct cas_secret_value *v);
const struct cas_secret_value *tl_get(const struct tl_store *st, const char *name);
void tl_release(struct tl_store *st);
/* The secret's bytes as a malloc'd terminated string (tests only). */
char *tl_text(const struct cas_secret *s, size_t *len);
/* The certificate of a value; the private key of a PEM secret. */
X509 *tl_cert(const char *pem);
EVP_PKEY *tl_key(const struct cas_secret *pem);
/* Appends `key: |` and the text indented under it (a YAML literal block) to a string. */
char *tl_yaml_block(char *yaml, const char *key, const char *text);
/* The whole PEM: a value's certificate, then its chain. */
char *tl_cert_and_chain(const struct cas_secret_value *v);

#endif
