/*
 * test_dcap_pccs.c - lib/client/pccs.c against pccs_server.py on 127.0.0.1 (a PCCS v4
 * stand-in serving a testdata case): the fetched collateral verifies the case's quote, a
 * second fetch is served from the cache, a time past nextUpdate fetches again, and plain http
 * to anything but loopback is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/pccs.h"
#include "fixture.h"

#define CASE DCAP_DIR "/phala-tdx-v4"
#define CASE_TIME 1751623200

struct server {
    pid_t pid;
    char url[64];
    char dir[64];
};

static int
start_server(void **state)
{
    struct server *s = calloc(1, sizeof(*s));
    char portfile[128];

    snprintf(s->dir, sizeof(s->dir), "/tmp/cas-pccs-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    s->pid = fork();
    if (s->pid == 0) {
        execlp("python3", "python3", CAS_SOURCE_DIR "/tests/unit/dcap/pccs_server.py", CASE,
               portfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* at most 10 s */
        size_t len;
        uint8_t *port = fx_read(portfile, &len);
        if (port != NULL) {
            snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%s", (char *)port);
            free(port);
            *state = s;
            return 0;
        }
        usleep(50000);
    }
    kill(s->pid, SIGTERM);
    return -1;
}

static int
stop_server(void **state)
{
    struct server *s = *state;
    char portfile[128];

    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    unlink(portfile);
    rmdir(s->dir);
    free(s);
    return 0;
}

static void
load_quote(uint8_t **quote, size_t *len, struct cas_quote *q)
{
    struct cas_err err = {0};

    assert_non_null(*quote = fx_read(CASE "/quote.bin", len));
    assert_int_equal(cas_dcap_quote_parse(*quote, *len, q, &err), CAS_OK);
}

static void
test_collateral_from_a_pccs_verifies_the_quote_and_is_cached(void **state)
{
    struct server *s = *state;
    struct cas_dcap_verifier *v = fx_intel_verifier();
    struct cas_dcap_collateral col, again, file;
    struct cas_dcap_verdict verdict;
    struct cas_pccs *p = NULL;
    struct cas_err err = {0};
    struct cas_quote q;
    uint8_t *quote;
    size_t len;

    load_quote(&quote, &len, &q);
    assert_int_equal(cas_pccs_new(s->url, &p, &err), CAS_OK);
    assert_int_equal(cas_pccs_collateral(p, &q, CASE_TIME, &col, &err), CAS_OK);
    assert_int_equal(cas_pccs_requests(p), 4);
    assert_int_equal(cas_dcap_collateral_from_dir(CASE, &file, &err), CAS_OK);
    assert_memory_equal(col.id, file.id, 32); /* hex root CRL and URL-encoded chains undone */
    assert_int_equal(cas_dcap_verify(v, quote, len, &col, CASE_TIME, &verdict, &err), CAS_OK);
    assert_string_equal(cas_dcap_status_name(verdict.status), "UpToDate");
    assert_int_equal(cas_pccs_collateral(p, &q, CASE_TIME + 60, &again, &err), CAS_OK);
    assert_int_equal(cas_pccs_requests(p), 4);
    assert_memory_equal(again.id, col.id, 32);
    cas_dcap_collateral_release(&again);
    /* Past the earliest nextUpdate (2025-07-19) the cached copy is dropped and fetched again. */
    assert_int_equal(cas_pccs_collateral(p, &q, 1753000000, &again, &err), CAS_OK);
    assert_int_equal(cas_pccs_requests(p), 8);
    cas_dcap_collateral_release(&again);
    cas_dcap_collateral_release(&col);
    cas_dcap_collateral_release(&file);
    cas_pccs_free(p);
    cas_dcap_verifier_free(v);
    free(quote);
}

static void
test_a_pccs_without_the_platforms_tcb_info_is_an_error(void **state)
{
    struct server *s = *state;
    struct cas_dcap_collateral col;
    struct cas_pccs *p = NULL;
    struct cas_err err = {0};
    char msg[1024];
    struct cas_quote q;
    uint8_t *quote;
    size_t len;

    load_quote(&quote, &len, &q);
    q.tee_type = CAS_DCAP_TEE_SGX; /* asks for /sgx/.../tcb, which this PCCS lacks */
    assert_int_equal(cas_pccs_new(s->url, &p, &err), CAS_OK);
    assert_int_equal(cas_pccs_collateral(p, &q, CASE_TIME, &col, &err), CAS_E_IO);
    cas_err_join(&err, msg, sizeof(msg));
    assert_non_null(strstr(msg, "404"));
    cas_pccs_free(p);
    free(quote);
}

static void
test_plain_http_is_refused_unless_the_pccs_is_on_loopback(void **state)
{
    struct cas_pccs *p = NULL;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_pccs_new("http://pccs.example:8081", &p, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "https"));
    assert_int_equal(cas_pccs_new("ftp://127.0.0.1/", &p, &err), CAS_E_INVALID);
    assert_int_equal(cas_pccs_new("https://pccs.example:8081/", &p, &err), CAS_OK);
    cas_pccs_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collateral_from_a_pccs_verifies_the_quote_and_is_cached),
        cmocka_unit_test(test_a_pccs_without_the_platforms_tcb_info_is_an_error),
        cmocka_unit_test(test_plain_http_is_refused_unless_the_pccs_is_on_loopback),
    };

    return cmocka_run_group_tests(tests, start_server, stop_server);
}
