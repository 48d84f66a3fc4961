/*
 * fuzz_codec.c - the strict decoders: base64 (both alphabets), hex and key hashes. Property: what
 * a decoder accepts re-encodes to the very same text (one text per byte string).
 */
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "util/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    uint8_t out[512], digest[32];
    char text[1024], b58[51];
    size_t n = 0;
    struct cas_err err = {0};

    if (size > 600)
        return 0;
    for (int url = 0; url < 2; url++) {
        if (cas_b64_decode(s, size, out, sizeof(out), &n, url != 0)) {
            cas_b64_encode(out, n, text, url != 0);
            if (url == 0 && (strlen(text) != size || memcmp(text, s, size) != 0))
                abort();
            if (url != 0 && memcmp(text, s, strlen(text)) != 0)
                abort();
        }
    }
    if (size % 2 == 0 && size <= 2 * sizeof(out) && cas_hex_decode_exact(s, size, out, size / 2)) {
        cas_hex_encode(out, size / 2, text);
        for (size_t i = 0; i < size; i++) {
            char c = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
            if (text[i] != c)
                abort();
        }
    }
    if (size < sizeof(text)) {
        memcpy(text, s, size);
        text[size] = '\0';
        if (cas_keyhash_parse(text, digest, &err) == CAS_OK && size == 50) {
            cas_keyhash_to_b58(digest, b58);
            if (strcmp(b58, text) != 0)
                abort();
        }
    }
    return 0;
}
