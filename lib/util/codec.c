/* codec.c - hex, base64 and Base58Check, all strict (codec.h). */
#include "util/codec.h"

#include <openssl/sha.h>
#include <string.h>

#include "util/alloc.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void
cas_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

bool
cas_hex_decode_exact(const char *s, size_t s_len, uint8_t *out, size_t want)
{
    if (want > SIZE_MAX / 2 || s_len != want * 2)
        return false;
    for (size_t i = 0; i < want; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
cas_b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void
cas_b64_encode(const uint8_t *p, size_t n, char *out, bool url)
{
    const char *a = url ? b64_url : b64_std;
    size_t o = 0, i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        if (!url) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        if (!url)
            out[o++] = '=';
    }
    out[o] = '\0';
}

char *
cas_b64_alloc(const uint8_t *p, size_t n, bool url)
{
    char *text;

    if (n > (SIZE_MAX - 4) / 4 * 3 || (text = cas_wipe_malloc(cas_b64_encoded_len(n) + 1)) == NULL)
        return NULL;
    cas_b64_encode(p, n, text, url);
    return text;
}

static int
b64val(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

bool
cas_b64_decode(const char *s, size_t s_len, uint8_t *out, size_t out_cap, size_t *out_len, bool url)
{
    size_t pad = 0, n, o = 0;
    uint32_t acc = 0;
    int bits = 0;

    *out_len = 0;
    while (pad < 2 && s_len > pad && s[s_len - 1 - pad] == '=')
        pad++;
    if (!url && (s_len % 4) != 0)
        return false;
    if (url && pad != 0 && (s_len % 4) != 0)
        return false;
    n = s_len - pad;
    if (n % 4 == 1)
        return false;
    if ((n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) > out_cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i], url);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero: one text per byte string (no malleable encodings). */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return false;
    *out_len = o;
    return true;
}

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static void
checksum(const uint8_t payload[33], uint8_t sum[4])
{
    uint8_t h1[32], h2[32];

    SHA256(payload, 33, h1);
    SHA256(h1, 32, h2);
    memcpy(sum, h2, 4);
}

void
cas_keyhash_to_b58(const uint8_t digest[32], char out[51])
{
    uint8_t num[37];
    char tmp[64];
    size_t t = 0, zeros = 0, o = 0;

    num[0] = 0x01;
    memcpy(num + 1, digest, 32);
    checksum(num, num + 33);
    while (zeros < sizeof(num) && num[zeros] == 0)
        zeros++;
    /* Repeated division of the big-endian number by 58. */
    for (;;) {
        unsigned rem = 0;
        int nonzero = 0;
        for (size_t i = 0; i < sizeof(num); i++) {
            unsigned cur = rem * 256 + num[i];
            num[i] = (uint8_t)(cur / 58);
            rem = cur % 58;
            nonzero |= num[i] != 0;
        }
        tmp[t++] = b58_alphabet[rem];
        if (!nonzero)
            break;
    }
    for (size_t i = 0; i < zeros; i++)
        out[o++] = '1';
    while (t > 0 && o < 50)
        out[o++] = tmp[--t];
    out[o] = '\0';
}

cas_rc
cas_keyhash_parse(const char *s, uint8_t digest[32], struct cas_err *err)
{
    size_t len = strlen(s);
    uint8_t num[37] = {0};
    uint8_t sum[4];

    if (len == 64) {
        if (!cas_hex_decode_exact(s, len, digest, 32))
            return cas_err_set(err, CAS_E_INVALID,
                               "key hash '%.64s' is not 64 hex digits or Base58Check", s);
        return CAS_OK;
    }
    if (len != 50)
        return cas_err_set(err, CAS_E_INVALID,
                           "key hash '%.80s' has %zu characters; expected 50 (Base58Check) or 64 "
                           "(hex)",
                           s, len);
    for (size_t i = 0; i < len; i++) {
        const char *c = memchr(b58_alphabet, s[i], sizeof(b58_alphabet) - 1);
        unsigned carry;
        if (c == NULL || s[i] == '\0')
            return cas_err_set(err, CAS_E_INVALID, "key hash '%s' is not Base58", s);
        carry = (unsigned)(c - b58_alphabet);
        for (size_t j = sizeof(num); j-- > 0;) {
            carry += 58u * num[j];
            num[j] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry != 0)
            return cas_err_set(err, CAS_E_INVALID, "key hash '%s' is too long a number", s);
    }
    checksum(num, sum);
    if (num[0] != 0x01 || memcmp(sum, num + 33, 4) != 0)
        return cas_err_set(err, CAS_E_INVALID, "key hash '%s' has a wrong version byte or checksum",
                           s);
    memcpy(digest, num + 1, 32);
    return CAS_OK;
}

bool
cas_pct_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;

    if (cap == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t b;
        if (o + 1 >= cap || in[i] == '\0')
            return false;
        if (in[i] == '%') {
            if (len - i < 3 || !cas_hex_decode_exact(in + i + 1, 2, &b, 1) || b == 0)
                return false;
            out[o++] = (char)b;
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return true;
}
