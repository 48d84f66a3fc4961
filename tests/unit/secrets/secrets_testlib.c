/* secrets_testlib.c - see secrets_testlib.h. */
#include "secrets_testlib.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

struct cas_policy *
tl_policy(const char *yaml)
{
    struct cas_policy_options opt = {0};
    struct cas_policy_diags d;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    cas_rc rc;

    cas_policy_diags_init(&d);
    rc = cas_policy_parse((const uint8_t *)yaml, strlen(yaml), &opt, &p, &d, &err);
    for (size_t i = 0; i < d.count; i++)
        if (d.items[i].severity == CAS_POLICY_ERROR)
            fprintf(stderr, "%u:%u: %s\n", d.items[i].line, d.items[i].column, d.items[i].text);
    cas_policy_diags_release(&d);
    assert_int_equal(rc, CAS_OK);
    return p;
}

cas_rc
tl_resolve(void *ctx, const char *name, const struct cas_secret_value **out, struct cas_err *err)
{
    const struct cas_secret_value *v = tl_get(ctx, name);

    *out = v;
    return v != NULL ? CAS_OK : cas_err_set(err, CAS_E_NOTFOUND, "no value of '%s'", name);
}

void
tl_put(struct tl_store *st, const char *name, struct cas_secret_value *v)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->names[i], name) == 0) {
            cas_secrets_value_free(st->vals[i]);
            st->vals[i] = v;
            return;
        }
    assert_true(st->n < TL_MAX);
    st->names[st->n] = name;
    st->vals[st->n++] = v;
}

const struct cas_secret_value *
tl_get(const struct tl_store *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->names[i], name) == 0)
            return st->vals[i];
    return NULL;
}

void
tl_release(struct tl_store *st)
{
    for (size_t i = 0; i < st->n; i++)
        cas_secrets_value_free(st->vals[i]);
    st->n = 0;
}

cas_rc
tl_make_all(const struct cas_policy *p, struct tl_store *st, int64_t now, struct cas_err *err)
{
    size_t order[TL_MAX];
    cas_rc rc;

    assert_true(p->secret_count <= TL_MAX);
    if ((rc = cas_secrets_order(p, order, err)) != CAS_OK)
        return rc;
    for (size_t n = 0; n < p->secret_count; n++) {
        const struct cas_policy_secret *s = &p->secrets[order[n]];
        struct cas_secret_value *v = NULL;
        if (s->source == CAS_POLICY_IMPORTED)
            continue;
        if ((rc = cas_secrets_make(s, now, tl_resolve, st, &v, err)) != CAS_OK)
            return rc;
        tl_put(st, s->name, v);
    }
    return CAS_OK;
}

struct tl_fx *
tl_fx_new(const char *yaml)
{
    struct tl_fx *f = calloc(1, sizeof(*f));
    struct cas_err err = {0};

    assert_non_null(f);
    f->p = tl_policy(yaml);
    assert_int_equal(tl_make_all(f->p, &f->st, TL_NOW, &err), CAS_OK);
    return f;
}

int
tl_fx_teardown(void **state)
{
    struct tl_fx *f = *state;

    tl_release(&f->st);
    cas_policy_free(f->p);
    free(f);
    return 0;
}

char *
tl_text(const struct cas_secret *s, size_t *len)
{
    size_t n;
    const uint8_t *p = cas_secret_peek(s, &n);
    char *t = malloc(n + 1);

    assert_non_null(t);
    memcpy(t, p, n);
    t[n] = '\0';
    if (len != NULL)
        *len = n;
    return t;
}

X509 *
tl_cert(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);

    BIO_free(bio);
    assert_non_null(c);
    return c;
}

EVP_PKEY *
tl_key(const struct cas_secret *pem)
{
    size_t n;
    const uint8_t *p = cas_secret_peek(pem, &n);
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");

    BIO_free(bio);
    assert_non_null(k);
    return k;
}

char *
tl_yaml_block(char *yaml, const char *key, const char *text)
{
    size_t cap = strlen(yaml) + 2 * strlen(text) + strlen(key) + 64, len;
    char *out = realloc(yaml, cap);
    const char *line = text;

    assert_non_null(out);
    len = strlen(out);
    len += (size_t)snprintf(out + len, cap - len, "    %s: |\n", key);
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);
        len += (size_t)snprintf(out + len, cap - len, "      %.*s\n", (int)n, line);
        line += n + (nl != NULL);
    }
    return out;
}

char *
tl_cert_and_chain(const struct cas_secret_value *v)
{
    size_t a = strlen(v->pem), b = v->chain != NULL ? strlen(v->chain) : 0;
    char *s = malloc(a + b + 1);

    assert_non_null(s);
    memcpy(s, v->pem, a);
    if (b > 0)
        memcpy(s + a, v->chain, b);
    s[a + b] = '\0';
    return s;
}
