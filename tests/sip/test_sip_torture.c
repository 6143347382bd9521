/*
 * RFC 4475 (SIP torture messages) and RFC 5118 (IPv6 torture messages) conformance.
 * Each message has the verdict the RFC text gives it: valid messages must parse with the
 * right field values; invalid ones must be refused with a reason whose offset points into
 * the offending line, or, where the RFC lets an element be liberal, accepted with the
 * specific anomaly flag set. Files: tests/data/sip-torture/ (see SOURCES.md there).
 */
#include <errno.h>
#include <string.h>

#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"
#include "pbxguard/sip/sdp.h"
#include "sip_test_util.h"

#define A(x) (1ull << (unsigned)(SIP_ANOM_##x))

typedef void check_fn(const struct sip_msg *m);

struct torture_case {
    const char *file;
    int rc;               /* expected sip_msg_parse() result */
    const char *reason;   /* expected err_reason when rc < 0 */
    const char *err_line; /* prefix of the line holding err_off ("" = start line) */
    uint64_t anomalies;   /* bits that must be set */
    check_fn *check;      /* field checks for accepted messages */
    bool add_crlf;        /* append the blank line the shipped copy lacks */
};

static void check_top_via(const struct sip_msg *m, unsigned i, const char *transport,
                          const char *host, unsigned port, const char *branch)
{
    struct sip_via v;
    CHECK_INT(sip_msg_via(m, i, &v), 0);
    CHECK_SLICE(v.transport, transport);
    CHECK_SLICE(v.host, host);
    CHECK_INT(v.port, port);
    if (branch)
        CHECK_SLICE(v.branch, branch);
    else
        CHECK_ABSENT(v.branch);
}

static void ck_wsinv(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_INVITE);
    CHECK_SLICE(m->ruri.user, "vivekg");
    CHECK_SLICE(m->ruri.host, "chair-dnrc.example.com");
    CHECK_SLICE(m->ruri.params, ";unknownparam");
    CHECK_INT(m->max_forwards, 68);
    CHECK_INT(m->cseq_num, 9);
    CHECK_INT(m->cseq_method, SIP_METHOD_INVITE);
    CHECK_INT(m->content_length, 150);
    CHECK_INT(m->body.len, 150);
    CHECK_SLICE(m->call_id, "wsinv.ndaksdj@192.0.2.1");
    CHECK_INT(m->via_count, 3);
    check_top_via(m, 0, "UDP", "192.0.2.2", 0, "390skdjuw");
    check_top_via(m, 1, "TCP", "spindle.example.com", 0, "z9hG4bK9ikj8");
    check_top_via(m, 2, "UDP", "192.168.255.111", 0, "z9hG4bK30239");
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_SLICE(na.tag, "1918181833n");
    CHECK_SLICE(na.uri.user, "vivekg");
    CHECK_INT(sip_msg_from(m, &na), 0);
    CHECK_SLICE(na.tag, "98asjd8");
    CHECK_SLICE(na.display, "\"J Rosenberg \\\\\\\"\"");
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK_SLICE(na.q, "0.33");
    CHECK_SLICE(na.display, "\"Quoted string \\\"\\\"\"");
    CHECK_SLICE(na.uri.user, "jdrosen");
    /* Subject (compact "s") with an empty value, unknown headers kept. */
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_SUBJECT), 1);
    CHECK_INT(sip_msg_hdr_value(m, SIP_HDR_SUBJECT, 0).len, 0);
    const struct sip_hdr *h = sip_msg_hdr_by_name(m, SLICE_LIT("newfangledheader"), 0);
    CHECK(h != NULL);
    if (h) {
        char buf[128];
        sip_value_unfold(h->value, buf, sizeof(buf));
        CHECK_STR(buf, "newfangled value continued newfangled value");
    }
    CHECK_INT(sip_msg_name_addr(m, SIP_HDR_ROUTE, 0, &na), 0);
    CHECK(na.uri.lr);
    CHECK_SLICE(na.uri.host, "services.example.com");
    struct sip_sdp sdp;
    CHECK_INT(sip_sdp_parse(&sdp, m->body), 0);
    CHECK_INT(sdp.nmedia, 2);
    CHECK_SLICE(sdp.conn.addr, "192.0.2.4");
}

