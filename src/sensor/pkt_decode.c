/*
 * Frame -> IP -> UDP/TCP decoding. Every length read from the packet is checked against
 * the bytes actually present before it is used; nothing here trusts the capture.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "pbxguard/sensor/pkt_decode.h"

#define ETH_HLEN 14u
#define SLL_HLEN 16u
#define SLL2_HLEN 20u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u
#define ETHERTYPE_QINQ 0x88a8u
#define ETHERTYPE_QINQ_OLD 0x9100u

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int pkt_link_from_dlt(int dlt, enum pkt_link *out)
{
    switch (dlt) {
    case 1: /* DLT_EN10MB */
        *out = PKT_LINK_ETHERNET;
        return 0;
    case 113: /* DLT_LINUX_SLL */
        *out = PKT_LINK_SLL;
        return 0;
    case 276: /* DLT_LINUX_SLL2 */
        *out = PKT_LINK_SLL2;
        return 0;
    case 12:  /* DLT_RAW on most systems */
    case 14:  /* DLT_RAW on OpenBSD */
    case 101: /* LINKTYPE_RAW */
        *out = PKT_LINK_RAW;
        return 0;
    case 228: /* DLT_IPV4 */
        *out = PKT_LINK_IPV4;
        return 0;
    case 229: /* DLT_IPV6 */
        *out = PKT_LINK_IPV6;
        return 0;
    case 0: /* DLT_NULL */
        *out = PKT_LINK_NULL;
        return 0;
    case 108: /* DLT_LOOP */
        *out = PKT_LINK_LOOP;
        return 0;
    default:
        return -EPROTONOSUPPORT;
    }
}

const char *pkt_kind_name(enum pkt_kind k)
{
    switch (k) {
    case PKT_NOT_IP:
        return "not-ip";
    case PKT_OTHER_IP:
        return "other-ip";
    case PKT_FRAGMENT:
        return "fragment";
    case PKT_UDP:
        return "udp";
    case PKT_TCP:
        return "tcp";
    }
    return "?";
}

static int decode_udp(struct pkt_info *pi, const uint8_t *p, size_t len)
{
    if (len < 8)
        return -EBADMSG;
    size_t ulen = rd16(p + 4);
    /* RFC 768: the length covers header and data. Less than the bytes present is trailing
     * garbage we ignore; more means the datagram was cut. */
    if (ulen < 8 || ulen > len)
        return -EBADMSG;
    pi->src.port = rd16(p);
    pi->dst.port = rd16(p + 2);
    pi->kind = PKT_UDP;
    pi->payload = p + 8;
    pi->payload_len = ulen - 8;
    return 0;
}

static int decode_tcp(struct pkt_info *pi, const uint8_t *p, size_t len)
{
    if (len < 20)
        return -EBADMSG;
    size_t doff = (size_t)(p[12] >> 4) * 4;
    if (doff < 20 || doff > len)
        return -EBADMSG;
    pi->src.port = rd16(p);
    pi->dst.port = rd16(p + 2);
    pi->tcp_seq = rd32(p + 4);
    pi->tcp_flags = p[13];
    pi->kind = PKT_TCP;
    pi->payload = p + doff;
    pi->payload_len = len - doff;
    return 0;
}

static int decode_l4(struct pkt_info *pi, uint8_t proto, const uint8_t *p, size_t len)
{
    pi->proto = proto;
    if (proto == IPPROTO_UDP)
        return decode_udp(pi, p, len);
    if (proto == IPPROTO_TCP)
        return decode_tcp(pi, p, len);
    pi->kind = PKT_OTHER_IP;
    return 0;
}

/* Length in bytes of the extension header nh starting at p (at least 8 bytes readable). */
static size_t ext_hdr_len(uint8_t nh, const uint8_t *p)
{
    /* RFC 4302 §2.2: AH counts 32-bit words, minus 2. */
    if (nh == IPPROTO_AH)
        return ((size_t)p[1] + 2) * 4;
    /* RFC 8200 §4.3-4.6: 8-octet units, not counting the first 8 octets. */
    return ((size_t)p[1] + 1) * 8;
}

/*
 * Walks IPv6 extension headers from next-header nh over p[0..len). Stops at the first
 * upper-layer header (decoded) or at a fragment header (reported as PKT_FRAGMENT).
 */
static int walk_v6(struct pkt_info *pi, uint8_t nh, const uint8_t *p, size_t len)
{
    for (unsigned i = 0; i <= PKT_MAX_EXT_HDRS; i++) {
        switch (nh) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
        case IPPROTO_AH: {
            if (i == PKT_MAX_EXT_HDRS || len < 8)
                return -EBADMSG;
            size_t hl = ext_hdr_len(nh, p);
            if (hl > len)
                return -EBADMSG;
            nh = p[0];
            p += hl;
            len -= hl;
            break;
        }
        case IPPROTO_FRAGMENT: {
            if (i == PKT_MAX_EXT_HDRS || len < 8)
                return -EBADMSG;
            uint16_t offm = rd16(p + 2);
            uint32_t off = (uint32_t)(offm & 0xfff8u);
            bool more = offm & 1u;
            uint8_t inner = p[0];
            uint32_t id = rd32(p + 4);
            p += 8;
            len -= 8;
            if (off == 0 && !more) {
                /* RFC 8200 §4.5 / RFC 6946: an atomic fragment is processed as a whole. */
                nh = inner;
                break;
            }
            pi->kind = PKT_FRAGMENT;
            pi->proto = inner;
            pi->frag_id = id;
            pi->frag_off = off;
            pi->frag_more = more;
            pi->payload = p;
            pi->payload_len = len;
            return 0;
        }
        default:
            return decode_l4(pi, nh, p, len);
        }
    }
    return -EBADMSG;
}

