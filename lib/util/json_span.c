/*
 * json_span.c - one top-level member's value located in JSON text (json_span.h). Iterative (depth
 * is a counter, not recursion), and every index is checked against len before it is read, so any
 * bytes at all are safe to scan; strings are skipped with memchr, as they are most of the text.
 */
#include "util/json_span.h"

#include <string.h>

#define FAIL ((size_t)-1)

static size_t
skip_ws(const char *t, size_t len, size_t i)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

/* t[i] is the opening quote: the index after the closing one, or FAIL. A quote closes the string
 * when an even number of backslashes precede it. */
static size_t
skip_string(const char *t, size_t len, size_t i)
{
    size_t from = i + 1;

    for (;;) {
        const char *q = from < len ? memchr(t + from, '"', len - from) : NULL;
        size_t at, slashes = 0;

        if (q == NULL)
            return FAIL;
        at = (size_t)(q - t);
        while (at - slashes > i + 1 && t[at - slashes - 1] == '\\')
            slashes++;
        if (slashes % 2 == 0)
            return at + 1;
        from = at + 1;
    }
}

/* t[i] starts a value: the index after it, or FAIL. */
static size_t
skip_value(const char *t, size_t len, size_t i)
{
    size_t depth = 0;

    if (i >= len)
        return FAIL;
    if (t[i] == '"')
        return skip_string(t, len, i);
    if (t[i] != '{' && t[i] != '[') {
        size_t from = i;
        while (i < len && strchr(",}] \t\r\n", t[i]) == NULL)
            i++;
        return i > from ? i : FAIL;
    }
    while (i < len) {
        char c = t[i];
        if (c == '"') {
            if ((i = skip_string(t, len, i)) == FAIL)
                return FAIL;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        }
        i++;
    }
    return FAIL;
}

bool
cas_json_member_span(const char *text, size_t len, const char *key, size_t *start, size_t *end)
{
    size_t klen = strlen(key), i = skip_ws(text, len, 0);

    if (i >= len || text[i] != '{')
        return false;
    i = skip_ws(text, len, i + 1);
    while (i < len && text[i] == '"') {
        size_t k = i + 1, v;
        bool match;

        if ((i = skip_string(text, len, i)) == FAIL)
            return false;
        match = i - 1 - k == klen && memcmp(text + k, key, klen) == 0;
        i = skip_ws(text, len, i);
        if (i >= len || text[i] != ':')
            return false;
        v = skip_ws(text, len, i + 1);
        if ((i = skip_value(text, len, v)) == FAIL)
            return false;
        if (match) {
            *start = v;
            *end = i;
            return true;
        }
        i = skip_ws(text, len, i);
        if (i >= len || text[i] != ',')
            return false;
        i = skip_ws(text, len, i + 1);
    }
    return false;
}
