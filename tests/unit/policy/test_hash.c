/* test_hash.c - the normal form and the session hash (policy.md §12). */
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

/* Golden hashes: the first, second and last were reproduced with Python's json.dumps(sort_keys,
 * compact) and hashlib, following docs/internals/policy.md (uploader key hash: 32 x 0x11). */
#define GOLDEN_EXAMPLE "023f1c5d8d28b397ab4bbfab42f1a5e594a7397658383ae74589e7a55f9039cc"
#define GOLDEN_MINIMAL "45a937dcc1ceb30c089dc138ae08473769c86a046551c989079785c1c65e1770"
#define GOLDEN_BASE "4193f45433370a4e6e6053e71c6504355721a2dfb96323a158ca656e332a7e58"
#define GOLDEN_SERVICE "d8acb7faa9aea3a8ee0dd179cbb668b0627e69b67e44b208507efcacd544ba4b"
#define GOLDEN_FRAGMENT "9b2b359e614d7028786460287e2214ec4f4c045906299e8f6ed5da372129138b"

#define MR "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char base[] = "name: shop/api\n"
                           "version: \"0.3\"\n"
                           "services:\n"
                           "  - name: api\n"
                           "    command: server --port 8443\n"
                           "    environment: {A: \"1\", B: two}\n"
                           "    attestation: {mrenclave: " MR "}\n"
                           "secrets:\n"
                           "  - name: pw\n"
                           "    kind: ascii\n"
                           "    export: {session: other}\n"
                           "access_policy: {read: [CREATOR], update: [NONE]}\n";

static void
test_key_order_comments_quoting_and_whitespace_do_not_change_the_hash(void **state)
{
    static const char same[] = "# the same session, written differently\n"
                               "access_policy:\n"
                               "    update: NONE   # one value\n"
                               "    read:\n"
                               "      - 'CREATOR'\n"
                               "secrets: [{kind: \"ascii\", name: pw, export: [{session: "
                               "'other'}]}]\n"
                               "version: '0.3'\n"
                               "name: \"shop/api\"\n"
                               "services:\n"
                               "- attestation:\n"
                               "    - mrenclave: [\"" MR "\"]\n"
                               "  environment:\n"
                               "    B: \"two\"\n"
                               "    A: 1\n"
                               "  command: [server, \"--port\", '8443']\n"
                               "  pwd: /\n"
                               "  name: api\n";
    char h1[65];

    (void)state;
    memcpy(h1, tl_hash(base), 65);
    assert_int_equal(strlen(h1), 64);
    assert_string_equal(tl_hash(same), h1);
}

static void
test_command_as_a_string_and_as_a_list_give_the_same_hash(void **state)
{
    static const char str[] =
        "name: s\nversion: \"0.3\"\n"
        "access_policy: {read: NONE, update: NONE}\n"
        "services: [{name: a, attestation: {mrenclave: " MR "},\n"
        "  command: \"python3  -c 'print(1 + 2)'\\t\\n\\\"two words\\\" @@1\"}]\n";
    static const char list[] = "name: s\nversion: \"0.3\"\n"
                               "access_policy: {read: NONE, update: NONE}\n"
                               "services: [{name: a, attestation: {mrenclave: " MR "},\n"
                               "  command: [python3, -c, \"print(1 + 2)\", two words, \"@@1\"]}]\n";
    char h[65];

    (void)state;
    memcpy(h, tl_hash(str), 65);
    assert_int_equal(strlen(h), 64);
    assert_string_equal(tl_hash(list), h);
}

