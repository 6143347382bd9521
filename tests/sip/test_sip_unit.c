/*
 * Table-driven unit tests for every grammar piece of the SIP parser:
 * {input, expected verdict, expected fields}.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/msg.h"
#include "pbxguard/sip/sdp.h"
#include "pbxguard/sip/uri.h"
#include "sip_test_util.h"

#define A(x) (1ull << (unsigned)(SIP_ANOM_##x))

/* NULL expectation = "absent"; "" = present and empty. */
static void check_opt(struct slice s, const char *want, const char *what, const char *input)
{
    if (!want) {
        if (s.p)
            TEST_FAIL_AT("%s of \"%s\": want absent, got \"%.*s\"", what, input, (int)s.len, s.p);
        else
            test_passed_count++;
        return;
    }
    if (s.p && slice_eq_cstr(s, want))
        test_passed_count++;
    else
        TEST_FAIL_AT("%s of \"%s\": want \"%s\", got \"%.*s\"", what, input, want, (int)s.len,
                     s.p ? s.p : "(absent)");
}

/* ---------------------------------------------------------------- URIs */

struct uri_case {
    const char *in;
    int rc;
    enum sip_uri_scheme scheme;
    const char *user, *password, *host;
    enum sip_host_type ht;
    unsigned port;
    const char *params, *headers, *transport;
    bool lr;
    uint64_t anom;
};

static const struct uri_case uri_cases[] = {
    {"sip:alice@example.com", 0, SIP_URI_SIP, "alice", NULL, "example.com", SIP_HOST_NAME, 0, NULL,
     NULL, NULL, false, 0},
    {"sips:bob:secret@192.0.2.4:5061;transport=tcp;lr", 0, SIP_URI_SIPS, "bob", "secret",
     "192.0.2.4", SIP_HOST_IPV4, 5061, ";transport=tcp;lr", NULL, "tcp", true, 0},
    {"sip:user;par=u%40example.net@example.com", 0, SIP_URI_SIP, "user;par=u%40example.net", NULL,
     "example.com", SIP_HOST_NAME, 0, NULL, NULL, NULL, false, 0},
    {"sip:[2001:db8::1]:5070;maddr=239.255.255.1;ttl=15", 0, SIP_URI_SIP, NULL, NULL, "2001:db8::1",
     SIP_HOST_IPV6, 5070, ";maddr=239.255.255.1;ttl=15", NULL, NULL, false, 0},
    {"sip:user@example.com?Subject=hi&Priority=urgent", 0, SIP_URI_SIP, "user", NULL, "example.com",
     SIP_HOST_NAME, 0, NULL, "Subject=hi&Priority=urgent", NULL, false, 0},
    {"sip:example.com.", 0, SIP_URI_SIP, NULL, NULL, "example.com.", SIP_HOST_NAME, 0, NULL, NULL,
     NULL, false, 0},
    {"SIP:a@b.example", 0, SIP_URI_SIP, "a", NULL, "b.example", SIP_HOST_NAME, 0, NULL, NULL, NULL,
     false, A(SCHEME_CASE)},
    {"sip:%00@h.example", 0, SIP_URI_SIP, "%00", NULL, "h.example", SIP_HOST_NAME, 0, NULL, NULL,
     NULL, false, A(ESCAPED_NUL)},
    {"sip:1.2.3.4:65535", 0, SIP_URI_SIP, NULL, NULL, "1.2.3.4", SIP_HOST_IPV4, 65535, NULL, NULL,
     NULL, false, 0},
    {"sip:h.example;user=phone;method=INVITE", 0, SIP_URI_SIP, NULL, NULL, "h.example",
     SIP_HOST_NAME, 0, ";user=phone;method=INVITE", NULL, NULL, false, 0},
    {"tel:+1-201-555-0123;ext=1234", 0, SIP_URI_TEL, "+1-201-555-0123", NULL, NULL, SIP_HOST_NONE,
     0, ";ext=1234", NULL, NULL, false, 0},
    {"tel:7042;phone-context=example.com", 0, SIP_URI_TEL, "7042", NULL, NULL, SIP_HOST_NONE, 0,
     ";phone-context=example.com", NULL, NULL, false, 0},
    {"mailto:x@example.com", 0, SIP_URI_OTHER, NULL, NULL, NULL, SIP_HOST_NONE, 0, NULL, NULL, NULL,
     false, A(UNKNOWN_SCHEME)},
    /* Rejections. */
    {"sip:alice@example.com:0", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:alice@example.com:65536", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:alice@example.com:12a", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:alice@[2001:db8::1", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:alice@[2001:zz8::1]", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:2001:db8::10", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:al ice@example.com", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:alice@exa_mple.com", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:alice@-example.com", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:@example.com", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:a%4@example.com", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:example.com;ttl=256", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:example.com;", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:example.com?", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"sip:", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"1sip:x", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"<sip:x@y>", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"tel:", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
    {"tel:12 34", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0},
};

static void test_uri(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(uri_cases); i++) {
        const struct uri_case *c = &uri_cases[i];
        struct sip_uri u;
        int rc = sip_uri_parse(&u, slice_cstr(c->in));
        if (rc != c->rc) {
            TEST_FAIL_AT("uri \"%s\": rc %d, want %d (%s)", c->in, rc, c->rc,
                         u.err_reason ? u.err_reason : "-");
            continue;
        }
        test_passed_count++;
        if (rc < 0) {
            CHECK(u.err_reason != NULL);
            CHECK(u.err_off <= strlen(c->in));
            continue;
        }
        CHECK_INT(u.scheme, c->scheme);
        if (c->scheme == SIP_URI_OTHER) {
            CHECK(u.opaque.len > 0);
        } else {
            check_opt(u.user, c->user, "user", c->in);
            check_opt(u.password, c->password, "password", c->in);
            check_opt(u.host, c->host, "host", c->in);
            CHECK_INT(u.host_type, c->ht);
            CHECK_INT(u.port, c->port);
            check_opt(u.params, c->params, "params", c->in);
            check_opt(u.headers, c->headers, "headers", c->in);
            check_opt(u.transport, c->transport, "transport", c->in);
            CHECK_INT(u.lr, c->lr);
        }
        CHECK_INT(u.anomalies & c->anom, c->anom);
    }
    /* Length cap. */
    char big[SIP_MAX_URI_LEN + 16];
    memcpy(big, "sip:", 4);
    memset(big + 4, 'a', sizeof(big) - 4);
    struct sip_uri u;
    CHECK_INT(sip_uri_parse(&u, slice_make(big, sizeof(big))), -EMSGSIZE);
    /* Parameter cap. */
    char many[16 + 3 * (SIP_MAX_PARAMS + 1)];
    size_t n = 0;
    memcpy(many, "sip:h.example", 13);
    n = 13;
    for (unsigned i = 0; i <= SIP_MAX_PARAMS; i++) {
        memcpy(many + n, ";p", 2);
        n += 2;
    }
    CHECK_INT(sip_uri_parse(&u, slice_make(many, n)), -EMSGSIZE);
    /* ttl/maddr and the other well-known parameters are noted. */
    CHECK_INT(sip_uri_parse(&u, SLICE_LIT("sip:h.example;maddr=10.0.0.1;ttl=5;method=BYE;user=ip")),
              0);
    CHECK_SLICE(u.maddr, "10.0.0.1");
    CHECK_SLICE(u.ttl, "5");
    CHECK_SLICE(u.method, "BYE");
    CHECK_SLICE(u.user_param, "ip");
}

static void test_unescape(void)
{
    char d[16];
    size_t n;
    bool nul;
    CHECK_INT(sip_unescape(SLICE_LIT("a%40b%00"), d, sizeof(d), &n, &nul), 0);
    CHECK_INT(n, 4);
    CHECK(memcmp(d, "a@b\0", 4) == 0);
    CHECK(nul);
    CHECK_INT(sip_unescape(SLICE_LIT("%4"), d, sizeof(d), &n, NULL), -EBADMSG);
    CHECK_INT(sip_unescape(SLICE_LIT("%zz"), d, sizeof(d), &n, NULL), -EBADMSG);
    CHECK_INT(sip_unescape(SLICE_LIT("abcdef"), d, 3, &n, NULL), -EMSGSIZE);
    CHECK_SLICE(sip_unquote(SLICE_LIT("\"a\\\"b\"")), "a\\\"b");
    CHECK_SLICE(sip_unquote(SLICE_LIT("tok")), "tok");
}

/* ------------------------------------------------------- header params */

struct param_case {
    const char *in;
    int count; /* parameters walked, or the negative error */
    const char *name0, *value0;
};

static const struct param_case param_cases[] = {
    {";tag=abc;lr", 2, "tag", "abc"},
    {"lr", 1, "lr", NULL},
    {" ; rport ; branch = z9hG4bK1", 2, "rport", NULL},
    {";x=\"a;b,c\";y", 2, "x", "\"a;b,c\""},
    {";x=\"a\\\"b\"", 1, "x", "\"a\\\"b\""},
    {";\r\n tag=1", 1, "tag", "1"},
    {";", -EBADMSG, NULL, NULL},
    {";=v", -EBADMSG, NULL, NULL},
    {";x=\"open", -EBADMSG, NULL, NULL},
    {";x=", -EBADMSG, NULL, NULL},
    {";a b", -EBADMSG, NULL, NULL},
    {"", 0, NULL, NULL},
};

static void test_params(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(param_cases); i++) {
        const struct param_case *c = &param_cases[i];
        struct sip_param_iter it;
        struct sip_param p, first = {SLICE_NULL, SLICE_NULL};
        int rc, n = 0;
        sip_param_iter_init(&it, slice_cstr(c->in));
        while ((rc = sip_param_next(&it, &p)) > 0) {
            if (n++ == 0)
                first = p;
        }
        int got = rc < 0 ? rc : n;
        if (got != c->count)
            TEST_FAIL_AT("params \"%s\": got %d, want %d", c->in, got, c->count);
        else
            test_passed_count++;
        if (c->name0) {
            check_opt(first.name, c->name0, "name", c->in);
            check_opt(first.value, c->value0, "value", c->in);
        }
    }
    struct sip_param p;
    CHECK(sip_param_find(SLICE_LIT(";a=1;TAG=xy"), "tag", &p));
    CHECK_SLICE(p.value, "xy");
    CHECK(!sip_param_find(SLICE_LIT(";a=1"), "tag", &p));
    /* Parameter cap. */
    char buf[4 * (SIP_MAX_PARAMS + 2)];
    size_t n = 0;
    for (unsigned i = 0; i <= SIP_MAX_PARAMS; i++) {
        memcpy(buf + n, ";a", 2);
        n += 2;
    }
    struct sip_param_iter it;
    int rc;
    sip_param_iter_init(&it, slice_make(buf, n));
    while ((rc = sip_param_next(&it, &p)) > 0)
        ;
    CHECK_INT(rc, -EMSGSIZE);
}