static void ck_intmeth(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_UNKNOWN);
    CHECK_SLICE(m->method_name, "!interesting-Method0123456789_*+`.%indeed'~");
    CHECK_SLICE(m->ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    CHECK_SLICE(m->ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    CHECK_SLICE(m->ruri.host, "example.com");
    CHECK_SLICE(m->cseq_method_name, "!interesting-Method0123456789_*+`.%indeed'~");
    CHECK_INT(m->cseq_num, 139122385);
    CHECK_INT(m->max_forwards, 255);
    check_top_via(m, 0, "TCP", "host1.example.com", 0, "z9hG4bK-.!%66*_+`'~");
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_SLICE(na.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    CHECK_INT(sip_msg_from(m, &na), 0);
    CHECK_SLICE(na.display, "token1~` token2'+_ token3*%!.-");
    CHECK_SLICE(na.uri.user, "mundane");
    CHECK_SLICE(m->call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    CHECK(sip_msg_hdr_by_name(m, SLICE_LIT("extensionHeader-!.%*+_`'~"), 0) != NULL);
}

static void ck_esc01(const struct sip_msg *m)
{
    CHECK_SLICE(m->ruri.user, "sips%3Auser%40example.com");
    CHECK_SLICE(m->ruri.host, "example.net");
    char dec[64];
    size_t n;
    bool nul;
    CHECK_INT(sip_unescape(m->ruri.user, dec, sizeof(dec), &n, &nul), 0);
    CHECK(n == 21 && memcmp(dec, "sips:user@example.com", 21) == 0);
    CHECK(!nul);
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_SLICE(na.uri.user, "%75se%72");
    CHECK_INT(sip_msg_from(m, &na), 0);
    CHECK_SLICE(na.uri.user, "I%20have%20spaces");
    CHECK_SLICE(na.tag, "938");
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK_SLICE(na.uri.user, "cal%6Cer");
    CHECK_SLICE(na.uri.params, ";%6C%72;n%61me=v%61lue%25%34%31");
    /* Compact "i" and "C" forms. */
    CHECK_SLICE(m->call_id, "esc01.239409asdfakjkn23onasd0-3234");
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_CONTENT_TYPE), 1);
    CHECK_INT(m->body.len, 150);
}

static void ck_escnull(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_REGISTER);
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_CONTACT), 2);
    struct sip_name_addr na;
    CHECK_INT(sip_msg_contact(m, 1, &na), 0);
    CHECK_SLICE(na.uri.user, "%00%00");
    CHECK(na.uri.anomalies & A(ESCAPED_NUL));
    CHECK_INT(m->content_length, 0);
}

static void ck_esc02(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_UNKNOWN);
    CHECK_SLICE(m->method_name, "RE%47IST%45R");
    CHECK_SLICE(m->cseq_method_name, "RE%47IST%45R");
    /* "C%6Fntact" is not Contact: an unknown header, kept. */
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_CONTACT), 2);
    CHECK(sip_msg_hdr_by_name(m, SLICE_LIT("C%6Fntact"), 0) != NULL);
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_SLICE(na.display, "\"%Z%45\"");
    check_top_via(m, 0, "TCP", "host.example.com", 0, "z9hG4bK209%fzsnel234");
}

static void ck_lwsdisp(const struct sip_msg *m)
{
    struct sip_name_addr na;
    CHECK_INT(sip_msg_from(m, &na), 0);
    CHECK_SLICE(na.display, "caller");
    CHECK_SLICE(na.uri.user, "caller");
    CHECK_SLICE(na.tag, "323");
}

static void ck_longreq(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_INVITE);
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_VIA), 34);
    CHECK_INT(m->via_count, 34);
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_INT(na.uri.port, 6000);
    CHECK_INT(sip_msg_from(m, &na), 0);
    CHECK(na.tag.len > 100 && memcmp(na.tag.p, "12982982982", 11) == 0);
    CHECK_INT(m->body.len, (size_t)m->content_length);
}

static void ck_dblreq(const struct sip_msg *m)
{
    /* RFC 4475 §3.1.1.8: one REGISTER; the INVITE after the empty body is noise. */
    CHECK_INT(m->method, SIP_METHOD_REGISTER);
    CHECK_INT(m->content_length, 0);
    CHECK_INT(m->body.len, 0);
    CHECK(m->msg_len < m->len);
    CHECK_INT(m->cseq_num, 8);
    check_top_via(m, 0, "UDP", "192.0.2.125", 0, "z9hG4bKkdjuw23492");
}

