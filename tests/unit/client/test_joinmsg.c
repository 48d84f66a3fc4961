/* test_joinmsg.c - the attested join's messages (client/joinmsg.h): what is accepted, what not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "client/joinmsg.h"
#include "util/secret.h"

#define NONCE "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define EV "\"evidence\": {\"type\": \"sgx-dcap-v3\", \"quote\": \"AQIDBA==\"}"
#define KEY32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static cas_rc
req(const char *text, struct cas_join_msg *m)
{
    struct cas_err err = {0};
    return cas_join_request_parse(text, strlen(text), m, &err);
}

static cas_rc
ans(const char *text, struct cas_join_msg *m)
{
    struct cas_err err = {0};
    return cas_join_answer_parse(text, strlen(text), m, &err);
}

static void
test_a_request_gives_nonce_quote_and_collateral(void **state)
{
    struct cas_join_msg m;

    (void)state;
    assert_int_equal(req("{\"nonce\": \"" NONCE "\", " EV ", \"collateral\": {\"a\": 1}}", &m),
                     CAS_OK);
    assert_int_equal(m.nonce[31], 0x1f);
    assert_int_equal(m.quote_len, 4);
    assert_int_equal(m.quote[3], 4);
    assert_non_null(m.collateral);
    cas_join_msg_release(&m);
    assert_int_equal(req("{\"nonce\": \"" NONCE "\", " EV ", \"collateral\": null}", &m), CAS_OK);
    assert_null(m.collateral);
    cas_join_msg_release(&m);
}

static void
test_bad_requests_are_refused_holding_nothing(void **state)
{
    static const char *const bad[] = {
        "{\"nonce\": \"00\", " EV "}",
        "{\"nonce\": \"" NONCE "\"}",
        "{\"nonce\": \"" NONCE "\", " EV ", \"collateral\": 3}",
        "{\"nonce\": \"" NONCE "\", \"nonce\": \"" NONCE "\", " EV "}",
        "{\"nonce\": \"" NONCE "\", \"evidence\": {\"type\": \"x\", \"quote\": \"***\"}}",
        "[1]",
        "",
    };
    struct cas_join_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(req(bad[i], &m), CAS_OK);
        assert_null(m.root);
        assert_null(m.quote);
    }
}

static void
test_an_answer_gives_a_key_of_exactly_32_bytes(void **state)
{
    struct cas_join_msg m;
    size_t len = 0;

    (void)state;
    assert_int_equal(ans("{" EV ", \"collateral\": null, \"sealing_key\": \"" KEY32 "\"}", &m),
                     CAS_OK);
    assert_int_equal(cas_secret_len(m.sealing_key), 32);
    assert_int_equal(cas_secret_peek(m.sealing_key, &len)[31], 31);
    cas_join_msg_release(&m);
    assert_int_not_equal(ans("{" EV ", \"sealing_key\": \"AAEC\"}", &m), CAS_OK);
    assert_null(m.sealing_key);
    assert_int_not_equal(ans("{" EV "}", &m), CAS_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_request_gives_nonce_quote_and_collateral),
        cmocka_unit_test(test_bad_requests_are_refused_holding_nothing),
        cmocka_unit_test(test_an_answer_gives_a_key_of_exactly_32_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