/* ----------------------------------------------------------- name-addr */

struct na_case {
    const char *in;
    int rc;
    bool star, bracketed;
    const char *display, *uri_raw, *params, *tag, *expires, *q;
};

static const struct na_case na_cases[] = {
    {"\"Alice Doe\" <sip:alice@example.com>;tag=1928301774", 0, false, true, "\"Alice Doe\"",
     "sip:alice@example.com", ";tag=1928301774", "1928301774", NULL, NULL},
    {"Bob <sips:bob@example.com:5061>", 0, false, true, "Bob", "sips:bob@example.com:5061", NULL,
     NULL, NULL, NULL},
    {"Bob Smith<sip:b@example.com>", 0, false, true, "Bob Smith", "sip:b@example.com", NULL, NULL,
     NULL, NULL},
    {"<sip:c@example.com;transport=tcp>;expires=3600;q=0.7", 0, false, true, NULL,
     "sip:c@example.com;transport=tcp", ";expires=3600;q=0.7", NULL, "3600", "0.7"},
    /* addr-spec: ';' starts header parameters. */
    {"sip:c@example.com;tag=x;expires=60", 0, false, false, NULL, "sip:c@example.com",
     ";tag=x;expires=60", "x", "60", NULL},
    {"\"Q \\\"x\\\" \\\\\" <sip:q@example.com>", 0, false, true, "\"Q \\\"x\\\" \\\\\"",
     "sip:q@example.com", NULL, NULL, NULL, NULL},
    {"\"\" <sip:e@example.com>", 0, false, true, "\"\"", "sip:e@example.com", NULL, NULL, NULL,
     NULL},
    {"*", 0, true, false, NULL, NULL, NULL, NULL, NULL, NULL},
    {"<tel:+15551234>", 0, false, true, NULL, "tel:+15551234", NULL, NULL, NULL, NULL},
    {"<urn:service:sos>", 0, false, true, NULL, "urn:service:sos", NULL, NULL, NULL, NULL},
    /* Rejections. */
    {"\"unterminated <sip:a@b.example>", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"<sip:a@b.example", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"Bell, Alexander <sip:a@b.example>", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"sip:a@b.example?Route=x", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"< sip:a@b.example >", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"<sip:a@b.example> junk", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"<sip:a@b.example>;q=1.5", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"<sip:a@b.example>;expires=-1", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"<sip:a@b.example>;tag=", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
    {"", -EBADMSG, false, false, 0, 0, 0, 0, 0, 0},
};

static void test_name_addr(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(na_cases); i++) {
        const struct na_case *c = &na_cases[i];
        struct sip_name_addr na;
        int rc = sip_name_addr_parse(&na, slice_cstr(c->in));
        if (rc != c->rc) {
            TEST_FAIL_AT("name-addr \"%s\": rc %d, want %d", c->in, rc, c->rc);
            continue;
        }
        test_passed_count++;
        if (rc < 0)
            continue;
        CHECK_INT(na.star, c->star);
        if (c->star)
            continue;
        CHECK_INT(na.bracketed, c->bracketed);
        check_opt(na.display, c->display, "display", c->in);
        check_opt(na.uri_raw, c->uri_raw, "uri", c->in);
        check_opt(na.params, c->params, "params", c->in);
        check_opt(na.tag, c->tag, "tag", c->in);
        check_opt(na.expires, c->expires, "expires", c->in);
        check_opt(na.q, c->q, "q", c->in);
    }
    unsigned q;
    CHECK_INT(sip_parse_qvalue(SLICE_LIT("0.5"), &q), 0);
    CHECK_INT(q, 500);
    CHECK_INT(sip_parse_qvalue(SLICE_LIT("1"), &q), 0);
    CHECK_INT(q, 1000);
    CHECK_INT(sip_parse_qvalue(SLICE_LIT("0.125"), &q), 0);
    CHECK_INT(q, 125);
    CHECK_INT(sip_parse_qvalue(SLICE_LIT("1.001"), &q), -EBADMSG);
    CHECK_INT(sip_parse_qvalue(SLICE_LIT("0.1234"), &q), -EBADMSG);
    CHECK_INT(sip_parse_qvalue(SLICE_LIT("2"), &q), -EBADMSG);
}

/* ----------------------------------------------------------------- Via */

struct via_case {
    const char *in;
    int rc;
    const char *transport, *host;
    enum sip_host_type ht;
    unsigned port;
    const char *branch, *received, *maddr, *ttl;
    bool has_rport;
    unsigned rport;
    uint64_t anom;
};