static void ck_semiuri(const struct sip_msg *m)
{
    /* RFC 4475 §3.1.1.9: user "user;par=u%40example.net", host "example.com". */
    CHECK_SLICE(m->ruri.user, "user;par=u%40example.net");
    CHECK_SLICE(m->ruri.host, "example.com");
    CHECK_ABSENT(m->ruri.params);
    struct slice item;
    CHECK_INT(sip_msg_value(m, SIP_HDR_ACCEPT, 5, &item), 0);
    CHECK_SLICE(item, "message/sipfrag");
}

static void ck_transports(const struct sip_msg *m)
{
    CHECK_INT(m->via_count, 5);
    check_top_via(m, 1, "SCTP", "t2.example.com", 0, "z9hG4bKklasjdhf");
    check_top_via(m, 2, "TLS", "t3.example.com", 0, "z9hG4bK2980unddj");
    struct sip_via v;
    CHECK_INT(sip_msg_via(m, 3, &v), 0);
    CHECK_SLICE(v.transport, "UNKNOWN");
    CHECK(v.anomalies & A(UNKNOWN_TRANSPORT));
    CHECK_SLICE(m->call_id, "transports.kijh4akdnaqjkwendsasfdj");
}

static void ck_mpart01(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_MESSAGE);
    struct sip_via v;
    CHECK_INT(sip_msg_via(m, 0, &v), 0);
    CHECK(v.has_rport);
    CHECK_INT(v.rport, 0);
    CHECK_INT(v.port, 5070);
    CHECK_INT(m->body.len, (size_t)m->content_length);
    CHECK(m->content_length > 0);
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_IDENTITY), 1);
    CHECK_SLICE(sip_msg_user_agent(m), "SIPimp.org/0.2.5 (curses)");
}

static void ck_unreason(const struct sip_msg *m)
{
    CHECK(!m->is_request);
    CHECK_INT(m->status, 200);
    CHECK(m->reason.len > 20 && memcmp(m->reason.p, "= 2**3 * 5**2 ", 14) == 0);
    CHECK_INT(m->body.len, 154);
}

static void ck_noreason(const struct sip_msg *m)
{
    CHECK_INT(m->status, 100);
    CHECK_INT(m->reason.len, 0);
}

static void ck_bcast(const struct sip_msg *m)
{
    CHECK_INT(m->status, 200);
    check_top_via(m, 1, "UDP", "255.255.255.255", 0, "z9hG4bK1saber23");
}

static void ck_zeromf(const struct sip_msg *m)
{
    CHECK_INT(m->max_forwards, 0);
}

static void ck_cparam01(const struct sip_msg *m)
{
    /* addr-spec form: ";unknownparam" is a header parameter, not a URI parameter. */
    struct sip_name_addr na;
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK(!na.bracketed);
    CHECK_SLICE(na.uri.user, "+19725552222");
    CHECK_ABSENT(na.uri.params);
    CHECK_SLICE(na.params, ";unknownparam");
    check_top_via(m, 0, "UDP", "saturn.example.com", 5060, "z9hG4bKkdjuw");
}

static void ck_cparam02(const struct sip_msg *m)
{
    struct sip_name_addr na;
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK(na.bracketed);
    CHECK_SLICE(na.uri.params, ";unknownparam");
    CHECK_ABSENT(na.params);
}

static void ck_regescrt(const struct sip_msg *m)
{
    struct sip_name_addr na;
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK_SLICE(na.uri.headers, "Route=%3Csip:sip.example.com%3E");
    CHECK_SLICE(na.uri.host, "example.com");
}

static void ck_inv2543(const struct sip_msg *m)
{
    CHECK_INT(m->content_length, -1);
    CHECK(m->body.len > 0);
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_SLICE(na.params, ";user=phone");
    CHECK_INT(sip_msg_name_addr(m, SIP_HDR_RECORD_ROUTE, 0, &na), 0);
    CHECK_SLICE(na.uri.maddr, "ss1.example.com");
}

static void ck_regaut01(const struct sip_msg *m)
{
    struct sip_digest d;
    CHECK_INT(sip_msg_digest(m, SIP_HDR_AUTHORIZATION, 0, &d), 0);
    CHECK_SLICE(d.scheme, "NoOneKnowsThisScheme");
    CHECK_ABSENT(d.username);
    CHECK_INT(m->content_length, 0);
}

