/* test_answer.c - the enclave API's answers as cas-run parses and prints them (api.md §2.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "run_test.h"
#include "util/alloc.h"
#include "util/secret.h"

#define HASH "\"session_hash\": \"" /* 64 hex follow */
#define H64 "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef"

/* A good answer with one field replaced: "%s" stands for the variable part. */
static const char g_good[] =
    "{" HASH H64 "\", \"argv\": [\"server\", \"--port\", \"@@1\"], \"env\": {\"A\": \"1\", "
    "\"B\": \"two=2\"}, \"host_env\": [\"HOSTNAME\"], \"pwd\": \"/srv\", \"files\": "
    "[{\"path\": \"/tls/key.pem\", \"mode\": 256, \"content\": \"c2VjcmV0IGtleQ==\"}], "
    "\"templates\": [\"/etc/app.conf\"], \"render_token\": \"tok\"}";

static cas_rc
parse(const char *json, struct cas_run_answer *a, struct cas_err *err)
{
    return cas_run_answer_parse((const uint8_t *)json, strlen(json), a, err);
}

static void
test_answer_parses_every_field(void **state)
{
    struct cas_run_answer a;
    struct cas_err err = {0};
    size_t len = 0;
    const uint8_t *p;
    (void)state;

    assert_int_equal(parse(g_good, &a, &err), CAS_OK);
    assert_string_equal(a.session_hash, "0123456789abcdef0123456789abcdef0123456789abcdef"
                                        "0123456789abcdef");
    assert_int_equal(a.argv_count, 3);
    assert_string_equal(a.argv[2], "@@1");
    assert_int_equal(a.env_count, 2);
    assert_string_equal(a.env[0], "A=1");
    assert_string_equal(a.env[1], "B=two=2");
    assert_int_equal(a.host_env_count, 1);
    assert_string_equal(a.host_env[0], "HOSTNAME");
    assert_string_equal(a.pwd, "/srv");
    assert_int_equal(a.file_count, 1);
    assert_string_equal(a.files[0].path, "/tls/key.pem");
    assert_int_equal(a.files[0].mode, 0400);
    p = cas_secret_peek(a.files[0].content, &len);
    assert_int_equal(len, 10);
    assert_memory_equal(p, "secret key", 10);
    assert_int_equal(a.template_count, 1);
    assert_string_equal(a.templates[0], "/etc/app.conf");
    assert_string_equal(a.render_token, "tok");
    cas_run_answer_release(&a);
    assert_null(a.argv);
    cas_run_answer_release(&a); /* a released answer may be released again */
}

static void
test_answer_without_templates_needs_no_render_token(void **state)
{
    const char *json = "{" HASH H64 "\", \"argv\": [\"p\"], \"env\": {}, \"host_env\": [], "
                       "\"pwd\": \"/\", \"files\": [], \"templates\": [], \"render_token\": null}";
    struct cas_run_answer a;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(parse(json, &a, &err), CAS_OK);
    assert_null(a.render_token);
    assert_int_equal(a.file_count, 0);
    cas_run_answer_release(&a);
}

