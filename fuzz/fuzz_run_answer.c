/*
 * fuzz_run_answer.c - cas-run's parsing of the enclave API's attest answer (api.md §2.4), then
 * of a render answer appended to it, then the argv and environment built from it. Property: an
 * accepted answer holds only what cas-run may act on (a non-empty argv, clean absolute paths,
 * modes within 0777, "NAME=value" environment entries, a render token when templates are asked
 * for), and the program's argv and environment are terminated lists of that size.
 */
#include <stdint.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct cas_run_answer *a)
{
    if (a->argv_count == 0 || a->pwd == NULL || a->pwd[0] == '\0' ||
        (a->template_count > 0 && a->render_token == NULL))
        abort();
    for (size_t i = 0; i < a->file_count; i++) {
        if (!cas_run_path_ok(a->files[i].path, strlen(a->files[i].path)) ||
            a->files[i].mode > 0777 || a->files[i].content == NULL)
            abort();
    }
    for (size_t i = 0; i < a->template_count; i++) {
        if (!cas_run_path_ok(a->templates[i], strlen(a->templates[i])))
            abort();
    }
    for (size_t i = 0; i < a->env_count; i++) {
        const char *eq = strchr(a->env[i], '=');
        if (eq == NULL || eq == a->env[i])
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char one[] = "one", two[] = "two", hostname[] = "HOSTNAME=fuzz";
    char *args[] = {one, two}, *host[] = {hostname, NULL};
    struct cas_run_answer a;
    struct cas_err err = {0};
    char **argv = NULL, **env = NULL;
    size_t unused = 0, n = 0, files;

    json_set_alloc_funcs(cas_wipe_malloc, cas_wipe_free);
    if (cas_run_answer_parse(data, size, &a, &err) != CAS_OK) {
        if (a.argv != NULL || a.files != NULL || a.env != NULL)
            abort(); /* a failed parse owns nothing */
        return 0;
    }
    check(&a);
    if (cas_run_fill_argv(&a, args, 2, &argv, &unused, &err) == CAS_OK &&
        (argv[a.argv_count] != NULL || unused > 2))
        abort();
    if (cas_run_build_env(&a, host, &env, &err) == CAS_OK) {
        while (env[n] != NULL)
            n++;
        if (n > a.env_count + a.host_env_count)
            abort();
    }
    /* Its files once more: a path twice is refused, and a refused render changes nothing. */
    files = a.file_count;
    if (cas_run_render_parse(data, size, &a, &err) == CAS_OK) {
        if (files > 0)
            abort();
    } else if (a.file_count != files) {
        abort();
    }
    check(&a);
    free(argv);
    cas_run_env_free(env);
    cas_run_answer_release(&a);
    return 0;
}
