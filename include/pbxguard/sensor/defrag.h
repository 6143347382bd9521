/*
 * Bounded IPv4/IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5).
 *
 * Pending datagrams live in a fixed table of at most max_datagrams entries keyed by
 * (family, source, destination, protocol for IPv4, identification). Each holds at most
 * max_datagram bytes and PBX_DEFRAG_MAX_PIECES distinct ranges. An entry older than
 * timeout_us (capture time) is dropped; when the table is full the oldest entry is evicted.
 * Overlapping fragments whose bytes differ drop the whole datagram (RFC 5722 for IPv6; the
 * same rule for IPv4 because overlap is an evasion technique, not something real stacks
 * send). Identical duplicates are accepted.
 *
 * Not thread-safe: one table per capture thread.
 */
#ifndef PBXGUARD_SENSOR_DEFRAG_H
#define PBXGUARD_SENSOR_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/sensor/pkt_decode.h"

#define PBX_DEFRAG_MAX_PIECES 64u

struct ip_defrag_limits {
    unsigned max_datagrams; /* pending datagrams (default 64) */
    size_t max_datagram;    /* reassembled IP payload bytes (default and max 65535) */
    int64_t timeout_us;     /* default 30 s (RFC 8200 §4.5 uses 60 s; SIP needs less) */
};

struct ip_defrag_stats {
    uint64_t fragments;   /* fragments fed */
    uint64_t reassembled; /* datagrams completed */
    uint64_t timeouts;    /* dropped by age */
    uint64_t evicted;     /* dropped because the table was full */
    uint64_t overlaps;    /* dropped for inconsistent overlap */
    uint64_t oversize;    /* dropped for exceeding max_datagram or piece count */
};

struct ip_defrag;

/* lim may be NULL for defaults; zero fields take defaults. Returns 0, -ENOMEM, -EINVAL. */
PBX_WUR int ip_defrag_new(const struct ip_defrag_limits *lim, struct ip_defrag **out);
void ip_defrag_free(struct ip_defrag *d);

/*
 * Adds one fragment (frag->kind == PKT_FRAGMENT). When it completes a datagram, returns 0
 * and writes *out: frag's addresses, version and timestamp with the decoded transport
 * (kind PKT_UDP, PKT_TCP or PKT_OTHER_IP). out->payload then points into a buffer owned by
 * d, valid until the next call on d. Otherwise returns -EAGAIN (stored, incomplete),
 * -EBADMSG (inconsistent fragment; its datagram is dropped), -EMSGSIZE (a cap was hit;
 * its datagram is dropped), -EINVAL (not a fragment) or -ENOMEM.
 */
PBX_WUR int ip_defrag_add(struct ip_defrag *d, const struct pkt_info *frag, struct pkt_info *out);

/* Drops entries older than timeout relative to now_us (capture time). */
void ip_defrag_expire(struct ip_defrag *d, int64_t now_us);

const struct ip_defrag_stats *ip_defrag_stats(const struct ip_defrag *d);
/* Datagrams currently pending. */
unsigned ip_defrag_pending(const struct ip_defrag *d);

#endif