/* Each hostile variant of g_good, and the words its error must carry. */
static const struct {
    const char *from, *to, *words;
} g_hostile[] = {
    {H64, "0123", "session_hash"},
    {H64, "zz23456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef", "session_hash"},
    {"[\"server\", \"--port\", \"@@1\"]", "[]", "'argv' is empty"},
    {"[\"server\", \"--port\", \"@@1\"]", "\"server\"", "'argv' is not a list"},
    {"[\"server\", \"--port\", \"@@1\"]", "[\"server\", 1]", "'argv' entry 1"},
    {"[\"server\", \"--port\", \"@@1\"]", "[\"ser\\u0000ver\"]", "not a JSON object"},
    {"{\"A\": \"1\", \"B\": \"two=2\"}", "[\"A=1\"]", "'env' is not an object"},
    {"{\"A\": \"1\", \"B\": \"two=2\"}", "{\"A\": 1}", "'env' entry 'A'"},
    {"{\"A\": \"1\", \"B\": \"two=2\"}", "{\"A=B\": \"1\"}", "'env' entry"},
    {"{\"A\": \"1\", \"B\": \"two=2\"}", "{\"\": \"1\"}", "'env' entry"},
    {"{\"A\": \"1\", \"B\": \"two=2\"}", "{\"A\": \"x\\u0000y\"}", "not a JSON object"},
    {"[\"HOSTNAME\"]", "[\"HOST=NAME\"]", "'host_env' entry 0"},
    {"[\"HOSTNAME\"]", "{}", "'host_env' is not a list"},
    {"\"/srv\"", "\"\"", "'pwd'"},
    {"\"/srv\"", "null", "'pwd'"},
    {"\"/tls/key.pem\"", "\"tls/key.pem\"", "'files' entry 0 has no valid absolute 'path'"},
    {"\"/tls/key.pem\"", "\"/tls/../etc/passwd\"", "'path'"},
    {"\"/tls/key.pem\"", "\"/tls/./key.pem\"", "'path'"},
    {"\"/tls/key.pem\"", "\"/tls//key.pem\"", "'path'"},
    {"\"/tls/key.pem\"", "\"/tls/\"", "'path'"},
    {"\"/tls/key.pem\"", "\"/\"", "'path'"},
    {"\"mode\": 256", "\"mode\": 2048", "'mode'"},
    {"\"mode\": 256", "\"mode\": -1", "'mode'"},
    {"\"mode\": 256", "\"mode\": \"0o1000\"", "'mode'"},
    {"\"mode\": 256", "\"mode\": \"08\"", "'mode'"},
    {"\"mode\": 256", "\"mode\": \"\"", "'mode'"},
    {"\"mode\": 256", "\"mode\": 1.5", "'mode'"},
    {"\"mode\": 256", "\"mod\": 256", "'mode'"},
    {"\"c2VjcmV0IGtleQ==\"", "\"c2VjcmV0IGtleQ\"", "'content' is not base64"},
    {"\"c2VjcmV0IGtleQ==\"", "\"c2Vj!mV0\"", "'content' is not base64"},
    {"\"c2VjcmV0IGtleQ==\"", "null", "'content'"},
    {"[{\"path\"", "[7, {\"path\"", "'files' entry 0"},
    {"[\"/etc/app.conf\"]", "[\"etc/app.conf\"]", "'templates' entry 0"},
    {"\"tok\"", "\"\"", "'render_token'"},
    {"\"render_token\": \"tok\"", "\"render\": \"tok\"", "'render_token'"},
    {"\"pwd\": \"/srv\"", "\"pwd\": \"/srv\", \"pwd\": \"/\"", "not a JSON object"},
    {"}", "} x", "not a JSON object"},
};

static char *
replaced(const char *from, const char *to)
{
    const char *at = strstr(g_good, from);
    size_t n = strlen(g_good) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);

    assert_non_null(at);
    assert_non_null(s);
    snprintf(s, n, "%.*s%s%s", (int)(at - g_good), g_good, to, at + strlen(from));
    return s;
}

static void
test_answer_refuses_hostile_answers(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(g_hostile) / sizeof(g_hostile[0]); i++) {
        struct cas_run_answer a;
        struct cas_err err = {0};
        char *json = replaced(g_hostile[i].from, g_hostile[i].to);
        char line[2048];

        if (parse(json, &a, &err) != CAS_E_INVALID)
            fail_msg("variant %zu (%s) was accepted", i, g_hostile[i].to);
        cas_err_join(&err, line, sizeof(line));
        if (strstr(line, g_hostile[i].words) == NULL)
            fail_msg("variant %zu: '%s' lacks '%s'", i, line, g_hostile[i].words);
        assert_non_null(strstr(line, "the CAS's attest answer is malformed"));
        assert_null(a.argv); /* a failed parse owns nothing */
        assert_null(a.files);
        free(json);
    }
}

static void
test_answer_refuses_non_objects_and_truncation(void **state)
{
    const char *bad[] = {"", "[]", "null", "\"x\"", "{", "{\"argv\": [\"p\"]}"};
    struct cas_run_answer a;
    struct cas_err err = {0};
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], &a, &err), CAS_E_INVALID);
    for (size_t n = 0; n < strlen(g_good); n += 7) {
        assert_int_equal(cas_run_answer_parse((const uint8_t *)g_good, n, &a, &err), CAS_E_INVALID);
    }
}

static void
test_answer_refuses_too_many_entries(void **state)
{
    json_t *root = json_loads(g_good, 0, NULL), *argv = json_array();
    struct cas_run_answer a;
    struct cas_err err = {0};
    char *text;
    (void)state;

    for (int i = 0; i <= CAS_RUN_MAX_ITEMS; i++)
        json_array_append_new(argv, json_string("x"));
    json_object_set_new(root, "argv", argv);
    text = json_dumps(root, 0);
    assert_int_equal(parse(text, &a, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "more than 4096"));
    free(text);
    json_decref(root);
}

