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

/* HOST of HOST[:PORT]: its length (with brackets for IPv6) and where PORT starts (NULL: none). */
static bool
split_host(const char *addr, size_t *host_len, const char **port)
{
    const char *end;
    bool v6 = addr[0] == '[';

    if (v6) {
        if ((end = strchr(addr, ']')) == NULL || end == addr + 1 ||
            (end[1] != ':' && end[1] != '\0'))
            return false;
        *host_len = (size_t)(end - addr) + 1;
    } else {
        end = strchr(addr, ':');
        *host_len = end != NULL ? (size_t)(end - addr) : strlen(addr);
    }
    *port = addr[*host_len] == ':' ? addr + *host_len + 1 : NULL;
    for (size_t i = v6 ? 1 : 0; i < (v6 ? *host_len - 1 : *host_len); i++) {
        if (!host_char_ok(addr[i]) && !(v6 && addr[i] == ':'))
            return false;
    }
    return *host_len > 0;
}

static bool
parse_port(const char *text, unsigned long *port)
{
    char *stop;

    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    *port = strtoul(text, &stop, 10);
    return errno == 0 && *port > 0 && *port <= 65535 && *stop == '\0';
}

cas_rc
cas_run_enclave_url(const char *addr, char *out, size_t out_len, struct cas_err *err)
{
    const char *port = NULL;
    size_t host_len = 0;
    unsigned long p = CAS_RUN_DEFAULT_PORT;
    int n;

    if (addr == NULL || addr[0] == '\0')
        return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR is not set");
    if (!split_host(addr, &host_len, &port))
        return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' is not HOST[:PORT]", addr);
    if (port != NULL && !parse_port(port, &p))
        return cas_err_set(err, CAS_E_INVALID, "CAS_ADDR '%s' has no valid port", addr);
    n = snprintf(out, out_len, "https://%.*s:%lu", (int)host_len, addr, p);
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
