/*
 * struct slice: a borrowed byte range (pointer + length) into a buffer someone else owns.
 * Never NUL-terminated; never modified. A slice with p == NULL and len == 0 is "absent".
 */
#ifndef PBXGUARD_CORE_SLICE_H
#define PBXGUARD_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slice {
    const char *p;
    size_t len;
};

#define SLICE_NULL ((struct slice){NULL, 0})
#define SLICE_LIT(s) ((struct slice){(s), sizeof(s) - 1})

static inline struct slice slice_make(const void *p, size_t len)
{
    return (struct slice){(const char *)p, len};
}

static inline struct slice slice_cstr(const char *s)
{
    return (struct slice){s, s ? strlen(s) : 0};
}

static inline bool slice_present(struct slice s)
{
    return s.p != NULL;
}

static inline bool slice_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline char slice_lower_ch(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive compare; SIP tokens are ASCII (RFC 3261 §7.3.1). */
static inline bool slice_eq_ci(struct slice a, struct slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (slice_lower_ch(a.p[i]) != slice_lower_ch(b.p[i]))
            return false;
    return true;
}

static inline bool slice_eq_cstr(struct slice a, const char *s)
{
    return slice_eq(a, slice_cstr(s));
}

static inline bool slice_eq_cstr_ci(struct slice a, const char *s)
{
    return slice_eq_ci(a, slice_cstr(s));
}

static inline bool slice_starts_with_ci(struct slice a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.len >= n && slice_eq_ci(slice_make(a.p, n), slice_make(prefix, n));
}

/* Copies at most cap-1 bytes and NUL-terminates; returns the bytes copied. */
static inline size_t slice_copy_cstr(struct slice s, char *dst, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
    return n;
}

#endif
