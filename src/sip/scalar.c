/* Scalar headers: CSeq, Expires, q-values and the shared decimal parser. */
#include <errno.h>

#include "pbxguard/sip/headers.h"
#include "sip_util.h"

SIP_HOT int sip_parse_uint(struct slice s, uint64_t max, uint64_t *out)
{
    if (s.len == 0 || !s.p)
        return -EBADMSG;
    if (s.len < SIP_MAX_NUM_DIGITS) {
        /* Too short to reach the digit cap or to overflow: the plain loop. */
        uint64_t v = 0;
        for (size_t i = 0; i < s.len; i++) {
            unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
            if (d > 9)
                return -EBADMSG;
            v = v * 10 + d;
        }
        if (v > max)
            return -ERANGE;
        *out = v;
        return 0;
    }
    /* One pass: every byte must be a digit (-EBADMSG wins over -ERANGE); leading zeros
     * do not count towards the digit cap, so "0068" is 68. */
    uint64_t v = 0;
    size_t sig = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
        if (d > 9)
            return -EBADMSG;
        if (sig || d)
            sig++;
        if (sig <= SIP_MAX_NUM_DIGITS)
            v = v * 10 + d;
    }
    if (sig > SIP_MAX_NUM_DIGITS || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

SIP_HOT int sip_cseq_parse(struct sip_cseq *c, struct slice value)
{
    /* RFC 3261 §20.16: CSeq = 1*DIGIT LWS Method; §8.1.1.5: the number is < 2^31. */
    struct slice v = trim_lws(value);
    if (!v.p)
        return -EBADMSG;
    const char *p = v.p, *end = v.p + v.len;
    const char *d = p;
    while (p < end && CC_IS(*p, CC_DIGIT))
        p++;
    uint64_t num;
    if (sip_parse_uint(slice_range(d, p), SIP_MAX_CSEQ, &num) < 0)
        return -EBADMSG;
    if (p >= end || !CC_IS(*p, CC_LWS))
        return -EBADMSG;
    p = skip_lws(p, end);
    struct slice method = slice_range(p, end);
    if (!is_token(method) || method.len > SIP_MAX_METHOD_LEN)
        return -EBADMSG;
    c->num = (uint32_t)num;
    c->method_name = method;
    c->method = sip_method_lookup(method);
    return 0;
}

int sip_msg_cseq(const struct sip_msg *m, struct sip_cseq *c)
{
    /* A successful parse validated the first CSeq and refused conflicting copies. */
    if (m->cached && m->count[SIP_HDR_CSEQ] > 0) {
        c->num = m->cseq_num;
        c->method = m->cseq_method;
        c->method_name = m->cseq_method_name;
        return 0;
    }
    const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CSEQ, 0);
    if (!h)
        return -ENOENT;
    return sip_cseq_parse(c, h->value);
}

int sip_msg_expires(const struct sip_msg *m, uint32_t *out)
{
    const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EXPIRES, 0);
    if (!h)
        return -ENOENT;
    uint64_t v;
    int rc = sip_parse_uint(h->value, SIP_MAX_EXPIRES, &v);
    if (rc < 0)
        return rc;
    *out = (uint32_t)v;
    return 0;
}

int sip_parse_qvalue(struct slice s, unsigned *milli)
{
    /* RFC 3261 §20.10: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
    if (s.len == 0 || s.len > 5 || (s.p[0] != '0' && s.p[0] != '1'))
        return -EBADMSG;
    unsigned v = (unsigned)(s.p[0] - '0') * 1000;
    if (s.len > 1) {
        if (s.p[1] != '.')
            return -EBADMSG;
        unsigned scale = 100;
        for (size_t i = 2; i < s.len; i++, scale /= 10) {
            if (!CC_IS(s.p[i], CC_DIGIT))
                return -EBADMSG;
            v += (unsigned)(s.p[i] - '0') * scale;
        }
    }
    if (v > 1000)
        return -EBADMSG;
    *milli = v;
    return 0;
}
