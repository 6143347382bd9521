#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "pcapgen.h"

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

/* Files are written in the host's byte order, as libpcap itself does. */
static int put(struct pg_writer *w, const void *p, size_t n)
{
    return fwrite(p, 1, n, w->fp) == n ? 0 : -EIO;
}

static int put32(struct pg_writer *w, uint32_t v)
{
    return put(w, &v, 4);
}

static int put16(struct pg_writer *w, uint16_t v)
{
    return put(w, &v, 2);
}

int pg_open(struct pg_writer *w, const char *path, bool pcapng, bool nano, uint32_t linktype)
{
    int rc = 0;
    w->fp = fopen(path, "wb");
    w->ng = pcapng;
    w->nano = nano;
    if (!w->fp)
        return -errno;
    if (!pcapng) {
        rc |= put32(w, nano ? 0xa1b23c4du : 0xa1b2c3d4u);
        rc |= put16(w, 2);
        rc |= put16(w, 4);
        rc |= put32(w, 0);
        rc |= put32(w, 0);
        rc |= put32(w, 65535);
        rc |= put32(w, linktype);
        return rc;
    }
    /* Section Header Block (28 bytes) then Interface Description Block (20 bytes). */
    rc |= put32(w, 0x0a0d0d0au);
    rc |= put32(w, 28);
    rc |= put32(w, 0x1a2b3c4du);
    rc |= put16(w, 1);
    rc |= put16(w, 0);
    rc |= put32(w, 0xffffffffu);
    rc |= put32(w, 0xffffffffu);
    rc |= put32(w, 28);
    rc |= put32(w, 1);
    rc |= put32(w, 20);
    rc |= put16(w, (uint16_t)linktype);
    rc |= put16(w, 0);
    rc |= put32(w, 65535);
    rc |= put32(w, 20);
    return rc;
}

int pg_write(struct pg_writer *w, int64_t ts_us, const uint8_t *frame, size_t len)
{
    int rc = 0;
    static const uint8_t zero[4];
    if (!w->ng) {
        rc |= put32(w, (uint32_t)(ts_us / 1000000));
        rc |= put32(w, (uint32_t)(ts_us % 1000000) * (w->nano ? 1000u : 1u));
        rc |= put32(w, (uint32_t)len);
        rc |= put32(w, (uint32_t)len);
        rc |= put(w, frame, len);
        return rc;
    }
    /* Enhanced Packet Block; default if_tsresol is microseconds. */
    size_t pad = (4 - len % 4) % 4;
    uint32_t total = (uint32_t)(32 + len + pad);
    uint64_t ts = (uint64_t)ts_us;
    rc |= put32(w, 6);
    rc |= put32(w, total);
    rc |= put32(w, 0);
    rc |= put32(w, (uint32_t)(ts >> 32));
    rc |= put32(w, (uint32_t)ts);
    rc |= put32(w, (uint32_t)len);
    rc |= put32(w, (uint32_t)len);
    rc |= put(w, frame, len);
    rc |= put(w, zero, pad);
    rc |= put32(w, total);
    return rc;
}

int pg_close(struct pg_writer *w)
{
    return fclose(w->fp) == 0 ? 0 : -EIO;
}

size_t pg_eth(uint8_t *out, uint16_t ethertype, unsigned vlans)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    memcpy(out, macs, 12);
    size_t n = 12;
    for (unsigned i = 0; i < vlans; i++) {
        wr16(out + n, i == 0 && vlans > 1 ? 0x88a8 : 0x8100);
        wr16(out + n + 2, (uint16_t)(100 + i));
        n += 4;
    }
    wr16(out + n, ethertype);
    return n + 2;
}

size_t pg_udp(uint8_t *out, uint16_t sport, uint16_t dport, const void *payload, size_t len)
{
    wr16(out, sport);
    wr16(out + 2, dport);
    wr16(out + 4, (uint16_t)(8 + len));
    wr16(out + 6, 0);
    memcpy(out + 8, payload, len);
    return 8 + len;
}

size_t pg_tcp(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
              const void *payload, size_t len)
{
    memset(out, 0, 20);
    wr16(out, sport);
    wr16(out + 2, dport);
    wr32(out + 4, seq);
    out[12] = 5 << 4;
    out[13] = flags;
    wr16(out + 14, 65535);
    if (len)
        memcpy(out + 20, payload, len);
    return 20 + len;
}

size_t pg_ipv4(uint8_t *out, const char *src, const char *dst, uint8_t proto, uint16_t id,
               uint16_t frag, const void *l4, size_t l4len)
{
    memset(out, 0, 20);
    out[0] = 0x45;
    wr16(out + 2, (uint16_t)(20 + l4len));
    wr16(out + 4, id);
    wr16(out + 6, frag);
    out[8] = 64;
    out[9] = proto;
    inet_pton(AF_INET, src, out + 12);
    inet_pton(AF_INET, dst, out + 16);
    memmove(out + 20, l4, l4len);
    return 20 + l4len;
}

size_t pg_ipv6(uint8_t *out, const char *src, const char *dst, uint8_t nh, const void *data,
               size_t len)
{
    memset(out, 0, 40);
    out[0] = 0x60;
    wr16(out + 4, (uint16_t)len);
    out[6] = nh;
    out[7] = 64;
    inet_pton(AF_INET6, src, out + 8);
    inet_pton(AF_INET6, dst, out + 24);
    memmove(out + 40, data, len);
    return 40 + len;
}

size_t pg_v6frag(uint8_t *out, uint8_t nh, uint32_t off, bool more, uint32_t id)
{
    out[0] = nh;
    out[1] = 0;
    wr16(out + 2, (uint16_t)(off | (more ? 1u : 0u)));
    wr32(out + 4, id);
    return 8;
}

size_t pg_eth_udp4(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   const void *payload, size_t len)
{
    static uint8_t l4[PG_MAX_FRAME];
    size_t n = pg_eth(out, 0x0800, 0);
    size_t l = pg_udp(l4, sport, dport, payload, len);
    return n + pg_ipv4(out + n, src, dst, IPPROTO_UDP, 1, 0, l4, l);
}

size_t pg_eth_tcp4(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   uint32_t seq, uint8_t flags, const void *payload, size_t len)
{
    static uint8_t l4[PG_MAX_FRAME];
    size_t n = pg_eth(out, 0x0800, 0);
    size_t l = pg_tcp(l4, sport, dport, seq, flags, payload, len);
    return n + pg_ipv4(out + n, src, dst, IPPROTO_TCP, 2, 0, l4, l);
}

size_t pg_eth_udp6(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   const void *payload, size_t len)
{
    static uint8_t l4[PG_MAX_FRAME];
    size_t n = pg_eth(out, 0x86dd, 0);
    size_t l = pg_udp(l4, sport, dport, payload, len);
    return n + pg_ipv6(out + n, src, dst, IPPROTO_UDP, l4, l);
}
