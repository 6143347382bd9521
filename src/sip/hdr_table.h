/* Private: header name tables (hdr_table.c) and the inline name classifier. */
#ifndef PBXGUARD_SIP_HDR_TABLE_H
#define PBXGUARD_SIP_HDR_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pbxguard/core/compiler.h"
#include "pbxguard/sip/msg.h"

struct sip_hdr_def {
    const char *name;
    const char *lower; /* the name in lower case, for the compare */
    uint8_t len;
    char compact;
};

/* Longest known name ("P-Preferred-Identity") and most names sharing a slot. */
#define SIP_HDR_NAME_MAX 20
#define SIP_HDR_SLOT_MAX 3

extern const struct sip_hdr_def sip_hdr_defs[SIP_HDR_COUNT];
extern const uint8_t sip_hdr_compact[26];
extern const uint8_t sip_lower[256];
extern const uint8_t sip_hdr_slot[26][SIP_HDR_NAME_MAX + 1][SIP_HDR_SLOT_MAX];
#define SIP_HDR_PAD 32
extern const char sip_hdr_lower16[SIP_HDR_COUNT][SIP_HDR_PAD];

/*
 * Does p[0..n) equal lower[0..n) ignoring ASCII case? lower holds only 'a'..'z' and '-'
 * (true of every known header name). Words of up to 8 bytes are compared at once, the
 * last one overlapping the previous when n is not a multiple of the width: at a letter
 * position the input byte is OR-ed with 0x20 (only 'A'..'Z' and 'a'..'z' then equal a
 * letter), at a '-' position it must be exactly '-'. The letter mask comes from the
 * lower-case text itself: bit 6 is set for letters and clear for '-'. Every byte of the
 * name is compared; nothing is read outside p[0..n) or lower[0..n). n >= 2.
 */
static inline __attribute__((always_inline)) bool sip_hdr_match(const char *p, const char *lower,
                                                                size_t n)
{
    if (n >= 8) {
        uint64_t x, l, diff = 0;
        for (size_t k = 0;; k += 8) {
            if (k + 8 > n)
                k = n - 8;
            memcpy(&x, p + k, 8);
            memcpy(&l, lower + k, 8);
            diff |= (x | ((l >> 1) & 0x2020202020202020ull)) ^ l;
            if (k + 8 == n)
                break;
        }
        return diff == 0;
    }
    if (n >= 4) {
        uint32_t x0, x1, l0, l1;
        memcpy(&x0, p, 4);
        memcpy(&x1, p + n - 4, 4);
        memcpy(&l0, lower, 4);
        memcpy(&l1, lower + n - 4, 4);
        return (((x0 | ((l0 >> 1) & 0x20202020u)) ^ l0) |
                ((x1 | ((l1 >> 1) & 0x20202020u)) ^ l1)) == 0;
    }
    uint16_t x0, x1, l0, l1;
    memcpy(&x0, p, 2);
    memcpy(&x1, p + n - 2, 2);
    memcpy(&l0, lower, 2);
    memcpy(&l1, lower + n - 2, 2);
    return ((((unsigned)x0 | ((l0 >> 1) & 0x2020u)) ^ l0) |
            (((unsigned)x1 | ((l1 >> 1) & 0x2020u)) ^ l1)) == 0;
}

/*
 * sip_hdr_lookup() for the parser's hot path: (first letter | 0x20, length) selects at
 * most three candidates, each confirmed by sip_hdr_match() over the whole name.
 */
static inline __attribute__((always_inline)) enum sip_hdr_id
sip_hdr_classify(const char *p, size_t n, bool *compact)
{
    *compact = false;
    unsigned c = (unsigned char)p[0] | 0x20u;
    if (c - 'a' > 'z' - 'a' || n == 0)
        return SIP_HDR_OTHER;
    if (n == 1) {
        /* The single letter is the whole name: 'A'..'Z' | 0x20 or 'a'..'z' only. */
        enum sip_hdr_id id = (enum sip_hdr_id)sip_hdr_compact[c - 'a'];
        *compact = id != SIP_HDR_OTHER;
        return id;
    }
    if (n > SIP_HDR_NAME_MAX)
        return SIP_HDR_OTHER;
    const uint8_t *slot = sip_hdr_slot[c - 'a'][n];
    for (unsigned i = 0; i < SIP_HDR_SLOT_MAX && slot[i] != SIP_HDR_OTHER; i++)
        if (sip_hdr_match(p, sip_hdr_defs[slot[i]].lower, n))
            return (enum sip_hdr_id)slot[i];
    return SIP_HDR_OTHER;
}

#if defined(__SSE2__)
/*
 * sip_hdr_classify() for a name of 1..15 bytes at p when sixteen bytes are readable at p
 * (the parser's fast path): each candidate is confirmed by one sixteen-byte compare, with
 * the same rule as sip_hdr_match() applied to every byte of the name and the bytes past
 * it ignored. No branch depends on the name's length class.
 */
static inline __attribute__((always_inline)) enum sip_hdr_id
sip_hdr_classify16(const char *p, unsigned n, bool *compact)
{
    *compact = false;
    unsigned c = (unsigned char)p[0] | 0x20u;
    if (c - 'a' > 'z' - 'a')
        return SIP_HDR_OTHER;
    if (n == 1) {
        enum sip_hdr_id id = (enum sip_hdr_id)sip_hdr_compact[c - 'a'];
        *compact = id != SIP_HDR_OTHER;
        return id;
    }
    const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    const unsigned want = (1u << n) - 1;
    const uint8_t *slot = sip_hdr_slot[c - 'a'][n];
    for (unsigned i = 0; i < SIP_HDR_SLOT_MAX && slot[i] != SIP_HDR_OTHER; i++) {
        __m128i l = _mm_loadu_si128((const __m128i *)(const void *)sip_hdr_lower16[slot[i]]);
        __m128i m = _mm_and_si128(_mm_srli_epi16(l, 1), _mm_set1_epi8(0x20));
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(x, m), l));
        if ((eq & want) == want)
            return (enum sip_hdr_id)slot[i];
    }
    return SIP_HDR_OTHER;
}
#endif

#endif