static void ck_unksm2(const struct sip_msg *m)
{
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_INT(na.uri.scheme, SIP_URI_OTHER);
    CHECK_SLICE(na.uri.scheme_name, "isbn");
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK_SLICE(na.uri.opaque, "John_Smith");
}

static void ck_novelsc(const struct sip_msg *m)
{
    CHECK_INT(m->ruri.scheme, SIP_URI_OTHER);
    CHECK_SLICE(m->ruri.scheme_name, "soap.beep");
    CHECK_SLICE(m->ruri.opaque, "//192.0.2.103:3002");
}

static void ck_unkscm(const struct sip_msg *m)
{
    CHECK_SLICE(m->ruri.scheme_name, "nobodyKnowsThisScheme");
}

static void ck_badbranch(const struct sip_msg *m)
{
    check_top_via(m, 0, "UDP", "192.0.2.1", 0, "z9hG4bK");
}

static void ck_mismatch01(const struct sip_msg *m)
{
    CHECK_INT(m->method, SIP_METHOD_OPTIONS);
    CHECK_INT(m->cseq_method, SIP_METHOD_INVITE);
}

static void ck_sdp01(const struct sip_msg *m)
{
    struct sip_sdp sdp;
    CHECK_INT(sip_sdp_parse(&sdp, m->body), 0);
    CHECK_SLICE(sdp.o_addr.addr, "192.0.2.5");
}

static void ck_baddate(const struct sip_msg *m)
{
    CHECK_INT(sip_msg_hdr_count(m, SIP_HDR_DATE), 1);
}

/* RFC 5118 */
static void ck_ipv6_good(const struct sip_msg *m)
{
    CHECK_INT(m->ruri.host_type, SIP_HOST_IPV6);
    CHECK_SLICE(m->ruri.host, "2001:db8::10");
    CHECK_INT(m->ruri.port, 0);
    check_top_via(m, 0, "UDP", "2001:db8::9:1", 0, "z9hG4bKas3-111");
    struct sip_name_addr na;
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK_SLICE(na.uri.host, "2001:db8::1");
    CHECK_INT(na.uri.host_type, SIP_HOST_IPV6);
}

static void ck_port_amb(const struct sip_msg *m)
{
    /* §4.3: "5070" is part of the address, not a port. */
    CHECK_SLICE(m->ruri.host, "2001:db8::10:5070");
    CHECK_INT(m->ruri.port, 0);
}

static void ck_port_unamb(const struct sip_msg *m)
{
    CHECK_SLICE(m->ruri.host, "2001:db8::10");
    CHECK_INT(m->ruri.port, 5070);
}

static void ck_rcv_delim(const struct sip_msg *m)
{
    struct sip_via v;
    CHECK_INT(sip_msg_via(m, 0, &v), 0);
    CHECK_SLICE(v.received, "[2001:db8::9:255]");
    CHECK_SLICE(v.branch, "z9hG4bKas3-111");
}

static void ck_rcv_nodelim(const struct sip_msg *m)
{
    struct sip_via v;
    CHECK_INT(sip_msg_via(m, 0, &v), 0);
    CHECK_SLICE(v.received, "2001:db8::9:255");
    CHECK_SLICE(v.branch, "z9hG4bKas3");
}

static void ck_mult_hdr(const struct sip_msg *m)
{
    CHECK_INT(m->via_count, 3);
    check_top_via(m, 0, "UDP", "2001:db8::9:1", 6050, "z9hG4bKas3-111");
    check_top_via(m, 1, "UDP", "192.0.2.1", 0, "z9hG4bKjhja8781hjuaij65144");
    struct sip_via v;
    CHECK_INT(sip_msg_via(m, 2, &v), 0);
    CHECK_SLICE(v.host, "2001:db8::9:255");
    CHECK_SLICE(v.received, "192.0.2.200");
}

/* These copies announce a Content-Length shorter than their SDP: parse the whole rest. */
static void sdp_rest(const struct sip_msg *m, struct sip_sdp *sdp)
{
    struct slice rest = slice_make(m->buf + m->hdr_len, m->len - m->hdr_len);
    CHECK_INT(sip_sdp_parse(sdp, rest), 0);
}

