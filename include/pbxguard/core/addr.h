/*
 * Network addresses, CIDR ranges and transport endpoints.
 *
 * struct pbx_addr holds an IPv4 or IPv6 address and a port in host byte order.
 * Endpoint text is "transport:host:port" with IPv6 in brackets: "udp:0.0.0.0:5060",
 * "tls:[::1]:5061". All functions are pure and thread-safe.
 */
#ifndef PBXGUARD_CORE_ADDR_H
#define PBXGUARD_CORE_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pbxguard/core/compiler.h"

enum pbx_transport {
    PBX_TP_UDP,
    PBX_TP_TCP,
    PBX_TP_TLS,
};

struct pbx_addr {
    sa_family_t family; /* AF_INET or AF_INET6; 0 when unset */
    uint16_t port;      /* host byte order; 0 when absent */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } ip;
};

struct pbx_cidr {
    struct pbx_addr base; /* host bits cleared; port unused */
    uint8_t prefix;       /* 0..32 or 0..128 */
};

struct pbx_endpoint {
    enum pbx_transport transport;
    struct pbx_addr addr;
};

/* Longest "[ffff:...:255.255.255.255]:65535" plus NUL, and with a "tls:" prefix. */
#define PBX_ADDR_STRLEN 56
#define PBX_ENDPOINT_STRLEN 64

const char *pbx_transport_name(enum pbx_transport tp);
/* Parses "udp", "tcp", "tls" (ASCII case-insensitive). -EINVAL otherwise. */
PBX_WUR int pbx_transport_parse(const char *s, size_t len, enum pbx_transport *out);

/*
 * Parses an IP literal with an optional port: "192.0.2.1", "192.0.2.1:5060", "::1",
 * "[::1]", "[::1]:5060". A bare IPv6 address takes no port. Writes *out only on success.
 * Returns 0, or -EINVAL for anything else (host names are not resolved here).
 */
PBX_WUR int pbx_addr_parse(const char *s, size_t len, struct pbx_addr *out);

/* Parses "udp:host:port"; port defaults to 5060 (5061 for tls) when omitted. */
PBX_WUR int pbx_endpoint_parse(const char *s, size_t len, struct pbx_endpoint *out);

/* Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (full-length prefix). */
PBX_WUR int pbx_cidr_parse(const char *s, size_t len, struct pbx_cidr *out);

bool pbx_cidr_contains(const struct pbx_cidr *c, const struct pbx_addr *a);

/* Clears every bit past the first prefix bits; used to count IPv6 sources per /64. */
struct pbx_addr pbx_addr_mask(const struct pbx_addr *a, unsigned prefix);

/* Compares family and address; with_port also compares ports. */
bool pbx_addr_eq(const struct pbx_addr *a, const struct pbx_addr *b, bool with_port);

/* Formats "192.0.2.1" or "2001:db8::1" (no port); always NUL-terminates. Returns buf. */
const char *pbx_addr_fmt_ip(const struct pbx_addr *a, char *buf, size_t cap);
/* Formats "192.0.2.1:5060" or "[2001:db8::1]:5060". Returns buf. */
const char *pbx_addr_fmt(const struct pbx_addr *a, char *buf, size_t cap);
/* Formats "udp:192.0.2.1:5060". Returns buf. */
const char *pbx_endpoint_fmt(const struct pbx_endpoint *e, char *buf, size_t cap);

/* Converts from/to a socket address. from: -EAFNOSUPPORT for other families. */
PBX_WUR int pbx_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct pbx_addr *out);
socklen_t pbx_addr_to_sockaddr(const struct pbx_addr *a, struct sockaddr_storage *ss);

/* True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d); unmap() turns it into IPv4. */
bool pbx_addr_is_v4mapped(const struct pbx_addr *a);
struct pbx_addr pbx_addr_unmap(const struct pbx_addr *a);

#endif