static void
test_every_change_of_meaning_changes_the_hash(void **state)
{
    static const struct {
        const char *from, *to;
    } edits[] = {
        {"name: shop/api", "name: shop/api2"},
        {"version: \"0.3\"", "version: \"0.3.0\""},
        {"--port 8443", "--port 8444"},
        {"--port 8443", "8443 --port"},
        {"B: two", "B: three"},
        {"{A: \"1\", B: two}", "{A: \"1\", B: two, C: x}"},
        {"kind: ascii", "kind: binary"},
        {"session: other", "namespace: other"},
        {"update: [NONE]", "update: [CREATOR]"},
        {"read: [CREATOR]", "read: [ANY]"},
        {"aaaa", "aaab"},
        {"    kind: ascii\n", "    kind: ascii\n    size: 21\n"},
        {"    kind: ascii\n", "    kind: ascii\n    export_public: true\n"},
    };
    char h1[65], *text, *at;

    (void)state;
    memcpy(h1, tl_hash(base), 65);
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        size_t fl = strlen(edits[i].from), tl = strlen(edits[i].to);
        assert_non_null(at = strstr(base, edits[i].from));
        assert_non_null(text = calloc(1, sizeof(base) + tl));
        memcpy(text, base, (size_t)(at - base));
        memcpy(text + (at - base), edits[i].to, tl);
        memcpy(text + (at - base) + tl, at + fl, strlen(at + fl) + 1);
        if (strcmp(tl_hash(text), h1) == 0)
            fail_msg("edit %zu ('%s' -> '%s') kept the hash", i, edits[i].from, edits[i].to);
        assert_int_equal(strlen(tl_hash(text)), 64);
        free(text);
    }
}

static void
test_defaults_written_out_and_false_booleans_give_the_same_hash(void **state)
{
    static const char a[] =
        "name: s\nversion: \"0.3\"\n"
        "services: [{name: x, command: run, attestation: {mrenclave: " MR "}}]\n"
        "images: [{name: i, injection_files: [/a]}]\n"
        "secrets: [{name: p, kind: ascii}, {name: k, kind: private-key}]\n";
    static const char b[] = "name: s\nversion: \"0.3\"\npersistency: x\npredecessor: ~\n"
                            "services: [{name: x, command: [run], pwd: /, environment: {},"
                            " attestation: [{mrenclave: [" MR "]}]}]\n"
                            "images: [{name: i, injection_files: [{path: /a, permission: 448}]}]\n"
                            "secrets: [{name: p, kind: ascii, size: 20, export_public: false, "
                            "export: []}, {name: k, kind: private-key, key_type: P-256, "
                            "migrate: false}]\n"
                            "access_policy: {read: CREATOR, update: [CREATOR]}\n"
                            "secret_config:\n  store_in: !cas\n"
                            "security: {attestation: {mode: hardware, tolerate: []}}\n";
    char h[65];

    (void)state;
    memcpy(h, tl_hash(a), 65);
    assert_int_equal(strlen(h), 64);
    assert_string_equal(tl_hash(b), h);
}

static void
test_hex_case_and_url_references_normalise(void **state)
{
    static const char a[] = "name: s\nversion: \"0.3\"\n"
                            "secrets: [{name: p, kind: binary, value: DEADBEEF, export: "
                            "\"/session=x,session_hash=" MR "\"}]\n"
                            "access_policy: {read: [NONE], update: [NONE]}\n";
    static const char b[] = "name: s\nversion: \"0.3\"\n"
                            "secrets: [{name: p, kind: binary, value: deadbeef, export: "
                            "{session: x, session_hash: " MR "}}]\n"
                            "access_policy: {read: [NONE], update: [NONE]}\n";
    char h[65];

    (void)state;
    memcpy(h, tl_hash(a), 65);
    assert_string_equal(tl_hash(b), h);
}

