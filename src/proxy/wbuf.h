/*
 * Bounded output buffer for building messages. Writes past the capacity set a sticky
 * overflow flag instead of failing each call, so builders check once at the end.
 */
#ifndef PBXGUARD_PROXY_WBUF_H
#define PBXGUARD_PROXY_WBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

struct wbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool overflow;
};

static inline void wb_init(struct wbuf *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->len = 0;
    w->cap = cap;
    w->overflow = false;
}

static inline void wb_put(struct wbuf *w, const void *s, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    if (n)
        memcpy(w->p + w->len, s, n);
    w->len += n;
}

static inline void wb_str(struct wbuf *w, const char *s)
{
    wb_put(w, s, strlen(s));
}

static inline void wb_slice(struct wbuf *w, struct slice s)
{
    wb_put(w, s.p, s.len);
}

static inline void wb_u64(struct wbuf *w, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wb_put(w, tmp + sizeof(tmp) - n, n);
}

static inline void wb_hex64(struct wbuf *w, uint64_t v)
{
    static const char d[] = "0123456789abcdef";
    char tmp[16];
    for (int i = 15; i >= 0; i--) {
        tmp[i] = d[v & 15];
        v >>= 4;
    }
    wb_put(w, tmp, 16);
}

static inline void wb_hex32(struct wbuf *w, uint32_t v)
{
    static const char d[] = "0123456789abcdef";
    char tmp[8];
    for (int i = 7; i >= 0; i--) {
        tmp[i] = d[v & 15];
        v >>= 4;
    }
    wb_put(w, tmp, 8);
}

#endif
