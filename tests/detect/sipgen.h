/* Crafted SIP messages for the detection tests: built as text, then parsed by the real parser. */
#ifndef PBXGUARD_TEST_SIPGEN_H
#define PBXGUARD_TEST_SIPGEN_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/sip/msg.h"

struct tmsg {
    char buf[4096];
    size_t len;
    struct sip_msg m;
};

struct treq {
    const char *method;    /* "REGISTER" */
    const char *user;      /* target user (To / R-URI) */
    const char *from_user; /* NULL = user */
    const char *tag;       /* From tag; NULL = "a1b2c3" */
    const char *branch;    /* NULL = z9hG4bKx<callid> */
    const char *callid;
    unsigned cseq;
    const char *ua;    /* NULL = none */
    const char *auth;  /* credentials' username; NULL = none */
    const char *extra; /* extra header lines, each ending in \r\n */
    const char *host;  /* domain; NULL = pbx.example */
};

static inline int tmsg_parse(struct tmsg *t)
{
    return sip_msg_parse(&t->m, (const uint8_t *)t->buf, t->len, SIP_PARSE_DATAGRAM);
}

static inline int treq_build(struct tmsg *t, const struct treq *r)
{
    const char *host = r->host ? r->host : "pbx.example";
    char ua[256] = "", auth[512] = "", br[128];
    int n;

    snprintf(br, sizeof(br), "z9hG4bKx%s", r->callid);
    if (r->ua)
        snprintf(ua, sizeof(ua), "User-Agent: %s\r\n", r->ua);
    if (r->auth)
        snprintf(auth, sizeof(auth),
                 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"abc\", "
                 "uri=\"sip:%s\", response=\"0123456789abcdef0123456789abcdef\"\r\n",
                 strcmp(r->method, "REGISTER") == 0 ? "Authorization" : "Proxy-Authorization",
                 r->auth, host, host);
    n = snprintf(t->buf, sizeof(t->buf),
                 "%s sip:%s@%s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:%s@%s>;tag=%s\r\n"
                 "To: <sip:%s@%s>\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: %u %s\r\n"
                 "Contact: <sip:%s@198.51.100.10:5060>\r\n"
                 "%s%s%s"
                 "Content-Length: 0\r\n\r\n",
                 r->method, r->user, host, r->branch ? r->branch : br,
                 r->from_user ? r->from_user : r->user, host, r->tag ? r->tag : "a1b2c3", r->user,
                 host, r->callid, r->cseq, r->method, r->user, ua, auth, r->extra ? r->extra : "");
    if (n < 0 || (size_t)n >= sizeof(t->buf))
        return -EMSGSIZE;
    t->len = (size_t)n;
    return tmsg_parse(t);
}

/* A response from the PBX to the request described by r. extra: header lines. */
static inline int tresp_build(struct tmsg *t, const struct treq *r, int status, const char *reason,
                              const char *extra)
{
    const char *host = r->host ? r->host : "pbx.example";
    char br[128];
    int n;

    snprintf(br, sizeof(br), "z9hG4bKx%s", r->callid);
    n = snprintf(
        t->buf, sizeof(t->buf),
        "SIP/2.0 %d %s\r\n"
        "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport=5060;received=198.51.100.10\r\n"
        "From: <sip:%s@%s>;tag=%s\r\n"
        "To: <sip:%s@%s>;tag=pbx%u\r\n"
        "Call-ID: %s\r\n"
        "CSeq: %u %s\r\n"
        "Server: kamailio (5.6.3 (x86_64/linux))\r\n"
        "%s"
        "Content-Length: 0\r\n\r\n",
        status, reason, r->branch ? r->branch : br, r->from_user ? r->from_user : r->user, host,
        r->tag ? r->tag : "a1b2c3", r->user, host, r->cseq, r->callid, r->cseq, r->method,
        extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(t->buf))
        return -EMSGSIZE;
    t->len = (size_t)n;
    return tmsg_parse(t);
}

#define CHALLENGE_401                                                                              \
    "WWW-Authenticate: Digest realm=\"pbx.example\", "                                             \
    "nonce=\"5f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4\", qop=\"auth\", algorithm=MD5\r\n"

#endif
