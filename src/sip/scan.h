/*
 * Private: vectorised scans for the parser's longest loops. On x86-64 (SSE2 is part of
 * the base ABI) sixteen bytes are examined per step; elsewhere the same functions are
 * plain byte loops. They only find candidates quickly: every caller still applies its
 * exact character test to the byte found, so the grammar is checked exactly as before.
 * Nothing is read outside [p, end).
 */
#ifndef PBXGUARD_SIP_SCAN_H
#define PBXGUARD_SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * Skips sixteen-byte blocks of [p, end) that hold no byte equal to a, b or c and (when
 * ctl) no byte below 0x21 or above 0x7f. Returns the start of the first block that holds
 * one, or of the last incomplete block: the caller's own exact byte loop takes it from
 * there. Pass the same byte several times for fewer than three.
 */
static inline const char *skip_blocks(const char *p, const char *end, char a, char b, char c,
                                      bool ctl)
{
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
    const __m128i sp = _mm_set1_epi8(0x21);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
                                   _mm_cmpeq_epi8(x, vc));
        if (ctl)
            hit = _mm_or_si128(hit, _mm_cmplt_epi8(x, sp)); /* signed: 0x80..0xff too */
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    (void)end;
    (void)a;
    (void)b;
    (void)c;
    (void)ctl;
#endif
    return p;
}

#if defined(__SSE2__)
/*
 * p[0..n), 0 <= n <= 16, in the low bytes of a vector, zeros above; nothing outside p[0..n)
 * is read. Overlapping word loads rather than a copy to a buffer: a vector load from bytes
 * just stored piecemeal would stall on store forwarding.
 */
static inline __m128i load_partial(const char *p, size_t n)
{
    uint64_t lo = 0, hi = 0;
    if (n >= 8) {
        memcpy(&lo, p, 8);
        if (n > 8) {
            memcpy(&hi, p + n - 8, 8);
            hi >>= 8 * (16 - n); /* keep bytes 8..n-1 */
        }
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        lo = a | ((uint64_t)b << (8 * (n - 4))); /* the overlap holds equal bytes */
    } else {
        for (size_t i = 0; i < n; i++)
            lo |= (uint64_t)(unsigned char)p[i] << (8 * i);
    }
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* Bytes of x that are ASCII letters or digits (signed compares: >= 0x80 is in neither). */
static inline __m128i alnum_bytes(__m128i x)
{
    __m128i lx = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lx, _mm_set1_epi8('a' - 1)),
                                  _mm_cmplt_epi8(lx, _mm_set1_epi8('z' + 1)));
    return _mm_or_si128(digit, alpha);
}

/* span_class(p, end, CC_HOST): letters, digits, '.' and '-', sixteen bytes at a time. */
static inline const char *span_host_vec(const char *p, const char *end)
{
    while (p < end) {
        size_t n = (size_t)(end - p);
        __m128i x =
            n >= 16 ? _mm_loadu_si128((const __m128i *)(const void *)p) : load_partial(p, n);
        __m128i in =
            _mm_or_si128(alnum_bytes(x), _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')),
                                                      _mm_cmpeq_epi8(x, _mm_set1_epi8('-'))));
        unsigned out = ~(unsigned)_mm_movemask_epi8(in) & 0xffffu; /* zeros past n: out */
        if (out)
            return p + __builtin_ctz(out);
        p += 16;
    }
    return end;
}

/* Bytes of x that are token characters (RFC 3261 §25.1): alphanumerics and -.!%*_+`'~ */
static inline __m128i token_bytes(__m128i x)
{
#define TOK_EQ(ch) _mm_cmpeq_epi8(x, _mm_set1_epi8(ch))
    __m128i a = _mm_or_si128(_mm_or_si128(TOK_EQ('-'), TOK_EQ('.')), TOK_EQ('!'));
    __m128i b = _mm_or_si128(_mm_or_si128(TOK_EQ('%'), TOK_EQ('*')), TOK_EQ('_'));
    __m128i c = _mm_or_si128(_mm_or_si128(TOK_EQ('+'), TOK_EQ('`')),
                             _mm_or_si128(TOK_EQ('\''), TOK_EQ('~')));
#undef TOK_EQ
    return _mm_or_si128(_mm_or_si128(alnum_bytes(x), a), _mm_or_si128(b, c));
}

/* span_class(p, end, CC_TOKEN), sixteen bytes at a time. */
static inline const char *span_token_vec(const char *p, const char *end)
{
    while (p < end) {
        size_t n = (size_t)(end - p);
        __m128i x =
            n >= 16 ? _mm_loadu_si128((const __m128i *)(const void *)p) : load_partial(p, n);
        unsigned out = ~(unsigned)_mm_movemask_epi8(token_bytes(x)) & 0xffffu;
        if (out)
            return p + __builtin_ctz(out); /* past n: the zeros there are not tokens */
        p += 16;
    }
    return end;
}

#endif

#endif
