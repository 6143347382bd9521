/* Via (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 IPv6 received). */
#include <errno.h>
#include <string.h>

#include "pbxguard/sip/headers.h"
#include "scan.h"
#include "sip_util.h"

/* token, then SWS "/" SWS (RFC 3261 §25.1 SLASH). */
static const char *via_token(const char *p, const char *end, struct slice *tok, bool slash)
{
    p = skip_lws(p, end);
    const char *t = p;
    p = span_class(p, end, CC_TOKEN);
    if (p == t)
        return NULL;
    *tok = slice_range(t, p);
    if (!slash)
        return p;
    p = skip_lws(p, end);
    if (p >= end || *p != '/')
        return NULL;
    return p + 1;
}

static bool known_transport(struct slice t)
{
    /* RFC 3261 §20.42 and RFC 7118 (WS, WSS); SCTP variants from RFC 4168. */
    switch (t.len) {
    case 2:
        return SLICE_IS(t, "ws");
    case 3:
        return SLICE_IS(t, "udp") || SLICE_IS(t, "tcp") || SLICE_IS(t, "tls") || SLICE_IS(t, "wss");
    case 4:
        return SLICE_IS(t, "sctp");
    case 8:
        return SLICE_IS(t, "tls-sctp");
    default:
        return false;
    }
}

static int via_params(struct sip_via *v)
{
    struct sip_param_iter it;
    struct sip_param prm;
    int rc;
    sip_param_iter_init(&it, v->params);
    while ((rc = sip_param_next(&it, &prm)) > 0) {
        struct slice n = prm.name;
        if (SLICE_IS(n, "branch")) {
            if (!slice_present(prm.value) || !is_token(prm.value))
                return -EBADMSG;
            v->branch = prm.value;
        } else if (SLICE_IS(n, "received")) {
            /* RFC 5118 §4.5/§4.6: IPv6 with or without brackets. */
            struct slice r = prm.value, h;
            enum sip_host_type t;
            uint16_t port;
            if (!slice_present(r))
                return -EBADMSG;
            if (r.p[0] != '[' && memchr(r.p, ':', r.len)) {
                char tmp[SIP_MAX_IPV6_TEXT_LEN + 3];
                if (r.len + 2 >= sizeof(tmp))
                    return -EBADMSG;
                tmp[0] = '[';
                memcpy(tmp + 1, r.p, r.len);
                tmp[r.len + 1] = ']';
                if (sip_hostport_parse(slice_make(tmp, r.len + 2), &h, &t, &port) < 0)
                    return -EBADMSG;
            } else if (sip_hostport_parse(r, &h, &t, &port) < 0 || port != 0) {
                return -EBADMSG;
            } else if (t == SIP_HOST_NAME) {
                return -EBADMSG;
            }
            v->received = r;
        } else if (SLICE_IS(n, "rport")) {
            v->has_rport = true;
            if (slice_present(prm.value)) {
                uint64_t port;
                if (sip_parse_uint(prm.value, 65535, &port) < 0 || port == 0)
                    return -EBADMSG;
                v->rport = (uint16_t)port;
            }
        } else if (SLICE_IS(n, "maddr")) {
            if (!slice_present(prm.value))
                return -EBADMSG;
            v->maddr = prm.value;
        } else if (SLICE_IS(n, "ttl")) {
            uint64_t ttl;
            if (sip_parse_uint(prm.value, SIP_MAX_TTL, &ttl) < 0)
                return -EBADMSG;
            v->ttl = prm.value;
        }
    }
    return rc;
}

SIP_HOT int sip_via_parse(struct sip_via *v, struct slice item)
{
    zero_struct(v, sizeof(*v));
    if (!item.p)
        return -EBADMSG;
    const char *p = item.p, *end = item.p + item.len;
    if (item.len > 8 && SLICE_IS(slice_make(p, 8), "sip/2.0/")) {
        /* The usual spelling, without LWS around the slashes: what the tokens give. */
        v->protocol = slice_make(p, 3);
        v->version = slice_make(p + 4, 3);
        p += 8;
    } else {
        p = via_token(p, end, &v->protocol, true);
        if (!p)
            return -EBADMSG;
        p = via_token(p, end, &v->version, true);
        if (!p)
            return -EBADMSG;
    }
    p = via_token(p, end, &v->transport, false);
    if (!p || p >= end || !CC_IS(*p, CC_LWS))
        return -EBADMSG;
    if (!SLICE_IS(v->protocol, "sip") ||
        !(v->version.len == 3 && memcmp(v->version.p, "2.0", 3) == 0))
        return -EBADMSG;
    if (!known_transport(v->transport))
        v->anomalies |= ANOM_BIT(SIP_ANOM_UNKNOWN_TRANSPORT);
    p = skip_lws(p, end);
    /* sent-by = host [ COLON port ]; COLON allows SWS around ':' */
    const char *h = p;
    uint16_t unused;
    if (p < end && *p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            return -EBADMSG;
        p = rb + 1;
        if (sip_hostport_parse(slice_range(h, p), &v->host, &v->host_type, &unused) < 0)
            return -EBADMSG;
    } else {
        /* Host characters hold no ':': the host alone, as sip_hostport_parse(h..p) sees it. */
#if defined(__SSE2__)
        p = span_host_vec(p, end);
#else
        p = span_class(p, end, CC_HOST);
#endif
        if (sip_host_at(h, p, p, &v->host, &v->host_type, &unused) < 0)
            return -EBADMSG;
    }
    p = skip_lws(p, end);
    if (p < end && *p == ':') {
        /* The port is checked in place: no copy of "host:port" without the SWS. */
        p = skip_lws(p + 1, end);
        const char *d = p;
        while (p < end && CC_IS(*p, CC_DIGIT))
            p++;
        uint64_t pv;
        if (p == d || p - d > 5 || sip_parse_uint(slice_range(d, p), 65535, &pv) < 0 || pv == 0)
            return -EBADMSG;
        v->port = (uint16_t)pv;
    }
    p = skip_lws(p, end);
    if (p < end) {
        if (*p != ';')
            return -EBADMSG;
        v->params = slice_range(p, end);
        int rc = via_params(v);
        if (rc < 0)
            return rc;
    }
    /* RFC 3261 §8.1.1.7: the magic cookie plus a unique part; bare "z9hG4bK" is not. */
    if (slice_present(v->branch) && (v->branch.len <= 7 || memcmp(v->branch.p, "z9hG4bK", 7) != 0))
        v->anomalies |= ANOM_BIT(SIP_ANOM_BRANCH_NOT_RFC3261);
    return 0;
}

int sip_msg_via(const struct sip_msg *m, unsigned i, struct sip_via *v)
{
    if (i == 0 && (m->cached & SIP_CACHE_VIA0)) {
        *v = m->via0;
        return 0;
    }
    if (i < m->nvia_items)
        return sip_via_parse(v, m->via_items[i]);
    struct slice item;
    int rc = sip_msg_value(m, SIP_HDR_VIA, i, &item);
    if (rc < 0)
        return rc;
    return sip_via_parse(v, item);
}

const struct sip_via *sip_msg_via0_get(const struct sip_msg *m)
{
    return (m->cached & SIP_CACHE_VIA0) ? &m->via0 : NULL;
}
