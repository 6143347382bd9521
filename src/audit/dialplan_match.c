/* Asterisk extension pattern matching (see include/pbxguard/audit/dialplan.h). */
#include <ctype.h>
#include <string.h>

#include "pbxguard/audit/dialplan.h"

/* Parses the class at *pp into a 256-bit set; returns false for '.', '!' or end. */
static bool class_at(const char **pp, unsigned char set[32], char *wild)
{
    const char *p = *pp;
    memset(set, 0, 32);
    *wild = 0;
    while (*p == '-')
        p++;
    if (!*p)
        return false;
    char c = (char)toupper((unsigned char)*p);
    if (c == '.' || c == '!') {
        *wild = c;
        *pp = p + 1;
        return false;
    }
    int lo = -1, hi = -1;
    if (c == 'X') {
        lo = '0';
        hi = '9';
    } else if (c == 'Z') {
        lo = '1';
        hi = '9';
    } else if (c == 'N') {
        lo = '2';
        hi = '9';
    }
    if (lo >= 0) {
        for (int i = lo; i <= hi; i++)
            set[i >> 3] |= (unsigned char)(1u << (i & 7));
        *pp = p + 1;
        return true;
    }
    if (*p == '[') {
        const char *q = p + 1;
        while (*q && *q != ']') {
            unsigned char a = (unsigned char)*q;
            if (q[1] == '-' && q[2] && q[2] != ']') {
                unsigned char b = (unsigned char)q[2];
                for (unsigned i = a; i <= b; i++)
                    set[i >> 3] |= (unsigned char)(1u << (i & 7));
                q += 3;
            } else {
                set[a >> 3] |= (unsigned char)(1u << (a & 7));
                q++;
            }
        }
        *pp = *q ? q + 1 : q;
        return true;
    }
    unsigned char u = (unsigned char)*p;
    set[u >> 3] |= (unsigned char)(1u << (u & 7));
    *pp = p + 1;
    return true;
}

static bool in_set(const unsigned char set[32], unsigned char c)
{
    return (set[c >> 3] >> (c & 7)) & 1;
}

bool audit_ext_match(const char *pattern, const char *number)
{
    if (!pattern || !number)
        return false;
    if (pattern[0] != '_') {
        /* Exact extension; dashes are cosmetic in both. */
        const char *a = pattern, *b = number;
        for (;;) {
            while (*a == '-')
                a++;
            while (*b == '-')
                b++;
            if (*a != *b)
                return false;
            if (!*a)
                return true;
            a++;
            b++;
        }
    }
    const char *p = pattern + 1;
    const char *n = number;
    unsigned char set[32];
    char wild;
    for (;;) {
        if (!class_at(&p, set, &wild)) {
            if (wild == '.')
                return *n != '\0';
            if (wild == '!')
                return true;
            return *n == '\0';
        }
        if (!*n || !in_set(set, (unsigned char)*n))
            return false;
        n++;
    }
}

static int class_width(const unsigned char set[32])
{
    int w = 0;
    for (int i = 0; i < 32; i++)
        w += __builtin_popcount(set[i]);
    return w;
}

int audit_ext_cmp(const char *a, const char *b)
{
    bool pa = a[0] == '_', pb = b[0] == '_';
    if (pa != pb)
        return pa ? 1 : -1;
    if (!pa)
        return strcmp(a, b);
    const char *x = a + 1, *y = b + 1;
    unsigned char sx[32], sy[32];
    for (;;) {
        char wx, wy;
        bool cx = class_at(&x, sx, &wx);
        bool cy = class_at(&y, sy, &wy);
        /* Weights: a class counts its members; '.' and '!' outweigh any class. */
        int kx = cx ? class_width(sx) : wx == '.' ? 1000 : wx == '!' ? 1001 : 0;
        int ky = cy ? class_width(sy) : wy == '.' ? 1000 : wy == '!' ? 1001 : 0;
        if (kx != ky) {
            if (kx == 0)
                return -1; /* a ends: the fixed-length pattern is narrower */
            if (ky == 0)
                return 1;
            return kx < ky ? -1 : 1;
        }
        if (!cx || !cy)
            return 0;
        int c = memcmp(sx, sy, 32);
        if (c)
            return c < 0 ? 1 : -1; /* lower characters first, as Asterisk sorts */
    }
}
