/* test_corpus.c - every session of tests/policy/corpus gives exactly the problems (and exit
 * status) its .expect file lists; valid ones read back to the same hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_testlib.h"

/* The "# cas-args: ..." first line of a corpus file, or NULL. */
static const char *
args_of(const char *text, char *buf, size_t cap)
{
    const char *nl;
    size_t n;

    if (strncmp(text, "# cas-args: ", 12) != 0)
        return NULL;
    nl = strchr(text, '\n');
    n = nl ? (size_t)(nl - text - 12) : strlen(text + 12);
    if (n >= cap)
        return NULL;
    memcpy(buf, text + 12, n);
    buf[n] = '\0';
    return buf;
}

static int
check_file(const char *name, unsigned *valid)
{
    char path[1024], args[1024], *text, *expect, *lines = NULL, *got;
    struct cas_policy *p = NULL;
    size_t len;
    cas_rc rc;
    int ok;

    (void)snprintf(path, sizeof(path), "%s/%s.yaml", CORPUS_DIR, name);
    assert_non_null(text = tl_read(path, &len));
    (void)snprintf(path, sizeof(path), "%s/%s.expect", CORPUS_DIR, name);
    if ((expect = tl_read(path, NULL)) == NULL) {
        fprintf(stderr, "%s: no .expect file\n", name);
        free(text);
        return 0;
    }
    rc = tl_parse(text, len, args_of(text, args, sizeof(args)), &p, &lines);
    assert_non_null(lines);
    if ((got = malloc(strlen(lines) + 16)) == NULL)
        abort();
    (void)snprintf(got, strlen(lines) + 16, "exit %d\n%s", rc == CAS_OK ? 0 : 1, lines);
    ok = strcmp(got, expect) == 0;
    if (!ok)
        fprintf(stderr, "%s: expected\n%s---- got\n%s----\n", name, expect, got);
    if (rc == CAS_OK)
        (*valid)++;
    cas_policy_free(p);
    free(got);
    free(lines);
    free(expect);
    free(text);
    return ok;
}

static void
test_every_corpus_file_gives_exactly_its_expected_problems(void **state)
{
    DIR *d = opendir(CORPUS_DIR);
    struct dirent *e;
    unsigned files = 0, failed = 0, valid = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char name[512];
        if (n < 6 || n >= sizeof(name) || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        memcpy(name, e->d_name, n - 5);
        name[n - 5] = '\0';
        files++;
        if (!check_file(name, &valid))
            failed++;
    }
    closedir(d);
    assert_int_equal(failed, 0);
    assert_true(files >= 60);
    assert_true(valid >= 20 && files - valid >= 30);
}

static void
test_the_seed_session_is_accepted_without_and_with_its_predecessor(void **state)
{
    char *a = tl_read(CORPUS_DIR "/example_session.yaml", NULL),
         *b = tl_read(CORPUS_DIR "/example_session_with_predecessor.yaml", NULL);
    struct cas_policy *p = NULL;
    size_t len;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(tl_parse(a, strlen(a), NULL, &p, NULL), CAS_OK);
    assert_string_equal(p->name, "example_session");
    assert_int_equal(p->secret_count, 1);
    assert_string_equal(p->secrets[0].name, "example_value");
    assert_int_equal(p->secrets[0].kind, CAS_POLICY_KIND_ASCII);
    assert_int_equal(p->secrets[0].source, CAS_POLICY_EXPLICIT);
    assert_true(p->secrets[0].export_public);
    assert_false(p->has_predecessor);
    cas_policy_free(p);
    len = strlen(b);
    assert_int_equal(tl_parse(b, len, NULL, &p, NULL), CAS_OK);
    assert_true(p->has_predecessor);
    assert_int_equal(strlen(p->predecessor), 64);
    cas_policy_free(p);
    free(a);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_corpus_file_gives_exactly_its_expected_problems),
        cmocka_unit_test(test_the_seed_session_is_accepted_without_and_with_its_predecessor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
