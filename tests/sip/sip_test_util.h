/* Helpers shared by the SIP test programs: file loading and slice checks. */
#ifndef PBXGUARD_TESTS_SIP_UTIL_H
#define PBXGUARD_TESTS_SIP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* Whole file into a heap buffer (caller frees); NULL when unreadable. */
static inline uint8_t *sip_test_load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    /* Exact-size copy: under ASan any read past the last byte is caught (the parser must
     * never rely on a NUL or on slack after the input). */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact && n)
        memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

/* Exact-size heap copy of in[0..len) (caller frees), for the same reason. */
static inline uint8_t *sip_test_dup(const void *in, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, in, len);
    return p;
}

/* An absent slice or one equal to str. */
#define CHECK_ABSENT(s) CHECK(!(s).p)

#endif
