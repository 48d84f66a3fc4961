/*
 * secrets_update.c - what becomes of stored values when a session changes or time passes:
 * policy.md §8.2 (generated values on update) and §8.1 (re-issue when a third of the life
 * remains, and with the issuer), plus the order in which secrets can be made. Pure decisions:
 * no value is made here.
 */
#include <stdlib.h>

#include "secrets/secrets.h"
#include "util/alloc.h"

enum cas_secrets_action
cas_secrets_on_update(const struct cas_policy_secret *old_def,
                      const struct cas_secret_value *old_value,
                      const struct cas_policy_secret *new_def)
{
    if (new_def->source == CAS_POLICY_IMPORTED)
        return CAS_SECRETS_IMPORT;
    if (new_def->source != CAS_POLICY_GENERATED || old_def == NULL || old_value == NULL ||
        old_def->source != CAS_POLICY_GENERATED || old_def->kind != new_def->kind ||
        old_value->kind != new_def->kind || !old_value->is_generated)
        return CAS_SECRETS_MAKE;
    switch (new_def->kind) {
    case CAS_POLICY_KIND_ASCII:
    case CAS_POLICY_KIND_BINARY:
        return old_def->size == new_def->size ? CAS_SECRETS_KEEP : CAS_SECRETS_MAKE;
    case CAS_POLICY_KIND_PRIVATE_KEY:
        return old_def->migrate && new_def->migrate && old_def->key_type == new_def->key_type &&
                       old_value->key_type == new_def->key_type
                   ? CAS_SECRETS_KEEP
                   : CAS_SECRETS_MAKE;
    default:
        return CAS_SECRETS_MAKE; /* public keys derived again, certificates re-issued */
    }
}

bool
cas_secrets_is_due(const struct cas_secret_value *v, int64_t now)
{
    return (v->kind == CAS_POLICY_KIND_X509 || v->kind == CAS_POLICY_KIND_X509_CA) &&
           v->is_generated && v->renew_at != 0 && now >= v->renew_at;
}

/* The index of the secret p declares as name, or p->secret_count. */
static size_t
index_of(const struct cas_policy *p, const char *name)
{
    const struct cas_policy_secret *s = name != NULL ? cas_policy_secret_find(p, name) : NULL;

    return s != NULL ? (size_t)(s - p->secrets) : p->secret_count;
}

enum { WHITE, GREY, BLACK };

/* Depth-first post-order over private_key and issuer, iterative: a chain of issuers may be as
 * long as the policy allows secrets, deeper than any stack should go. */
static cas_rc
visit(const struct cas_policy *p, size_t root, unsigned char *mark, size_t *stack, size_t *order,
      size_t *n, struct cas_err *err)
{
    size_t top = 0;

    stack[top++] = root;
    mark[root] = GREY;
    while (top > 0) {
        size_t i = stack[top - 1], next = p->secret_count;
        const char *refs[2] = {p->secrets[i].private_key, p->secrets[i].issuer};
        for (int r = 0; r < 2 && next == p->secret_count; r++) {
            size_t k = index_of(p, refs[r]);
            if (k == p->secret_count || mark[k] == BLACK)
                continue;
            if (mark[k] == GREY)
                return cas_err_set(err, CAS_E_INVALID,
                                   "secret '%s' is its own issuer through a cycle of issuers; "
                                   "let one of them be self-signed",
                                   p->secrets[k].name);
            next = k;
        }
        if (next == p->secret_count) {
            mark[i] = BLACK;
            order[(*n)++] = i;
            top--;
        } else {
            mark[next] = GREY;
            stack[top++] = next;
        }
    }
    return CAS_OK;
}

cas_rc
cas_secrets_order(const struct cas_policy *p, size_t *order, struct cas_err *err)
{
    unsigned char *mark = cas_calloc(p->secret_count + 1, 1);
    size_t *stack = cas_calloc(p->secret_count + 1, sizeof(*stack)), n = 0;
    cas_rc rc = CAS_OK;

    if (mark == NULL || stack == NULL)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory ordering %zu secrets", p->secret_count);
    for (size_t i = 0; i < p->secret_count && rc == CAS_OK; i++)
        if (mark[i] == WHITE)
            rc = visit(p, i, mark, stack, order, &n, err);
    free(mark);
    free(stack);
    return rc;
}

cas_rc
cas_secrets_renewals(const struct cas_policy *p, cas_secrets_resolve_fn resolve, void *ctx,
                     int64_t now, bool *reissue, struct cas_err *err)
{
    size_t *order = cas_calloc(p->secret_count + 1, sizeof(*order));
    cas_rc rc;

    if (order == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory planning renewals");
    if ((rc = cas_secrets_order(p, order, err)) != CAS_OK)
        goto out;
    for (size_t n = 0; n < p->secret_count; n++) {
        size_t i = order[n], up;
        const struct cas_policy_secret *s = &p->secrets[i];
        const struct cas_secret_value *v = NULL;
        reissue[i] = false;
        if (s->source != CAS_POLICY_GENERATED ||
            (s->kind != CAS_POLICY_KIND_X509 && s->kind != CAS_POLICY_KIND_X509_CA))
            continue;
        if ((rc = resolve(ctx, s->name, &v, err)) == CAS_E_NOTFOUND) {
            cas_err_clear(err);
            rc = CAS_OK;
            continue;
        }
        if (rc != CAS_OK) {
            (void)cas_err_wrap(err, "Failed to read secret '%s' for renewal", s->name);
            goto out;
        }
        up = index_of(p, s->issuer);
        reissue[i] =
            v != NULL && (cas_secrets_is_due(v, now) || (up < p->secret_count && reissue[up]));
    }
out:
    free(order);
    return rc;
}
