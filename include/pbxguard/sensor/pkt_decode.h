/*
 * Packet decoding for captured frames: link layer -> IPv4/IPv6 -> UDP/TCP, giving the
 * 5-tuple, the timestamp and a pointer to the transport payload.
 *
 * Link layers: Ethernet (with up to PKT_MAX_VLAN 802.1Q/802.1ad tags), Linux cooked
 * capture v1 (SLL) and v2 (SLL2), raw IP (v4 or v6 by the version nibble), BSD loopback
 * (DLT_NULL, host byte order) and OpenBSD loopback (DLT_LOOP, network byte order).
 * IPv6 extension headers (hop-by-hop, routing, destination options, fragment, AH) are
 * walked, at most PKT_MAX_EXT_HDRS of them. IP, UDP and TCP checksums are not verified:
 * with checksum offload, locally sent packets are captured before the NIC fills them in.
 *
 * Ownership: nothing is allocated. pkt_info.payload points into the frame given to
 * pkt_decode() (or into the buffer given to pkt_decode_ip_payload()), which must outlive
 * every use of it. Input bytes are never modified. Pure functions, thread-safe.
 */
#ifndef PBXGUARD_SENSOR_PKT_DECODE_H
#define PBXGUARD_SENSOR_PKT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"

#define PKT_MAX_VLAN 4u
#define PKT_MAX_EXT_HDRS 8u

enum pkt_link {
    PKT_LINK_ETHERNET,
    PKT_LINK_SLL,  /* Linux cooked capture v1 */
    PKT_LINK_SLL2, /* Linux cooked capture v2 */
    PKT_LINK_RAW,  /* raw IP, version from the first nibble */
    PKT_LINK_IPV4,
    PKT_LINK_IPV6,
    PKT_LINK_NULL, /* BSD loopback: 4-byte address family in the capturing host's order */
    PKT_LINK_LOOP, /* OpenBSD loopback: 4-byte address family in network order */
};

/*
 * Maps a pcap link type (DLT_* as returned by pcap_datalink(), or the LINKTYPE_* value
 * stored in the file) to a pkt_link. Returns 0, or -EPROTONOSUPPORT for anything else.
 */
PBX_WUR int pkt_link_from_dlt(int dlt, enum pkt_link *out);

/* What a frame turned out to be. */
enum pkt_kind {
    PKT_NOT_IP,   /* ARP, LLDP, ...: skipped */
    PKT_OTHER_IP, /* IP with another protocol (ICMP, ESP, ...): skipped */
    PKT_FRAGMENT, /* one IP fragment: hand it to ip_defrag_add() (defrag.h) */
    PKT_UDP,
    PKT_TCP,
};

/* TCP flags (RFC 9293 §3.1). */
#define PKT_TCP_FIN 0x01u
#define PKT_TCP_SYN 0x02u
#define PKT_TCP_RST 0x04u
#define PKT_TCP_PSH 0x08u
#define PKT_TCP_ACK 0x10u

struct pkt_info {
    enum pkt_kind kind;
    int64_t ts_us;       /* capture time, microseconds since the epoch (caller sets it) */
    uint8_t ip_version;  /* 4 or 6; 0 for PKT_NOT_IP */
    uint8_t proto;       /* IP protocol of the payload (IPPROTO_UDP, IPPROTO_TCP, ...) */
    uint8_t vlan_count;  /* 802.1Q tags skipped */
    struct pbx_addr src; /* ports are set for UDP and TCP only */
    struct pbx_addr dst;

    /* PKT_FRAGMENT: the fragment's identification, offset in bytes and More-Fragments. */
    uint32_t frag_id;
    uint32_t frag_off;
    bool frag_more;

    /* PKT_TCP */
    uint32_t tcp_seq;
    uint8_t tcp_flags;

    /*
     * PKT_UDP / PKT_TCP: the transport payload. PKT_FRAGMENT: the fragment data (what
     * follows the IP header and, for IPv6, the fragment header). Absent (NULL, 0) otherwise.
     */
    const uint8_t *payload;
    size_t payload_len;
};

/*
 * Decodes one captured frame of caplen bytes. Ethernet trailers (padding after the IP
 * datagram) are ignored. pi->ts_us is left as the caller set it; everything else is
 * written. Returns 0 (see pi->kind), -EBADMSG when a header is truncated or inconsistent
 * (a snap length that cut the IP datagram counts as truncated), -EINVAL on NULL arguments.
 */
PBX_WUR int pkt_decode(enum pkt_link link, const uint8_t *frame, size_t caplen,
                       struct pkt_info *pi);

/*
 * Decodes what follows an IP header: for IPv6 (pi->ip_version == 6) the remaining
 * extension headers, then UDP or TCP. Used by the reassembler on a complete datagram;
 * pi must already hold the addresses and ip_version. proto is the first next-header.
 * Returns 0 (pi->kind is PKT_UDP, PKT_TCP or PKT_OTHER_IP) or -EBADMSG.
 */
PBX_WUR int pkt_decode_ip_payload(struct pkt_info *pi, uint8_t proto, const uint8_t *p, size_t len);

/* "udp", "tcp", "fragment", "other-ip", "not-ip". */
const char *pkt_kind_name(enum pkt_kind k);

#endif
