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

#endif
