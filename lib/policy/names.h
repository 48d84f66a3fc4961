/*
 * names.h - session names and references (policy.md §3 "Names", §8.3): the check every name
 * from a request path or a file goes through, and the resolution of relative references. Pure
 * string functions on untrusted text; outputs never truncate (a name that does not fit fails).
 */
#ifndef CAS_POLICY_NAMES_H
#define CAS_POLICY_NAMES_H

#include <stddef.h>

#include <stdbool.h>

/* Segments of [A-Za-z0-9_.~-] (1 to 128 bytes, not "." or "..") joined by '/', at most 16
 * segments and 1,024 bytes. */
bool cas_policy_name_valid(const char *s);
/* The namespace of name ("" at the top) into out; false when it does not fit. */
bool cas_policy_parent(const char *name, char *out, size_t cap);
/* A reference as written (./x, ../x, ../../x, .., or absolute) from session `from`, resolved to
 * a valid name in out; false when it escapes the top, is not a valid name, or does not fit. */
bool cas_policy_resolve_ref(const char *from, const char *ref, char *out, size_t cap);

#endif
