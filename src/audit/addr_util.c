/* Address classification for bind settings found in configurations. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "ctx.h"

/* Strips brackets and a trailing ":port" (IPv4 or bracketed IPv6) into out. */
static void host_part(const char *addr, char *out, size_t cap)
{
    const char *p = addr;
    size_t n;
    while (*p == ' ')
        p++;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        n = close ? (size_t)(close - p - 1) : strlen(p + 1);
        p++;
    } else {
        const char *colon = strchr(p, ':');
        /* More than one colon without brackets is a bare IPv6 address. */
        if (colon && strchr(colon + 1, ':'))
            n = strlen(p);
        else
            n = colon ? (size_t)(colon - p) : strlen(p);
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

bool audit_addr_is_any(const char *addr)
{
    char h[64];
    if (!addr)
        return true;
    host_part(addr, h, sizeof(h));
    return h[0] == '\0' || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 || strcmp(h, "*") == 0;
}

bool audit_addr_is_private(const char *addr)
{
    char h[64];
    unsigned char b[16];
    if (!addr)
        return false;
    host_part(addr, h, sizeof(h));
    if (strcmp(h, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, h, b) == 1) {
        return b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168);
    }
    if (inet_pton(AF_INET6, h, b) == 1) {
        static const unsigned char loop[16] = {[15] = 1};
        return memcmp(b, loop, 16) == 0 || (b[0] & 0xfe) == 0xfc;
    }
    return false;
}

const char *audit_host_path(const struct audit_ctx *ctx, const char *abs, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", ctx->root, abs);
    return out;
}
