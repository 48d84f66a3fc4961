/*
 * fuzz_config.c - the `key = value` settings parser. Property: whatever it accepts, every value
 * it stored reads back as a terminated string without a NUL, '#' or surrounding blanks.
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "util/config.h"

static const struct cas_opt opts[] = {
    {"data_dir", "data-dir", "DIR", CAS_OPT_STR, "./cas-data", "state"},
    {"threads", "threads", "N", CAS_OPT_INT, NULL, "workers"},
    {"metrics", "metrics", "on|off", CAS_OPT_SWITCH, "on", "metrics"},
    {"dns_names", "dns-name", "NAME", CAS_OPT_LIST, NULL, "names"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cas_config cfg;
    struct cas_err err = {0};

    cas_config_init(&cfg, opts, 4);
    if (cas_config_load_text(&cfg, "fuzz", (const char *)data, size, &err) == CAS_OK) {
        for (size_t i = 0; i < 4; i++) {
            size_t n = 0;
            const char *const *v = cas_config_get_list(&cfg, opts[i].key, &n);
            for (size_t j = 0; j < n; j++) {
                size_t len = strlen(v[j]);
                if (strchr(v[j], '#') != NULL ||
                    (len > 0 && (v[j][0] == ' ' || v[j][len - 1] == ' ')))
                    abort();
            }
        }
    }
    cas_config_release(&cfg);
    return 0;
}
