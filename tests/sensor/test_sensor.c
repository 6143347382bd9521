/*
 * Sensor packet path: link/IP/transport decoding, fragment reassembly, TCP stream
 * rebuilding and pcap/pcapng reading. Frames are built by pcapgen.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/sensor/capture_file.h"
#include "pbxguard/sensor/defrag.h"
#include "pbxguard/sensor/flow.h"
#include "pbxguard/sensor/pkt_decode.h"
#include "pcapgen.h"
#include "test.h"

static uint8_t frame[PG_MAX_FRAME];
static uint8_t tmp[PG_MAX_FRAME];

static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n";

static void check_addr(const struct pbx_addr *a, const char *ip, uint16_t port)
{
    char buf[PBX_ADDR_STRLEN];
    CHECK_STR(pbx_addr_fmt_ip(a, buf, sizeof(buf)), ip);
    CHECK_INT(a->port, port);
}

static void test_link_layers(void)
{
    struct pkt_info pi = {0};
    size_t n = pg_eth_udp4(frame, "192.0.2.1", 5060, "192.0.2.2", 5080, msg, strlen(msg));
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    CHECK_INT(pi.ip_version, 4);
    check_addr(&pi.src, "192.0.2.1", 5060);
    check_addr(&pi.dst, "192.0.2.2", 5080);
    CHECK_INT(pi.payload_len, strlen(msg));
    CHECK(pi.payload && memcmp(pi.payload, msg, strlen(msg)) == 0);

    /* Ethernet padding after the datagram is ignored. */
    memset(frame + n, 0xee, 20);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n + 20, &pi), 0);
    CHECK_INT(pi.payload_len, strlen(msg));

    /* Truncated captures are refused at every layer. */
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n - 1 - 20 - 20, &pi), -EBADMSG);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, 10, &pi), -EBADMSG);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, 14 + 19, &pi), -EBADMSG);

    /* Two VLAN tags (802.1ad outer, 802.1Q inner). */
    size_t l = pg_udp(tmp, 1000, 5060, msg, strlen(msg));
    size_t h = pg_eth(frame, 0x0800, 2);
    n = h + pg_ipv4(frame + h, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 7, 0, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    CHECK_INT(pi.vlan_count, 2);
    check_addr(&pi.src, "10.0.0.1", 1000);

    /* Too many tags. */
    h = pg_eth(frame, 0x0800, PKT_MAX_VLAN + 1);
    n = h + pg_ipv4(frame + h, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 7, 0, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), -EBADMSG);

    /* Linux cooked v1: 16-byte header, protocol at offset 14. */
    memset(frame, 0, 16);
    frame[14] = 0x86;
    frame[15] = 0xdd;
    n = 16 + pg_ipv6(frame + 16, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_SLL, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    CHECK_INT(pi.ip_version, 6);
    check_addr(&pi.src, "2001:db8::1", 1000);
    check_addr(&pi.dst, "2001:db8::2", 5060);

    /* Linux cooked v2: protocol first, 20-byte header. */
    memset(frame, 0, 20);
    frame[0] = 0x08;
    n = 20 + pg_ipv4(frame + 20, "10.1.1.1", "10.1.1.2", IPPROTO_UDP, 1, 0, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_SLL2, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    check_addr(&pi.src, "10.1.1.1", 1000);

    /* Raw IP, both versions. */
    n = pg_ipv4(frame, "10.2.2.2", "10.2.2.3", IPPROTO_UDP, 1, 0, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_RAW, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    CHECK_INT(pkt_decode(PKT_LINK_IPV4, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    n = pg_ipv6(frame, "::1", "::1", IPPROTO_UDP, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_RAW, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    check_addr(&pi.src, "::1", 1000);
    CHECK_INT(pkt_decode(PKT_LINK_IPV4, frame, n, &pi), -EBADMSG);

    /* BSD loopback: family in either byte order; OpenBSD loop: network order. */
    uint32_t fam = 2;
    memcpy(frame, &fam, 4);
    n = 4 + pg_ipv4(frame + 4, "127.0.0.1", "127.0.0.1", IPPROTO_UDP, 1, 0, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_NULL, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    fam = htonl(2);
    memcpy(frame, &fam, 4);
    CHECK_INT(pkt_decode(PKT_LINK_NULL, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    CHECK_INT(pkt_decode(PKT_LINK_LOOP, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    fam = htonl(30);
    memcpy(frame, &fam, 4);
    n = 4 + pg_ipv6(frame + 4, "::1", "::1", IPPROTO_UDP, tmp, l);
    CHECK_INT(pkt_decode(PKT_LINK_LOOP, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);

    /* ARP is not IP; ICMP is IP but skipped. */
    n = pg_eth(frame, 0x0806, 0) + 28;
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_NOT_IP);
    h = pg_eth(frame, 0x0800, 0);
    n = h + pg_ipv4(frame + h, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 1, 0, "\x08\0\0\0\0\0\0\0", 8);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_OTHER_IP);
    CHECK_INT(pi.proto, IPPROTO_ICMP);

    int dlt_ok;
    enum pkt_link lk;
    dlt_ok = pkt_link_from_dlt(1, &lk);
    CHECK_INT(dlt_ok, 0);
    CHECK_INT(lk, PKT_LINK_ETHERNET);
    CHECK_INT(pkt_link_from_dlt(276, &lk), 0);
    CHECK_INT(lk, PKT_LINK_SLL2);
    CHECK_INT(pkt_link_from_dlt(105, &lk), -EPROTONOSUPPORT);
}

static void test_tcp_and_v6_ext(void)
{
    struct pkt_info pi = {0};
    size_t n = pg_eth_tcp4(frame, "192.0.2.9", 40000, "192.0.2.10", 5060, 123456,
                           PKT_TCP_ACK | PKT_TCP_PSH, msg, 10);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_TCP);
    CHECK_INT(pi.tcp_seq, 123456);
    CHECK_INT(pi.tcp_flags, PKT_TCP_ACK | PKT_TCP_PSH);
    CHECK_INT(pi.payload_len, 10);
    check_addr(&pi.dst, "192.0.2.10", 5060);

    /* Hop-by-hop (8 bytes) -> destination options (16 bytes) -> UDP. */
    uint8_t data[512];
    memset(data, 0, 24);
    data[0] = IPPROTO_DSTOPTS;
    data[1] = 0;
    data[8] = IPPROTO_UDP;
    data[9] = 1;
    size_t l = pg_udp(data + 24, 5060, 5061, msg, strlen(msg));
    size_t h = pg_eth(frame, 0x86dd, 0);
    n = h + pg_ipv6(frame + h, "2001:db8::a", "2001:db8::b", IPPROTO_HOPOPTS, data, 24 + l);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);
    CHECK_INT(pi.payload_len, strlen(msg));
    check_addr(&pi.src, "2001:db8::a", 5060);

    /* An extension header claiming more bytes than present. */
    data[9] = 40;
    n = h + pg_ipv6(frame + h, "2001:db8::a", "2001:db8::b", IPPROTO_HOPOPTS, data, 24 + l);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), -EBADMSG);

    /* An atomic fragment (offset 0, M=0) is decoded as a whole datagram. */
    size_t f = pg_v6frag(data, IPPROTO_UDP, 0, false, 99);
    l = pg_udp(data + f, 5060, 5061, msg, strlen(msg));
    n = h + pg_ipv6(frame + h, "2001:db8::a", "2001:db8::b", IPPROTO_FRAGMENT, data, f + l);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), 0);
    CHECK_INT(pi.kind, PKT_UDP);

    /* A chain longer than PKT_MAX_EXT_HDRS is refused. */
    memset(data, 0, sizeof(data));
    for (unsigned i = 0; i < PKT_MAX_EXT_HDRS + 1; i++)
        data[i * 8] = IPPROTO_DSTOPTS;
    n = h + pg_ipv6(frame + h, "2001:db8::a", "2001:db8::b", IPPROTO_DSTOPTS, data,
                    (PKT_MAX_EXT_HDRS + 2) * 8);
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, frame, n, &pi), -EBADMSG);
}

/* Splits a UDP datagram into IPv4 fragments of chunk bytes and returns them decoded. */
static size_t make_v4_frags(uint8_t bufs[][2048], struct pkt_info *pis, const uint8_t *l4,
                            size_t l4len, size_t chunk, uint16_t id)
{
    size_t nf = 0;
    for (size_t off = 0; off < l4len; off += chunk) {
        size_t len = l4len - off < chunk ? l4len - off : chunk;
        uint16_t fr = (uint16_t)((off / 8) | (off + len < l4len ? 0x2000u : 0));
        size_t n =
            pg_ipv4(bufs[nf], "198.51.100.1", "198.51.100.2", IPPROTO_UDP, id, fr, l4 + off, len);
        memset(&pis[nf], 0, sizeof(pis[nf]));
        pis[nf].ts_us = 1000;
        CHECK_INT(pkt_decode(PKT_LINK_RAW, bufs[nf], n, &pis[nf]), 0);
        CHECK_INT(pis[nf].kind, PKT_FRAGMENT);
        nf++;
    }
    return nf;
}

static void test_defrag(void)
{
    static uint8_t bufs[16][2048];
    struct pkt_info pis[16], out;
    char big[2000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    size_t l4len = pg_udp(tmp, 5060, 5060, big, sizeof(big));

    struct ip_defrag *d;
    CHECK_INT(ip_defrag_new(NULL, &d), 0);
    size_t nf = make_v4_frags(bufs, pis, tmp, l4len, 800, 42);
    CHECK_INT(nf, 3);
    CHECK_INT(pis[1].frag_off, 800);
    CHECK(pis[1].frag_more);
    /* Out of order: last, first, middle. */
    CHECK_INT(ip_defrag_add(d, &pis[2], &out), -EAGAIN);
    CHECK_INT(ip_defrag_add(d, &pis[0], &out), -EAGAIN);
    CHECK_INT(ip_defrag_pending(d), 1);
    CHECK_INT(ip_defrag_add(d, &pis[1], &out), 0);
    CHECK_INT(out.kind, PKT_UDP);
    CHECK_INT(out.payload_len, sizeof(big));
    CHECK(memcmp(out.payload, big, sizeof(big)) == 0);
    check_addr(&out.src, "198.51.100.1", 5060);
    CHECK_INT(ip_defrag_pending(d), 0);
    CHECK_INT(ip_defrag_stats(d)->reassembled, 1);

    /* Exact duplicate fragments are fine. */
    CHECK_INT(ip_defrag_add(d, &pis[0], &out), -EAGAIN);
    CHECK_INT(ip_defrag_add(d, &pis[0], &out), -EAGAIN);
    CHECK_INT(ip_defrag_add(d, &pis[1], &out), -EAGAIN);
    CHECK_INT(ip_defrag_add(d, &pis[2], &out), 0);
    CHECK_INT(out.payload_len, sizeof(big));

    /* An overlap with different bytes drops the datagram. */
    big[900] = 'Z';
    l4len = pg_udp(tmp, 5060, 5060, big, sizeof(big));
    static uint8_t bufs2[16][2048];
    struct pkt_info alt[16];
    make_v4_frags(bufs2, alt, tmp, l4len, 400, 42);
    CHECK_INT(ip_defrag_add(d, &pis[0], &out), -EAGAIN);
    CHECK_INT(ip_defrag_add(d, &pis[1], &out), -EAGAIN);
    CHECK_INT(ip_defrag_add(d, &alt[2], &out), -EBADMSG); /* bytes 800..1200 differ at 908 */
    CHECK_INT(ip_defrag_pending(d), 0);
    CHECK_INT(ip_defrag_stats(d)->overlaps, 1);

    /* A non-final fragment whose length is not a multiple of 8. */
    struct pkt_info odd = pis[0];
    odd.payload_len = 801;
    CHECK_INT(ip_defrag_add(d, &odd, &out), -EBADMSG);

    /* Beyond 65535 bytes. */
    struct pkt_info huge = pis[2];
    huge.frag_off = 65528;
    CHECK_INT(ip_defrag_add(d, &huge, &out), -EMSGSIZE);

    /* Timeout by capture time. */
    CHECK_INT(ip_defrag_add(d, &pis[0], &out), -EAGAIN);
    struct pkt_info late = pis[1];
    late.ts_us = pis[0].ts_us + 31 * 1000000LL;
    CHECK_INT(ip_defrag_add(d, &late, &out), -EAGAIN);
    CHECK_INT(ip_defrag_stats(d)->timeouts, 1);
    ip_defrag_free(d);

    /* Table full: the oldest pending datagram is evicted. */
    struct ip_defrag_limits lim = {.max_datagrams = 2};
    CHECK_INT(ip_defrag_new(&lim, &d), 0);
    for (uint16_t id = 1; id <= 3; id++) {
        struct pkt_info p = pis[0];
        p.frag_id = id;
        p.ts_us = id;
        CHECK_INT(ip_defrag_add(d, &p, &out), -EAGAIN);
    }
    CHECK_INT(ip_defrag_pending(d), 2);
    CHECK_INT(ip_defrag_stats(d)->evicted, 1);
    ip_defrag_free(d);
    ip_defrag_free(NULL);

    /* IPv6: fragment headers, reassembled to UDP. */
    CHECK_INT(ip_defrag_new(NULL, &d), 0);
    l4len = pg_udp(tmp, 5062, 5060, big, 1500);
    uint8_t data[1200];
    int rc = -1;
    for (size_t off = 0; off < l4len; off += 1000) {
        size_t len = l4len - off < 1000 ? l4len - off : 1000;
        size_t f = pg_v6frag(data, IPPROTO_UDP, (uint32_t)off, off + len < l4len, 0xdeadbeef);
        memcpy(data + f, tmp + off, len);
        size_t n = pg_ipv6(frame, "2001:db8::1", "2001:db8::2", IPPROTO_FRAGMENT, data, f + len);
        struct pkt_info p = {0};
        CHECK_INT(pkt_decode(PKT_LINK_RAW, frame, n, &p), 0);
        CHECK_INT(p.kind, PKT_FRAGMENT);
        CHECK_INT(p.frag_id, 0xdeadbeef);
        rc = ip_defrag_add(d, &p, &out);
    }
    CHECK_INT(rc, 0);
    CHECK_INT(out.kind, PKT_UDP);
    CHECK_INT(out.ip_version, 6);
    CHECK_INT(out.payload_len, 1500);
    check_addr(&out.src, "2001:db8::1", 5062);
    ip_defrag_free(d);
}

static struct pkt_info seg(uint32_t seq, uint8_t flags, const char *data, uint16_t sport)
{
    static uint8_t fb[4096];
    struct pkt_info pi = {0};
    size_t n = pg_eth_tcp4(fb, "192.0.2.1", sport, "192.0.2.2", 5060, seq, flags, data,
                           data ? strlen(data) : 0);
    pi.ts_us = seq;
    CHECK_INT(pkt_decode(PKT_LINK_ETHERNET, fb, n, &pi), 0);
    return pi;
}

static void check_flow_data(struct flow *f, const char *want)
{
    size_t len;
    const uint8_t *p = flow_data(f, &len);
    CHECK_INT(len, strlen(want));
    CHECK(len == strlen(want) && (len == 0 || memcmp(p, want, len) == 0));
}

static void test_flow(void)
{
    struct flow_table *t;
    struct flow *f, *g;
    struct flow_limits lim = {.max_flows = 2, .max_buffer = 64, .user_size = 16};
    CHECK_INT(flow_table_new(&lim, &t), 0);

    struct pkt_info p = seg(1000, PKT_TCP_SYN, NULL, 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    CHECK_INT(f->next_seq, 1001);
    memset(flow_user(f), 0xab, 16);
    p = seg(1001, PKT_TCP_ACK, "hello ", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    p = seg(1007, PKT_TCP_ACK, "world", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    check_flow_data(f, "hello world");
    /* Full retransmission and a partial overlap. */
    p = seg(1001, PKT_TCP_ACK, "hello ", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    p = seg(1010, PKT_TCP_ACK, "ld!", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    check_flow_data(f, "hello world!");
    CHECK_INT(f->next_seq, 1013);
    CHECK_INT(flow_table_stats(t)->retransmits, 2);
    flow_consume(f, 6);
    check_flow_data(f, "world!");
    CHECK_INT(f->resets, 0);
    CHECK_INT(((uint8_t *)flow_user(f))[0], 0xab);

    /* Reordering: later segments are held until the gap before them is filled. */
    p = seg(1019, PKT_TCP_ACK, "!!", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    p = seg(1016, PKT_TCP_ACK, "def", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    check_flow_data(f, "world!");
    CHECK_INT(f->nheld, 2);
    p = seg(1013, PKT_TCP_ACK, "abcd", 40000); /* overlaps the held "def" by one byte */
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    check_flow_data(f, "world!abcdef!!");
    CHECK_INT(f->nheld, 0);
    CHECK_INT(f->next_seq, 1021);
    CHECK_INT(flow_table_stats(t)->held, 2);
    CHECK_INT(f->resets, 0);
    flow_consume(f, 14);

    /* A gap that cannot be held (too many segments) is loss: reset stream and state. */
    for (uint32_t k = 0; k < FLOW_MAX_HELD; k++) {
        p = seg(3000 + 2 * k, PKT_TCP_ACK, "x", 40000);
        CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    }
    CHECK_INT(f->nheld, FLOW_MAX_HELD);
    p = seg(2000, PKT_TCP_ACK, "after gap", 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), 0);
    check_flow_data(f, "after gap");
    CHECK_INT(f->resets, 1);
    CHECK_INT(f->nheld, 0);
    CHECK_INT(((uint8_t *)flow_user(f))[0], 0);

    /* Overflow of max_buffer. */
    char big[80];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    p = seg(2009, PKT_TCP_ACK, big, 40000);
    CHECK_INT(flow_tcp_input(t, &p, &f), -EMSGSIZE);
    CHECK_INT(f->resets, 2);
    check_flow_data(f, "");
    CHECK_INT(f->next_seq, 2009 + 79);

    /* Sequence wrap-around. */
    p = seg(0xfffffffeu, PKT_TCP_ACK, "wrap", 40001);
    CHECK_INT(flow_tcp_input(t, &p, &g), 0);
    p = seg(2, PKT_TCP_ACK | PKT_TCP_FIN, "ped", 40001);
    CHECK_INT(flow_tcp_input(t, &p, &g), 0);
    check_flow_data(g, "wrapped");
    CHECK(g->closed);
    CHECK_INT(flow_table_count(t), 2);

    /* A third flow evicts the least recently used. */
    p = seg(5, PKT_TCP_ACK, "third", 40002);
    CHECK_INT(flow_tcp_input(t, &p, &g), 0);
    CHECK_INT(flow_table_count(t), 2);
    CHECK_INT(flow_table_stats(t)->evicted, 1);

    flow_table_expire(t, 5 + 301 * 1000000LL);
    CHECK_INT(flow_table_count(t), 0);
    CHECK_INT(flow_table_stats(t)->expired, 2);
    flow_table_free(t);
    flow_table_free(NULL);
}

/* Many flows through the hash index: lookups must find the same flow after evictions,
 * expiries and the moves they cause. Every call gets a distinct, increasing timestamp and
 * each round touches the live flows oldest first before creating one, so the least recently
 * used flow is always the one created 64 flows earlier. */
static void test_flow_index(void)
{
    struct flow_table *t;
    struct flow *f;
    struct flow_limits lim = {.max_flows = 64, .idle_us = 1000000};
    CHECK_INT(flow_table_new(&lim, &t), 0);
    static uint64_t ids[200];
    static int64_t seen[200];
    int64_t ts = 0;
    unsigned bad = 0;
    for (uint16_t k = 0; k < 200; k++) {
        /* The previous 63 flows must still be found, not re-created. */
        for (uint16_t j = k > 63 ? (uint16_t)(k - 63) : 0; j < k; j++) {
            struct pkt_info q = seg(101, PKT_TCP_ACK, NULL, (uint16_t)(20000 + j));
            q.ts_us = ++ts;
            seen[j] = ts;
            if (flow_tcp_input(t, &q, &f) != 0 || f->id != ids[j])
                bad++;
        }
        struct pkt_info p = seg(100, PKT_TCP_ACK, "x", (uint16_t)(20000 + k));
        p.ts_us = ++ts;
        if (flow_tcp_input(t, &p, &f) != 0 || !f) {
            bad++;
            continue;
        }
        ids[k] = f->id;
        seen[k] = ts;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(flow_table_count(t), 64);
    CHECK_INT(flow_table_stats(t)->flows, 200);
    CHECK_INT(flow_table_stats(t)->evicted, 136);
    /* Expire about half, then every survivor is still found without being re-created. */
    int64_t now = seen[168] + lim.idle_us;
    unsigned want = 0;
    for (unsigned j = 136; j < 200; j++)
        want += now - seen[j] <= lim.idle_us;
    flow_table_expire(t, now);
    CHECK_INT(flow_table_count(t), want);
    CHECK(want > 10 && want < 60);
    unsigned found = 0;
    for (uint16_t j = 136; j < 200; j++) {
        if (now - seen[j] > lim.idle_us)
            continue;
        struct pkt_info q = seg(102, PKT_TCP_ACK, NULL, (uint16_t)(20000 + j));
        q.ts_us = now;
        if (flow_tcp_input(t, &q, &f) == 0 && f->id == ids[j])
            found++;
    }
    CHECK_INT(found, want);
    CHECK_INT(flow_table_count(t), want);
    flow_table_free(t);
}

static void test_capture_files(void)
{
    char dir[] = "/tmp/pbx-sensor-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    static const struct {
        bool ng, nano;
        uint32_t linktype;
        const char *name;
    } cases[] = {
        {false, false, 1, "eth.pcap"},
        {false, true, 1, "eth-nano.pcap"},
        {true, false, 1, "eth.pcapng"},
        {false, false, 276, "sll2.pcap"},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, cases[i].name);
        struct pg_writer w;
        CHECK_INT(pg_open(&w, path, cases[i].ng, cases[i].nano, cases[i].linktype), 0);
        size_t n = pg_eth_udp4(frame, "192.0.2.1", 5060, "192.0.2.2", 5060, msg, strlen(msg));
        if (cases[i].linktype == 276) {
            memmove(frame + 20, frame + 14, n - 14);
            memset(frame, 0, 20);
            frame[0] = 0x08;
            n += 6;
        }
        CHECK_INT(pg_write(&w, 1700000000123456LL, frame, n), 0);
        CHECK_INT(pg_write(&w, 1700000001000001LL, frame, n), 0);
        CHECK_INT(pg_close(&w), 0);

        struct cap_file *c;
        char err[256] = "";
        int rc = cap_file_open(path, &c, err, sizeof(err));
        CHECK_INT(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", cases[i].name, err);
            continue;
        }
        CHECK_INT(cap_file_format(c), cases[i].ng ? CAP_FORMAT_PCAPNG : CAP_FORMAT_PCAP);
        CHECK_INT(cap_file_link(c), cases[i].linktype == 1 ? PKT_LINK_ETHERNET : PKT_LINK_SLL2);
        struct cap_frame fr;
        CHECK_INT(cap_file_next(c, &fr, err, sizeof(err)), 0);
        CHECK_INT(fr.index, 1);
        CHECK_INT(fr.ts_us, 1700000000123456LL);
        CHECK_INT(fr.caplen, n);
        struct pkt_info pi = {.ts_us = fr.ts_us};
        CHECK_INT(pkt_decode(cap_file_link(c), fr.data, fr.caplen, &pi), 0);
        CHECK_INT(pi.kind, PKT_UDP);
        CHECK_INT(pi.payload_len, strlen(msg));
        CHECK_INT(cap_file_next(c, &fr, err, sizeof(err)), 0);
        CHECK_INT(fr.ts_us, 1700000001000001LL);
        CHECK_INT(cap_file_next(c, &fr, err, sizeof(err)), -ENOENT);
        cap_file_close(c);
        unlink(path);
    }

    /* Not a capture, and missing. */
    snprintf(path, sizeof(path), "%s/x.sip", dir);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    fputs(msg, fp);
    fclose(fp);
    struct cap_file *c = NULL;
    char err[256];
    CHECK_INT(cap_file_open(path, &c, err, sizeof(err)), -EBADMSG);
    unlink(path);
    CHECK_INT(cap_file_open(path, &c, err, sizeof(err)), -ENOENT);
    CHECK_INT(cap_format_detect((const uint8_t *)"\x0a\x0d\x0d\x0a", 4), CAP_FORMAT_PCAPNG);
    CHECK_INT(cap_format_detect((const uint8_t *)"\xd4\xc3\xb2\xa1", 4), CAP_FORMAT_PCAP);
    CHECK_INT(cap_format_detect((const uint8_t *)"INVI", 4), CAP_FORMAT_NONE);
    rmdir(dir);
}

int main(void)
{
    test_link_layers();
    test_tcp_and_v6_ext();
    test_defrag();
    test_flow();
    test_flow_index();
    test_capture_files();
    return test_finish();
}