static void ck_ipv6_sdp(const struct sip_msg *m)
{
    struct sip_sdp sdp;
    sdp_rest(m, &sdp);
    CHECK_INT(sdp.conn.type, SIP_SDP_ADDR_IP6);
    CHECK_SLICE(sdp.conn.addr, "2001:db8::20");
    CHECK_SLICE(sdp.o_addr.addr, "2001:db8::20");
    CHECK_INT(sdp.nmedia, 2);
    CHECK_INT(sdp.media[0].port, 6000);
    CHECK_INT(sdp.media[1].port, 6024);
    CHECK_SLICE(sdp.media[1].fmts, "107");
}

static void ck_mult_sdp(const struct sip_msg *m)
{
    struct sip_sdp sdp;
    sdp_rest(m, &sdp);
    CHECK_INT(sdp.nmedia, 2);
    const struct sip_sdp_conn *c0 = sip_sdp_media_conn(&sdp, 0);
    const struct sip_sdp_conn *c1 = sip_sdp_media_conn(&sdp, 1);
    CHECK(c0 && c1);
    if (c0 && c1) {
        CHECK(c0->type != c1->type);
    }
}

static void ck_v4mapped(const struct sip_msg *m)
{
    check_top_via(m, 0, "UDP", "::ffff:192.0.2.10", 19823, "z9hG4bKbh19");
    check_top_via(m, 1, "UDP", "::ffff:192.0.2.2", 0, "z9hG4bKas3-111");
    struct sip_name_addr na;
    CHECK_INT(sip_msg_contact(m, 0, &na), 0);
    CHECK_SLICE(na.uri.host, "::ffff:192.0.2.2");
    struct sip_sdp sdp;
    sdp_rest(m, &sdp);
    CHECK(sdp.nmedia >= 1);
}

static void ck_3colons(const struct sip_msg *m)
{
    /* §4.10: tolerated, as RFC 5118 recommends. */
    CHECK_SLICE(m->ruri.host, "2001:db8:::192.0.2.1");
    CHECK_INT(m->ruri.host_type, SIP_HOST_IPV6);
}

static void ck_2colons(const struct sip_msg *m)
{
    CHECK_SLICE(m->ruri.host, "2001:db8::192.0.2.1");
    struct sip_name_addr na;
    CHECK_INT(sip_msg_to(m, &na), 0);
    CHECK_INT(na.uri.host_type, SIP_HOST_IPV6);
}

#define R4 "tests/data/sip-torture/rfc4475/"
#define R5 "tests/data/sip-torture/rfc5118/"