static const struct via_case via_cases[] = {
    {"SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds", 0, "UDP", "pc33.example.com",
     SIP_HOST_NAME, 0, "z9hG4bK776asdhds", NULL, NULL, NULL, false, 0, 0},
    {"SIP/2.0/TCP 192.0.2.1:5060;rport;branch=z9hG4bKx", 0, "TCP", "192.0.2.1", SIP_HOST_IPV4, 5060,
     "z9hG4bKx", NULL, NULL, NULL, true, 0, 0},
    {"SIP/2.0/UDP 192.0.2.1;rport=5062;received=198.51.100.7;branch=z9hG4bKy", 0, "UDP",
     "192.0.2.1", SIP_HOST_IPV4, 0, "z9hG4bKy", "198.51.100.7", NULL, NULL, true, 5062, 0},
    {"SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKz;received=2001:db8::2", 0, "TLS", "2001:db8::1",
     SIP_HOST_IPV6, 5061, "z9hG4bKz", "2001:db8::2", NULL, NULL, false, 0, 0},
    {"SIP / 2.0 / UDP host.example : 5070 ;branch=z9hG4bKw", 0, "UDP", "host.example",
     SIP_HOST_NAME, 5070, "z9hG4bKw", NULL, NULL, NULL, false, 0, 0},
    {"SIP/2.0/UDP h.example;maddr=224.2.0.1;ttl=16;branch=z9hG4bKm", 0, "UDP", "h.example",
     SIP_HOST_NAME, 0, "z9hG4bKm", NULL, "224.2.0.1", "16", false, 0, 0},
    {"SIP/2.0/XYZ h.example;branch=abc", 0, "XYZ", "h.example", SIP_HOST_NAME, 0, "abc", NULL, NULL,
     NULL, false, 0, A(UNKNOWN_TRANSPORT) | A(BRANCH_NOT_RFC3261)},
    {"SIP/2.0/UDP h.example;branch=z9hG4bK", 0, "UDP", "h.example", SIP_HOST_NAME, 0, "z9hG4bK",
     NULL, NULL, NULL, false, 0, A(BRANCH_NOT_RFC3261)},
    {"SIP/2.0/UDP h.example", 0, "UDP", "h.example", SIP_HOST_NAME, 0, NULL, NULL, NULL, NULL,
     false, 0, 0},
    /* Rejections. */
    {"SIP/3.0/UDP h.example;branch=z9hG4bK1", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0 h.example", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example:0", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example:70000", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example;branch", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example;ttl=300", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example;rport=0", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example;received=host.example", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example;;", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK1", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
    {"SIP/2.0/UDP h.example junk", -EBADMSG, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0},
};

static void test_via(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(via_cases); i++) {
        const struct via_case *c = &via_cases[i];
        struct sip_via v;
        int rc = sip_via_parse(&v, slice_cstr(c->in));
        if (rc != c->rc) {
            TEST_FAIL_AT("via \"%s\": rc %d, want %d", c->in, rc, c->rc);
            continue;
        }
        test_passed_count++;
        if (rc < 0)
            continue;
        check_opt(v.protocol, "SIP", "protocol", c->in);
        check_opt(v.version, "2.0", "version", c->in);
        check_opt(v.transport, c->transport, "transport", c->in);
        check_opt(v.host, c->host, "host", c->in);
        CHECK_INT(v.host_type, c->ht);
        CHECK_INT(v.port, c->port);
        check_opt(v.branch, c->branch, "branch", c->in);
        check_opt(v.received, c->received, "received", c->in);
        check_opt(v.maddr, c->maddr, "maddr", c->in);
        check_opt(v.ttl, c->ttl, "ttl", c->in);
        CHECK_INT(v.has_rport, c->has_rport);
        CHECK_INT(v.rport, c->rport);
        CHECK_INT(v.anomalies & c->anom, c->anom);
    }
}

/* ---------------------------------------------------------------- CSeq */

struct cseq_case {
    const char *in;
    int rc;
    uint32_t num;
    enum sip_method method;
    const char *name;
};

static const struct cseq_case cseq_cases[] = {
    {"1 INVITE", 0, 1, SIP_METHOD_INVITE, "INVITE"},
    {"0 REGISTER", 0, 0, SIP_METHOD_REGISTER, "REGISTER"},
    {"2147483647 BYE", 0, 2147483647u, SIP_METHOD_BYE, "BYE"},
    {"  42 \r\n FOO ", 0, 42, SIP_METHOD_UNKNOWN, "FOO"},
    {"00000000009 ACK", 0, 9, SIP_METHOD_ACK, "ACK"},
    {"2147483648 INVITE", -EBADMSG, 0, 0, NULL},
    {"4294967296 INVITE", -EBADMSG, 0, 0, NULL},
    {"36893488147419103232 INVITE", -EBADMSG, 0, 0, NULL},
    {"-1 INVITE", -EBADMSG, 0, 0, NULL},
    {"INVITE", -EBADMSG, 0, 0, NULL},
    {"12", -EBADMSG, 0, 0, NULL},
    {"12INVITE", -EBADMSG, 0, 0, NULL},
    {"12 INV ITE", -EBADMSG, 0, 0, NULL},
    {"", -EBADMSG, 0, 0, NULL},
};

static void test_cseq(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cseq_cases); i++) {
        const struct cseq_case *c = &cseq_cases[i];
        struct sip_cseq cs;
        int rc = sip_cseq_parse(&cs, slice_cstr(c->in));
        if (rc != c->rc) {
            TEST_FAIL_AT("cseq \"%s\": rc %d, want %d", c->in, rc, c->rc);
            continue;
        }
        test_passed_count++;
        if (rc < 0)
            continue;
        CHECK_INT(cs.num, c->num);
        CHECK_INT(cs.method, c->method);
        check_opt(cs.method_name, c->name, "method", c->in);
    }
    uint64_t v;
    CHECK_INT(sip_parse_uint(SLICE_LIT("0"), 10, &v), 0);
    CHECK_INT(sip_parse_uint(SLICE_LIT("11"), 10, &v), -ERANGE);
    CHECK_INT(sip_parse_uint(SLICE_LIT("+1"), 10, &v), -EBADMSG);
    CHECK_INT(sip_parse_uint(SLICE_LIT(" 1"), 10, &v), -EBADMSG);
    CHECK_INT(sip_parse_uint(SLICE_LIT(""), 10, &v), -EBADMSG);
    CHECK_INT(sip_parse_uint(SLICE_LIT("99999999999"), UINT64_MAX, &v), -ERANGE);
}

/* -------------------------------------------------------------- digest */

static void test_digest(void)
{
    struct sip_digest d;
    const char *cred = "Digest username=\"alice\", realm=\"atlanta.example.com\",\r\n"
                       " nonce=\"84a4cc6f3082121f32b42a2187831a9e\", uri=\"sip:bob@biloxi.com\","
                       " response=\"7587245234b3434cc3412213e5f113a5\", algorithm=MD5,"
                       " cnonce=\"0a4f113b\", qop=auth, nc=00000001, opaque=\"5ccc,069c\"";
    CHECK_INT(sip_digest_parse(&d, slice_cstr(cred)), 0);
    CHECK_SLICE(d.scheme, "Digest");
    CHECK_SLICE(d.username, "alice");
    CHECK_SLICE(d.realm, "atlanta.example.com");
    CHECK_SLICE(d.nonce, "84a4cc6f3082121f32b42a2187831a9e");
    CHECK_SLICE(d.uri, "sip:bob@biloxi.com");
    CHECK_SLICE(d.response, "7587245234b3434cc3412213e5f113a5");
    CHECK_SLICE(d.algorithm, "MD5");
    CHECK_SLICE(d.cnonce, "0a4f113b");
    CHECK_SLICE(d.qop, "auth");
    CHECK_SLICE(d.nc, "00000001");
    CHECK_SLICE(d.opaque, "5ccc,069c");
    CHECK_INT(d.nparams, 10);
    CHECK(!d.dup_param);

    const char *chal = "Digest realm=\"biloxi.com\", qop=\"auth,auth-int\", stale=TRUE,"
                       " nonce=\"dcd98b\", opaque=\"5ccc\", domain=\"sip:biloxi.com\", ext=1";
    CHECK_INT(sip_digest_parse(&d, slice_cstr(chal)), 0);
    CHECK_SLICE(d.qop, "auth,auth-int");
    CHECK(d.stale_true);
    CHECK_SLICE(d.domain, "sip:biloxi.com");
    struct slice rest = d.qop, tok;
    CHECK_INT(sip_qop_next(&rest, &tok), 1);
    CHECK_SLICE(tok, "auth");
    CHECK_INT(sip_qop_next(&rest, &tok), 1);
    CHECK_SLICE(tok, "auth-int");
    CHECK_INT(sip_qop_next(&rest, &tok), 0);
    /* Generic auth-params are walked too. */
    struct sip_auth_iter it;
    struct slice n, v;
    int rc;
    unsigned seen = 0;
    sip_auth_iter_init(&it, d.params);
    while ((rc = sip_auth_param_next(&it, &n, &v)) > 0) {
        if (slice_eq_cstr(n, "ext")) {
            CHECK_SLICE(v, "1");
            seen++;
        }
    }
    CHECK_INT(rc, 0);
    CHECK_INT(seen, 1);

    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("Digest username=\"a\", username=\"b\"")), 0);
    CHECK(d.dup_param);
    CHECK_SLICE(d.username, "b");
    /* Malformed Digest values. */
    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("Digest username=\"open")), -EBADMSG);
    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("Digest username")), -EBADMSG);
    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("Digest a=1 b=2")), -EBADMSG);
    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("Digest a=1,")), -EBADMSG);
    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("")), -EBADMSG);
    /* Other schemes: accepted, even with token68 data. */
    CHECK_INT(sip_digest_parse(&d, SLICE_LIT("Bearer abc.def==")), 0);
    CHECK_SLICE(d.scheme, "Bearer");
    CHECK_ABSENT(d.username);
    /* Parameter cap. */
    char big[16 + 6 * (SIP_MAX_AUTH_PARAMS + 1)];
    size_t len = 0;
    memcpy(big, "Digest ", 7);
    len = 7;
    for (unsigned i = 0; i <= SIP_MAX_AUTH_PARAMS; i++) {
        memcpy(big + len, "a=1, ", 5);
        len += 5;
    }
    len -= 2;
    CHECK_INT(sip_digest_parse(&d, slice_make(big, len)), -EMSGSIZE);
}