static void
test_render_answer_appends_files_and_refuses_a_path_twice(void **state)
{
    const char *render = "{\"files\": [{\"path\": \"/etc/app.conf\", \"mode\": \"0640\", "
                         "\"content\": \"YQ==\"}]}";
    const char *twice = "{\"files\": [{\"path\": \"/tls/key.pem\", \"mode\": 256, "
                        "\"content\": \"\"}]}";
    struct cas_run_answer a;
    struct cas_err err = {0};
    size_t len = 0;
    (void)state;

    assert_int_equal(parse(g_good, &a, &err), CAS_OK);
    assert_int_equal(cas_run_render_parse((const uint8_t *)render, strlen(render), &a, &err),
                     CAS_OK);
    assert_int_equal(a.file_count, 2);
    assert_string_equal(a.files[1].path, "/etc/app.conf");
    assert_int_equal(a.files[1].mode, 0640);
    assert_memory_equal(cas_secret_peek(a.files[1].content, &len), "a", 1);
    assert_int_equal(cas_run_render_parse((const uint8_t *)twice, strlen(twice), &a, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "'/tls/key.pem' twice"));
    assert_int_equal(a.file_count, 2); /* a refused render answer adds nothing */
    assert_int_equal(cas_run_render_parse((const uint8_t *)"{}", 2, &a, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[1], "render answer is malformed"));
    cas_run_answer_release(&a);
}

static char *
refusal(long status, const char *body)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    assert_non_null(f);
    cas_run_print_refusal(f, "attestation", status, (const uint8_t *)body, strlen(body));
    fclose(f);
    return out;
}

static void
test_refusal_prints_each_problem_of_a_403_on_its_own_line(void **state)
{
    char *out = refusal(403, "{\"msg\": [\"Attestation of service 's/api' failed\", "
                             "\"Unexpected enclave measurement (MRENCLAVE, aa) - Expected bb\", "
                             "\"Wrong or missing service access token\"], \"verdict\": {}}");
    (void)state;

    assert_string_equal(out, "cas-run: Attestation of service 's/api' failed\n"
                             "Unexpected enclave measurement (MRENCLAVE, aa) - Expected bb\n"
                             "Wrong or missing service access token\n");
    free(out);
}

static void
test_refusal_prints_other_statuses_on_one_line(void **state)
{
    char *out = refusal(400, "{\"msg\": [\"Invalid request\", "
                             "\"one-time passwords are not supported by cas yet\"]}");
    (void)state;

    assert_string_equal(
        out, "cas-run: Invalid request: one-time passwords are not supported by cas yet\n");
    free(out);
    out = refusal(404, "{\"msg\": [\"Session not found\"]}");
    assert_string_equal(out, "cas-run: Session not found\n");
    free(out);
}

static void
test_refusal_without_msg_names_the_status_and_hides_control_characters(void **state)
{
    char *out = refusal(502, "<html>bad gateway</html>");
    (void)state;

    assert_string_equal(out, "cas-run: attestation: the CAS answered HTTP 502\n");
    free(out);
    out = refusal(403, "{\"msg\": [\"a\\u001b[2Jb\", 7, \"c\\nd\"]}");
    assert_string_equal(out, "cas-run: a?[2Jb\nc?d\n");
    free(out);
}

static void
test_path_check_takes_only_clean_absolute_paths(void **state)
{
    (void)state;

    assert_true(cas_run_path_ok("/a", 2));
    assert_true(cas_run_path_ok("/a/b.c/..d", 10));
    assert_false(cas_run_path_ok("", 0));
    assert_false(cas_run_path_ok("a/b", 3));
    assert_false(cas_run_path_ok("/a/../b", 7));
    assert_false(cas_run_path_ok("/a/.", 4));
    assert_false(cas_run_path_ok("//a", 3));
    assert_false(cas_run_path_ok("/a\0b", 4));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_parses_every_field),
        cmocka_unit_test(test_answer_without_templates_needs_no_render_token),
        cmocka_unit_test(test_answer_refuses_hostile_answers),
        cmocka_unit_test(test_answer_refuses_non_objects_and_truncation),
        cmocka_unit_test(test_answer_refuses_too_many_entries),
        cmocka_unit_test(test_render_answer_appends_files_and_refuses_a_path_twice),
        cmocka_unit_test(test_refusal_prints_each_problem_of_a_403_on_its_own_line),
        cmocka_unit_test(test_refusal_prints_other_statuses_on_one_line),
        cmocka_unit_test(test_refusal_without_msg_names_the_status_and_hides_control_characters),
        cmocka_unit_test(test_path_check_takes_only_clean_absolute_paths),
    };
    return cmocka_run_group_tests(tests, run_test_setup, NULL);
}