static void
test_a_session_referencing_its_creator_needs_one_for_the_hash(void **state)
{
    static const char s[] = "name: s\nversion: \"0.3\"\n";
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    uint8_t d[32], up[32];
    char hex[65], h1[65];

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), NULL, &p, NULL), CAS_OK);
    assert_true(p->references_creator);
    assert_int_equal(cas_policy_hash(p, NULL, d, hex, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "Cannot calculate session hash! The session, explicitly "
                                       "or through the default access policy, references its "
                                       "creator."));
    assert_non_null(strstr(err.msg[0], "--with-self-as-creator"));
    memset(up, 0x22, sizeof(up));
    assert_int_equal(cas_policy_hash(p, up, d, h1, &err), CAS_OK);
    memset(up, 0x33, sizeof(up));
    assert_int_equal(cas_policy_hash(p, up, d, hex, &err), CAS_OK);
    assert_string_not_equal(hex, h1); /* the creator is part of the hash */
    cas_policy_free(p);
}

static void
test_a_creator_in_the_file_wins_and_is_dropped_when_unreferenced(void **state)
{
    static const char with[] = "name: s\nversion: \"0.3\"\n"
                               "creator: " MR "\n";
    static const char unref_with[] = "name: s\nversion: \"0.3\"\ncreator: " MR "\n"
                                     "access_policy: {read: [NONE], update: [NONE]}\n";
    static const char unref[] = "name: s\nversion: \"0.3\"\n"
                                "access_policy: {read: [NONE], update: [NONE]}\n";
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    uint8_t d[32], up[32];
    char a[65], b[65];

    (void)state;
    assert_int_equal(tl_parse(with, strlen(with), NULL, &p, NULL), CAS_OK);
    assert_int_equal(cas_policy_hash(p, NULL, d, a, &err), CAS_OK);
    memset(up, 0x44, sizeof(up));
    assert_int_equal(cas_policy_hash(p, up, d, b, &err), CAS_OK);
    assert_string_equal(a, b);
    cas_policy_free(p);
    memcpy(a, tl_hash(unref_with), 65);
    assert_string_equal(tl_hash(unref), a);
}

/* Parses name's file from the corpus (with its args), prints it, parses that, and compares. */
static void
read_back(const char *file)
{
    char path[1024], args[512], *text, *yaml = NULL, *yaml2 = NULL;
    const char *a = NULL;
    struct cas_policy *p = NULL, *q = NULL;
    struct cas_err err = {0};
    uint8_t d[32], up[32];
    char h1[65], h2[65];
    size_t len, ylen, ylen2;

    (void)snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, file);
    assert_non_null(text = tl_read(path, &len));
    if (strncmp(text, "# cas-args: ", 12) == 0) {
        size_t n = strcspn(text + 12, "\n");
        memcpy(args, text + 12, n);
        args[n] = '\0';
        a = args;
    }
    memset(up, 0x55, sizeof(up));
    assert_int_equal(tl_parse(text, len, a, &p, NULL), CAS_OK);
    assert_int_equal(cas_policy_hash(p, up, d, h1, &err), CAS_OK);
    assert_int_equal(cas_policy_emit_yaml(p, up, &yaml, &ylen, &err), CAS_OK);
    if (tl_parse(yaml, ylen, NULL, &q, NULL) != CAS_OK)
        fail_msg("%s: the read-back does not parse:\n%s", file, yaml);
    assert_int_equal(cas_policy_hash(q, NULL, d, h2, &err), CAS_OK);
    if (strcmp(h1, h2) != 0)
        fail_msg("%s: the read-back hashes differently:\n%s", file, yaml);
    assert_int_equal(cas_policy_emit_yaml(q, NULL, &yaml2, &ylen2, &err), CAS_OK);
    assert_string_equal(yaml, yaml2); /* printing is idempotent */
    cas_policy_free(p);
    cas_policy_free(q);
    free(yaml);
    free(yaml2);
    free(text);
}

static void
test_every_valid_corpus_file_reads_back_to_the_same_hash(void **state)
{
    DIR *d = opendir(CORPUS_DIR);
    struct dirent *e;
    unsigned n = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0 ||
            (strncmp(e->d_name, "v_", 2) != 0 && strncmp(e->d_name, "example", 7) != 0))
            continue;
        read_back(e->d_name);
        n++;
    }
    closedir(d);
    assert_true(n >= 20);
}