/* ----------------------------------------------------------------- SDP */

static void test_sdp(void)
{
    const char *body = "v=0\r\n"
                       "o=alice 2890844526 2890844527 IN IP4 198.51.100.1\r\n"
                       "s=-\r\n"
                       "c=IN IP4 198.51.100.1\r\n"
                       "t=0 0\r\n"
                       "a=sendrecv\r\n"
                       "m=audio 49170 RTP/AVP 0 8 101\r\n"
                       "a=rtpmap:0 PCMU/8000\r\n"
                       "a=rtpmap:101 telephone-event/8000\r\n"
                       "m=video 51372/2 RTP/AVP 31\r\n"
                       "c=IN IP6 2001:db8::5\r\n";
    struct sip_sdp s;
    CHECK_INT(sip_sdp_parse(&s, slice_cstr(body)), 0);
    CHECK_SLICE(s.version, "0");
    CHECK_SLICE(s.o_username, "alice");
    CHECK_SLICE(s.o_sess_id, "2890844526");
    CHECK_SLICE(s.o_addr.addr, "198.51.100.1");
    CHECK_SLICE(s.session_name, "-");
    CHECK_SLICE(s.timing, "0 0");
    CHECK_INT(s.conn.type, SIP_SDP_ADDR_IP4);
    CHECK_INT(s.nmedia, 2);
    CHECK_SLICE(s.media[0].media, "audio");
    CHECK_INT(s.media[0].port, 49170);
    CHECK_INT(s.media[0].nports, 1);
    CHECK_SLICE(s.media[0].proto, "RTP/AVP");
    CHECK_SLICE(s.media[0].fmts, "0 8 101");
    struct slice rest = s.media[0].fmts, w;
    unsigned nf = 0;
    while (sip_sdp_word_next(&rest, &w) > 0)
        nf++;
    CHECK_INT(nf, 3);
    struct slice av;
    CHECK(sip_sdp_attr(s.media[0].attrs, "rtpmap", 1, &av));
    CHECK_SLICE(av, "101 telephone-event/8000");
    CHECK(sip_sdp_attr(s.attrs, "sendrecv", 0, &av));
    CHECK_ABSENT(av);
    CHECK(!sip_sdp_attr(s.media[0].attrs, "rtpmap", 2, &av));
    CHECK_INT(s.media[1].port, 51372);
    CHECK_INT(s.media[1].nports, 2);
    const struct sip_sdp_conn *c = sip_sdp_media_conn(&s, 1);
    CHECK(c && c->type == SIP_SDP_ADDR_IP6);
    if (c)
        CHECK_SLICE(c->addr, "2001:db8::5");
    c = sip_sdp_media_conn(&s, 0);
    CHECK(c && c->type == SIP_SDP_ADDR_IP4);
    CHECK(sip_sdp_media_conn(&s, 2) == NULL);

    /* Bare LF line ends. */
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n")), 0);
    CHECK_INT(s.media[0].port, 4000);
    /* Rejections. */
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("o=x 1 1 IN IP4 1.2.3.4\r\n")), -EBADMSG);
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("v=1\r\n")), -EBADMSG);
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("v=0\r\nc=IN IP4\r\n")), -EBADMSG);
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("v=0\r\nm=audio 70000 RTP/AVP 0\r\n")), -EBADMSG);
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("v=0\r\nm=audio x RTP/AVP 0\r\n")), -EBADMSG);
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("v=0\r\nbogus\r\n")), -EBADMSG);
    CHECK_INT(sip_sdp_parse(&s, SLICE_LIT("")), -EBADMSG);
    /* Media cap. */
    static char many[64 * (SIP_MAX_SDP_MEDIA + 2)];
    size_t n = 0;
    memcpy(many, "v=0\r\n", 5);
    n = 5;
    for (unsigned i = 0; i <= SIP_MAX_SDP_MEDIA; i++) {
        memcpy(many + n, "m=audio 4000 RTP/AVP 0\r\n", 24);
        n += 24;
    }
    CHECK_INT(sip_sdp_parse(&s, slice_make(many, n)), -EMSGSIZE);
}

/* ------------------------------------------------- header names, lists */

