/*
 * Edge-proxy logic, table-driven where the shape allows: a received message + context in,
 * the expected action, destination and headers out. No sockets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/proxy/proxy.h"
#include "pbxguard/sip/headers.h"
#include "test.h"

/* Interfaces: outside UDP and TLS on 203.0.113.1, inside UDP on 10.0.0.1. */
#define L_OUT_UDP 0
#define L_OUT_TLS 1
#define L_IN_UDP 2
#define L_IN_TCP 3

static struct proxy px;  /* three interfaces, two upstreams */
static struct proxy px1; /* one interface serving both sides */
static char out[PROXY_OUT_CAP + 1];

static struct pbx_addr addr(const char *s)
{
    struct pbx_addr a;
    if (pbx_addr_parse(s, strlen(s), &a) != 0)
        abort();
    return a;
}

static void setup(void)
{
    struct proxy_settings set;
    struct proxy_iface ifs[4];
    struct proxy_upstream ups[2];
    uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct flow_key fk;

    proxy_settings_default(&set);
    memset(ifs, 0, sizeof(ifs));
    ifs[0] = (struct proxy_iface){
        L_OUT_UDP, PBX_TP_UDP, addr("203.0.113.1:5060"), {0}, PROXY_SIDE_OUTSIDE};
    ifs[1] = (struct proxy_iface){
        L_OUT_TLS, PBX_TP_TLS, addr("203.0.113.1:5061"), {0}, PROXY_SIDE_OUTSIDE};
    ifs[2] =
        (struct proxy_iface){L_IN_UDP, PBX_TP_UDP, addr("10.0.0.1:5060"), {0}, PROXY_SIDE_INSIDE};
    ifs[3] =
        (struct proxy_iface){L_IN_TCP, PBX_TP_TCP, addr("10.0.0.1:5060"), {0}, PROXY_SIDE_INSIDE};
    memset(ups, 0, sizeof(ups));
    ups[0].ep.transport = PBX_TP_UDP;
    ups[0].ep.addr = addr("10.0.0.5:5060");
    ups[0].priority = 1;
    ups[1].ep.transport = PBX_TP_UDP;
    ups[1].ep.addr = addr("10.0.0.6:5060");
    ups[1].priority = 2;
    if (flow_key_init_secret(&fk, (const uint8_t *)"test secret 0123456789", 22) != 0)
        abort();
    if (proxy_init(&px, &set, ifs, 4, ups, 2, key, &fk) != 0)
        abort();
    ifs[0] = (struct proxy_iface){0, PBX_TP_UDP, addr("192.0.2.10:5060"), {0}, PROXY_SIDE_BOTH};
    if (proxy_init(&px1, &set, ifs, 1, ups, 1, key, &fk) != 0)
        abort();
}

static struct net_msg from(const char *remote, enum pbx_transport tp, unsigned listener,
                           const char *local, uint64_t conn)
{
    struct net_msg in;
    memset(&in, 0, sizeof(in));
    in.transport = tp;
    in.remote = addr(remote);
    in.local = addr(local);
    in.listener_id = listener;
    in.conn_id = conn;
    return in;
}

#define PHONE_UDP() from("198.51.100.7:5062", PBX_TP_UDP, L_OUT_UDP, "203.0.113.1:5060", 0)
#define PHONE_TLS() from("198.51.100.8:40001", PBX_TP_TLS, L_OUT_TLS, "203.0.113.1:5061", 77)
#define PBX_UDP() from("10.0.0.5:5060", PBX_TP_UDP, L_IN_UDP, "10.0.0.1:5060", 0)

/* Parses the n bytes of buf as received on in and runs the proxy on them; what the proxy
 * sends goes to out (NUL-terminated). */
static int process(struct proxy *p, const uint8_t *buf, size_t n, struct net_msg in,
                   struct proxy_action *act)
{
    static struct sip_msg m;
    in.buf = buf;
    in.len = n;
    int rc = sip_msg_parse(&m, buf, n,
                           in.transport == PBX_TP_UDP ? SIP_PARSE_DATAGRAM : SIP_PARSE_STREAM);
    if (rc != 0) {
        fprintf(stderr, "parse failed: %d %s at %zu\n", rc, m.err_reason ? m.err_reason : "",
                m.err_off);
        return rc;
    }
    rc = proxy_process(p, &in, &m, act);
    out[0] = '\0';
    if (act->buf) {
        memcpy(out, act->buf, act->len);
        out[act->len] = '\0';
    }
    return rc;
}

/* Parses text (LF line ends are turned into CRLF) and runs the proxy on it. */
static int run(struct proxy *p, const char *text, struct net_msg in, struct proxy_action *act)
{
    static uint8_t buf[PROXY_OUT_CAP];
    size_t n = 0;
    for (const char *s = text; *s && n + 2 < sizeof(buf); s++) {
        if (*s == '\n')
            buf[n++] = '\r';
        buf[n++] = (uint8_t)*s;
    }
    return process(p, buf, n, in, act);
}

/* Runs n raw bytes (already CRLF, may hold NUL) as received. */
static int run_len(struct proxy *p, const char *bytes, size_t n, struct net_msg in,
                   struct proxy_action *act)
{
    static uint8_t buf[PROXY_OUT_CAP];
    memcpy(buf, bytes, n);
    return process(p, buf, n, in, act);
}

/* Runs raw bytes (already CRLF, NUL-terminated) as received. */
static int run_raw(struct proxy *p, const char *bytes, struct net_msg in, struct proxy_action *act)
{
    return run_len(p, bytes, strlen(bytes), in, act);
}

