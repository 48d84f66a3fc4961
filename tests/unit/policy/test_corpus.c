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

static struct cas_policy *
parse_corpus(const char *file)
{
    char path[1024], *text;
    struct cas_policy *p = NULL;
    size_t len;

    (void)snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, file);
    assert_non_null(text = tl_read(path, &len));
    assert_int_equal(tl_parse(text, len, NULL, &p, NULL), CAS_OK);
    free(text);
    return p;
}

static void
test_the_typed_session_holds_services_as_the_launcher_needs_them(void **state)
{
    struct cas_policy *p = parse_corpus("v_environment_host_vars.yaml");
    const struct cas_policy_service *sv = &p->services[0];
    size_t host = 0;

    (void)state;
    assert_int_equal(sv->argc, 1);
    assert_string_equal(sv->argv[0].text, "/bin/app");
    assert_string_equal(sv->pwd.text, "/");
    for (size_t i = 0; i < sv->env_count; i++) {
        if (sv->env[i].from_host) {
            host++;
            assert_true(strcmp(sv->env[i].name, "HOSTNAME") == 0 ||
                        strcmp(sv->env[i].name, "PATH") == 0);
        }
        if (strcmp(sv->env[i].name, "JSON") == 0) {
            assert_int_equal(sv->env[i].value.ph_count, 1);
            assert_true(sv->env[i].value.ph[0].escape_json);
            assert_true(sv->env[i].value.ph[0].cas_prefix);
            assert_string_equal(sv->env[i].value.ph[0].secret, "token");
        }
    }
    assert_int_equal(host, 2);
    cas_policy_free(p);
    p = parse_corpus("v_command_list.yaml");
    assert_int_equal(p->services[0].argc, 4);
    assert_int_equal(p->services[0].host_arg[3], 1);
    assert_int_equal(p->services[0].host_arg[0], 0);
    assert_string_equal(p->services[0].pwd.text, "/srv");
    cas_policy_free(p);
}

static void
test_the_typed_session_holds_attestation_as_the_verifier_needs_it(void **state)
{
    struct cas_policy *p = parse_corpus("v_attestation_variants.yaml");
    const struct cas_policy_service *sv = &p->services[0];

    (void)state;
    assert_int_equal(sv->variant_count, 5);
    assert_int_equal(sv->variants[0].mrenclave_count, 2);
    assert_non_null(sv->variants[0].mrenclave[0].text);
    assert_non_null(sv->variants[0].mrenclave[1].ph);
    assert_true(sv->variants[1].has_signer);
    assert_string_equal(sv->variants[1].signer.mrsigner.text,
                        "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    assert_string_equal(sv->variants[1].signer.isvprodid.text, "6");
    assert_true(sv->variants[1].signer.has_isvsvn_min && sv->variants[1].signer.has_isvsvn_max);
    assert_int_equal(strlen(sv->variants[3].mrenclave[0].text), 96);
    assert_non_null(sv->variants[4].whole.ph);
    assert_int_equal(sv->platform_count, 2);
    cas_policy_free(p);
    p = parse_corpus("v_mrenclaves_deprecated.yaml");
    assert_int_equal(p->services[0].variant_count, 1);
    assert_true(p->services[0].variants[0].is_mrenclaves);
    cas_policy_free(p);
    p = parse_corpus("v_security_sim.yaml");
    assert_int_equal(p->security.mode, CAS_POLICY_MODE_SIM);
    assert_int_equal(p->security.tolerate, 0x7fu);
    assert_int_equal(p->security.advisory_count, 3);
    assert_string_equal(p->security.service_access_token, "s3cr3t");
    cas_policy_free(p);
}

static void
test_the_typed_session_holds_secrets_and_access_as_the_server_needs_them(void **state)
{
    struct cas_policy *p = parse_corpus("v_secret_kinds_generated.yaml");
    const struct cas_policy_secret *s;

    (void)state;
    assert_non_null(s = cas_policy_secret_find(p, "rsa"));
    assert_int_equal(s->kind, CAS_POLICY_KIND_PRIVATE_KEY);
    assert_int_equal(s->key_type, CAS_POLICY_KEY_RSA3072);
    assert_true(s->migrate);
    assert_non_null(s = cas_policy_secret_find(p, "password"));
    assert_int_equal(s->size, 20);
    assert_int_equal(s->source, CAS_POLICY_GENERATED);
    assert_non_null(s = cas_policy_secret_find(p, "cert"));
    assert_string_equal(s->issuer, "ca");
    assert_int_equal(s->endpoint, CAS_POLICY_EP_CLIENT);
    assert_int_equal(s->valid_for_s, 90u * 86400u);
    assert_int_equal(s->san_count, 1);
    cas_policy_free(p);
    p = parse_corpus("v_secret_export_import.yaml");
    assert_non_null(s = cas_policy_secret_find(p, "b"));
    assert_int_equal(s->export_count, 4);
    assert_string_equal(s->exports[2].namespace, "..");
    assert_non_null(s = cas_policy_secret_find(p, "c"));
    assert_true(s->exports[0].has_hash);
    assert_non_null(s = cas_policy_secret_find(p, "e"));
    assert_int_equal(s->source, CAS_POLICY_IMPORTED);
    assert_string_equal(s->import.session, "owner");
    assert_string_equal(s->import.secret, "cert");
    cas_policy_free(p);
    p = parse_corpus("v_access_policy_forms.yaml");
    assert_int_equal(p->access.read.count, 1);
    assert_int_equal(p->access.read.entries[0].kind, CAS_POLICY_ACCESS_NONE);
    assert_int_equal(p->access.update.count, 3);
    assert_int_equal(p->access.update.entries[1].kind, CAS_POLICY_ACCESS_KEY_HASH);
    assert_memory_equal(p->access.update.entries[2].key_hash, "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa",
                        8);
    assert_int_equal(p->access.create_sessions.entries[0].kind, CAS_POLICY_ACCESS_PLACEHOLDER);
    assert_int_equal(p->access.del.entries[0].kind, CAS_POLICY_ACCESS_CERTIFICATE);
    assert_true(p->references_creator);
    cas_policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_corpus_file_gives_exactly_its_expected_problems),
        cmocka_unit_test(test_the_seed_session_is_accepted_without_and_with_its_predecessor),
        cmocka_unit_test(test_the_typed_session_holds_services_as_the_launcher_needs_them),
        cmocka_unit_test(test_the_typed_session_holds_attestation_as_the_verifier_needs_it),
        cmocka_unit_test(test_the_typed_session_holds_secrets_and_access_as_the_server_needs_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