static void test_hdr_names(void)
{
    bool compact;
    static const struct {
        const char *name;
        enum sip_hdr_id id;
        bool compact;
    } names[] = {
        {"Via", SIP_HDR_VIA, false},
        {"vIA", SIP_HDR_VIA, false},
        {"v", SIP_HDR_VIA, true},
        {"V", SIP_HDR_VIA, true},
        {"i", SIP_HDR_CALL_ID, true},
        {"m", SIP_HDR_CONTACT, true},
        {"f", SIP_HDR_FROM, true},
        {"t", SIP_HDR_TO, true},
        {"l", SIP_HDR_CONTENT_LENGTH, true},
        {"c", SIP_HDR_CONTENT_TYPE, true},
        {"k", SIP_HDR_SUPPORTED, true},
        {"s", SIP_HDR_SUBJECT, true},
        {"e", SIP_HDR_CONTENT_ENCODING, true},
        {"o", SIP_HDR_EVENT, true},
        {"u", SIP_HDR_ALLOW_EVENTS, true},
        {"r", SIP_HDR_REFER_TO, true},
        {"b", SIP_HDR_REFERRED_BY, true},
        {"x", SIP_HDR_SESSION_EXPIRES, true},
        {"y", SIP_HDR_IDENTITY, true},
        {"a", SIP_HDR_ACCEPT_CONTACT, true},
        {"j", SIP_HDR_REJECT_CONTACT, true},
        {"d", SIP_HDR_REQUEST_DISPOSITION, true},
        {"call-id", SIP_HDR_CALL_ID, false},
        {"WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE, false},
        {"proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION, false},
        {"CSEQ", SIP_HDR_CSEQ, false},
        /* Never a hash-only or prefix match. */
        {"P-hzs", SIP_HDR_OTHER, false},
        {"Vias", SIP_HDR_OTHER, false},
        {"Vi", SIP_HDR_OTHER, false},
        {"Call-I", SIP_HDR_OTHER, false},
        {"Call-IDs", SIP_HDR_OTHER, false},
        {"Contact ", SIP_HDR_OTHER, false},
        {"z", SIP_HDR_OTHER, false},
        {"n", SIP_HDR_OTHER, false},
        {"C%6Fntact", SIP_HDR_OTHER, false},
        {"", SIP_HDR_OTHER, false},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(names); i++) {
        enum sip_hdr_id id = sip_hdr_lookup(slice_cstr(names[i].name), &compact);
        if (id != names[i].id || compact != names[i].compact)
            TEST_FAIL_AT("lookup \"%s\": id %d compact %d", names[i].name, id, compact);
        else
            test_passed_count++;
    }
    /* Every known id's canonical name maps back to itself. */
    for (int id = 1; id < SIP_HDR_COUNT; id++) {
        enum sip_hdr_id got = sip_hdr_lookup(slice_cstr(sip_hdr_name((enum sip_hdr_id)id)), NULL);
        if ((int)got != id)
            TEST_FAIL_AT("round trip of %s gave %d", sip_hdr_name((enum sip_hdr_id)id), got);
        else
            test_passed_count++;
    }
    CHECK_STR(sip_hdr_name(SIP_HDR_OTHER), "");
    CHECK_STR(sip_hdr_name(SIP_HDR_COUNT), "");
    CHECK_INT(sip_method_lookup(SLICE_LIT("INVITE")), SIP_METHOD_INVITE);
    CHECK_INT(sip_method_lookup(SLICE_LIT("invite")), SIP_METHOD_UNKNOWN);
    CHECK_INT(sip_method_lookup(SLICE_LIT("INVITES")), SIP_METHOD_UNKNOWN);
    CHECK_STR(sip_method_name(SIP_METHOD_UPDATE), "UPDATE");
    /* Anomaly names are stable and unique. */
    CHECK_STR(sip_anomaly_name(SIP_ANOM_DUP_SINGLETON), "dup_singleton");
    CHECK_STR(sip_anomaly_name(SIP_ANOM_CL_MISMATCH), "cl_mismatch");
    CHECK_STR(sip_anomaly_name(SIP_ANOM_COUNT), "unknown");
    for (int i = 0; i < SIP_ANOM_COUNT; i++) {
        CHECK(strcmp(sip_anomaly_name((enum sip_anomaly)i), "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(sip_anomaly_name((enum sip_anomaly)i),
                         sip_anomaly_name((enum sip_anomaly)j)) != 0);
    }
    char buf[64];
    CHECK_INT(sip_anomaly_fmt(A(NO_CL) | A(LWS_FOLD), buf, sizeof(buf)), 14);
    CHECK_STR(buf, "no_cl,lws_fold");
    CHECK_INT(sip_anomaly_fmt(A(NO_CL) | A(LWS_FOLD), buf, 8), 5);
    CHECK_STR(buf, "no_cl");
    CHECK_INT(sip_anomaly_fmt(0, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "");
}

struct list_case {
    const char *in;
    int count;
    const char *item1;
};

static const struct list_case list_cases[] = {
    {"a, b ,c", 3, "b"},
    {"\"x, y\" <sip:a@b.example>, <sip:c,d@e.example>", 2, "<sip:c,d@e.example>"},
    {"\"q\\\",\" <sip:a@b.example>, z", 2, "z"},
    {",, a ,,\r\n b", 2, "b"},
    {"", 0, NULL},
    {"\"open, a", -EBADMSG, NULL},
    {"<sip:a@b, c", -EBADMSG, NULL},
};

static void test_lists(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(list_cases); i++) {
        const struct list_case *c = &list_cases[i];
        struct sip_list_iter it;
        struct slice item, second = SLICE_NULL;
        int rc, n = 0;
        sip_list_iter_init(&it, slice_cstr(c->in));
        while ((rc = sip_list_next(&it, &item)) > 0)
            if (n++ == 1)
                second = item;
        int got = rc < 0 ? rc : n;
        if (got != c->count)
            TEST_FAIL_AT("list \"%s\": got %d, want %d", c->in, got, c->count);
        else
            test_passed_count++;
        if (c->item1)
            check_opt(second, c->item1, "item 1", c->in);
    }
    char buf[3 * (SIP_MAX_LIST_VALUES + 2)];
    size_t n = 0;
    for (unsigned i = 0; i <= SIP_MAX_LIST_VALUES; i++) {
        memcpy(buf + n, "a,", 2);
        n += 2;
    }
    struct sip_list_iter it;
    struct slice item;
    int rc;
    sip_list_iter_init(&it, slice_make(buf, n));
    while ((rc = sip_list_next(&it, &item)) > 0)
        ;
    CHECK_INT(rc, -EMSGSIZE);

    char out[32];
    CHECK_INT(sip_value_unfold(SLICE_LIT("a\r\n  b\t c"), out, sizeof(out)), 5);
    CHECK_STR(out, "a b c");
    CHECK_INT(sip_value_unfold(SLICE_LIT("abcdef"), out, 4), 3);
    CHECK_STR(out, "abc");
}

/* ------------------------------------------------------ whole messages */

#define HDRS_REQ                                                                                   \
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9\r\n"                                      \
    "From: <sip:alice@example.com>;tag=9fxced76sl\r\n"                                             \
    "To: <sip:bob@example.com>\r\n"                                                                \
    "Call-ID: 3848276298220188511@192.0.2.1\r\n"                                                   \
    "CSeq: 1 INVITE\r\n"                                                                           \
    "Max-Forwards: 70\r\n"

struct msg_case {
    const char *name;
    const char *in;
    unsigned flags;
    int rc;
    const char *reason;
    uint64_t anom;   /* bits that must be set */
    uint64_t noanom; /* bits that must be clear */
};

static const struct msg_case msg_cases[] = {
    {"minimal", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, A(NO_CL) | A(DUP_SINGLETON) | A(COMPACT_FORM)},
    {"version case-insensitive",
     "INVITE sip:bob@example.com sip/2.0\r\n" HDRS_REQ "Content-Length: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, 0},
    {"bad version", "INVITE sip:bob@example.com SIP/2.1\r\n" HDRS_REQ "\r\n", SIP_PARSE_DATAGRAM,
     -EBADMSG, "bad SIP-Version", 0, 0},
    {"no version", "INVITE sip:bob@example.com\r\n" HDRS_REQ "\r\n", SIP_PARSE_DATAGRAM, -EBADMSG,
     "missing SIP-Version", 0, 0},
    {"lowercase method is extension",
     "invite sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(UNKNOWN_METHOD) | A(CSEQ_METHOD_MISMATCH), 0},
    {"cseq mismatch", "BYE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(CSEQ_METHOD_MISMATCH), 0},
    {"no content-length datagram", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "\r\nxyz",
     SIP_PARSE_DATAGRAM, 0, NULL, A(NO_CL) | A(BODY_WITHOUT_TYPE), 0},
    {"no content-length stream", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "\r\n",
     SIP_PARSE_STREAM, -EBADMSG, "missing Content-Length", A(NO_CL), 0},
    {"cl larger than body",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 10\r\n\r\nabc",
     SIP_PARSE_DATAGRAM, -EBADMSG, "Content-Length exceeds body", A(CL_MISMATCH), 0},
    {"cl larger than body stream",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 10\r\n\r\nabc",
     SIP_PARSE_STREAM, -EAGAIN, "body incomplete", 0, 0},
    {"cl smaller than body",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 1\r\n\r\nabc",
     SIP_PARSE_DATAGRAM, 0, NULL, A(TRAILING_DATA), 0},
    {"cl smaller than body strict",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 1\r\n\r\nabc",
     SIP_PARSE_DATAGRAM | SIP_PARSE_STRICT, -EBADMSG, "data after body", A(TRAILING_DATA), 0},
    {"cl negative", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: -1\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad Content-Length", 0, 0},
    {"cl non-numeric",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 1a\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad Content-Length", 0, 0},
    {"cl empty", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length:\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad Content-Length", 0, 0},
    {"cl overlarge",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 99999999999999\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EMSGSIZE, "Content-Length too large", 0, 0},
    {"cl above body cap",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 60000\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EMSGSIZE, "Content-Length too large", 0, 0},
    {"cl duplicated same",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 0\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(DUP_SINGLETON) | A(MULTI_CL_VALUES) | A(COMPACT_FORM), 0},
    {"cl conflicting",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 0\r\nl: 3\r\n\r\nabc",
     SIP_PARSE_DATAGRAM, -EBADMSG, "conflicting Content-Length", A(DUP_SINGLETON), 0},
    {"cl leading zeros",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 003\r\n\r\nabc",
     SIP_PARSE_DATAGRAM, 0, NULL, A(LEADING_ZEROS), 0},
    {"cseq too big",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "CSeq: 2147483648 INVITE\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad CSeq", 0, 0},
    {"cseq duplicate conflicting",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "CSeq: 2 INVITE\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "conflicting CSeq", A(DUP_SINGLETON), 0},
    {"call-id duplicate conflicting",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "i: other\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "conflicting duplicate header", A(DUP_SINGLETON), 0},
    {"from duplicate same",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ
     "From: <sip:alice@example.com>;tag=9fxced76sl\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(DUP_SINGLETON), 0},
    {"from duplicate strict",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ
     "From: <sip:alice@example.com>;tag=9fxced76sl\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM | SIP_PARSE_STRICT, -EBADMSG, "duplicate header", A(DUP_SINGLETON), 0},
    {"max-forwards 70",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Content-Length: 0\r\n\r\n"
     "",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, A(MAXFWD_ZERO)},
    {"max-forwards bad",
     "INVITE sip:bob@example.com SIP/2.0\r\nMax-Forwards: 256\r\n" HDRS_REQ "l: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad Max-Forwards", 0, 0},
    {"max-forwards zero",
     "OPTIONS sip:bob@example.com SIP/2.0\r\nMax-Forwards: 0\r\n"
     "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\nFrom: <sip:a@b.example>;tag=1\r\n"
     "To: <sip:c@d.example>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(MAXFWD_ZERO), 0},
    {"missing call-id",
     "OPTIONS sip:bob@example.com SIP/2.0\r\n"
     "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\nFrom: <sip:a@b.example>;tag=1\r\n"
     "To: <sip:c@d.example>\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "missing mandatory header", A(MISSING_HEADER), 0},
    {"folded header",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Subject: a\r\n  b\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(LWS_FOLD), 0},
    {"fold before any header", "INVITE sip:bob@example.com SIP/2.0\r\n  x\r\n" HDRS_REQ "\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "folded line without header", 0, 0},
    {"missing colon", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Bogus\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "missing colon in header", 0, 0},
    {"space before colon",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Subject : x\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(WS_BEFORE_COLON), 0},
    {"bad header name", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Bad(Name): x\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "missing colon in header", 0, 0},
    {"bare LF", "INVITE sip:bob@example.com SIP/2.0\n" HDRS_REQ "l: 0\n\n", SIP_PARSE_DATAGRAM, 0,
     NULL, A(BARE_LF), 0},
    {"header section not terminated", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ,
     SIP_PARSE_DATAGRAM, -EBADMSG, "header section not terminated", 0, 0},
    {"header section incomplete stream", "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ,
     SIP_PARSE_STREAM, -EAGAIN, "header section not terminated", 0, 0},
    {"control byte in value",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Subject: a\x01"
     "b\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(CTRL_CHAR), 0},
    {"invalid utf-8",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Subject: a\xc0\xafz\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(NON_UTF8), 0},
    {"valid utf-8",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Subject: caf\xc3\xa9\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, A(NON_UTF8)},
    {"headers in request-uri",
     "INVITE sip:bob@example.com?Route=x SIP/2.0\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM,
     -EBADMSG, "headers in Request-URI", 0, 0},
    {"tel request-uri", "INVITE tel:+15551234 SIP/2.0\r\n" HDRS_REQ "l: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, A(UNKNOWN_SCHEME)},
    {"bad top via", "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP\r\n" HDRS_REQ "\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad Via", 0, 0},
    {"via without branch",
     "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example\r\n"
     "From: <sip:a@b.example>\r\nTo: <sip:c@d.example>;tag=x\r\nCall-ID: x\r\n"
     "CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(VIA_NO_BRANCH) | A(NO_FROM_TAG) | A(NO_MAXFWD), 0},
    {"to tag on register",
     "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\n"
     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\nCall-ID: x\r\n"
     "CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContact: *\r\nExpires: 0\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(TO_TAG_ON_REQUEST), 0},
    {"contact star mixed",
     "REGISTER sip:example.com SIP/2.0\r\n" HDRS_REQ
     "Contact: *, <sip:a@b.example>\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "Contact * mixed with other values", 0, 0},
    {"contact bad",
     "REGISTER sip:example.com SIP/2.0\r\n" HDRS_REQ "Contact: <sip:a@b.example\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, -EBADMSG, "bad Contact", 0, 0},
    {"expires garbled",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Expires: 99999999999\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(UNPARSED_HEADER), 0},
    {"expires fine",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Expires: 3600\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, A(UNPARSED_HEADER)},
    {"bad date",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ "Date: yesterday\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, A(BAD_DATE), 0},
    {"good date",
     "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ
     "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\nl: 0\r\n\r\n",
     SIP_PARSE_DATAGRAM, 0, NULL, 0, A(BAD_DATE)},
    {"status ok", "SIP/2.0 180 Ringing\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM, 0, NULL, 0,
     A(EMPTY_REASON)},
    {"status no reason", "SIP/2.0 200\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM, 0, NULL,
     A(EMPTY_REASON), 0},
    {"status 700", "SIP/2.0 700 Bad\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM, -EBADMSG,
     "bad status code", 0, 0},
    {"status 099", "SIP/2.0 099 Bad\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM, -EBADMSG,
     "bad status code", 0, 0},
    {"status 4 digits", "SIP/2.0 2000 OK\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM, -EBADMSG,
     "bad status code", 0, 0},
    {"status bad version", "SIP/1.0 200 OK\r\n" HDRS_REQ "l: 0\r\n\r\n", SIP_PARSE_DATAGRAM,
     -EBADMSG, "bad SIP-Version", 0, 0},
    {"empty", "", SIP_PARSE_DATAGRAM, -EBADMSG, "empty message", 0, 0},
    {"garbage", "\x16\x03\x01\x02\x05\xfc\x03\x03\r\n\r\n", SIP_PARSE_DATAGRAM, -EBADMSG,
     "bad method", 0, 0},
};

static struct sip_msg msg;

static void test_messages(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(msg_cases); i++) {
        const struct msg_case *c = &msg_cases[i];
        size_t len = strlen(c->in);
        uint8_t *buf = sip_test_dup(c->in, len);
        CHECK(buf != NULL);
        if (!buf)
            continue;
        int rc = sip_msg_parse(&msg, buf, len, c->flags);
        unsigned failed = test_failed_count;
        CHECK_INT(rc, c->rc);
        if (c->rc < 0) {
            CHECK_STR(msg.err_reason, c->reason);
            CHECK(msg.err_off <= len);
        } else {
            CHECK(msg.err_reason == NULL);
        }
        if ((msg.anomalies & c->anom) != c->anom || (msg.anomalies & c->noanom) != 0) {
            char got[512];
            sip_anomaly_fmt(msg.anomalies, got, sizeof(got));
            TEST_FAIL_AT("anomalies: got %s", got);
        }
        if (test_failed_count != failed)
            fprintf(stderr, "  ^ in case \"%s\" (rc %d, %s at %zu)\n", c->name, rc,
                    msg.err_reason ? msg.err_reason : "-", msg.err_off);
        free(buf);
    }
}

/* Field values of one typical INVITE through the eager fields and the lazy accessors. */
static void test_message_fields(void)
{
    const char *in = "INVITE sip:bob@biloxi.example.com;transport=udp SIP/2.0\r\n"
                     "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;rport,\r\n"
                     " SIP/2.0/TCP [2001:db8::7]:5070;branch=z9hG4bK2\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK3\r\n"
                     "Max-Forwards: 70\r\n"
                     "t: Bob <sip:bob@biloxi.example.com>\r\n"
                     "f: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                     "i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
                     "CSeq: 314159 INVITE\r\n"
                     "m: <sip:alice@pc33.atlanta.example.com>;expires=60, <sip:alt@h.example>\r\n"
                     "P-hzs: not a via\r\n"
                     "X-Custom: one\r\n"
                     "x-custom: two\r\n"
                     "Proxy-Authorization: Digest username=\"alice\", realm=\"atlanta\",\r\n"
                     "  nonce=\"n1\", uri=\"sip:bob@biloxi.example.com\", response=\"r1\"\r\n"
                     "User-Agent: Acme/1.0\r\n"
                     "Expires: 120\r\n"
                     "c: application/sdp\r\n"
                     "l: 49\r\n"
                     "\r\n"
                     "v=0\r\n"
                     "c=IN IP4 192.0.2.9\r\n"
                     "m=audio 5004 RTP/AVP 0\r\n";
    size_t len = strlen(in);
    uint8_t *buf = sip_test_dup(in, len);
    CHECK(buf != NULL);
    if (!buf)
        return;
    CHECK_INT(sip_msg_parse(&msg, buf, len, SIP_PARSE_DATAGRAM), 0);
    CHECK(msg.is_request);
    CHECK_INT(msg.method, SIP_METHOD_INVITE);
    CHECK_SLICE(msg.method_name, "INVITE");
    CHECK_SLICE(msg.ruri_raw, "sip:bob@biloxi.example.com;transport=udp");
    CHECK_SLICE(msg.ruri.transport, "udp");
    CHECK_SLICE(msg.version, "SIP/2.0");
    CHECK_INT(msg.via_count, 3);
    CHECK_INT(msg.max_forwards, 70);
    CHECK_INT(msg.cseq_num, 314159);
    CHECK_INT(msg.content_length, 49);
    CHECK_INT(msg.body.len, 49);
    CHECK_INT(msg.msg_len, len);
    CHECK_SLICE(msg.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
    CHECK(msg.anomalies & A(COMPACT_FORM));
    /* Indexing: P-hzs is an unknown header, never Via; unknown headers are kept. */
    CHECK_INT(sip_msg_hdr_count(&msg, SIP_HDR_VIA), 2);
    CHECK_INT(sip_msg_hdr_count(&msg, SIP_HDR_OTHER), 3);
    const struct sip_hdr *h = sip_msg_hdr_by_name(&msg, SLICE_LIT("p-HZS"), 0);
    CHECK(h && h->id == SIP_HDR_OTHER);
    h = sip_msg_hdr_by_name(&msg, SLICE_LIT("X-CUSTOM"), 1);
    CHECK(h != NULL);
    if (h)
        CHECK_SLICE(h->value, "two");
    CHECK(sip_msg_hdr_by_name(&msg, SLICE_LIT("X-Custom"), 2) == NULL);
    /* A compact name finds the long form and vice versa. */
    h = sip_msg_hdr_by_name(&msg, SLICE_LIT("Via"), 0);
    CHECK(h && h->compact);
    h = sip_msg_hdr_by_name(&msg, SLICE_LIT("v"), 1);
    CHECK(h && !h->compact);
    h = sip_msg_hdr(&msg, SIP_HDR_VIA, 0);
    CHECK(h && h->folded);
    CHECK(sip_msg_hdr(&msg, SIP_HDR_VIA, 2) == NULL);
    CHECK(sip_msg_hdr(&msg, SIP_HDR_ROUTE, 0) == NULL);
    CHECK_INT(sip_msg_hdr_count(&msg, SIP_HDR_ROUTE), 0);
    /* Via values across lines and folds. */
    struct sip_via v;
    CHECK_INT(sip_msg_via(&msg, 0, &v), 0);
    CHECK_SLICE(v.branch, "z9hG4bKnashds8");
    CHECK(v.has_rport);
    CHECK_INT(sip_msg_via(&msg, 1, &v), 0);
    CHECK_SLICE(v.host, "2001:db8::7");
    CHECK_INT(v.port, 5070);
    CHECK_INT(v.host_type, SIP_HOST_IPV6);
    CHECK_INT(sip_msg_via(&msg, 2, &v), 0);
    CHECK_SLICE(v.host, "192.0.2.9");
    CHECK_INT(sip_msg_via(&msg, 3, &v), -ENOENT);
    /* From, To, Contact. */
    struct sip_name_addr na;
    CHECK_INT(sip_msg_from(&msg, &na), 0);
    CHECK_SLICE(na.display, "\"Alice\"");
    CHECK_SLICE(na.tag, "1928301774");
    CHECK_SLICE(na.uri.user, "alice");
    CHECK_INT(sip_msg_to(&msg, &na), 0);
    CHECK_ABSENT(na.tag);
    CHECK_SLICE(na.display, "Bob");
    CHECK_INT(sip_msg_contact(&msg, 0, &na), 0);
    CHECK_SLICE(na.expires, "60");
    CHECK_INT(sip_msg_contact(&msg, 1, &na), 0);
    CHECK_SLICE(na.uri.user, "alt");
    CHECK_INT(sip_msg_contact(&msg, 2, &na), -ENOENT);
    struct sip_cseq cs;
    CHECK_INT(sip_msg_cseq(&msg, &cs), 0);
    CHECK_INT(cs.num, 314159);
    CHECK_INT(cs.method, SIP_METHOD_INVITE);
    uint32_t exp;
    CHECK_INT(sip_msg_expires(&msg, &exp), 0);
    CHECK_INT(exp, 120);
    CHECK_SLICE(sip_msg_user_agent(&msg), "Acme/1.0");
    CHECK_ABSENT(sip_msg_server(&msg));
    CHECK_SLICE(sip_msg_call_id(&msg), "a84b4c76e66710@pc33.atlanta.example.com");
    /* Digest credentials with a folded value. */
    struct sip_digest d;
    CHECK_INT(sip_msg_digest(&msg, SIP_HDR_PROXY_AUTHORIZATION, 0, &d), 0);
    CHECK_SLICE(d.username, "alice");
    CHECK_SLICE(d.nonce, "n1");
    CHECK_SLICE(d.response, "r1");
    CHECK_INT(sip_msg_digest(&msg, SIP_HDR_AUTHORIZATION, 0, &d), -ENOENT);
    CHECK_INT(sip_msg_digest(&msg, SIP_HDR_VIA, 0, &d), -EINVAL);
    /* SDP body. */
    struct sip_sdp sdp;
    CHECK_INT(sip_sdp_parse(&sdp, msg.body), 0);
    CHECK_INT(sdp.media[0].port, 5004);
    /* All value iteration. */
    struct sip_value_iter it;
    struct slice item;
    unsigned n = 0;
    int rc;
    sip_value_iter_init(&it, &msg, SIP_HDR_VIA);
    while ((rc = sip_value_next(&it, &item)) > 0)
        n++;
    CHECK_INT(rc, 0);
    CHECK_INT(n, 3);
    /* The input is never modified. */
    CHECK(memcmp(buf, in, len) == 0);
    free(buf);
}

/*
 * Line scanning works eight bytes at a time: put each kind of odd byte at every offset of
 * a word (and in the tail) and check it is seen, and that clean lines stay clean.
 */
static void test_line_scan(void)
{
    static const struct {
        const char *odd;
        uint64_t anom;
    } odd[] = {
        {"\x01", A(CTRL_CHAR)},
        {"\x7f", A(CTRL_CHAR)},
        {"\r", A(CTRL_CHAR)},
        {"\x00", A(CTRL_CHAR)},
        {"\xc3\xa9", 0},
        {"\xff", A(NON_UTF8)},
        {"\t", 0},
        {"\xe2\x82\xac", 0},
        {"\xc3", A(NON_UTF8)},
        {"", 0},
    };
    const char *head = "OPTIONS sip:a@b.example SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\n"
                       "From: <sip:a@b.example>;tag=1\r\nTo: <sip:c@d.example>\r\n"
                       "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nSubject: ";
    const uint64_t watched = A(CTRL_CHAR) | A(NON_UTF8) | A(BARE_LF);
    unsigned bad = 0;
    for (size_t k = 0; k < PBX_ARRAY_SIZE(odd); k++) {
        size_t ol = k == 3 ? 1 : strlen(odd[k].odd);
        for (size_t before = 0; before < 20; before++) {
            for (size_t after = 0; after < 12; after += 5) {
                char buf[512];
                size_t n = strlen(head);
                memcpy(buf, head, n);
                memset(buf + n, 'a', before);
                n += before;
                memcpy(buf + n, odd[k].odd, ol);
                n += ol;
                memset(buf + n, 'b', after + 1);
                n += after + 1;
                memcpy(buf + n, "\r\nl: 0\r\n\r\n", 11);
                n += 11;
                uint8_t *copy = sip_test_dup(buf, n);
                if (!copy)
                    continue;
                int rc = sip_msg_parse(&msg, copy, n, SIP_PARSE_DATAGRAM);
                struct slice subj = sip_msg_hdr_value(&msg, SIP_HDR_SUBJECT, 0);
                /* A leading HT or CR is whitespace the value is trimmed of. */
                size_t want = before + ol + after + 1;
                if (before == 0 && (odd[k].odd[0] == '\t' || odd[k].odd[0] == '\r'))
                    want -= ol;
                if (rc != 0 || (msg.anomalies & watched) != odd[k].anom || subj.len != want) {
                    bad++;
                    fprintf(stderr, "line scan: odd #%zu before %zu after %zu: rc %d\n", k, before,
                            after, rc);
                }
                free(copy);
            }
        }
    }
    CHECK_INT(bad, 0);
}

/* The typed results kept by the parse, and the accessors' fallback when there are none. */
static void test_cache(void)
{
    const char *ok = "OPTIONS sip:a@b.example SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP h.example:5070;branch=z9hG4bK1, SIP/2.0/TCP g.example\r\n"
                     "From: \"A\" <sip:a@b.example>;tag=f1\r\nTo: <sip:c@d.example>;tag=t1\r\n"
                     "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nl: 0\r\n\r\n";
    uint8_t *buf = sip_test_dup(ok, strlen(ok));
    CHECK(buf != NULL);
    if (!buf)
        return;
    CHECK_INT(sip_msg_parse(&msg, buf, strlen(ok), 0), 0);
    CHECK_INT(msg.cached, SIP_CACHE_FROM | SIP_CACHE_TO | SIP_CACHE_VIA0);
    struct sip_name_addr na, fresh;
    CHECK_INT(sip_msg_from(&msg, &na), 0);
    CHECK_INT(sip_name_addr_parse(&fresh, sip_msg_hdr_value(&msg, SIP_HDR_FROM, 0)), 0);
    CHECK(slice_eq(na.tag, fresh.tag) && na.tag.p == fresh.tag.p);
    CHECK_SLICE(na.display, "\"A\"");
    CHECK_INT(sip_msg_to(&msg, &na), 0);
    CHECK_SLICE(na.tag, "t1");
    struct sip_via v;
    CHECK_INT(sip_msg_via(&msg, 0, &v), 0);
    CHECK_INT(v.port, 5070);
    CHECK_INT(sip_msg_via(&msg, 1, &v), 0);
    CHECK_SLICE(v.host, "g.example");
    free(buf);

    /* A parse that fails after From: nothing cached, accessors parse on demand. */
    const char *bad = "OPTIONS sip:a@b.example SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\n"
                      "From: <sip:a@b.example>;tag=f2\r\nTo: <sip:c@d.example>\r\n"
                      "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContact: <sip:broken\r\nl: 0\r\n\r\n";
    buf = sip_test_dup(bad, strlen(bad));
    CHECK(buf != NULL);
    if (!buf)
        return;
    CHECK_INT(sip_msg_parse(&msg, buf, strlen(bad), 0), -EBADMSG);
    CHECK_STR(msg.err_reason, "bad Contact");
    CHECK_INT(msg.cached, 0);
    CHECK_INT(sip_msg_from(&msg, &na), 0);
    CHECK_SLICE(na.tag, "f2");
    CHECK_INT(sip_msg_via(&msg, 0, &v), 0);
    CHECK_SLICE(v.branch, "z9hG4bK1");
    free(buf);
}

/* Caps: each one refused with -EMSGSIZE. */
static void test_caps(void)
{
    static char big[SIP_MAX_MSG_SIZE + 64];
    const char *start = "OPTIONS sip:a@b.example SIP/2.0\r\n";
    size_t n;

    /* Whole message. */
    memset(big, 'a', sizeof(big));
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, SIP_MAX_MSG_SIZE + 1, 0), -EMSGSIZE);
    CHECK_STR(msg.err_reason, "message too large");

    /* Too many headers. */
    n = strlen(start);
    memcpy(big, start, n);
    for (unsigned i = 0; i <= SIP_MAX_HEADERS; i++) {
        memcpy(big + n, "X-A: 1\r\n", 8);
        n += 8;
    }
    memcpy(big + n, "\r\n", 2);
    n += 2;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);
    CHECK_STR(msg.err_reason, "too many headers");

    /* One line too long. */
    n = strlen(start);
    memcpy(big, start, n);
    memcpy(big + n, "X-A: ", 5);
    n += 5;
    memset(big + n, 'b', SIP_MAX_LINE_LEN);
    n += SIP_MAX_LINE_LEN;
    memcpy(big + n, "\r\n\r\n", 4);
    n += 4;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);
    CHECK_STR(msg.err_reason, "header line too long");

    /* Header section too long (lines individually fine). */
    n = strlen(start);
    memcpy(big, start, n);
    while (n < SIP_MAX_HDR_SECTION + 100) {
        memcpy(big + n, "X-A: ", 5);
        n += 5;
        memset(big + n, 'c', 1000);
        n += 1000;
        memcpy(big + n, "\r\n", 2);
        n += 2;
    }
    memcpy(big + n, "\r\n", 2);
    n += 2;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);

    /* Header name too long. */
    n = strlen(start);
    memcpy(big, start, n);
    memset(big + n, 'N', SIP_MAX_HDR_NAME_LEN + 1);
    n += SIP_MAX_HDR_NAME_LEN + 1;
    memcpy(big + n, ": x\r\n\r\n", 7);
    n += 7;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);
    CHECK_STR(msg.err_reason, "header name too long");

    /* Request-URI too long. */
    n = 0;
    memcpy(big, "OPTIONS sip:", 12);
    n = 12;
    memset(big + n, 'u', SIP_MAX_URI_LEN);
    n += SIP_MAX_URI_LEN;
    memcpy(big + n, "@h SIP/2.0\r\n\r\n", 15);
    n += 15;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);
    CHECK_STR(msg.err_reason, "Request-URI too long");

    /* Method too long. */
    memset(big, 'M', SIP_MAX_METHOD_LEN + 1);
    n = SIP_MAX_METHOD_LEN + 1;
    memcpy(big + n, " sip:a@b SIP/2.0\r\n\r\n", 20);
    n += 20;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);

    /* Too many Via values (comma lists in few lines). */
    n = strlen(start);
    memcpy(big, start, n);
    for (unsigned line = 0; line < 3; line++) {
        memcpy(big + n, "Via: ", 5);
        n += 5;
        for (unsigned i = 0; i < 30; i++) {
            static const char one[] = "SIP/2.0/UDP h.example;branch=z9hG4bK1,";
            memcpy(big + n, one, sizeof(one) - 1);
            n += sizeof(one) - 1;
        }
        memcpy(big + n, "\r\n", 2);
        n += 2;
    }
    static const char rest[] = "From: <sip:a@b.example>;tag=1\r\nTo: <sip:c@d.example>\r\n"
                               "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
    memcpy(big + n, rest, sizeof(rest) - 1);
    n += sizeof(rest) - 1;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);
    CHECK_STR(msg.err_reason, "too many Via values");

    /* Reason phrase too long. */
    memcpy(big, "SIP/2.0 200 ", 12);
    n = 12;
    memset(big + n, 'r', SIP_MAX_REASON_LEN + 1);
    n += SIP_MAX_REASON_LEN + 1;
    memcpy(big + n, "\r\n\r\n", 4);
    n += 4;
    CHECK_INT(sip_msg_parse(&msg, (const uint8_t *)big, n, 0), -EMSGSIZE);
}

int main(void)
{
    test_uri();
    test_unescape();
    test_params();
    test_name_addr();
    test_via();
    test_cseq();
    test_digest();
    test_sdp();
    test_hdr_names();
    test_lists();
    test_messages();
    test_message_fields();
    test_caps();
    test_line_scan();
    test_cache();
    return test_finish();
}
