/* names.c - session names and relative references (names.h). */
#include "policy/names.h"

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

bool
cas_policy_name_valid(const char *s)
{
    size_t seg = 0, segs = 1, len = strlen(s);

    if (len == 0 || len > CAS_POLICY_MAX_NAME)
        return false;
    for (const char *p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            if (seg == 0 || seg > CAS_POLICY_MAX_SEGMENT || (seg == 1 && p[-1] == '.') ||
                (seg == 2 && p[-1] == '.' && p[-2] == '.'))
                return false;
            if (*p == '\0')
                break;
            seg = 0;
            if (++segs > CAS_POLICY_MAX_SEGMENTS)
                return false;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '~' || *p == '-'))
            return false;
        seg++;
    }
    return true;
}

bool
cas_policy_parent(const char *name, char *out, size_t cap)
{
    const char *slash = strrchr(name, '/');
    size_t n = slash != NULL ? (size_t)(slash - name) : 0;

    if (n >= cap)
        return false;
    memcpy(out, name, n);
    out[n] = '\0';
    return true;
}

/* out = a "/" b (or just b when a is empty), valid and not truncated. */
static bool
join(const char *a, const char *b, char *out, size_t cap)
{
    int n = a[0] != '\0' ? snprintf(out, cap, "%s/%s", a, b) : snprintf(out, cap, "%s", b);

    return n > 0 && (size_t)n < cap && cas_policy_name_valid(out);
}

bool
cas_policy_resolve_ref(const char *from, const char *ref, char *out, size_t cap)
{
    char base[CAS_POLICY_MAX_NAME + 1], up[CAS_POLICY_MAX_NAME + 1];
    int n;

    if (ref == NULL || cap == 0)
        return false;
    if (strncmp(ref, "./", 2) == 0)
        return from[0] != '\0' && join(from, ref + 2, out, cap);
    if (strncmp(ref, "../", 3) != 0 && strcmp(ref, "..") != 0)
        return join("", ref, out, cap); /* absolute */
    n = snprintf(base, sizeof(base), "%s", from);
    if (n < 0 || (size_t)n >= sizeof(base))
        return false;
    while (strncmp(ref, "../", 3) == 0 || strcmp(ref, "..") == 0) {
        if (!cas_policy_parent(base, up, sizeof(up)))
            return false;
        memcpy(base, up, strlen(up) + 1);
        ref += ref[2] == '/' ? 3 : 2;
    }
    if (*ref == '\0') { /* ".." itself: the parent, which must exist as a name */
        n = snprintf(out, cap, "%s", base);
        return n > 0 && (size_t)n < cap && cas_policy_name_valid(out);
    }
    return join(base, ref, out, cap);
}
