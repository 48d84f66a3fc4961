/*
 * settings.c - cas-run's variables and their SCONE aliases (api.md §4), the enclave API address,
 * small number parsing. Reads only the environment array it is given: tests pass their own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

const char *
cas_run_getenv(char *const *envp, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    }
    return NULL;
}

/* name, else alias; both set and different is an error (the values are not printed: a token). */
static cas_rc
either(char *const *envp, const char *name, const char *alias, const char **out,
       struct cas_err *err)
{
    const char *v = cas_run_getenv(envp, name);
    const char *w = cas_run_getenv(envp, alias);

    if (v != NULL && w != NULL && strcmp(v, w) != 0)
        return cas_err_set(err, CAS_E_INVALID, "%s and %s are both set, to different values", name,
                           alias);
    *out = v != NULL ? v : w;
    return CAS_OK;
}

cas_rc
cas_run_settings_from_env(char *const *envp, struct cas_run_settings *s, struct cas_err *err)
{
    cas_rc rc;

    memset(s, 0, sizeof(*s));
    if ((rc = either(envp, "CAS_ADDR", "SCONE_CAS_ADDR", &s->cas_addr, err)) != CAS_OK ||
        (rc = either(envp, "CAS_CONFIG_ID", "SCONE_CONFIG_ID", &s->config_id, err)) != CAS_OK ||
        (rc = either(envp, "CAS_ACCESS_TOKEN", "SCONE_SERVICE_ACCESS_TOKEN", &s->access_token,
                     err)) != CAS_OK)
        return rc;
    s->cas_cert = cas_run_getenv(envp, "CAS_CERT");
    s->tee = cas_run_getenv(envp, "CAS_TEE");
    s->sim_tcb_status = cas_run_getenv(envp, "CAS_SIM_TCB_STATUS");
    s->sim_advisories = cas_run_getenv(envp, "CAS_SIM_ADVISORIES");
    s->sim_signing_key = cas_run_getenv(envp, "CAS_SIM_SIGNING_KEY");
    s->sim_isvprodid = cas_run_getenv(envp, "CAS_SIM_ISVPRODID");
    s->sim_isvsvn = cas_run_getenv(envp, "CAS_SIM_ISVSVN");
    if (s->tee == NULL)
        s->tee = "sim";
    return CAS_OK;
}

static bool
host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

cas_rc
cas_run_enclave_url(const char *addr, char *out, size_t out_len, struct cas_err *err)
{
    const char *host = addr, *port = NULL, *end;
    size_t host_len;
    unsigned long p = CAS_RUN_DEFAULT_PORT;
    char *stop;
    int n;

    if (addr == NULL || addr[0] == '\0')
        return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR is not set");
    if (addr[0] == '[') {
        if ((end = strchr(addr, ']')) == NULL || end == addr + 1)
            return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is not HOST[:PORT]", addr);
        host_len = (size_t)(end - addr) + 1;
        for (const char *q = addr + 1; q < end; q++) {
            if (!(host_char_ok(*q) || *q == ':'))
                return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is not HOST[:PORT]", addr);
        }
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is not HOST[:PORT]", addr);
    } else {
        end = strchr(addr, ':');
        host_len = end != NULL ? (size_t)(end - addr) : strlen(addr);
        port = end != NULL ? end + 1 : NULL;
        for (size_t i = 0; i < host_len; i++) {
            if (!host_char_ok(host[i]))
                return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is not HOST[:PORT]", addr);
        }
        if (host_len == 0)
            return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is not HOST[:PORT]", addr);
    }
    if (port != NULL) {
        if (port[0] < '0' || port[0] > '9')
            return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' has no valid port", addr);
        errno = 0;
        p = strtoul(port, &stop, 10);
        if (errno != 0 || p == 0 || p > 65535 || *stop != '\0')
            return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' has no valid port", addr);
    }
    n = snprintf(out, out_len, "https://%.*s:%lu", (int)host_len, host, p);
    if (n < 0 || (size_t)n >= out_len)
        return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is too long", addr);
    return CAS_OK;
}

cas_rc
cas_run_parse_u16(const char *name, const char *text, uint16_t *out, struct cas_err *err)
{
    unsigned long v;
    char *stop;

    *out = 0;
    if (text == NULL)
        return CAS_OK;
    if (text[0] < '0' || text[0] > '9')
        return cas_err_set(err, CAS_E_INVALID, "%s '%s' is not a number from 0 to 65535", name,
                           text);
    errno = 0;
    v = strtoul(text, &stop, 10);
    if (errno != 0 || v > 65535 || *stop != '\0')
        return cas_err_set(err, CAS_E_INVALID, "%s '%s' is not a number from 0 to 65535", name,
                           text);
    *out = (uint16_t)v;
    return CAS_OK;
}
