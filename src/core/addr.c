#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/core/addr.h"

const char *pbx_transport_name(enum pbx_transport tp)
{
    switch (tp) {
    case PBX_TP_UDP:
        return "udp";
    case PBX_TP_TCP:
        return "tcp";
    case PBX_TP_TLS:
        return "tls";
    }
    return "?";
}

int pbx_transport_parse(const char *s, size_t len, enum pbx_transport *out)
{
    static const enum pbx_transport all[] = {PBX_TP_UDP, PBX_TP_TCP, PBX_TP_TLS};
    if (len != 3)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const char *name = pbx_transport_name(all[i]);
        if (strncasecmp(s, name, 3) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_port(const char *s, size_t len, uint16_t *out)
{
    unsigned v = 0;
    if (len == 0 || len > 5)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

/* inet_pton needs a NUL-terminated copy; literals are short, so a small stack copy is enough. */
static int parse_ip(const char *s, size_t len, struct pbx_addr *out)
{
    char tmp[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    struct pbx_addr a = {0};
    if (memchr(tmp, ':', len)) {
        if (inet_pton(AF_INET6, tmp, &a.ip.v6) != 1)
            return -EINVAL;
        a.family = AF_INET6;
    } else {
        if (inet_pton(AF_INET, tmp, &a.ip.v4) != 1)
            return -EINVAL;
        a.family = AF_INET;
    }
    *out = a;
    return 0;
}

int pbx_addr_parse(const char *s, size_t len, struct pbx_addr *out)
{
    struct pbx_addr a;
    uint16_t port = 0;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return -EINVAL;
        size_t iplen = (size_t)(close - s - 1);
        if (parse_ip(s + 1, iplen, &a) != 0 || a.family != AF_INET6)
            return -EINVAL;
        size_t rest = len - iplen - 2;
        if (rest > 0) {
            if (close[1] != ':' || parse_port(close + 2, rest - 1, &port) != 0)
                return -EINVAL;
        }
    } else {
        const char *colon = memchr(s, ':', len);
        const char *last = colon ? memrchr(s, ':', len) : NULL;
        if (colon && colon == last) {
            size_t iplen = (size_t)(colon - s);
            if (parse_ip(s, iplen, &a) != 0 || a.family != AF_INET)
                return -EINVAL;
            if (parse_port(colon + 1, len - iplen - 1, &port) != 0)
                return -EINVAL;
        } else if (parse_ip(s, len, &a) != 0) {
            return -EINVAL;
        }
    }
    a.port = port;
    *out = a;
    return 0;
}

int pbx_endpoint_parse(const char *s, size_t len, struct pbx_endpoint *out)
{
    const char *colon = memchr(s, ':', len);
    struct pbx_endpoint e;
    if (!colon || pbx_transport_parse(s, (size_t)(colon - s), &e.transport) != 0)
        return -EINVAL;
    size_t off = (size_t)(colon - s) + 1;
    if (pbx_addr_parse(s + off, len - off, &e.addr) != 0)
        return -EINVAL;
    if (e.addr.port == 0)
        e.addr.port = e.transport == PBX_TP_TLS ? 5061 : 5060;
    *out = e;
    return 0;
}

static size_t addr_bits(const struct pbx_addr *a)
{
    return a->family == AF_INET6 ? 128 : 32;
}

static uint8_t *addr_bytes(struct pbx_addr *a)
{
    return a->family == AF_INET6 ? a->ip.v6.s6_addr : (uint8_t *)&a->ip.v4.s_addr;
}

struct pbx_addr pbx_addr_mask(const struct pbx_addr *a, unsigned prefix)
{
    struct pbx_addr m = *a;
    size_t bits = addr_bits(&m);
    uint8_t *b = addr_bytes(&m);
    m.port = 0;
    for (size_t i = 0; i < bits / 8; i++) {
        size_t first = i * 8;
        if (first >= prefix)
            b[i] = 0;
        else if (first + 8 > prefix)
            b[i] &= (uint8_t)(0xff << (8 - (prefix - first)));
    }
    return m;
}

int pbx_cidr_parse(const char *s, size_t len, struct pbx_cidr *out)
{
    const char *slash = memchr(s, '/', len);
    size_t iplen = slash ? (size_t)(slash - s) : len;
    struct pbx_addr a;
    if (parse_ip(s, iplen, &a) != 0)
        return -EINVAL;
    unsigned prefix = (unsigned)addr_bits(&a);
    if (slash) {
        size_t plen = len - iplen - 1;
        unsigned v = 0;
        if (plen == 0 || plen > 3)
            return -EINVAL;
        for (size_t i = 0; i < plen; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return -EINVAL;
            v = v * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (v > prefix)
            return -EINVAL;
        prefix = v;
    }
    out->base = pbx_addr_mask(&a, prefix);
    out->prefix = (uint8_t)prefix;
    return 0;
}

bool pbx_cidr_contains(const struct pbx_cidr *c, const struct pbx_addr *a)
{
    struct pbx_addr probe = pbx_addr_is_v4mapped(a) ? pbx_addr_unmap(a) : *a;
    if (probe.family != c->base.family)
        return false;
    struct pbx_addr m = pbx_addr_mask(&probe, c->prefix);
    return pbx_addr_eq(&m, &c->base, false);
}

bool pbx_addr_eq(const struct pbx_addr *a, const struct pbx_addr *b, bool with_port)
{
    if (a->family != b->family || (with_port && a->port != b->port))
        return false;
    if (a->family == AF_INET)
        return a->ip.v4.s_addr == b->ip.v4.s_addr;
    if (a->family == AF_INET6)
        return memcmp(&a->ip.v6, &b->ip.v6, sizeof(a->ip.v6)) == 0;
    return true;
}

const char *pbx_addr_fmt_ip(const struct pbx_addr *a, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET,
                   a->family == AF_INET6 ? (const void *)&a->ip.v6 : (const void *)&a->ip.v4, buf,
                   (socklen_t)cap))
        snprintf(buf, cap, "?");
    return buf;
}

const char *pbx_addr_fmt(const struct pbx_addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    pbx_addr_fmt_ip(a, ip, sizeof(ip));
    if (a->family == AF_INET6)
        snprintf(buf, cap, "[%s]:%u", ip, a->port);
    else
        snprintf(buf, cap, "%s:%u", ip, a->port);
    return buf;
}

const char *pbx_endpoint_fmt(const struct pbx_endpoint *e, char *buf, size_t cap)
{
    char a[PBX_ADDR_STRLEN];
    snprintf(buf, cap, "%s:%s", pbx_transport_name(e->transport),
             pbx_addr_fmt(&e->addr, a, sizeof(a)));
    return buf;
}

int pbx_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct pbx_addr *out)
{
    struct pbx_addr a = {0};
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        a.family = AF_INET;
        a.ip.v4 = in->sin_addr;
        a.port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        a.family = AF_INET6;
        a.ip.v6 = in6->sin6_addr;
        a.port = ntohs(in6->sin6_port);
    } else {
        return -EAFNOSUPPORT;
    }
    *out = a;
    return 0;
}

socklen_t pbx_addr_to_sockaddr(const struct pbx_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = a->ip.v6;
        in6->sin6_port = htons(a->port);
        return sizeof(*in6);
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_addr = a->ip.v4;
    in->sin_port = htons(a->port);
    return sizeof(*in);
}

bool pbx_addr_is_v4mapped(const struct pbx_addr *a)
{
    return a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->ip.v6);
}

struct pbx_addr pbx_addr_unmap(const struct pbx_addr *a)
{
    struct pbx_addr r = {0};
    if (!pbx_addr_is_v4mapped(a))
        return *a;
    r.family = AF_INET;
    r.port = a->port;
    memcpy(&r.ip.v4.s_addr, &a->ip.v6.s6_addr[12], 4);
    return r;
}