int pkt_decode_ip_payload(struct pkt_info *pi, uint8_t proto, const uint8_t *p, size_t len)
{
    if (!pi || (!p && len))
        return -EINVAL;
    if (pi->ip_version == 6) {
        int rc = walk_v6(pi, proto, p, len);
        /* A fragment header inside a reassembled datagram is not something we nest. */
        if (rc == 0 && pi->kind == PKT_FRAGMENT)
            return -EBADMSG;
        return rc;
    }
    return decode_l4(pi, proto, p, len);
}

static int decode_ipv4(struct pkt_info *pi, const uint8_t *p, size_t len)
{
    if (len < 20 || (p[0] >> 4) != 4)
        return -EBADMSG;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t tot = rd16(p + 2);
    if (ihl < 20 || tot < ihl || tot > len)
        return -EBADMSG;
    pi->ip_version = 4;
    pi->src.family = AF_INET;
    pi->dst.family = AF_INET;
    memcpy(&pi->src.ip.v4, p + 12, 4);
    memcpy(&pi->dst.ip.v4, p + 16, 4);
    uint16_t fo = rd16(p + 6);
    uint32_t off = (uint32_t)(fo & 0x1fffu) * 8;
    bool more = fo & 0x2000u;
    const uint8_t *pl = p + ihl;
    size_t plen = tot - ihl;
    if (off || more) {
        pi->kind = PKT_FRAGMENT;
        pi->proto = p[9];
        pi->frag_id = rd16(p + 4);
        pi->frag_off = off;
        pi->frag_more = more;
        pi->payload = pl;
        pi->payload_len = plen;
        return 0;
    }
    return decode_l4(pi, p[9], pl, plen);
}

static int decode_ipv6(struct pkt_info *pi, const uint8_t *p, size_t len)
{
    if (len < 40 || (p[0] >> 4) != 6)
        return -EBADMSG;
    size_t plen = rd16(p + 4);
    /* A zero payload length means a jumbogram (RFC 2675), which no SIP path uses. */
    if (plen == 0 || plen > len - 40)
        return -EBADMSG;
    pi->ip_version = 6;
    pi->src.family = AF_INET6;
    pi->dst.family = AF_INET6;
    memcpy(&pi->src.ip.v6, p + 8, 16);
    memcpy(&pi->dst.ip.v6, p + 24, 16);
    return walk_v6(pi, p[6], p + 40, plen);
}

static int decode_ip(struct pkt_info *pi, const uint8_t *p, size_t len)
{
    if (len < 1)
        return -EBADMSG;
    if ((p[0] >> 4) == 4)
        return decode_ipv4(pi, p, len);
    if ((p[0] >> 4) == 6)
        return decode_ipv6(pi, p, len);
    pi->kind = PKT_NOT_IP;
    return 0;
}

static int decode_ethertype(struct pkt_info *pi, uint16_t et, const uint8_t *p, size_t len)
{
    while (et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ || et == ETHERTYPE_QINQ_OLD) {
        if (pi->vlan_count == PKT_MAX_VLAN || len < 4)
            return -EBADMSG;
        pi->vlan_count++;
        et = rd16(p + 2);
        p += 4;
        len -= 4;
    }
    if (et == ETHERTYPE_IPV4)
        return decode_ipv4(pi, p, len);
    if (et == ETHERTYPE_IPV6)
        return decode_ipv6(pi, p, len);
    pi->kind = PKT_NOT_IP;
    return 0;
}

static bool null_family_v4(uint32_t fam)
{
    return fam == 2;
}

static bool null_family_v6(uint32_t fam)
{
    /* AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30. */
    return fam == 10 || fam == 24 || fam == 28 || fam == 30;
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

int pkt_decode(enum pkt_link link, const uint8_t *frame, size_t caplen, struct pkt_info *pi)
{
    if (!pi || (!frame && caplen))
        return -EINVAL;
    int64_t ts = pi->ts_us;
    memset(pi, 0, sizeof(*pi));
    pi->ts_us = ts;
    pi->kind = PKT_NOT_IP;

    switch (link) {
    case PKT_LINK_ETHERNET:
        if (caplen < ETH_HLEN)
            return -EBADMSG;
        return decode_ethertype(pi, rd16(frame + 12), frame + ETH_HLEN, caplen - ETH_HLEN);
    case PKT_LINK_SLL:
        if (caplen < SLL_HLEN)
            return -EBADMSG;
        return decode_ethertype(pi, rd16(frame + 14), frame + SLL_HLEN, caplen - SLL_HLEN);
    case PKT_LINK_SLL2:
        if (caplen < SLL2_HLEN)
            return -EBADMSG;
        return decode_ethertype(pi, rd16(frame), frame + SLL2_HLEN, caplen - SLL2_HLEN);
    case PKT_LINK_RAW:
        return decode_ip(pi, frame, caplen);
    case PKT_LINK_IPV4:
        return decode_ipv4(pi, frame, caplen);
    case PKT_LINK_IPV6:
        return decode_ipv6(pi, frame, caplen);
    case PKT_LINK_NULL:
    case PKT_LINK_LOOP: {
        if (caplen < 4)
            return -EBADMSG;
        uint32_t fam = rd32(frame);
        /* DLT_NULL stores the family in the capturing host's byte order: accept both. */
        if (link == PKT_LINK_NULL && !null_family_v4(fam) && !null_family_v6(fam))
            fam = bswap32(fam);
        if (null_family_v4(fam))
            return decode_ipv4(pi, frame + 4, caplen - 4);
        if (null_family_v6(fam))
            return decode_ipv6(pi, frame + 4, caplen - 4);
        return 0;
    }
    }
    return -EINVAL;
}