/* The n-th header line named name (case-sensitive, long form) of out, value only. */
static const char *hdr(const char *msg, const char *name, unsigned n)
{
    static char val[8][2048];
    static unsigned slot;
    size_t nl = strlen(name);
    const char *p = strstr(msg, "\r\n");
    while (p && p[2] != '\r') {
        p += 2;
        const char *e = strstr(p, "\r\n");
        if (!e)
            break;
        if ((size_t)(e - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == ':') { /* banned-ok */
            if (n-- == 0) {
                char *v = val[slot++ % 8];
                const char *s = p + nl + 1;
                while (*s == ' ')
                    s++;
                size_t len = (size_t)(e - s) < 2047 ? (size_t)(e - s) : 2047;
                memcpy(v, s, len);
                v[len] = '\0';
                return v;
            }
        }
        p = e;
    }
    return NULL;
}

/* Runs text and checks the kind of action it yields; a macro so that a failure names the
 * line of the case. */
#define RUN_EXPECT(p, text, in, act, want_kind)                                                    \
    do {                                                                                           \
        CHECK_INT(run(p, text, in, act), 0);                                                       \
        CHECK_INT((act)->kind, want_kind);                                                         \
    } while (0)

/* The same for a reply, with its status code. */
#define RUN_REPLY(p, text, in, act, want_status)                                                   \
    do {                                                                                           \
        RUN_EXPECT(p, text, in, act, PROXY_ACT_REPLY);                                             \
        CHECK_INT((act)->status, want_status);                                                     \
    } while (0)

static unsigned hdr_count(const char *msg, const char *name)
{
    unsigned n = 0;
    while (hdr(msg, name, n))
        n++;
    return n;
}

/* branch=... of the top Via of msg. */
static const char *top_branch(const char *msg)
{
    static char b[128];
    const char *v = hdr(msg, "Via", 0);
    const char *s = v ? strstr(v, "branch=") : NULL;
    if (!s)
        return "";
    s += 7;
    size_t n = strcspn(s, ";,");
    if (n >= sizeof(b))
        n = sizeof(b) - 1;
    memcpy(b, s, n);
    b[n] = '\0';
    return b;
}

static const char *token_of(const char *uri_hdr)
{
    static char t[FLOW_TOKEN_MAX + 1];
    const char *s = strstr(uri_hdr, "<sip:");
    if (!s)
        return "";
    s += 5;
    size_t n = strcspn(s, "@");
    if (n > FLOW_TOKEN_MAX || s[n] != '@')
        return "";
    memcpy(t, s, n);
    t[n] = '\0';
    return t;
}

static const char *OPTIONS_OUT = "OPTIONS sip:100@203.0.113.1 SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKopt1;rport\n"
                                 "Max-Forwards: 70\n"
                                 "From: <sip:100@example.com>;tag=f1\n"
                                 "To: <sip:100@example.com>\n"
                                 "Call-ID: opt-1@192.168.1.20\n"
                                 "CSeq: 1 OPTIONS\n"
                                 "User-Agent: Yealink SIP-T46S 66.85.0.5\n"
                                 "Content-Length: 0\n\n";

static void test_forward_to_upstream(void)
{
    struct proxy_action a;
    RUN_EXPECT(&px, OPTIONS_OUT, PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.from, PROXY_SIDE_OUTSIDE);
    CHECK_INT(a.to, PROXY_SIDE_INSIDE);
    CHECK_INT(a.upstream, 0);
    CHECK_INT(a.dest.transport, PBX_TP_UDP);
    CHECK(pbx_addr_eq(&a.dest.addr, &(struct pbx_addr){0}, false) == false);
    struct pbx_addr want = addr("10.0.0.5:5060");
    CHECK(pbx_addr_eq(&a.dest.addr, &want, true));
    CHECK_INT(a.dest.listener_id, L_IN_UDP);
    /* Our Via on top, from the inside address only. */
    const char *v0 = hdr(out, "Via", 0);
    CHECK(v0 && strncmp(v0, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK", 40) == 0); /* banned-ok */
    CHECK(v0 && strstr(v0, ";fl=") != NULL);
    CHECK(v0 && !strstr(v0, "203.0.113.1"));
    /* received/rport on the phone's Via (RFC 3581). */
    CHECK_STR(hdr(out, "Via", 1),
              "SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKopt1;received=198.51.100.7;"
              "rport=5062");
    CHECK_STR(hdr(out, "Max-Forwards", 0), "69");
    CHECK_INT(hdr_count(out, "Max-Forwards"), 1);
    /* Towards the PBX the phone's User-Agent stays (the detection engine and the PBX want
     * it); no Record-Route on OPTIONS. */
    CHECK_STR(hdr(out, "User-Agent", 0), "Yealink SIP-T46S 66.85.0.5");
    CHECK_INT(hdr_count(out, "Record-Route"), 0);
    CHECK_STR(hdr(out, "Content-Length", 0), "0");
    CHECK(strlen(out) > 4 && strcmp(out + strlen(out) - 4, "\r\n\r\n") == 0);
}

static const char *INVITE_OUT = "INVITE sip:200@203.0.113.1 SIP/2.0\n"
                                "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKinv1\n"
                                "Max-Forwards: 70\n"
                                "From: \"Alice\" <sip:100@example.com>;tag=a1\n"
                                "To: <sip:200@example.com>\n"
                                "Call-ID: call-1@192.168.1.20\n"
                                "CSeq: 10 INVITE\n"
                                "Contact: <sip:100@192.168.1.20:5062>\n"
                                "Content-Type: application/sdp\n"
                                "Content-Length: 4\n\n"
                                "v=0\n";

static void test_branch_determinism(void)
{
    struct proxy_action a;
    char inv[64], inv2[64], cancel[64], ack[64], other[64];

    RUN_EXPECT(&px, INVITE_OUT, PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    snprintf(inv, sizeof(inv), "%s", top_branch(out));
    CHECK_INT(strlen(inv), 7 + 16 + 8);
    /* Retransmission: same branch. */
    CHECK_INT(run(&px, INVITE_OUT, PHONE_UDP(), &a), 0);
    snprintf(inv2, sizeof(inv2), "%s", top_branch(out));
    CHECK_STR(inv, inv2);

    RUN_EXPECT(&px,
               "CANCEL sip:200@203.0.113.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKinv1\n"
               "Max-Forwards: 70\n"
               "From: \"Alice\" <sip:100@example.com>;tag=a1\n"
               "To: <sip:200@example.com>\n"
               "Call-ID: call-1@192.168.1.20\n"
               "CSeq: 10 CANCEL\n"
               "Content-Length: 0\n\n",
               PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.upstream, 0);
    snprintf(cancel, sizeof(cancel), "%s", top_branch(out));
    CHECK_STR(cancel, inv);

    /* ACK of a non-2xx: same branch as the INVITE although the To tag is new. */
    RUN_EXPECT(&px,
               "ACK sip:200@203.0.113.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKinv1\n"
               "Max-Forwards: 70\n"
               "From: \"Alice\" <sip:100@example.com>;tag=a1\n"
               "To: <sip:200@example.com>;tag=pbx9\n"
               "Call-ID: call-1@192.168.1.20\n"
               "CSeq: 10 ACK\n"
               "Content-Length: 0\n\n",
               PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    snprintf(ack, sizeof(ack), "%s", top_branch(out));
    CHECK_STR(ack, inv);

    /* Another transaction (new client branch): another branch. */
    CHECK_INT(run(&px,
                  "BYE sip:200@203.0.113.1 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKbye1\n"
                  "Max-Forwards: 70\n"
                  "From: \"Alice\" <sip:100@example.com>;tag=a1\n"
                  "To: <sip:200@example.com>;tag=pbx9\n"
                  "Call-ID: call-1@192.168.1.20\n"
                  "CSeq: 11 BYE\n"
                  "Content-Length: 0\n\n",
                  PHONE_UDP(), &a),
              0);
    snprintf(other, sizeof(other), "%s", top_branch(out));
    CHECK(strcmp(other, inv) != 0);
}

static void test_max_forwards_and_loop(void)
{
    struct proxy_action a;
    static char fwd[PROXY_OUT_CAP + 1];

    RUN_REPLY(&px,
              "OPTIONS sip:100@203.0.113.1 SIP/2.0\n"
              "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKmf0\n"
              "Max-Forwards: 0\n"
              "From: <sip:100@example.com>;tag=f1\n"
              "To: <sip:100@example.com>\n"
              "Call-ID: mf0\n"
              "CSeq: 1 OPTIONS\n\n",
              PHONE_UDP(), &a, 483);
    CHECK(strncmp(out, "SIP/2.0 483 Too Many Hops\r\n", 27) == 0); /* banned-ok */
    CHECK(strstr(hdr(out, "To", 0), ";tag=") != NULL);
    CHECK(strstr(hdr(out, "Via", 0), "received=198.51.100.7;rport=5062") != NULL);
    CHECK_STR(hdr(out, "Call-ID", 0), "mf0");
    CHECK_STR(hdr(out, "CSeq", 0), "1 OPTIONS");
    struct pbx_addr back = addr("198.51.100.7:5062");
    CHECK(pbx_addr_eq(&a.dest.addr, &back, true));
    CHECK_INT(a.dest.listener_id, L_OUT_UDP);

    /* Absent Max-Forwards: 70 inserted. */
    RUN_EXPECT(&px,
               "OPTIONS sip:100@203.0.113.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKnomf\n"
               "From: <sip:100@example.com>;tag=f1\n"
               "To: <sip:100@example.com>\n"
               "Call-ID: nomf\n"
               "CSeq: 1 OPTIONS\n\n",
               PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_STR(hdr(out, "Max-Forwards", 0), "70");

    /* Loop: what we forwarded comes back to us unchanged -> 482. */
    CHECK_INT(run(&px, OPTIONS_OUT, PHONE_UDP(), &a), 0);
    memcpy(fwd, out, strlen(out) + 1);
    CHECK_INT(run_raw(&px, fwd, PHONE_UDP(), &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_REPLY);
    CHECK_INT(a.status, 482);
    /* A spiral (same request, new Request-URI) is not a loop. */
    char *sp = strstr(fwd, "sip:100@203.0.113.1");
    CHECK(sp != NULL);
    if (sp)
        memcpy(sp, "sip:101@203.0.113.1", 19);
    CHECK_INT(run_raw(&px, fwd, PHONE_UDP(), &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_FORWARD);
}

static void test_record_route(void)
{
    struct proxy_action a;
    /* UDP outside -> UDP inside on another interface: double Record-Route. */
    RUN_EXPECT(&px, INVITE_OUT, PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    const char *rr = hdr(out, "Record-Route", 0);
    CHECK(rr &&
          strncmp(rr, "<sip:10.0.0.1:5060;transport=udp;lr>, <sip:", 43) == 0); /* banned-ok */
    CHECK(rr && strstr(rr, "@203.0.113.1:5060;transport=udp;lr>") != NULL);
    CHECK_INT(hdr_count(out, "Record-Route"), 1);

    /* TLS phone: the outside entry says transport=tls, the inside one udp. */
    struct net_msg tls = PHONE_TLS();
    RUN_EXPECT(&px, INVITE_OUT, tls, &a, PROXY_ACT_FORWARD);
    rr = hdr(out, "Record-Route", 0);
    CHECK(rr && strncmp(rr, "<sip:10.0.0.1:5060;transport=udp;lr>", 36) == 0); /* banned-ok */
    CHECK(rr && strstr(rr, "@203.0.113.1:5061;transport=tls;lr>") != NULL);
    /* One interface for both sides: a single entry. */
    struct net_msg one = from("198.51.100.7:5062", PBX_TP_UDP, 0, "192.0.2.10:5060", 0);
    RUN_EXPECT(&px1, INVITE_OUT, one, &a, PROXY_ACT_FORWARD);
    rr = hdr(out, "Record-Route", 0);
    CHECK(rr && strstr(rr, "@192.0.2.10:5060;transport=udp;lr>") != NULL);
    CHECK(rr && strchr(rr, ',') == NULL);
    /* In-dialog requests are not record-routed. */
    CHECK_INT(run(&px,
                  "BYE sip:200@10.0.0.5 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKbye2\n"
                  "Max-Forwards: 70\n"
                  "From: <sip:100@example.com>;tag=a1\n"
                  "To: <sip:200@example.com>;tag=b1\n"
                  "Call-ID: call-1@192.168.1.20\n"
                  "CSeq: 11 BYE\n\n",
                  PHONE_UDP(), &a),
              0);
    CHECK_INT(hdr_count(out, "Record-Route"), 0);
}

static const char *REGISTER_TLS = "REGISTER sip:example.com SIP/2.0\n"
                                  "Via: SIP/2.0/TLS 192.168.1.30:40001;branch=z9hG4bKreg1\n"
                                  "Max-Forwards: 70\n"
                                  "From: <sip:300@example.com>;tag=r1\n"
                                  "To: <sip:300@example.com>\n"
                                  "Call-ID: reg-1\n"
                                  "CSeq: 1 REGISTER\n"
                                  "Supported: path, outbound\n"
                                  "Contact: <sip:300@192.168.1.30:40001;transport=tls>"
                                  ";reg-id=1;+sip.instance=\"<urn:uuid:1>\"\n"
                                  "Expires: 600\n"
                                  "Content-Length: 0\n\n";

static void test_path_flow(void)
{
    struct proxy_action a;
    char path[512], tok[FLOW_TOKEN_MAX + 1], req[2048];

    RUN_EXPECT(&px, REGISTER_TLS, PHONE_TLS(), &a, PROXY_ACT_FORWARD);
    const char *ph = hdr(out, "Path", 0);
    CHECK(ph != NULL);
    if (!ph)
        return;
    snprintf(path, sizeof(path), "%s", ph);
    CHECK(strstr(path, "@10.0.0.1:5060;transport=udp;lr;ob>") != NULL);
    snprintf(tok, sizeof(tok), "%s", token_of(path));
    CHECK(strlen(tok) > 20);
    CHECK_INT(hdr_count(out, "Supported"), 1); /* the phone's own "path, outbound" */
    {
        /* Without Supported: path the gateway declares it (strict registrars). */
        struct proxy_action b;
        RUN_EXPECT(&px,
                   "REGISTER sip:example.com SIP/2.0\n"
                   "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKreg9\n"
                   "Max-Forwards: 70\n"
                   "From: <sip:100@example.com>;tag=r9\nTo: <sip:100@example.com>\n"
                   "Call-ID: reg-9\nCSeq: 1 REGISTER\nSupported: replaces\n"
                   "Contact: <sip:100@192.168.1.20:5062>\n\n",
                   PHONE_UDP(), &b, PROXY_ACT_FORWARD);
        CHECK_STR(hdr(out, "Supported", 0), "path");
        CHECK_STR(hdr(out, "Supported", 1), "replaces");
        CHECK(strstr(hdr(out, "Path", 0), ";lr>") != NULL); /* no ob without reg-id */
        CHECK_INT(run(&px, REGISTER_TLS, PHONE_TLS(), &b), 0);
    }
    /* The token names the phone's TLS connection. */
    struct flow f;
    CHECK_INT(flow_decode(&px.fkey, slice_cstr(tok), &f), 0);
    CHECK_INT(f.transport, PBX_TP_TLS);
    CHECK_INT(f.conn_id, 77);
    CHECK_INT(f.listener_id, L_OUT_TLS);
    /* The token memo gives exactly what flow_encode() gives (the second REGISTER_TLS above
     * was served from it). */
    char direct[FLOW_TOKEN_MAX + 1];
    CHECK(flow_encode(&px.fkey, &f, direct, sizeof(direct)) > 0);
    CHECK_STR(direct, tok);
    CHECK_STR(token_of(hdr(out, "Path", 0)), tok);

    /* The PBX calls the registered phone: Route to the Path URI -> over connection 77. */
    snprintf(req, sizeof(req),
             "INVITE sip:300@192.168.1.30:40001;transport=tls SIP/2.0\n"
             "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKpbx1\n"
             "Max-Forwards: 70\n"
             "Route: %s\n"
             "From: <sip:200@example.com>;tag=p1\n"
             "To: <sip:300@example.com>\n"
             "Call-ID: pbx-call-1\n"
             "CSeq: 1 INVITE\n"
             "User-Agent: Asterisk PBX 20.5.0\n"
             "Server: FPBX-16.0.40\n"
             "Organization: Example Internal\n"
             "Warning: 399 pbx.internal.lan \"Something\"\n"
             "Content-Length: 0\n\n",
             path);
    RUN_EXPECT(&px, req, PBX_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.from, PROXY_SIDE_INSIDE);
    CHECK_INT(a.to, PROXY_SIDE_OUTSIDE);
    CHECK_INT(a.dest.transport, PBX_TP_TLS);
    CHECK_INT(a.dest.conn_id, 77);
    struct pbx_addr ph_addr = addr("198.51.100.8:40001");
    CHECK(pbx_addr_eq(&a.dest.addr, &ph_addr, true));
    CHECK_INT(hdr_count(out, "Route"), 0);
    /* Our Via towards the phone: outside address and TLS; no inside address. */
    const char *v0 = hdr(out, "Via", 0);
    CHECK(v0 && strncmp(v0, "SIP/2.0/TLS 203.0.113.1:5061;", 29) == 0); /* banned-ok */
    /* Version-revealing headers stripped or rewritten towards the outside. */
    CHECK_INT(hdr_count(out, "User-Agent"), 0);
    CHECK_INT(hdr_count(out, "Server"), 0);
    CHECK_INT(hdr_count(out, "Organization"), 0);
    CHECK_STR(hdr(out, "Warning", 0), "399 pbxguard \"Something\"");
    /* Record-Route: the phone-facing entry (top) carries the token of its flow. */
    const char *rr = hdr(out, "Record-Route", 0);
    CHECK(rr && strstr(rr, "@203.0.113.1:5061;transport=tls;lr>, <sip:10.0.0.1:5060;"
                           "transport=udp;lr>") != NULL);

    /* Tampered token: refused, never forwarded. */
    char *t = strstr(req, tok);
    char orig = t ? t[5] : 0;
    CHECK(t != NULL);
    if (t)
        t[5] = t[5] == '0' ? '1' : '0';
    RUN_REPLY(&px, req, PBX_UDP(), &a, 403);

    /* Replace mode for User-Agent. */
    px.set.expose[PROXY_EXPOSE_USER_AGENT].mode = PROXY_EXPOSE_REPLACE;
    snprintf(px.set.expose[PROXY_EXPOSE_USER_AGENT].text, PROXY_EXPOSE_TEXT_MAX, "edge");
    if (t)
        t[5] = orig;
    CHECK_INT(run(&px, req, PBX_UDP(), &a), 0);
    CHECK_STR(hdr(out, "User-Agent", 0), "edge");
    px.set.expose[PROXY_EXPOSE_USER_AGENT].mode = PROXY_EXPOSE_KEEP;
    CHECK_INT(run(&px, req, PBX_UDP(), &a), 0);
    CHECK_STR(hdr(out, "User-Agent", 0), "Asterisk PBX 20.5.0");
    px.set.expose[PROXY_EXPOSE_USER_AGENT].mode = PROXY_EXPOSE_STRIP;
}

static void test_route_popping(void)
{
    struct proxy_action a;
    char rr[512], req[2048], tok[FLOW_TOKEN_MAX + 1];

    /* A call from the UDP phone creates the dialog's route set. */
    CHECK_INT(run(&px, INVITE_OUT, PHONE_UDP(), &a), 0);
    snprintf(rr, sizeof(rr), "%s", hdr(out, "Record-Route", 0));
    const char *comma = strstr(rr, ", ");
    CHECK(comma != NULL);
    if (!comma)
        return;
    char inside[128], outside[FLOW_TOKEN_MAX + 128];
    snprintf(inside, sizeof(inside), "%.*s", (int)(comma - rr), rr);
    snprintf(outside, sizeof(outside), "%s", comma + 2);
    snprintf(tok, sizeof(tok), "%s", token_of(outside));

    /* Phone's BYE: route set = RR reversed: outside entry first. Both popped; to the PBX. */
    snprintf(req, sizeof(req),
             "BYE sip:200@10.0.0.5:5060 SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKbye3\n"
             "Max-Forwards: 70\n"
             "Route: %s, %s\n"
             "From: <sip:100@example.com>;tag=a1\n"
             "To: <sip:200@example.com>;tag=b1\n"
             "Call-ID: call-1@192.168.1.20\n"
             "CSeq: 11 BYE\n\n",
             outside, inside);
    RUN_EXPECT(&px, req, PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.upstream, 0);
    CHECK_INT(hdr_count(out, "Route"), 0);

    /* Same with one more Route after ours (the PBX's own): it stays. */
    snprintf(req, sizeof(req),
             "BYE sip:200@10.0.0.6:5060 SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKbye4\n"
             "Max-Forwards: 70\n"
             "Route: %s\n"
             "Route: %s\n"
             "Route: <sip:10.0.0.6:5060;lr>\n"
             "From: <sip:100@example.com>;tag=a1\n"
             "To: <sip:200@example.com>;tag=b1\n"
             "Call-ID: call-1@192.168.1.20\n"
             "CSeq: 12 BYE\n\n",
             outside, inside);
    RUN_EXPECT(&px, req, PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.upstream, 1);
    CHECK_INT(hdr_count(out, "Route"), 1);
    CHECK_STR(hdr(out, "Route", 0), "<sip:10.0.0.6:5060;lr>");

    /* The PBX's BYE to the phone: route set = RR in order: inside entry first. */
    snprintf(req, sizeof(req),
             "BYE sip:100@192.168.1.20:5062 SIP/2.0\n"
             "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKpbye\n"
             "Max-Forwards: 70\n"
             "Route: %s, %s\n"
             "From: <sip:200@example.com>;tag=b1\n"
             "To: <sip:100@example.com>;tag=a1\n"
             "Call-ID: call-1@192.168.1.20\n"
             "CSeq: 5 BYE\n\n",
             inside, outside);
    RUN_EXPECT(&px, req, PBX_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.to, PROXY_SIDE_OUTSIDE);
    struct pbx_addr phone = addr("198.51.100.7:5062");
    CHECK(pbx_addr_eq(&a.dest.addr, &phone, true)); /* NAT binding, not 192.168.1.20 */
    CHECK_INT(a.dest.listener_id, L_OUT_UDP);
    CHECK_INT(hdr_count(out, "Route"), 0);
    CHECK(strncmp(hdr(out, "Via", 0), "SIP/2.0/UDP 203.0.113.1:5060;", 29) == 0); /* banned-ok */

    /* Strict-route fix-up (§16.4): Request-URI = our outside Record-Route URI. */
    char ruri[FLOW_TOKEN_MAX + 128];
    snprintf(ruri, sizeof(ruri), "%.*s", (int)strlen(outside) - 2, outside + 1);
    snprintf(req, sizeof(req),
             "BYE %s SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKstrict\n"
             "Max-Forwards: 70\n"
             "Route: <sip:200@10.0.0.5:5060>\n"
             "From: <sip:100@example.com>;tag=a1\n"
             "To: <sip:200@example.com>;tag=b1\n"
             "Call-ID: call-1@192.168.1.20\n"
             "CSeq: 13 BYE\n\n",
             ruri);
    RUN_EXPECT(&px, req, PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.upstream, 0);
    CHECK(strncmp(out, "BYE sip:200@10.0.0.5:5060 SIP/2.0\r\n", 35) == 0); /* banned-ok */
    CHECK_INT(hdr_count(out, "Route"), 0);
}

/* A 200 OK to an OPTIONS of no known transaction, with the Vias v0 then v1. */
static void ok_with_vias(char *buf, size_t cap, const char *v0, const char *v1)
{
    snprintf(buf, cap,
             "SIP/2.0 200 OK\nVia: %s\nVia: %s\n"
             "From: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCall-ID: x\nCSeq: 1 OPTIONS\n\n",
             v0, v1);
}

static void test_responses(void)
{
    struct proxy_action a;
    static char fwd[PROXY_OUT_CAP + 1];
    char resp[4096];

    CHECK_INT(run(&px, OPTIONS_OUT, PHONE_UDP(), &a), 0);
    memcpy(fwd, out, strlen(out) + 1);
    char via0[1024], via1[1024];
    snprintf(via0, sizeof(via0), "%s", hdr(fwd, "Via", 0));
    snprintf(via1, sizeof(via1), "%s", hdr(fwd, "Via", 1));

    snprintf(resp, sizeof(resp),
             "SIP/2.0 200 OK\n"
             "Via: %s\n"
             "Via: %s\n"
             "From: <sip:100@example.com>;tag=f1\n"
             "To: <sip:100@example.com>;tag=t9\n"
             "Call-ID: opt-1@192.168.1.20\n"
             "CSeq: 1 OPTIONS\n"
             "Server: Asterisk PBX 20.5.0\n"
             "Content-Length: 0\n\n",
             via0, via1);
    RUN_EXPECT(&px, resp, PBX_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.to, PROXY_SIDE_OUTSIDE);
    struct pbx_addr phone = addr("198.51.100.7:5062");
    CHECK(pbx_addr_eq(&a.dest.addr, &phone, true));
    CHECK_INT(a.dest.listener_id, L_OUT_UDP);
    CHECK_INT(hdr_count(out, "Via"), 1);
    CHECK_STR(hdr(out, "Via", 0), via1);
    CHECK_INT(hdr_count(out, "Server"), 0);
    CHECK(strncmp(out, "SIP/2.0 200 OK\r\n", 16) == 0); /* banned-ok */

    /* Both Vias in one header line. */
    snprintf(resp, sizeof(resp),
             "SIP/2.0 100 Trying\n"
             "Via: %s, %s\n"
             "From: <sip:100@example.com>;tag=f1\n"
             "To: <sip:100@example.com>\n"
             "Call-ID: opt-1@192.168.1.20\n"
             "CSeq: 1 OPTIONS\n\n",
             via0, via1);
    RUN_EXPECT(&px, resp, PBX_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_STR(hdr(out, "Via", 0), via1);

    /* A response whose top Via is not ours: dropped. */
    RUN_EXPECT(&px,
               "SIP/2.0 200 OK\n"
               "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK0123456789abcdef01234567\n"
               "Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKx\n"
               "From: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCall-ID: x\nCSeq: 1 OPTIONS\n\n",
               PBX_UDP(), &a, PROXY_ACT_DROP);
    /* Our Via with a forged token: dropped. */
    char forged[1024];
    snprintf(forged, sizeof(forged), "%s", via0);
    char *fl = strstr(forged, ";fl=");
    if (fl)
        fl[6] = fl[6] == 'a' ? 'b' : 'a';
    ok_with_vias(resp, sizeof(resp), forged, via1);
    RUN_EXPECT(&px, resp, PBX_UDP(), &a, PROXY_ACT_DROP);
    /* A genuine Via, but the response arrives from the outside: not reflected outside. */
    ok_with_vias(resp, sizeof(resp), via0, via1);
    RUN_EXPECT(&px, resp, PHONE_UDP(), &a, PROXY_ACT_DROP);

    /* TLS phone: the response goes back over its connection. */
    CHECK_INT(run(&px, REGISTER_TLS, PHONE_TLS(), &a), 0);
    memcpy(fwd, out, strlen(out) + 1);
    snprintf(via0, sizeof(via0), "%s", hdr(fwd, "Via", 0));
    snprintf(via1, sizeof(via1), "%s", hdr(fwd, "Via", 1));
    snprintf(resp, sizeof(resp),
             "SIP/2.0 401 Unauthorized\nVia: %s\nVia: %s\n"
             "From: <sip:300@example.com>;tag=r1\nTo: <sip:300@example.com>;tag=x\n"
             "Call-ID: reg-1\nCSeq: 1 REGISTER\n"
             "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc\"\n"
             "Content-Length: 0\n\n",
             via0, via1);
    RUN_EXPECT(&px, resp, PBX_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.dest.transport, PBX_TP_TLS);
    CHECK_INT(a.dest.conn_id, 77);
    CHECK(hdr(out, "WWW-Authenticate", 0) != NULL);
}

/* One wildcard socket for both sides: our public address is learnt from the local address
 * of each message, the inside one from the route towards the upstream. */
static void test_wildcard(void)
{
    static struct proxy pw;
    struct proxy_settings set;
    struct proxy_iface ifc = {0, PBX_TP_UDP, addr("0.0.0.0:5060"), {0}, PROXY_SIDE_BOTH};
    struct proxy_upstream up;
    struct proxy_action a;
    char rr[512], req[2048];
    uint8_t key[16] = {3};

    proxy_settings_default(&set);
    memset(&up, 0, sizeof(up));
    up.ep.transport = PBX_TP_UDP;
    up.ep.addr = addr("10.0.0.5:5060");
    up.local = addr("10.0.0.1");
    CHECK_INT(proxy_init(&pw, &set, &ifc, 1, &up, 1, key, &px.fkey), 0);
    struct net_msg ph = from("198.51.100.7:5062", PBX_TP_UDP, 0, "203.0.113.1:5060", 0);
    RUN_EXPECT(&pw, INVITE_OUT, ph, &a, PROXY_ACT_FORWARD);
    CHECK(strncmp(hdr(out, "Via", 0), "SIP/2.0/UDP 10.0.0.1:5060;", 26) == 0); /* banned-ok */
    snprintf(rr, sizeof(rr), "%s", hdr(out, "Record-Route", 0));
    CHECK(strncmp(rr, "<sip:10.0.0.1:5060;transport=udp;lr>, <sip:", 43) == 0); /* banned-ok */
    CHECK(strstr(rr, "@203.0.113.1:5060;transport=udp;lr>") != NULL);
    /* The PBX's BYE arrives on the inside address; both entries are recognised as ours. */
    snprintf(req, sizeof(req),
             "BYE sip:100@192.168.1.20:5062 SIP/2.0\n"
             "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKwbye\n"
             "Max-Forwards: 70\n"
             "Route: %s\n"
             "From: <sip:200@example.com>;tag=b1\n"
             "To: <sip:100@example.com>;tag=a1\n"
             "Call-ID: call-1@192.168.1.20\n"
             "CSeq: 5 BYE\n\n",
             rr);
    struct net_msg pbx = from("10.0.0.5:5060", PBX_TP_UDP, 0, "10.0.0.1:5060", 0);
    RUN_EXPECT(&pw, req, pbx, &a, PROXY_ACT_FORWARD);
    struct pbx_addr phone = addr("198.51.100.7:5062");
    CHECK(pbx_addr_eq(&a.dest.addr, &phone, true));
    CHECK_INT(hdr_count(out, "Route"), 0);
    /* A phone on the PBX's host but another port is not the PBX (UDP). */
    struct net_msg fake = from("10.0.0.5:5099", PBX_TP_UDP, 0, "10.0.0.1:5060", 0);
    CHECK_INT(run(&pw, req, fake, &a), 0);
    CHECK_INT(a.from, PROXY_SIDE_OUTSIDE);
    CHECK(a.kind != PROXY_ACT_FORWARD || a.to == PROXY_SIDE_INSIDE);
}

static void test_sides(void)
{
    struct proxy_action a;
    /* Outside to an outside Request-URI: still only to the upstream (no open relay). */
    RUN_EXPECT(&px,
               "INVITE sip:0044123456@198.51.100.99:5060 SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKrelay\n"
               "Max-Forwards: 70\n"
               "Route: <sip:198.51.100.99;lr>\n"
               "From: <sip:100@example.com>;tag=x1\n"
               "To: <sip:0044123456@example.com>\n"
               "Call-ID: relay-1\n"
               "CSeq: 1 INVITE\n\n",
               PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.to, PROXY_SIDE_INSIDE);
    CHECK_INT(a.upstream, 0);
    /* A non-upstream on the PBX-facing socket: dropped. */
    struct net_msg rogue = from("10.0.0.99:5060", PBX_TP_UDP, L_IN_UDP, "10.0.0.1:5060", 0);
    RUN_EXPECT(&px, OPTIONS_OUT, rogue, &a, PROXY_ACT_DROP);
    /* The PBX to an IP literal outside (a trunk): forwarded there over the outside socket. */
    RUN_EXPECT(&px,
               "OPTIONS sip:trunk@198.51.100.50:5070 SIP/2.0\n"
               "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKq1\n"
               "Max-Forwards: 70\n"
               "From: <sip:pbx@example.com>;tag=q1\n"
               "To: <sip:trunk@198.51.100.50>\n"
               "Call-ID: q1\n"
               "CSeq: 1 OPTIONS\n\n",
               PBX_UDP(), &a, PROXY_ACT_FORWARD);
    struct pbx_addr trunk = addr("198.51.100.50:5070");
    CHECK(pbx_addr_eq(&a.dest.addr, &trunk, true));
    CHECK_INT(a.dest.listener_id, L_OUT_UDP);
    /* ...but never to a host name (no DNS on the packet path). */
    RUN_REPLY(&px,
              "OPTIONS sip:trunk@sip.example.net SIP/2.0\n"
              "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKq2\n"
              "Max-Forwards: 70\n"
              "From: <sip:pbx@example.com>;tag=q1\n"
              "To: <sip:trunk@sip.example.net>\n"
              "Call-ID: q2\n"
              "CSeq: 1 OPTIONS\n\n",
              PBX_UDP(), &a, 478);
    CHECK_INT(a.to, PROXY_SIDE_INSIDE);
}

/* An upstream at text address a over tp, everything else zero. */
static struct proxy_upstream upstream_at(enum pbx_transport tp, const char *a)
{
    struct proxy_upstream up;
    memset(&up, 0, sizeof(up));
    up.ep.transport = tp;
    up.ep.addr = addr(a);
    return up;
}

/* proxy_init with default settings, a zero hash key and a fixed flow-token secret. */
static int init_with(struct proxy *p, const struct proxy_iface *ifs, unsigned n,
                     const struct proxy_upstream *up)
{
    static struct flow_key fk;
    struct proxy_settings set;
    uint8_t key[16] = {0};
    proxy_settings_default(&set);
    if (flow_key_init_secret(&fk, (const uint8_t *)"test secret 0123456789", 22) != 0)
        return -1;
    return proxy_init(p, &set, ifs, n, up, 1, key, &fk);
}

/*
 * A PBX over TCP on loopback (phones on other loopback addresses): its requests arrive on
 * the connection we opened to it, or on a connection it opens from an ephemeral port.
 */
static void test_sides_stream(void)
{
    static struct proxy p;
    struct proxy_iface ifs[3];
    struct proxy_action a;

    ifs[0] = (struct proxy_iface){0, PBX_TP_UDP, addr("127.0.0.4:5060"), {0}, PROXY_SIDE_BOTH};
    ifs[1] = (struct proxy_iface){1, PBX_TP_TCP, addr("127.0.0.4:5060"), {0}, PROXY_SIDE_BOTH};
    ifs[2] = (struct proxy_iface){2, PBX_TP_TCP, addr("127.0.0.4:5070"), {0}, PROXY_SIDE_OUTSIDE};
    struct proxy_upstream up = upstream_at(PBX_TP_TCP, "127.0.0.1:5080");
    CHECK_INT(init_with(&p, ifs, 3, &up), 0);

    struct net_msg own = from("127.0.0.1:5080", PBX_TP_TCP, NET_ANY_LISTENER, "127.0.0.4:41000", 3);
    CHECK_INT(proxy_side_of(&p, &own), PROXY_SIDE_INSIDE);
    /* Our outbound connection as the kernel may report it: the PBX's IP, any port. */
    struct net_msg out_conn =
        from("127.0.0.1:45494", PBX_TP_TCP, NET_ANY_LISTENER, "127.0.0.4:41000", 4);
    CHECK_INT(proxy_side_of(&p, &out_conn), PROXY_SIDE_INSIDE);
    struct net_msg accepted = from("127.0.0.1:46000", PBX_TP_TCP, 1, "127.0.0.4:5060", 5);
    CHECK_INT(proxy_side_of(&p, &accepted), PROXY_SIDE_INSIDE);
    /* Controls: UDP from another port of the PBX's host, a stream on an outside-only
     * listener, and a phone on another loopback address stay outside. */
    struct net_msg udp_other = from("127.0.0.1:46000", PBX_TP_UDP, 0, "127.0.0.4:5060", 0);
    CHECK_INT(proxy_side_of(&p, &udp_other), PROXY_SIDE_OUTSIDE);
    struct net_msg outside_only = from("127.0.0.1:46001", PBX_TP_TCP, 2, "127.0.0.4:5070", 6);
    CHECK_INT(proxy_side_of(&p, &outside_only), PROXY_SIDE_OUTSIDE);
    struct net_msg phone = from("127.0.0.3:46002", PBX_TP_TCP, 1, "127.0.0.4:5060", 7);
    CHECK_INT(proxy_side_of(&p, &phone), PROXY_SIDE_OUTSIDE);
    /* A UDP-only PBX on loopback: a TCP phone sharing its address stays outside, while the
     * connection we opened is still the PBX's. */
    static struct proxy pu;
    up.ep.transport = PBX_TP_UDP;
    CHECK_INT(init_with(&pu, ifs, 3, &up), 0);
    CHECK_INT(proxy_side_of(&pu, &accepted), PROXY_SIDE_OUTSIDE);
    CHECK_INT(proxy_side_of(&pu, &own), PROXY_SIDE_INSIDE);
    up.tcp_fallback = true; /* still a UDP upstream: the TLS phone test shares 127.0.0.1 */
    CHECK_INT(init_with(&pu, ifs, 3, &up), 0);
    CHECK_INT(proxy_side_of(&pu, &accepted), PROXY_SIDE_OUTSIDE);

    /* The PBX's INVITE to a phone on a connection it opened: an inside request, so it goes
     * to the phone's address, not back to the PBX. */
    CHECK_INT(run(&p,
                  "INVITE sip:1001@127.0.0.3:5062 SIP/2.0\n"
                  "Via: SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bKpbxinv\n"
                  "Max-Forwards: 69\n"
                  "From: <sip:9000@pbx.test>;tag=t1\n"
                  "To: <sip:1001@pbx.test>\n"
                  "Call-ID: tcpup-1\n"
                  "CSeq: 1 INVITE\n"
                  "Contact: <sip:9000@127.0.0.1:5080;transport=tcp>\n"
                  "Content-Length: 0\n\n",
                  accepted, &a),
              0);
    CHECK_INT(a.from, PROXY_SIDE_INSIDE);
    CHECK_INT(a.kind, PROXY_ACT_FORWARD);
    CHECK_INT(a.to, PROXY_SIDE_OUTSIDE);
    struct pbx_addr ph = addr("127.0.0.3:5062");
    CHECK(pbx_addr_eq(&a.dest.addr, &ph, true));
}

/*
 * Address families: a UDP upstream is reached only from an inside UDP socket of its own
 * family, and the forwarded request's Via names that socket. Without one the configuration
 * is refused up front, and a request is answered 503 rather than sent with a wrong Via.
 */
static void test_families(void)
{
    static struct proxy p;
    struct proxy_iface ifs[3];
    struct proxy_action a;

    ifs[0] = (struct proxy_iface){0, PBX_TP_UDP, addr("[::1]:5060"), {0}, PROXY_SIDE_BOTH};
    ifs[1] = (struct proxy_iface){1, PBX_TP_TLS, addr("127.0.0.4:5061"), {0}, PROXY_SIDE_BOTH};
    ifs[2] = (struct proxy_iface){2, PBX_TP_UDP, addr("127.0.0.4:5060"), {0}, PROXY_SIDE_BOTH};
    struct proxy_upstream up = upstream_at(PBX_TP_UDP, "127.0.0.1:5080");
    CHECK_INT(proxy_unreachable_upstream(ifs, 2, &up, 1), 0);
    CHECK_INT(proxy_unreachable_upstream(ifs, 3, &up, 1), -1);
    struct proxy_iface outside_only = ifs[2];
    outside_only.sides = PROXY_SIDE_OUTSIDE;
    CHECK_INT(proxy_unreachable_upstream(&outside_only, 1, &up, 1), 0);
    up.ep.transport = PBX_TP_TCP; /* a connection we open: no listener needed */
    CHECK_INT(proxy_unreachable_upstream(ifs, 2, &up, 1), -1);
    up.ep.transport = PBX_TP_UDP;

    CHECK_INT(init_with(&p, ifs, 3, &up), 0);
    struct net_msg tls_phone = from("127.0.0.3:40000", PBX_TP_TLS, 1, "127.0.0.4:5061", 9);
    CHECK_INT(run(&p, OPTIONS_OUT, tls_phone, &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_FORWARD);
    CHECK_INT(a.dest.listener_id, 2);
    CHECK(strstr(hdr(out, "Via", 0), "SIP/2.0/UDP 127.0.0.4:5060;") != NULL);

    /* The same phone when only the IPv6 UDP socket exists: 503, nothing sent. */
    CHECK_INT(init_with(&p, ifs, 2, &up), 0);
    CHECK_INT(run(&p, OPTIONS_OUT, tls_phone, &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_REPLY);
    CHECK_INT(a.status, 503);
}

/* Header values with NUL or other control bytes are never forwarded, in either direction. */
static void test_control_bytes(void)
{
    static const char head[] = "OPTIONS sip:100@203.0.113.1 SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKctl1;rport\r\n"
                               "Max-Forwards: 70\r\n"
                               "From: <sip:100@example.com>;tag=f1\r\n"
                               "To: <sip:100@example.com>\r\n"
                               "Call-ID: ctl-1@192.168.1.20\r\n"
                               "CSeq: 1 OPTIONS\r\n";
    static const char *const bad[] = {"Subject: a\x01\x1b"
                                      "b\r\n",
                                      "Subject: a\x7f"
                                      "b\r\n",
                                      "Subject: a\rb\r\n"};
    static char msg[1024];
    struct proxy_action a;
    size_t n;

    /* Control: the same message with a clean Subject is forwarded. */
    n = (size_t)snprintf(msg, sizeof(msg), "%sSubject: ab\r\nContent-Length: 0\r\n\r\n", head);
    CHECK_INT(run_len(&px, msg, n, PHONE_UDP(), &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_FORWARD);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = (size_t)snprintf(msg, sizeof(msg), "%s%sContent-Length: 0\r\n\r\n", head, bad[i]);
        CHECK_INT(run_len(&px, msg, n, PHONE_UDP(), &a), 0);
        CHECK_INT(a.kind, PROXY_ACT_DROP);
        CHECK_INT(a.len, 0);
    }
    /* NUL: built by hand (snprintf would stop at it). */
    n = (size_t)snprintf(msg, sizeof(msg), "%sSubject: aXb\r\nContent-Length: 0\r\n\r\n", head);
    char *x = strstr(msg, "aXb");
    CHECK(x != NULL);
    if (x)
        x[1] = '\0';
    CHECK_INT(run_len(&px, msg, n, PHONE_UDP(), &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_DROP);
    /* A response from the PBX with a control byte is not relayed to the phone either. */
    static const char resp[] = "SIP/2.0 200 OK\r\n"
                               "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\r\n"
                               "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKctl1\r\n"
                               "From: <sip:100@example.com>;tag=f1\r\n"
                               "To: <sip:100@example.com>;tag=t\r\n"
                               "Call-ID: ctl-1@192.168.1.20\r\n"
                               "CSeq: 1 OPTIONS\r\n"
                               "Server: a\x02z\r\n"
                               "Content-Length: 0\r\n\r\n";
    CHECK_INT(run_len(&px, resp, sizeof(resp) - 1, PBX_UDP(), &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_DROP);
}

static void test_validation_replies(void)
{
    struct proxy_action a;
    RUN_REPLY(&px,
              "OPTIONS mailto:a@example.com SIP/2.0\n"
              "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKs1\n"
              "Max-Forwards: 70\n"
              "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
              "Call-ID: s1\nCSeq: 1 OPTIONS\n\n",
              PHONE_UDP(), &a, 416);

    RUN_REPLY(&px,
              "OPTIONS sip:a@example.com SIP/2.0\n"
              "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKs2\n"
              "Max-Forwards: 70\n"
              "Proxy-Require: foo, bar\n"
              "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
              "Call-ID: s2\nCSeq: 1 OPTIONS\n\n",
              PHONE_UDP(), &a, 420);
    CHECK_STR(hdr(out, "Unsupported", 0), "foo, bar");

    /* ACK is never answered, even when it would be rejected. */
    RUN_EXPECT(&px,
               "ACK sip:a@example.com SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKs3\n"
               "Max-Forwards: 0\n"
               "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\n"
               "Call-ID: s3\nCSeq: 1 ACK\n\n",
               PHONE_UDP(), &a, PROXY_ACT_DROP);
}

static void test_content_length(void)
{
    struct proxy_action a;
    /* Datagram without Content-Length: the body is the rest of the datagram (§18.3). */
    RUN_EXPECT(&px,
               "MESSAGE sip:200@203.0.113.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKcl1\n"
               "Max-Forwards: 70\n"
               "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
               "Call-ID: cl1\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\n"
               "hello",
               PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_STR(hdr(out, "Content-Length", 0), "5");
    CHECK(strcmp(out + strlen(out) - 9, "\r\n\r\nhello") == 0);
    /* Trailing bytes past Content-Length are not forwarded. */
    RUN_EXPECT(&px,
               "MESSAGE sip:200@203.0.113.1 SIP/2.0\n"
               "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKcl2\n"
               "Max-Forwards: 70\n"
               "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
               "Call-ID: cl2\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n"
               "l: 2\n\n"
               "hello",
               PHONE_UDP(), &a, PROXY_ACT_FORWARD);
    CHECK_STR(hdr(out, "Content-Length", 0), "2");
    CHECK_INT(hdr_count(out, "l"), 0);
    CHECK(strcmp(out + strlen(out) - 6, "\r\n\r\nhe") == 0);
}

static void test_size_and_upstreams(void)
{
    struct proxy_action a;
    static char big[8192];
    char body[3001];
    memset(body, 'x', 3000);
    body[3000] = '\0';
    snprintf(big, sizeof(big),
             "MESSAGE sip:200@203.0.113.1 SIP/2.0\n"
             "Via: SIP/2.0/TLS 198.51.100.8:40001;branch=z9hG4bKbig\n"
             "Max-Forwards: 70\n"
             "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
             "Call-ID: big\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n"
             "Content-Length: 3000\n\n%s",
             body);
    RUN_REPLY(&px, big, PHONE_TLS(), &a, 513);
    CHECK_INT(a.dest.conn_id, 77);
    px.ups[0].tcp_fallback = true;
    RUN_EXPECT(&px, big, PHONE_TLS(), &a, PROXY_ACT_FORWARD);
    CHECK_INT(a.dest.transport, PBX_TP_TCP);
    CHECK(strncmp(hdr(out, "Via", 0), "SIP/2.0/TCP 10.0.0.1:5060;", 26) == 0); /* banned-ok */
    px.ups[0].tcp_fallback = false;

    /* Health checks: an OPTIONS to each upstream; its answer is consumed, not forwarded. */
    CHECK_INT(proxy_health_request(&px, 0, 1000, &a), 0);
    CHECK_INT(a.kind, PROXY_ACT_FORWARD);
    static char probe[2048];
    snprintf(probe, sizeof(probe), "%.*s", (int)a.len, (const char *)a.buf);
    CHECK(strncmp(probe, "OPTIONS sip:10.0.0.5:5060 SIP/2.0\r\n", 35) == 0); /* banned-ok */
    char resp[2048];
    snprintf(resp, sizeof(resp),
             "SIP/2.0 200 OK\nVia: %s\nFrom: %s\nTo: %s;tag=u\nCall-ID: %s\nCSeq: %s\n\n",
             hdr(probe, "Via", 0), hdr(probe, "From", 0), hdr(probe, "To", 0),
             hdr(probe, "Call-ID", 0), hdr(probe, "CSeq", 0));
    RUN_EXPECT(&px, resp, PBX_UDP(), &a, PROXY_ACT_HEALTH);
    CHECK_INT(a.upstream, 0);
    CHECK_INT(a.status, 200);
    CHECK_INT(proxy_health_result(&px, 0, true), 0);
    /* The same answer again (replay) is not taken. */
    RUN_EXPECT(&px, resp, PBX_UDP(), &a, PROXY_ACT_DROP);

    /* Failover with hysteresis: 3 failures take upstream 0 down; 2 successes bring it up. */
    CHECK_INT(proxy_upstream_pick(&px, SLICE_LIT("k")), 0);
    CHECK_INT(proxy_health_result(&px, 0, false), 0);
    CHECK_INT(proxy_health_result(&px, 0, false), 0);
    CHECK_INT(proxy_health_result(&px, 0, false), 1);
    CHECK(!px.ups[0].up);
    CHECK_INT(proxy_upstream_pick(&px, SLICE_LIT("k")), 1);
    CHECK_INT(run(&px, OPTIONS_OUT, PHONE_UDP(), &a), 0);
    CHECK_INT(a.upstream, 1);
    struct pbx_addr second = addr("10.0.0.6:5060");
    CHECK(pbx_addr_eq(&a.dest.addr, &second, true));
    /* A new request naming the dead PBX still fails over; an in-dialog one stays with the
     * PBX that holds the dialog. */
#define TO_PBX(method, branch, totag)                                                              \
    method " sip:200@10.0.0.5 SIP/2.0\n"                                                           \
           "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK" branch "\n"                         \
           "Max-Forwards: 70\n"                                                                    \
           "From: <sip:100@example.com>;tag=f\nTo: <sip:200@example.com>" totag "\n"               \
           "Call-ID: pin-1\nCSeq: 1 " method "\n\n"
    CHECK_INT(run(&px, TO_PBX("INVITE", "pin1", ""), PHONE_UDP(), &a), 0);
    CHECK_INT(a.upstream, 1);
    CHECK_INT(run(&px, TO_PBX("BYE", "pin2", ";tag=t"), PHONE_UDP(), &a), 0);
    CHECK_INT(a.upstream, 0);
    /* All down: 503 with Retry-After. */
    for (int i = 0; i < 3; i++)
        (void)proxy_health_result(&px, 1, false);
    CHECK_INT(proxy_upstream_pick(&px, SLICE_LIT("k")), -ENOENT);
    RUN_REPLY(&px, OPTIONS_OUT, PHONE_UDP(), &a, 503);
    CHECK_STR(hdr(out, "Retry-After", 0), "30");
    CHECK_INT(proxy_health_result(&px, 0, true), 0);
    CHECK_INT(proxy_health_result(&px, 0, true), 1);
    CHECK_INT(proxy_upstream_pick(&px, SLICE_LIT("k")), 0);
    (void)proxy_health_result(&px, 1, true);
    (void)proxy_health_result(&px, 1, true);
}

int main(void)
{
    setup();
    test_forward_to_upstream();
    test_branch_determinism();
    test_max_forwards_and_loop();
    test_record_route();
    test_path_flow();
    test_route_popping();
    test_responses();
    test_sides();
    test_sides_stream();
    test_families();
    test_control_bytes();
    test_wildcard();
    test_validation_replies();
    test_content_length();
    test_size_and_upstreams();
    return test_finish();
}
