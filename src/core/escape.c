/* Escaping of untrusted bytes for logs, events and reports; see pbxguard/core/escape.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/core/escape.h"

/* "…" U+2026 in UTF-8 */
#define ELLIPSIS "\xe2\x80\xa6"

/* RFC 3629 §4: overlong forms, surrogates and code points past U+10FFFF are invalid. */
size_t esc_utf8_len(const void *p, size_t avail)
{
    const unsigned char *s = p;
    if (avail == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (avail >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (avail < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0;
        if (c == 0xed && s[1] > 0x9f)
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (avail < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0;
        if (c == 0xf4 && s[1] > 0x8f)
            return 0;
        return 4;
    }
    return 0;
}

/*
 * Escapes the unit (one byte or one UTF-8 sequence) at s into piece[8]; sets *used to the
 * input bytes consumed. Returns the output length.
 */
static size_t escape_unit(const unsigned char *s, size_t avail, enum esc_mode mode, char *piece,
                          size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    size_t n = esc_utf8_len(s, avail);

    *used = n ? n : 1;
    if (n == 1) {
        switch (c) {
        case '"':
            memcpy(piece, "\\\"", 2);
            return 2;
        case '\\':
            memcpy(piece, "\\\\", 2);
            return 2;
        case '\r':
            memcpy(piece, "\\r", 2);
            return 2;
        case '\n':
            memcpy(piece, "\\n", 2);
            return 2;
        case '\t':
            memcpy(piece, "\\t", 2);
            return 2;
        default:
            break;
        }
        if (c >= 0x20 && c != 0x7f) {
            piece[0] = (char)c;
            return 1;
        }
    } else if (n == 3 && c == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
        /* U+2028/U+2029 end lines in JavaScript and some log viewers */
        memcpy(piece, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
        return 6;
    } else if (n > 1) {
        memcpy(piece, s, n);
        return n;
    }
    /* control byte or a byte that is not valid UTF-8 */
    if (mode == ESC_JSON) {
        memcpy(piece, "\\u00", 4);
        piece[4] = hex[c >> 4];
        piece[5] = hex[c & 0xf];
        return 6;
    }
    piece[0] = '\\';
    piece[1] = 'x';
    piece[2] = hex[c >> 4];
    piece[3] = hex[c & 0xf];
    return 4;
}

/* Printable ASCII other than '"' and '\\': copied as is, in runs. */
static inline bool is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

size_t esc_measure(const void *src, size_t len, enum esc_mode mode)
{
    const unsigned char *s = src;
    size_t out = 0;
    char piece[8];

    for (size_t i = 0; i < len;) {
        if (is_plain(s[i])) {
            out++;
            i++;
            continue;
        }
        size_t used;
        out += escape_unit(s + i, len - i, mode, piece, &used);
        i += used;
    }
    return out;
}

static unsigned digits_of(size_t v)
{
    unsigned d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

size_t esc_untrusted(char *dst, size_t cap, const void *src, size_t len, size_t max_in,
                     enum esc_mode mode)
{
    const unsigned char *s = src;
    size_t shown = len < max_in ? len : max_in;
    size_t out = 0, i = 0;
    char piece[8];

    if (cap == 0)
        return 0;
    dst[0] = '\0';
    if (cap < ESC_MIN_CAP || (len && !src))
        return 0;

    /*
     * One pass with the whole buffer as budget. Along the way remember the last unit boundary
     * that still leaves room for the "…[+N bytes]" marker (N <= len), to cut there if the
     * input turns out not to fit.
     */
    size_t limit = cap - 1;
    size_t cut_budget = limit - (strlen(ELLIPSIS "[+ bytes]") + digits_of(len));
    size_t cut_i = 0, cut_out = 0;
    while (i < len) {
        size_t used, n;
        if (is_plain(s[i])) {
            /* copy the run of plain bytes that fits */
            size_t j = i;
            size_t stop = shown;
            if (stop - i > limit - out)
                stop = i + (limit - out);
            while (j < stop && is_plain(s[j]))
                j++;
            if (j == i)
                break; /* no room, or past max_in */
            size_t run_out = out;
            memcpy(dst + out, s + i, j - i);
            out += j - i;
            i = j;
            if (out <= cut_budget) {
                cut_i = i;
                cut_out = out;
            } else if (run_out < cut_budget) {
                /* the run crossed the cut budget: one byte per byte, so cut inside it */
                cut_i = i - (out - cut_budget);
                cut_out = cut_budget;
            }
            continue;
        }
        if (i >= shown)
            break;
        n = escape_unit(s + i, len - i, mode, piece, &used);
        if (i + used > shown || out + n > limit)
            break;
        memcpy(dst + out, piece, n);
        out += n;
        i += used;
        if (out <= cut_budget) {
            cut_i = i;
            cut_out = out;
        }
    }
    if (i == len) {
        dst[out] = '\0';
        return out;
    }
    /* Cut at the last boundary that leaves room for the marker. */
    out = cut_out;
    int m = snprintf(dst + out, cap - out, ELLIPSIS "[+%zu bytes]", len - cut_i);
    if (m > 0)
        out += (size_t)m < cap - out ? (size_t)m : cap - out - 1;
    return out;
}

const char *esc_s(struct esc_buf *b, struct slice s)
{
    esc_untrusted(b->s, sizeof(b->s), s.p, s.len, ESC_DEFAULT_MAX, ESC_TEXT);
    return b->s;
}
