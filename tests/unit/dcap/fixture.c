/* fixture.c - shared helpers of the dcap tests. */
#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/codec.h"

uint8_t *
fx_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    *len = 0;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = 0;
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

void
fx_path(char out[4096], const char *dir, const char *name)
{
    if (snprintf(out, 4096, "%s/%s", dir, name) >= 4096)
        out[0] = 0; /* a path that long names nothing here */
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
fx_list(const char *parent, const char *marker, char ***out)
{
    DIR *d = opendir(parent);
    struct dirent *e;
    char **list = NULL;
    size_t n = 0;

    *out = NULL;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char dir[4096], m[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        fx_path(dir, parent, e->d_name);
        fx_path(m, dir, marker);
        if (stat(m, &st) != 0)
            continue;
        list = realloc(list, (n + 1) * sizeof(*list));
        list[n++] = strdup(dir);
    }
    closedir(d);
    if (n > 1)
        qsort(list, n, sizeof(*list), cmp_str);
    *out = list;
    return n;
}

void
fx_list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

json_t *
fx_json(const char *path)
{
    json_error_t jerr;

    return json_load_file(path, 0, &jerr);
}

bool
fx_hex_eq(const uint8_t *p, size_t n, const char *s)
{
    char hex[1024];

    if (s == NULL || n * 2 + 1 > sizeof(hex))
        return false;
    cas_hex_encode(p, n, hex);
    return strcasecmp(hex, s) == 0;
}

struct cas_dcap_verifier *
fx_intel_verifier(void)
{
    struct cas_dcap_anchor a;
    struct cas_dcap_verifier *v = NULL;
    struct cas_err err = {0};

    cas_dcap_anchor_intel(&a);
    if (cas_dcap_verifier_new(&a, 1, &v, &err) != CAS_OK)
        return NULL;
    return v;
}
