/*
 * launch.c - what cas-run hands the program (api.md §4, policy.md §5): argv with the host
 * arguments (@@N) filled in, and exactly the session's environment plus the host variables it
 * names. Nothing the session does not name is passed on.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util/alloc.h"

/* N of an argument that is exactly "@@N", N 1..999 without a leading zero; 0 otherwise. */
static unsigned
host_arg_index(const char *s)
{
    unsigned n = 0;
    size_t i;

    if (s[0] != '@' || s[1] != '@' || s[2] < '1' || s[2] > '9')
        return 0;
    for (i = 2; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || i > 4)
            return 0;
        n = n * 10 + (unsigned)(s[i] - '0');
    }
    return n;
}

cas_rc
cas_run_fill_argv(const struct cas_run_answer *a, char *const *args, size_t arg_count, char ***out,
                  size_t *unused, struct cas_err *err)
{
    char **v;
    unsigned char *named = NULL;
    size_t used = 0;

    *out = NULL;
    *unused = 0;
    if ((v = cas_calloc(a->argv_count + 1, sizeof(*v))) == NULL ||
        (arg_count > 0 && (named = cas_calloc(arg_count, 1)) == NULL)) {
        free(v);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the program's arguments");
    }
    for (size_t i = 0; i < a->argv_count; i++) {
        unsigned n = host_arg_index(a->argv[i]);

        if (n == 0) {
            v[i] = a->argv[i];
            continue;
        }
        if (n > arg_count) {
            free(v);
            free(named);
            return cas_err_set(err, CAS_E_INVALID,
                               "the session's command needs host argument @@%u, but %zu %s given",
                               n, arg_count, arg_count == 1 ? "was" : "were");
        }
        v[i] = args[n - 1];
        if (!named[n - 1])
            used++;
        named[n - 1] = 1;
    }
    free(named);
    *unused = arg_count - used;
    *out = v;
    return CAS_OK;
}

static char *
join_var(const char *name, const char *value)
{
    size_t n = strlen(name), m = strlen(value);
    char *s = cas_wipe_malloc(n + m + 2);

    if (s == NULL)
        return NULL;
    memcpy(s, name, n);
    s[n] = '=';
    memcpy(s + n + 1, value, m);
    s[n + 1 + m] = '\0';
    return s;
}

/* Index in env of the entry for name (len bytes), or count. */
static size_t
find_var(char **env, size_t count, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < count; i++) {
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return i;
    }
    return count;
}

cas_rc
cas_run_build_env(const struct cas_run_answer *a, char *const *host_envp, char ***out,
                  struct cas_err *err)
{
    size_t cap = a->env_count + a->host_env_count, n = 0;
    char **env;

    *out = NULL;
    if ((env = cas_calloc(cap + 1, sizeof(*env))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for the program's environment");
    for (size_t i = 0; i < a->env_count; i++) {
        if ((env[n] = cas_strdup(a->env[i])) == NULL)
            goto nomem;
        n++;
    }
    for (size_t i = 0; i < a->host_env_count; i++) {
        const char *value = cas_run_getenv(host_envp, a->host_env[i]);
        size_t at = find_var(env, n, a->host_env[i]);
        char *s = join_var(a->host_env[i], value != NULL ? value : "");

        if (s == NULL)
            goto nomem;
        if (at < n) {
            cas_wipe_free(env[at]);
        } else {
            n++;
        }
        env[at] = s;
    }
    *out = env;
    return CAS_OK;
nomem:
    cas_run_env_free(env);
    return cas_err_set(err, CAS_E_NOMEM, "out of memory for the program's environment");
}

void
cas_run_env_free(char **env)
{
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        cas_wipe_free(env[i]);
    free(env);
}
