/*
 * replay_main.c - runs a fuzz target over files and folders of inputs without libFuzzer, so
 * ctest replays every corpus in every build (ASan included). Exits 1 when no input was found:
 * a replay that ran nothing must not pass.
 */
#include <stdint.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long g_count;

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;

    if (f == NULL)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    g_count++;
    return 0;
}

static int
run_path(const char *path, int depth)
{
    struct stat st;
    struct dirent **names;
    int n, rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: cannot stat %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? run_file(path) : 0;
    if (depth > 8)
        return 0;
    n = scandir(path, &names, NULL, alphasort);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        char child[4096];
        if (names[i]->d_name[0] != '.' &&
            snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name) < (int)sizeof(child) &&
            run_path(child, depth + 1) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (run_path(argv[i], 0) != 0) {
            fprintf(stderr, "replay: failed on %s\n", argv[i]);
            return 1;
        }
    }
    printf("replay: %ld inputs ran without a crash\n", g_count);
    return g_count > 0 ? 0 : 1;
}