static void
test_golden_hashes_stay_what_they_were(void **state)
{
    static const struct {
        const char *text, *hash;
    } golden[] = {
        {"name: example_session\nversion: \"0.3\"\nsecrets:\n  - name: example_value\n"
         "    kind: ascii\n    value: \"42\"\n    export_public: true\n",
         GOLDEN_EXAMPLE},
        {"name: s\nversion: 0.3.10\naccess_policy: {read: [NONE], update: [NONE]}\n",
         GOLDEN_MINIMAL},
        {base, GOLDEN_BASE},
        {"name: s\nversion: \"0.3\"\naccess_policy: {read: NONE, update: NONE}\n"
         "services: [{name: a, command: \"x 'y z'\", environment: {\"@@H\": \"\", "
         "U: \"\\u00e9\\n\\t\"}, attestation: {signer: {mrsigner: " MR ", isvprodid: 7}}}]\n",
         GOLDEN_SERVICE},
        {"name: s\nversion: \"0.3\"\naccess_policy: {read: NONE, update: NONE}\n"
         "secrets: [{name: f, kind: config-fragment, value: {b: [1, ~, 'x'], a: null}}]\n",
         GOLDEN_FRAGMENT},
    };

    unsigned wrong = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
        if (strcmp(tl_hash(golden[i].text), golden[i].hash) != 0) {
            fprintf(stderr, "golden %zu: %s, expected %s\n", i, tl_hash(golden[i].text),
                    golden[i].hash);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

static void
test_canonical_json_sorts_keys_and_escapes_like_rfc_8785(void **state)
{
    static const char s[] = "name: s\nversion: \"0.3\"\naccess_policy: {read: NONE, update: "
                            "NONE}\nsecrets: [{name: f, kind: config-fragment, value: "
                            "{\"b\": \"\\u0001\\\"\\\\/\", \"a\": 1, \"\\u00e9\": x, "
                            "\"\\U0001F600\": y, \"\\uFB01\": z}}]\n";
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    char *json = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(tl_parse(s, strlen(s), NULL, &p, NULL), CAS_OK);
    assert_int_equal(cas_policy_canonical_json(p, NULL, &json, &len, &err), CAS_OK);
    assert_string_equal(json,
                        "{\"access_policy\":{\"read\":[\"NONE\"],\"update\":[\"NONE\"]},"
                        "\"name\":\"s\",\"predecessor\":null,\"secrets\":[{\"kind\":\"config-"
                        "fragment\",\"name\":\"f\",\"value\":{\"a\":\"1\",\"b\":\"\\u0001\\\"\\\\/"
                        "\",\"\xc3\xa9\":\"x\",\"\xf0\x9f\x98\x80\":\"y\",\"\xef\xac\x81\":"
                        "\"z\"}}],\"security\":{\"attestation\":{\"mode\":\"hardware\"}},"
                        "\"version\":\"0.3\"}");
    free(json);
    cas_policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order_comments_quoting_and_whitespace_do_not_change_the_hash),
        cmocka_unit_test(test_command_as_a_string_and_as_a_list_give_the_same_hash),
        cmocka_unit_test(test_every_change_of_meaning_changes_the_hash),
        cmocka_unit_test(test_defaults_written_out_and_false_booleans_give_the_same_hash),
        cmocka_unit_test(test_hex_case_and_url_references_normalise),
        cmocka_unit_test(test_a_session_referencing_its_creator_needs_one_for_the_hash),
        cmocka_unit_test(test_a_creator_in_the_file_wins_and_is_dropped_when_unreferenced),
        cmocka_unit_test(test_every_valid_corpus_file_reads_back_to_the_same_hash),
        cmocka_unit_test(test_golden_hashes_stay_what_they_were),
        cmocka_unit_test(test_canonical_json_sorts_keys_and_escapes_like_rfc_8785),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
