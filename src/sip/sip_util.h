/* Private helpers shared by the SIP parser files: slice trimming and LWS skipping. */
#ifndef PBXGUARD_SIP_UTIL_H
#define PBXGUARD_SIP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "chars.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/sip/uri.h"
#include "scan.h"

#define ANOM_BIT(a) (1ull << (unsigned)(a))

/*
 * Zeroes a struct of n bytes with sixteen-byte stores. For a constant size of a few
 * hundred bytes compilers emit "rep stos", whose start-up cost exceeds the whole store
 * sequence; the parser zeroes several such structs per message.
 */
static inline void zero_struct(void *p, size_t n)
{
#if defined(__SSE2__)
    char *c = p;
    size_t i = 0;
    const __m128i z = _mm_setzero_si128();
    for (; i + 64 <= n; i += 64) {
        _mm_storeu_si128((__m128i *)(void *)(c + i), z);
        _mm_storeu_si128((__m128i *)(void *)(c + i + 16), z);
        _mm_storeu_si128((__m128i *)(void *)(c + i + 32), z);
        _mm_storeu_si128((__m128i *)(void *)(c + i + 48), z);
        /* Keeps the compiler from turning the loop back into a memset ("rep stos"). */
        __asm__ volatile("" : : : "memory");
    }
    for (; i + 16 <= n; i += 16) {
        _mm_storeu_si128((__m128i *)(void *)(c + i), z);
        __asm__ volatile("" : : : "memory");
    }
    if (i < n)
        memset(c + i, 0, n - i);
#else
    memset(p, 0, n);
#endif
}

/* The per-message parsing path: optimised for speed, grouped in .text.hot. */
#define SIP_HOT __attribute__((hot))

/*
 * sip_hostport_parse() (uri.h) for a host that is not an IPv6 reference and whose end is
 * already known: p..hend is the host and hend is end or the ':' before the port. Same
 * results and outputs as sip_hostport_parse(p..end).
 */
int sip_host_at(const char *p, const char *hend, const char *end, struct slice *host,
                enum sip_host_type *type, uint16_t *port);

/* ASCII lower-casing table (hdr_table.c). */
extern const uint8_t sip_lower[256];

/*
 * s equals lit, a lower-case ASCII literal of n bytes, ignoring ASCII case. The literals
 * hold only letters and bytes below 0x40 ('-', '/', '.', digits), so one word compare
 * does: a literal byte with bit 6 set is a letter and accepts the input byte OR 0x20
 * (only its two cases match); any other literal byte must match exactly.
 */
static inline bool eq_lower(struct slice s, const char *lit, size_t n)
{
    if (s.len != n)
        return false;
    if (n >= 4 && n <= 8) {
        uint32_t x0, x1, l0, l1;
        memcpy(&x0, s.p, 4);
        memcpy(&x1, s.p + n - 4, 4);
        memcpy(&l0, lit, 4);
        memcpy(&l1, lit + n - 4, 4);
        return (((x0 | ((l0 >> 1) & 0x20202020u)) ^ l0) |
                ((x1 | ((l1 >> 1) & 0x20202020u)) ^ l1)) == 0;
    }
    if (n > 8 && n <= 16) {
        uint64_t x0, x1, l0, l1;
        const uint64_t m = 0x2020202020202020ull;
        memcpy(&x0, s.p, 8);
        memcpy(&x1, s.p + n - 8, 8);
        memcpy(&l0, lit, 8);
        memcpy(&l1, lit + n - 8, 8);
        return (((x0 | ((l0 >> 1) & m)) ^ l0) | ((x1 | ((l1 >> 1) & m)) ^ l1)) == 0;
    }
    if (n >= 2 && n < 4) {
        uint16_t x0, x1, l0, l1;
        memcpy(&x0, s.p, 2);
        memcpy(&x1, s.p + n - 2, 2);
        memcpy(&l0, lit, 2);
        memcpy(&l1, lit + n - 2, 2);
        return ((((unsigned)x0 | ((l0 >> 1) & 0x2020u)) ^ l0) |
                (((unsigned)x1 | ((l1 >> 1) & 0x2020u)) ^ l1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (sip_lower[(unsigned char)s.p[i]] != (unsigned char)lit[i])
            return false;
    return true;
}

/* Case-insensitive compare with a literal, which must be written in lower case. */
#define SLICE_IS(s, lit) eq_lower((s), "" lit, sizeof(lit) - 1)

/* Skips SP, HT, CR and LF: inside a header value CR/LF only occur as part of a fold. */
static inline const char *skip_lws(const char *p, const char *end)
{
    while (p < end && CC_IS(*p, CC_LWS))
        p++;
    return p;
}

static inline const char *rskip_lws(const char *p, const char *start)
{
    while (p > start && CC_IS(p[-1], CC_LWS))
        p--;
    return p;
}

static inline struct slice trim_lws(struct slice s)
{
    if (!s.p)
        return s; /* NULL + 0 is undefined behaviour: absent stays absent */
    const char *b = s.p, *e = s.p + s.len;
    b = skip_lws(b, e);
    e = rskip_lws(e, b);
    return slice_make(b, (size_t)(e - b));
}

static inline struct slice slice_range(const char *b, const char *e)
{
    return slice_make(b, (size_t)(e - b));
}

/* Scans a quoted-string starting at the opening quote; returns the byte after the closing
 * quote, or NULL when unterminated. Backslash escapes one byte (RFC 3261 §25.1 quoted-pair). */
static inline const char *skip_quoted(const char *p, const char *end)
{
    p++;
    while (p < end) {
        if (*p == '\\') {
            if (p + 1 >= end)
                return NULL;
            p += 2;
            continue;
        }
        if (*p == '"')
            return p + 1;
        p++;
    }
    return NULL;
}

static inline bool is_token(struct slice s)
{
    if (s.len == 0)
        return false;
#if defined(__SSE2__)
    /* Branches, tags, Call-IDs: long enough that sixteen bytes per step pay. */
    if (s.len >= 16)
        return span_token_vec(s.p, s.p + s.len) == s.p + s.len;
#endif
    return span_class(s.p, s.p + s.len, CC_TOKEN) == s.p + s.len;
}

#endif
