/* policy_testlib.c - see policy_testlib.h. */
#include "policy_testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

char *
tl_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (buf = malloc((size_t)n + 1)) == NULL) {
        fclose(f);
        return NULL;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

cas_rc
tl_parse(const char *text, size_t len, const char *args, struct cas_policy **out, char **lines)
{
    const char *vars[16];
    char words[16][512];
    struct cas_policy_options o = {.substitute = true, .vars = vars, .warn_exports = true};
    struct cas_policy_diags d;
    struct cas_err err = {0};
    struct cas_buf b;
    size_t nw = 0;
    cas_rc rc;

    if (args != NULL) {
        const char *p = args;
        while (*p != '\0' && nw < 16) {
            size_t n = strcspn(p, " \n");
            if (n > 0 && n < sizeof(words[0])) {
                memcpy(words[nw], p, n);
                words[nw++][n] = '\0';
            }
            p += n;
            p += strspn(p, " \n");
        }
    }
    for (size_t i = 0; i < nw; i++) {
        if (strcmp(words[i], "-e") == 0 && i + 1 < nw)
            vars[o.var_count++] = words[++i];
        else if (strcmp(words[i], "-n") == 0 && i + 1 < nw)
            o.name = words[++i];
        else if (strcmp(words[i], "--fail-on-warning") == 0)
            o.fail_on_warning = true;
    }
    cas_policy_diags_init(&d);
    rc = cas_policy_parse((const uint8_t *)text, len, &o, out, &d, &err);
    cas_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < d.count; i++)
        cas_buf_addf(&b, "%u:%u: %s: %s\n", d.items[i].line, d.items[i].column,
                     d.items[i].severity == CAS_POLICY_ERROR ? "error" : "warning",
                     d.items[i].text);
    cas_policy_diags_release(&d);
    if (lines != NULL)
        *lines = cas_buf_detach(&b, NULL);
    cas_buf_release(&b);
    return rc;
}

const char *
tl_hash(const char *text)
{
    static char hex[65];
    struct cas_policy *p = NULL;
    struct cas_err err = {0};
    uint8_t uploader[32], digest[32];

    memset(uploader, 0x11, sizeof(uploader));
    hex[0] = '\0';
    if (tl_parse(text, strlen(text), NULL, &p, NULL) != CAS_OK)
        return "parse failed";
    if (cas_policy_hash(p, uploader, digest, hex, &err) != CAS_OK)
        (void)snprintf(hex, sizeof(hex), "hash failed");
    cas_policy_free(p);
    return hex;
}