static const struct torture_case cases[] = {
    /* RFC 4475 §3.1.1: valid messages. */
    {R4 "wsinv.dat", 0, NULL, NULL, A(LWS_FOLD) | A(WS_BEFORE_COLON) | A(LEADING_ZEROS), ck_wsinv,
     false},
    {R4 "intmeth.dat", 0, NULL, NULL, A(UNKNOWN_METHOD), ck_intmeth, false},
    {R4 "esc01.dat", 0, NULL, NULL, A(RURI_ESCAPED), ck_esc01, false},
    {R4 "escnull.dat", 0, NULL, NULL, A(ESCAPED_NUL), ck_escnull, false},
    {R4 "esc02.dat", 0, NULL, NULL, A(UNKNOWN_METHOD), ck_esc02, false},
    {R4 "lwsdisp.dat", 0, NULL, NULL, 0, ck_lwsdisp, false},
    {R4 "longreq.dat", 0, NULL, NULL, 0, ck_longreq, false},
    {R4 "dblreq.dat", 0, NULL, NULL, A(TRAILING_DATA), ck_dblreq, false},
    {R4 "semiuri.dat", 0, NULL, NULL, 0, ck_semiuri, false},
    {R4 "transports.dat", 0, NULL, NULL, A(COMPACT_FORM), ck_transports, false},
    {R4 "mpart01.dat", 0, NULL, NULL, 0, ck_mpart01, false},
    {R4 "unreason.dat", 0, NULL, NULL, 0, ck_unreason, false},
    {R4 "noreason.dat", 0, NULL, NULL, A(EMPTY_REASON), ck_noreason, false},
    /* §3.1.2: invalid messages. */
    {R4 "badinv01.dat", -EBADMSG, "bad Via", "Via", 0, NULL, false},
    {R4 "clerr.dat", -EBADMSG, "Content-Length exceeds body", NULL, A(CL_MISMATCH), NULL, false},
    {R4 "scalar02.dat", -EBADMSG, "bad CSeq", "CSeq", 0, NULL, false},
    {R4 "scalarlg.dat", -EBADMSG, "bad CSeq", "CSeq", 0, NULL, false},
    {R4 "quotbal.dat", -EBADMSG, "bad To", "To", 0, NULL, false},
    {R4 "ltgtruri.dat", -EBADMSG, "bad Request-URI", "", 0, NULL, false},
    {R4 "lwsruri.dat", -EBADMSG, "bad SIP-Version", "", 0, NULL, false},
    {R4 "lwsstart.dat", -EBADMSG, "empty Request-URI", "", 0, NULL, false},
    {R4 "trws.dat", -EBADMSG, "bad SIP-Version", "", 0, NULL, false},
    {R4 "escruri.dat", -EBADMSG, "headers in Request-URI", "", 0, NULL, false},
    /* §3.1.2.12: a liberal element may ignore the non-GMT Date: accepted, flagged. */
    {R4 "baddate.dat", 0, NULL, NULL, A(BAD_DATE), ck_baddate, false},
    {R4 "regbadct.dat", -EBADMSG, "bad Contact", "Contact", 0, NULL, false},
    {R4 "badaspec.dat", -EBADMSG, "bad To", "To", 0, NULL, false},
    /* The shipped copy lacks the blank line: refused for that, and for its From with it. */
    {R4 "baddn.dat", -EBADMSG, "header section not terminated", NULL, 0, NULL, false},
    {R4 "baddn.dat", -EBADMSG, "bad From", "From", 0, NULL, true},
    {R4 "badvers.dat", -EBADMSG, "bad SIP-Version", "", 0, NULL, false},
    /* §3.1.2.17/18: the RFC answers 400 (or 501); the parser flags, the policy decides. */
    {R4 "mismatch01.dat", 0, NULL, NULL, A(CSEQ_METHOD_MISMATCH), ck_mismatch01, false},
    {R4 "mismatch02.dat", 0, NULL, NULL, A(CSEQ_METHOD_MISMATCH) | A(UNKNOWN_METHOD), NULL, false},
    {R4 "bigcode.dat", -EBADMSG, "bad status code", "", 0, NULL, false},
    {R4 "ncl.dat", -EBADMSG, "bad Content-Length", "Content-Length", 0, NULL, false},
    /* §3.2.1 */
    {R4 "badbranch.dat", 0, NULL, NULL, A(BRANCH_NOT_RFC3261), ck_badbranch, false},
    /* §3.3: application-layer semantics; all parse except the broken framing ones. */
    {R4 "insuf.dat", -EBADMSG, "missing mandatory header", NULL, A(MISSING_HEADER), NULL, false},
    {R4 "unkscm.dat", 0, NULL, NULL, A(UNKNOWN_SCHEME), ck_unkscm, false},
    {R4 "novelsc.dat", 0, NULL, NULL, A(UNKNOWN_SCHEME), ck_novelsc, false},
    {R4 "unksm2.dat", 0, NULL, NULL, A(UNKNOWN_SCHEME), ck_unksm2, false},
    {R4 "bext01.dat", 0, NULL, NULL, 0, NULL, false},
    {R4 "invut.dat", 0, NULL, NULL, 0, NULL, false},
    {R4 "regaut01.dat", 0, NULL, NULL, 0, ck_regaut01, false},
    {R4 "multi01.dat", -EBADMSG, "conflicting CSeq", "CSeq", A(DUP_SINGLETON), NULL, false},
    {R4 "mcl01.dat", -EBADMSG, "conflicting Content-Length", "Content-Length", A(DUP_SINGLETON),
     NULL, false},
    {R4 "bcast.dat", 0, NULL, NULL, 0, ck_bcast, false},
    {R4 "zeromf.dat", 0, NULL, NULL, A(MAXFWD_ZERO), ck_zeromf, false},
    {R4 "cparam01.dat", 0, NULL, NULL, 0, ck_cparam01, false},
    {R4 "cparam02.dat", 0, NULL, NULL, 0, ck_cparam02, false},
    {R4 "regescrt.dat", 0, NULL, NULL, 0, ck_regescrt, false},
    {R4 "sdp01.dat", 0, NULL, NULL, 0, ck_sdp01, false},
    /* §3.4.1: RFC 2543 syntax, accepted with its oddities flagged. */
    {R4 "inv2543.dat", 0, NULL, NULL, A(NO_CL) | A(NO_MAXFWD) | A(VIA_NO_BRANCH) | A(NO_FROM_TAG),
     ck_inv2543, false},
    /* Not an RFC 4475 message: no SIP-Version. */
    {R4 "test.dat", -EBADMSG, "missing SIP-Version", "", 0, NULL, false},

    /* RFC 5118 §4 */
    {R5 "ipv6-good.dat", 0, NULL, NULL, 0, ck_ipv6_good, false},
    {R5 "ipv6-bad.dat", -EBADMSG, "bad Request-URI", "", 0, NULL, false},
    {R5 "port-ambiguous.dat", 0, NULL, NULL, 0, ck_port_amb, false},
    {R5 "port-unambiguous.dat", 0, NULL, NULL, 0, ck_port_unamb, false},
    {R5 "via-received-param-with-delim.dat", 0, NULL, NULL, 0, ck_rcv_delim, false},
    {R5 "via-received-param-no-delim.dat", 0, NULL, NULL, 0, ck_rcv_nodelim, false},
    {R5 "mult-ip-in-header.dat", 0, NULL, NULL, 0, ck_mult_hdr, false},
    {R5 "mult-ip-in-sdp.dat", 0, NULL, NULL, A(TRAILING_DATA), ck_mult_sdp, false},
    {R5 "ipv4-mapped-ipv6.dat", 0, NULL, NULL, A(TRAILING_DATA), ck_v4mapped, false},
    {R5 "ipv6-bug-abnf-3-colons.dat", 0, NULL, NULL, 0, ck_3colons, false},
    {R5 "ipv6-correct-abnf-2-colons.dat", 0, NULL, NULL, 0, ck_2colons, false},
    {R5 "ipv6-in-sdp.dat", 0, NULL, NULL, A(TRAILING_DATA), ck_ipv6_sdp, false},
};

