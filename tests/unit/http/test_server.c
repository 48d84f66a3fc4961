/*
 * test_server.c - lib/http/server.c: JSON text of messages with invalid UTF-8, and, through the
 * in-process harness, what dispatch hands a handler and what a reply of messages carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "http/harness.h"
#include "http/server.h"
#include "util/buf.h"

static void
assert_text(const char *in, const char *want)
{
    json_t *j = cas_http_json_text(in);

    assert_non_null(j);
    assert_string_equal(json_string_value(j), want);
    json_decref(j);
}

static void
test_json_text_keeps_valid_utf8_as_is(void **state)
{
    (void)state;
    assert_text("session 'caf\xc3\xa9' \xe2\x82\xac \xf0\x9f\x98\x80",
                "session 'caf\xc3\xa9' \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
test_json_text_replaces_a_lone_invalid_byte(void **state)
{
    (void)state;
    assert_text("session '\xff' not found", "session '\xef\xbf\xbd' not found");
}

static void
test_json_text_replaces_truncated_overlong_and_surrogate_sequences(void **state)
{
    (void)state;
    assert_text("a\xc3", "a\xef\xbf\xbd");                               /* truncated at the end */
    assert_text("\xe2\x82z", "\xef\xbf\xbd\xef\xbf\xbdz");               /* truncated mid-string */
    assert_text("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");                 /* overlong '/' */
    assert_text("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* a surrogate */
    assert_text("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* A handler that records what dispatch gave it, and replies with an invalid UTF-8 message. */
static const uint8_t *g_body;
static size_t g_body_len;
static char g_body_copy[64];

static void
handler(struct cas_http_req *req)
{
    const char *msgs[2] = {"Failed to read session '\xff\xfe'", "second"};

    g_body = req->body;
    g_body_len = req->body_len;
    if (req->body != NULL && req->body_len < sizeof(g_body_copy))
        memcpy(g_body_copy, req->body, req->body_len + 1); /* with its terminator */
    cas_http_reply_msgs(req, 404, msgs, 2);
}

static const struct cas_http_route g_routes[] = {{"POST", "/x", handler}};

static void
exchange(const char *raw, struct cas_buf *resp)
{
    const struct cas_http_listener l = {
        .name = "test", .address = "", .routes = g_routes, .route_count = 1};
    const struct cas_http_config cfg = {.max_body = 1024, .max_headers = 4096, .idle_timeout_s = 5};
    struct cas_http_harness *h = NULL;
    struct cas_err err = {0};

    assert_int_equal(cas_http_harness_new(&cfg, &l, &h, &err), CAS_OK);
    cas_buf_init(resp, 64 * 1024);
    assert_int_equal(cas_http_harness_exchange(h, NULL, raw, strlen(raw), 5000, resp, &err),
                     CAS_OK);
    cas_http_harness_free(h);
}

static void
test_reply_msgs_keeps_the_message_with_invalid_utf8(void **state)
{
    struct cas_buf resp;
    const char *body;
    json_t *j, *msg;
    (void)state;

    exchange("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", &resp);
    assert_int_equal(cas_http_harness_status(resp.buf, resp.len), 404);
    body = strstr(resp.buf, "\r\n\r\n");
    assert_non_null(body);
    j = json_loads(body + 4, 0, NULL);
    assert_non_null(j);
    msg = json_object_get(j, "msg");
    assert_int_equal(json_array_size(msg), 2);
    assert_string_equal(json_string_value(json_array_get(msg, 0)),
                        "Failed to read session '\xef\xbf\xbd\xef\xbf\xbd'");
    assert_string_equal(json_string_value(json_array_get(msg, 1)), "second");
    json_decref(j);
    cas_buf_release(&resp);
}

static void
test_dispatch_terminates_the_body(void **state)
{
    struct cas_buf resp;
    (void)state;

    exchange("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &resp);
    assert_int_equal(g_body_len, 5);
    assert_memory_equal(g_body_copy, "hello", 6); /* the NUL after it, not counted */
    cas_buf_release(&resp);
}

static void
test_dispatch_gives_an_empty_body_as_an_empty_string_not_null(void **state)
{
    struct cas_buf resp;
    (void)state;

    g_body = NULL;
    g_body_copy[0] = 'x';
    exchange("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &resp);
    assert_int_equal(cas_http_harness_status(resp.buf, resp.len), 404);
    assert_non_null(g_body);
    assert_int_equal(g_body_len, 0);
    assert_int_equal(g_body_copy[0], '\0');
    cas_buf_release(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text_keeps_valid_utf8_as_is),
        cmocka_unit_test(test_json_text_replaces_a_lone_invalid_byte),
        cmocka_unit_test(test_json_text_replaces_truncated_overlong_and_surrogate_sequences),
        cmocka_unit_test(test_reply_msgs_keeps_the_message_with_invalid_utf8),
        cmocka_unit_test(test_dispatch_terminates_the_body),
        cmocka_unit_test(test_dispatch_gives_an_empty_body_as_an_empty_string_not_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
