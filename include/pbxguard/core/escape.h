/*
 * The one way attacker-controlled bytes reach a log line, an event or a CLI report.
 *
 * esc_untrusted() copies at most max_in input bytes, escaping everything that could break
 * out of a line or a JSON string:
 *   "  ->  \"        \  ->  \\        CR -> \r   LF -> \n   TAB -> \t
 *   other control bytes (0x00-0x1f, 0x7f) and bytes that are not part of valid UTF-8:
 *       ESC_JSON: \u00NN        ESC_TEXT: \xNN
 * Valid UTF-8 sequences are copied as they are, except U+2028/U+2029 (line separators to
 * some readers), written \u2028/\u2029 in both modes. When the input is cut (longer than
 * max_in, or the output would not fit in dst), the output ends with the marker
 * "…[+N bytes]" where N is the number of input bytes not shown; the cut never splits an
 * escape or a UTF-8 sequence. The output contains no byte below 0x20, no raw '"' and no lone
 * '\', so it is safe inside a JSON string and cannot start a new log line.
 *
 * Pure functions, thread-safe, no allocation.
 */
#ifndef PBXGUARD_CORE_ESCAPE_H
#define PBXGUARD_CORE_ESCAPE_H

#include <stddef.h>

#include "pbxguard/core/slice.h"

enum esc_mode {
    ESC_JSON, /* contents of a JSON string literal */
    ESC_TEXT, /* diagnostic log text */
};

/* Smallest dst that always has room for the cut marker; smaller dst gives "" (returns 0). */
#define ESC_MIN_CAP 32u
/* Default input cap for header values and similar fields in logs and events. */
#define ESC_DEFAULT_MAX 256u

/*
 * Escapes len bytes at src (src may be NULL when len is 0) into dst (cap bytes, always
 * NUL-terminated when cap > 0). Returns the number of bytes written, excluding the NUL.
 */
size_t esc_untrusted(char *dst, size_t cap, const void *src, size_t len, size_t max_in,
                     enum esc_mode mode);

/* Number of output bytes (excluding NUL) escaping src would need with no cap at all. */
size_t esc_measure(const void *src, size_t len, enum esc_mode mode);

/*
 * Length (1..4) of the valid UTF-8 sequence at p (avail bytes readable), or 0 if p does not
 * start one: overlong forms, surrogates, code points past U+10FFFF and truncated sequences
 * are invalid. ASCII bytes, control bytes included, are length 1.
 */
size_t esc_utf8_len(const void *p, size_t avail);

/* Stack buffer for one escaped value in a log call: log_warn("ua %s", esc_s(&b, ua)). */
struct esc_buf {
    char s[ESC_DEFAULT_MAX * 4 + ESC_MIN_CAP];
};

/* Text-mode escape of a slice with ESC_DEFAULT_MAX input bytes; returns b->s. */
const char *esc_s(struct esc_buf *b, struct slice s);

#endif