/* The line holding err_off must start with prefix ("" = the start line). */
static void check_err_line(const struct sip_msg *m, const struct torture_case *tc)
{
    CHECK(m->err_off <= m->len);
    if (!tc->err_line || m->err_off > m->len)
        return;
    size_t ls = m->err_off;
    while (ls > 0 && m->buf[ls - 1] != '\n')
        ls--;
    /* Folded values: walk back to the line that starts the header. */
    while (ls > 0 && (m->buf[ls] == ' ' || m->buf[ls] == '\t')) {
        ls--;
        while (ls > 0 && m->buf[ls - 1] != '\n')
            ls--;
    }
    size_t pl = strlen(tc->err_line);
    if (pl == 0) {
        CHECK_INT(ls, 0);
        return;
    }
    bool ok = ls + pl <= m->len && memcmp(m->buf + ls, tc->err_line, pl) == 0;
    if (!ok)
        TEST_FAIL_AT("%s: err_off %zu not in a \"%s\" line", tc->file, m->err_off, tc->err_line);
    else
        test_passed_count++;
}

static struct sip_msg msg;

int main(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        const struct torture_case *tc = &cases[i];
        size_t len;
        uint8_t *buf = sip_test_load(tc->file, &len);
        if (!buf) {
            TEST_FAIL_AT("cannot read %s", tc->file);
            continue;
        }
        if (tc->add_crlf) {
            uint8_t *nb = realloc(buf, len + 2);
            CHECK(nb != NULL);
            if (!nb) {
                free(buf);
                continue;
            }
            buf = nb;
            memcpy(buf + len, "\r\n", 2);
            len += 2;
        }
        int rc = sip_msg_parse(&msg, buf, len, SIP_PARSE_DATAGRAM);
        unsigned failed = test_failed_count;
        CHECK_INT(rc, tc->rc);
        if (tc->rc < 0) {
            CHECK_STR(msg.err_reason, tc->reason);
            check_err_line(&msg, tc);
        } else {
            CHECK(msg.err_reason == NULL);
            if (tc->check)
                tc->check(&msg);
        }
        if ((msg.anomalies & tc->anomalies) != tc->anomalies) {
            char want[512], got[512];
            sip_anomaly_fmt(tc->anomalies, want, sizeof(want));
            sip_anomaly_fmt(msg.anomalies, got, sizeof(got));
            TEST_FAIL_AT("%s: anomalies want %s, got %s", tc->file, want, got);
        }
        if (test_failed_count != failed)
            fprintf(stderr, "  ^ in %s (rc %d, %s at %zu)\n", tc->file, rc,
                    msg.err_reason ? msg.err_reason : "-", msg.err_off);
        free(buf);
    }
    return test_finish();
}
