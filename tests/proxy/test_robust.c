/*
 * Robustness: mutated messages (byte flips, insertions, truncations of valid requests and
 * responses) through the parser and the proxy, from both sides. Whatever the proxy builds
 * must parse again (it never emits a broken message) and never exceed its buffer. Bounded:
 * a fixed number of mutations from a fixed seed, so a failure is reproducible.
 */
#include <stdlib.h>
#include <string.h>

#include "pbxguard/proxy/proxy.h"
#include "test.h"

static struct proxy px;

static const char *const seeds[] = {
    "INVITE sip:200@203.0.113.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKinv1;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:203.0.113.1:5060;lr>, <sip:10.0.0.5;lr>\r\n"
    "From: \"A\" <sip:100@example.com>;tag=a1\r\n"
    "To: <sip:200@example.com>\r\n"
    "Call-ID: c1@x\r\n"
    "CSeq: 10 INVITE\r\n"
    "Contact: <sip:100@192.168.1.20:5062>\r\n"
    "Proxy-Require: x\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n\r\nv=0\n",
    "REGISTER sip:example.com SIP/2.0\r\n"
    "v: SIP/2.0/UDP 192.168.1.30:5060;branch=z9hG4bKr, SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKq\r\n"
    "Max-Forwards: 1\r\nf: <sip:300@example.com>;tag=r1\r\nt: <sip:300@example.com>\r\n"
    "i: reg-1\r\nCSeq: 1 REGISTER\r\nm: <sip:300@192.168.1.30;reg-id=1>\r\n"
    "Path: <sip:10.0.0.9;lr>\r\nl: 0\r\n\r\n",
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK0123456789abcdef01234567;fl=00\r\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKx;received=1.2.3.4;rport=5\r\n"
    "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
    "Server: PBX 1.0\r\nWarning: 399 host \"text\", 301 h2 \"t\"\r\nContent-Length: 0\r\n\r\n",
    "BYE sip:100@198.51.100.7:5062 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKpbye\r\n"
    "Max-Forwards: 70\r\nRoute: <sip:10.0.0.1:5060;lr>\r\n"
    "From: <sip:200@example.com>;tag=b1\r\nTo: <sip:100@example.com>;tag=a1\r\n"
    "Call-ID: call-1\r\nCSeq: 5 BYE\r\nUser-Agent: Asterisk\r\nContent-Length: 0\r\n\r\n",
};

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t mutate(const char *seed, uint8_t *buf, size_t cap)
{
    size_t n = strlen(seed);
    memcpy(buf, seed, n);
    unsigned edits = 1 + rng() % 4;
    static const char interesting[] = ";,<>:@\"\\ \r\n=0z";
    for (unsigned e = 0; e < edits && n > 0; e++) {
        size_t at = rng() % n;
        switch (rng() % 4) {
        case 0:
            buf[at] = (uint8_t)interesting[rng() % (sizeof(interesting) - 1)];
            break;
        case 1:
            buf[at] ^= (uint8_t)(1u << (rng() % 8));
            break;
        case 2:
            if (n + 1 < cap) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = (uint8_t)interesting[rng() % (sizeof(interesting) - 1)];
                n++;
            }
            break;
        default:
            n = at;
            break;
        }
    }
    return n;
}

int main(void)
{
    struct proxy_settings set;
    struct proxy_iface ifs[2];
    struct proxy_upstream up;
    struct flow_key fk;
    uint8_t key[16] = {7};
    static uint8_t buf[8192];
    static uint8_t again[PROXY_OUT_CAP];
    static struct sip_msg m, m2;
    unsigned parsed = 0, forwarded = 0, replied = 0, reparse_fail = 0;

    proxy_settings_default(&set);
    memset(ifs, 0, sizeof(ifs));
    ifs[0].listener_id = 0;
    ifs[0].transport = PBX_TP_UDP;
    CHECK_INT(pbx_addr_parse("203.0.113.1:5060", 16, &ifs[0].addr), 0);
    ifs[0].sides = PROXY_SIDE_OUTSIDE;
    ifs[1].listener_id = 1;
    ifs[1].transport = PBX_TP_UDP;
    CHECK_INT(pbx_addr_parse("10.0.0.1:5060", 13, &ifs[1].addr), 0);
    ifs[1].sides = PROXY_SIDE_INSIDE;
    memset(&up, 0, sizeof(up));
    up.ep.transport = PBX_TP_UDP;
    CHECK_INT(pbx_addr_parse("10.0.0.5:5060", 13, &up.ep.addr), 0);
    CHECK_INT(flow_key_init_random(&fk), 0);
    CHECK_INT(proxy_init(&px, &set, ifs, 2, &up, 1, key, &fk), 0);
    struct pbx_addr phone;
    CHECK_INT(pbx_addr_parse("198.51.100.7:5062", 17, &phone), 0);

    for (unsigned i = 0; i < 40000; i++) {
        size_t n = mutate(seeds[i % PBX_ARRAY_SIZE(seeds)], buf, sizeof(buf));
        struct net_msg in;
        memset(&in, 0, sizeof(in));
        in.buf = buf;
        in.len = n;
        in.transport = PBX_TP_UDP;
        bool inside = (i / PBX_ARRAY_SIZE(seeds)) % 2;
        in.remote = inside ? up.ep.addr : phone;
        in.local = inside ? ifs[1].addr : ifs[0].addr;
        in.listener_id = inside ? 1 : 0;
        if (sip_msg_parse(&m, buf, n, SIP_PARSE_DATAGRAM) != 0)
            continue;
        parsed++;
        struct proxy_action a;
        if (proxy_process(&px, &in, &m, &a) != 0) {
            CHECK(!"proxy_process failed");
            continue;
        }
        if (a.kind == PROXY_ACT_FORWARD || a.kind == PROXY_ACT_REPLY) {
            a.kind == PROXY_ACT_FORWARD ? forwarded++ : replied++;
            if (a.len > sizeof(again) || a.len == 0) {
                CHECK(!"output size out of bounds");
                continue;
            }
            /* What we emit must be a valid message, also as a stream (exact length). */
            memcpy(again, a.buf, a.len);
            if (sip_msg_parse(&m2, again, a.len, SIP_PARSE_STREAM) != 0) {
                if (reparse_fail++ < 5)
                    fprintf(stderr, "unparsable output (%s at %zu):\n%.*s\n--- from:\n%.*s\n",
                            m2.err_reason ? m2.err_reason : "?", m2.err_off, (int)a.len,
                            (const char *)a.buf, (int)n, (const char *)buf);
            }
        }
    }
    CHECK_INT(reparse_fail, 0);
    CHECK(parsed > 1000);
    CHECK(forwarded > 100);
    CHECK(replied > 10);
    fprintf(stderr, "parsed %u, forwarded %u, replied %u\n", parsed, forwarded, replied);
    return test_finish();
}
