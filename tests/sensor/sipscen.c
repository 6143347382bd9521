/* SIP scenario helpers for the sensor tests and benchmark (sipscen.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sipscen.h"

static uint8_t frame[PG_MAX_FRAME];
static uint8_t l4[PG_MAX_FRAME];

size_t sc_request(char *out, size_t cap, const struct sc_req *r)
{
    char ua[160] = "", auth[400] = "", pad[2100] = "";
    int n;

    if (r->ua)
        snprintf(ua, sizeof(ua), "User-Agent: %s\r\n", r->ua);
    if (r->auth_user)
        snprintf(auth, sizeof(auth),
                 "Authorization: Digest username=\"%s\", realm=\"pbx.example\", "
                 "nonce=\"4f1a2b3c\", uri=\"sip:pbx.example\", "
                 "response=\"0123456789abcdef0123456789abcd%02x\"\r\n",
                 r->auth_user, r->cseq & 0xffu);
    if (r->pad && r->pad < sizeof(pad) - 16) {
        memcpy(pad, "X-Pad: ", 7);
        memset(pad + 7, 'x', r->pad);
        memcpy(pad + 7 + r->pad, "\r\n", 3);
    }
    n = snprintf(out, cap,
                 "%s sip:%s@pbx.example SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK%s%u;rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:%s@pbx.example>;tag=%s\r\n"
                 "To: <sip:%s@pbx.example>\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: %u %s\r\n"
                 "Contact: <sip:%s@198.51.100.1:5060>\r\n"
                 "%s%s%s"
                 "Content-Length: 0\r\n\r\n",
                 r->method, r->user, r->callid, r->cseq, r->user,
                 r->from_tag ? r->from_tag : "a1b2c3", r->user, r->callid, r->cseq, r->method,
                 r->user, ua, auth, pad);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t sc_response(char *out, size_t cap, const struct sc_req *r, int status, const char *reason)
{
    const char *chal = status == 401 ? "WWW-Authenticate: Digest realm=\"pbx.example\", "
                                       "nonce=\"4f1a2b3c5d6e7f80\", algorithm=MD5\r\n"
                                     : "";
    int n =
        snprintf(out, cap,
                 "SIP/2.0 %d %s\r\n"
                 "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK%s%u;rport=5060\r\n"
                 "From: <sip:%s@pbx.example>;tag=%s\r\n"
                 "To: <sip:%s@pbx.example>;tag=pbx%u\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: %u %s\r\n"
                 "Server: TestPBX\r\n"
                 "%s"
                 "Content-Length: 0\r\n\r\n",
                 status, reason, r->callid, r->cseq, r->user, r->from_tag ? r->from_tag : "a1b2c3",
                 r->user, r->cseq, r->callid, r->cseq, r->method, chal);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int sc_udp(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport, const char *dst,
           uint16_t dport, const char *text, size_t len)
{
    size_t n = strchr(src, ':') ? pg_eth_udp6(frame, src, sport, dst, dport, text, len)
                                : pg_eth_udp4(frame, src, sport, dst, dport, text, len);
    return pg_write(w, ts_us, frame, n);
}

int sc_udp4_frag(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport,
                 const char *dst, uint16_t dport, const char *text, size_t len, uint16_t ipid)
{
    size_t l = pg_udp(l4, sport, dport, text, len);
    size_t first = 1200; /* multiple of 8 */
    size_t h = pg_eth(frame, 0x0800, 0);
    size_t n = h + pg_ipv4(frame + h, src, dst, IPPROTO_UDP, ipid, 0x2000, l4, first);
    int rc = pg_write(w, ts_us, frame, n);
    if (rc != 0)
        return rc;
    n = h + pg_ipv4(frame + h, src, dst, IPPROTO_UDP, ipid, (uint16_t)(first / 8), l4 + first,
                    l - first);
    return pg_write(w, ts_us + 10, frame, n);
}

int sc_udp6_frag(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport,
                 const char *dst, uint16_t dport, const char *text, size_t len, uint32_t id)
{
    static uint8_t data[PG_MAX_FRAME];
    size_t l = pg_udp(l4, sport, dport, text, len);
    size_t first = 1200; /* multiple of 8 */
    size_t h = pg_eth(frame, 0x86dd, 0);
    size_t f = pg_v6frag(data, IPPROTO_UDP, 0, true, id);
    memcpy(data + f, l4, first);
    size_t n = h + pg_ipv6(frame + h, src, dst, IPPROTO_FRAGMENT, data, f + first);
    int rc = pg_write(w, ts_us, frame, n);
    if (rc != 0)
        return rc;
    f = pg_v6frag(data, IPPROTO_UDP, (uint32_t)first, false, id);
    memcpy(data + f, l4 + first, l - first);
    n = h + pg_ipv6(frame + h, src, dst, IPPROTO_FRAGMENT, data, f + l - first);
    return pg_write(w, ts_us + 10, frame, n);
}

int sc_tcp4_split(struct pg_writer *w, int64_t ts_us, const char *src, uint16_t sport,
                  const char *dst, uint16_t dport, uint32_t isn, const char *text, size_t len,
                  unsigned nseg)
{
    size_t n = pg_eth_tcp4(frame, src, sport, dst, dport, isn, 0x02, "", 0);
    int rc = pg_write(w, ts_us, frame, n);
    uint32_t seq = isn + 1;
    size_t off = 0, step = (len + nseg - 1) / nseg;

    for (unsigned i = 0; rc == 0 && off < len; i++) {
        size_t k = len - off < step ? len - off : step;
        n = pg_eth_tcp4(frame, src, sport, dst, dport, seq, 0x18, text + off, k);
        rc = pg_write(w, ts_us + 100 * (i + 1), frame, n);
        seq += (uint32_t)k;
        off += k;
    }
    return rc;
}
