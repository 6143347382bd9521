/*
 * Edge proxy: set-up, topology helpers (sides, interfaces, our own URIs) and the helpers
 * every builder shares. The RFC 3261 §16 request rules are in request.c, responses in
 * response.c, local replies in reply.c, upstream choice and health in upstream.c.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <string.h>

#include "proxy_int.h"
#include "keyhash.h"

void proxy_settings_default(struct proxy_settings *set)
{
    memset(set, 0, sizeof(*set));
    set->udp_max = PROXY_DEFAULT_UDP_MAX;
    set->retry_after_s = 30;
    set->force_rport = true;
    set->record_route = true;
    set->add_path = true;
    set->fails_to_down = 3;
    set->oks_to_up = 2;
    set->expose[PROXY_EXPOSE_USER_AGENT].mode = PROXY_EXPOSE_STRIP;
    set->expose[PROXY_EXPOSE_SERVER].mode = PROXY_EXPOSE_STRIP;
    set->expose[PROXY_EXPOSE_ORGANIZATION].mode = PROXY_EXPOSE_STRIP;
    set->expose[PROXY_EXPOSE_WARNING].mode = PROXY_EXPOSE_REPLACE;
    for (int i = 0; i < PROXY_EXPOSE_COUNT; i++)
        memcpy(set->expose[i].text, "pbxguard", sizeof("pbxguard"));
}

int proxy_init(struct proxy *p, const struct proxy_settings *set, const struct proxy_iface *ifaces,
               unsigned n_ifaces, const struct proxy_upstream *ups, unsigned n_ups,
               const uint8_t hash_key[16], const struct flow_key *fkey)
{
    if (!p || !set || !hash_key || !fkey || (n_ifaces && !ifaces) || (n_ups && !ups))
        return -EINVAL;
    if (n_ifaces == 0 || n_ifaces > PROXY_MAX_IFACES || n_ups > PROXY_MAX_UPSTREAMS)
        return -EINVAL;
    p->set = *set;
    memcpy(p->ifaces, ifaces, n_ifaces * sizeof(*ifaces));
    p->n_ifaces = n_ifaces;
    if (n_ups)
        memcpy(p->ups, ups, n_ups * sizeof(*ups));
    p->n_ups = n_ups;
    for (unsigned i = 0; i < n_ups; i++) {
        p->ups[i].up = true;
        p->ups[i].fails = 0;
        p->ups[i].oks = 0;
        p->ups[i].probe_seq = 0;
    }
    memcpy(p->hash_key, hash_key, 16);
    p->fkey = *fkey;
    p->probe_counter = 0;
    px_flow_memo_reset(p); /* the keys may have changed */
    return 0;
}

bool px_addr_is_wildcard(const struct pbx_addr *a)
{
    if (a->family == AF_INET)
        return a->ip.v4.s_addr == 0;
    if (a->family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&a->ip.v6);
    return true;
}

const char *px_tp_upper(enum pbx_transport tp)
{
    return tp == PBX_TP_TLS ? "TLS" : tp == PBX_TP_TCP ? "TCP" : "UDP";
}

const char *px_tp_lower(enum pbx_transport tp)
{
    return tp == PBX_TP_TLS ? "tls" : tp == PBX_TP_TCP ? "tcp" : "udp";
}

uint16_t px_default_port(enum pbx_transport tp)
{
    return tp == PBX_TP_TLS ? 5061 : 5060;
}

static bool is_loopback(const struct pbx_addr *a)
{
    if (a->family == AF_INET)
        return (ntohl(a->ip.v4.s_addr) >> 24) == 127;
    return a->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->ip.v6);
}

enum proxy_side proxy_side_of(const struct proxy *p, const struct net_msg *in)
{
    bool ip_match = false, stream_up = false;
    for (unsigned i = 0; i < p->n_ups; i++) {
        const struct proxy_upstream *u = &p->ups[i];
        if (pbx_addr_eq(&u->ep.addr, &in->remote, true))
            return PROXY_SIDE_INSIDE;
        if (pbx_addr_eq(&u->ep.addr, &in->remote, false)) {
            ip_match = true;
            stream_up |= u->ep.transport != PBX_TP_UDP;
        }
    }
    if (!ip_match)
        return PROXY_SIDE_OUTSIDE;
    /* The PBX's IP but another port: a UDP PBX sends from its listening port, so on UDP
     * this is someone else on that host, unless it arrived on a PBX-facing-only socket. */
    const struct proxy_iface *ifc = px_iface_by_listener(p, in->listener_id);
    if (ifc && ifc->sides == PROXY_SIDE_INSIDE)
        return PROXY_SIDE_INSIDE;
    if (in->transport == PBX_TP_UDP)
        return PROXY_SIDE_OUTSIDE;
    /* A connection we opened to the PBX (listener_id NET_ANY_LISTENER): what arrives on it,
     * e.g. the INVITE to a registered phone, is the PBX's. */
    if (in->listener_id == NET_ANY_LISTENER)
        return PROXY_SIDE_INSIDE;
    /* A connection the PBX opened from an ephemeral port to a listener serving the inside
     * (a PBX may connect afresh to the Path or Record-Route URI instead of reusing ours).
     * On loopback, where phones and the PBX may share the address (single-host set-ups),
     * only when the PBX is configured as a TCP/TLS upstream; a listener that serves only the
     * outside never takes the PBX's requests. */
    if (!ifc || !(ifc->sides & PROXY_SIDE_INSIDE))
        return PROXY_SIDE_OUTSIDE;
    if (!is_loopback(&in->remote) || stream_up)
        return PROXY_SIDE_INSIDE;
    return PROXY_SIDE_OUTSIDE;
}

const struct proxy_iface *px_iface_by_listener(const struct proxy *p, unsigned listener_id)
{
    for (unsigned i = 0; i < p->n_ifaces; i++)
        if (p->ifaces[i].listener_id == listener_id)
            return &p->ifaces[i];
    return NULL;
}

const struct proxy_iface *px_iface_for(const struct proxy *p, unsigned side, enum pbx_transport tp,
                                       sa_family_t family)
{
    const struct proxy_iface *other = NULL;
    for (unsigned i = 0; i < p->n_ifaces; i++) {
        const struct proxy_iface *f = &p->ifaces[i];
        if (!(f->sides & side) || f->transport != tp)
            continue;
        if (f->addr.family == family)
            return f;
        if (!other)
            other = f;
    }
    /* A UDP datagram leaves from a socket of the destination's family; a stream only needs
     * an address for the Via and Record-Route, the connection carries the answer back. */
    return tp == PBX_TP_UDP ? NULL : other;
}

int proxy_unreachable_upstream(const struct proxy_iface *ifaces, unsigned n_ifaces,
                               const struct proxy_upstream *ups, unsigned n_ups)
{
    for (unsigned u = 0; u < n_ups; u++) {
        if (ups[u].ep.transport != PBX_TP_UDP)
            continue;
        bool ok = false;
        for (unsigned i = 0; i < n_ifaces && !ok; i++)
            ok = (ifaces[i].sides & PROXY_SIDE_INSIDE) && ifaces[i].transport == PBX_TP_UDP &&
                 ifaces[i].addr.family == ups[u].ep.addr.family;
        if (!ok)
            return (int)u;
    }
    return -1;
}

struct pbx_addr px_iface_adv(const struct proxy *p, const struct proxy_iface *ifc,
                             const struct net_msg *in, const struct proxy_upstream *up)
{
    struct pbx_addr a = ifc->addr;
    (void)p;
    if (ifc->advertise.family) {
        a = ifc->advertise;
        if (!a.port)
            a.port = ifc->addr.port;
        return a;
    }
    if (!px_addr_is_wildcard(&ifc->addr))
        return a;
    /* A wildcard socket: the address the peer reaches us at, learnt from the upstream's
     * route (gateway start-up) or from the local address the message arrived on. */
    if (up && up->local.family)
        a = up->local;
    else if (in && in->local.family && !px_addr_is_wildcard(&in->local))
        a = in->local;
    a.port = ifc->addr.port;
    return a;
}

/* Dotted quad without inet_ntop/printf: every forwarded message writes a few of these. */
static void wb_ipv4(struct wbuf *w, const struct pbx_addr *a)
{
    const uint8_t *b = (const uint8_t *)&a->ip.v4.s_addr; /* network order */
    for (int i = 0; i < 4; i++) {
        if (i)
            wb_str(w, ".");
        wb_u64(w, b[i]);
    }
}

void px_wb_ip(struct wbuf *w, const struct pbx_addr *a)
{
    char buf[PBX_ADDR_STRLEN];
    if (a->family == AF_INET)
        wb_ipv4(w, a);
    else
        wb_str(w, pbx_addr_fmt_ip(a, buf, sizeof(buf)));
}

void px_wb_hostport(struct wbuf *w, const struct pbx_addr *a)
{
    char buf[PBX_ADDR_STRLEN];
    if (a->family != AF_INET) {
        wb_str(w, pbx_addr_fmt(a, buf, sizeof(buf)));
        return;
    }
    wb_ipv4(w, a);
    wb_str(w, ":");
    wb_u64(w, a->port);
}

static const char *hdr_line_end(const struct sip_hdr *h)
{
    if (h->value.p)
        return h->value.p + h->value.len;
    return h->name.p + h->name.len;
}

void px_emit_raw(struct wbuf *w, const struct sip_msg *m, const struct sip_hdr *h)
{
    const char *start = (const char *)m->buf + h->off;
    const char *end = hdr_line_end(h);
    wb_put(w, start, (size_t)(end - start));
    if (!h->value.p)
        wb_str(w, ":");
    wb_str(w, "\r\n");
}

struct pbx_addr px_back_addr(const struct proxy *p, const struct net_msg *in,
                             const struct sip_via *top)
{
    struct pbx_addr a = in->remote;
    /* RFC 3581 §4 (rport) and reliable transports (RFC 3261 §18.2.2): the source port.
     * Otherwise §18.2.2: the received address with the sent-by port. */
    if (in->transport != PBX_TP_UDP || p->set.force_rport || (top && top->has_rport))
        return a;
    a.port = top && top->port ? top->port : px_default_port(in->transport);
    return a;
}

void px_emit_top_via(const struct proxy *p, struct wbuf *w, const struct sip_msg *m,
                     const struct net_msg *in, const struct sip_via *v)
{
    const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA, 0);
    struct sip_list_iter it;
    struct slice item = SLICE_NULL;
    char ip[PBX_ADDR_STRLEN];

    if (!h)
        return;
    sip_list_iter_init(&it, h->value);
    if (sip_list_next(&it, &item) != 1) {
        px_emit_raw(w, m, h);
        return;
    }
    wb_str(w, "Via: ");
    const char *pend = v->params.p ? v->params.p : item.p + item.len;
    wb_put(w, item.p, (size_t)(pend - item.p));
    if (v->params.p) {
        struct sip_param_iter pi;
        struct sip_param prm;
        sip_param_iter_init(&pi, v->params);
        while (sip_param_next(&pi, &prm) == 1) {
            if (slice_eq_cstr_ci(prm.name, "received") || slice_eq_cstr_ci(prm.name, "rport"))
                continue;
            wb_str(w, ";");
            wb_slice(w, prm.name);
            if (prm.value.p) {
                wb_str(w, "=");
                wb_slice(w, prm.value);
            }
        }
    }
    /* RFC 3261 §18.2.1: received when sent-by differs from the source; RFC 3581 §4: with
     * rport, received is always added and rport takes the source port. */
    struct wbuf iw;
    wb_init(&iw, (uint8_t *)ip, sizeof(ip) - 1);
    px_wb_ip(&iw, &in->remote);
    ip[iw.len] = '\0';
    bool want_rport = v->has_rport || p->set.force_rport;
    if (want_rport || !slice_eq_cstr_ci(v->host, ip)) {
        wb_str(w, ";received=");
        wb_str(w, ip);
    }
    if (want_rport) {
        wb_str(w, ";rport=");
        wb_u64(w, in->remote.port);
    }
    const char *vend = h->value.p + h->value.len;
    const char *iend = item.p + item.len;
    wb_put(w, iend, (size_t)(vend - iend));
    wb_str(w, "\r\n");
}

bool px_is_exposure_hdr(const struct sip_hdr *h)
{
    return h->id == SIP_HDR_USER_AGENT || h->id == SIP_HDR_SERVER ||
           h->id == SIP_HDR_ORGANIZATION || h->id == SIP_HDR_WARNING;
}

static void emit_warning_replaced(struct wbuf *w, const struct sip_hdr *h, const char *agent)
{
    struct sip_list_iter it;
    struct slice item;
    bool first = true;
    sip_list_iter_init(&it, h->value);
    while (sip_list_next(&it, &item) == 1) {
        /* warning-value = warn-code SP warn-agent SP warn-text (RFC 3261 §20.43) */
        const char *p = item.p, *end = item.p + item.len;
        const char *sp1 = memchr(p, ' ', item.len);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
        if (!sp1 || !sp2)
            continue; /* unparsable: leave it out rather than leak it */
        wb_str(w, first ? "Warning: " : ", ");
        first = false;
        wb_put(w, p, (size_t)(sp1 - p + 1));
        wb_str(w, agent);
        wb_put(w, sp2, (size_t)(end - sp2));
    }
    if (!first)
        wb_str(w, "\r\n");
}

void px_emit_outside(const struct proxy *p, struct wbuf *w, const struct sip_msg *m,
                     const struct sip_hdr *h)
{
    enum proxy_expose_hdr which;
    const char *name;
    switch (h->id) {
    case SIP_HDR_USER_AGENT:
        which = PROXY_EXPOSE_USER_AGENT;
        name = "User-Agent";
        break;
    case SIP_HDR_SERVER:
        which = PROXY_EXPOSE_SERVER;
        name = "Server";
        break;
    case SIP_HDR_ORGANIZATION:
        which = PROXY_EXPOSE_ORGANIZATION;
        name = "Organization";
        break;
    case SIP_HDR_WARNING:
        which = PROXY_EXPOSE_WARNING;
        name = "Warning";
        break;
    default:
        px_emit_raw(w, m, h);
        return;
    }
    const struct proxy_expose_rule *r = &p->set.expose[which];
    if (r->mode == PROXY_EXPOSE_KEEP) {
        px_emit_raw(w, m, h);
    } else if (r->mode == PROXY_EXPOSE_REPLACE) {
        if (which == PROXY_EXPOSE_WARNING) {
            emit_warning_replaced(w, h, r->text[0] ? r->text : "-");
        } else if (r->text[0]) {
            wb_str(w, name);
            wb_str(w, ": ");
            wb_str(w, r->text);
            wb_str(w, "\r\n");
        }
    }
}

uint64_t px_branch_hash(const struct proxy *p, const struct sip_msg *m, const struct sip_via *top,
                        const struct slice *from_tag)
{
    struct px_khash s;
    struct sip_name_addr na;
    px_kh_init(&s, p->hash_key);
    /* RFC 3261 §16.11: with an RFC 3261 branch, a hash of the received branch identifies the
     * transaction; CANCEL and the ACK of a non-2xx carry the INVITE's branch (§9.1, §17.1.1.3)
     * so they hash the same. sent-by, Request-URI, From tag, Call-ID and CSeq number are the
     * same in all three and make collisions between clients harmless. The To tag is left out
     * of that case on purpose: the ACK has one, the INVITE had not. */
    bool rfc3261 = top->branch.len > 7 && slice_starts_with_ci(top->branch, PX_MAGIC_COOKIE);
    px_kh_field(&s, top->branch.p, top->branch.len);
    px_kh_field(&s, top->host.p, top->host.len);
    uint8_t port[2] = {(uint8_t)(top->port >> 8), (uint8_t)top->port};
    px_kh_put(&s, port, 2);
    px_kh_field(&s, m->ruri_raw.p, m->ruri_raw.len);
    if (from_tag)
        px_kh_field(&s, from_tag->p, from_tag->len);
    px_kh_field(&s, m->call_id.p, m->call_id.len);
    uint8_t cs[4] = {(uint8_t)(m->cseq_num >> 24), (uint8_t)(m->cseq_num >> 16),
                     (uint8_t)(m->cseq_num >> 8), (uint8_t)m->cseq_num};
    px_kh_put(&s, cs, 4);
    if (!rfc3261) {
        /* RFC 2543 peers: the full §16.11 field list, including the To tag. */
        if (sip_msg_to(m, &na) == 0)
            px_kh_field(&s, na.tag.p, na.tag.len);
    }
    return px_kh_final(&s);
}

int px_uri_addr(const struct sip_uri *u, enum pbx_transport tp, struct pbx_addr *out)
{
    struct pbx_addr a;
    if (u->host_type != SIP_HOST_IPV4 && u->host_type != SIP_HOST_IPV6)
        return -ENOENT;
    if (pbx_addr_parse(u->host.p, u->host.len, &a) < 0)
        return -ENOENT;
    a.port = u->port ? u->port : px_default_port(tp);
    *out = a;
    return 0;
}

enum pbx_transport px_uri_transport(const struct sip_uri *u)
{
    enum pbx_transport tp = PBX_TP_UDP;
    if (u->scheme == SIP_URI_SIPS)
        return PBX_TP_TLS;
    if (u->transport.p && pbx_transport_parse(u->transport.p, u->transport.len, &tp) == 0)
        return tp;
    return PBX_TP_UDP;
}

static bool ip_is_ours(const struct proxy *p, const struct net_msg *in, const struct pbx_addr *a)
{
    if (in && in->local.family && pbx_addr_eq(&in->local, a, false))
        return true;
    for (unsigned i = 0; i < p->n_ifaces; i++) {
        const struct proxy_iface *f = &p->ifaces[i];
        if (f->advertise.family && pbx_addr_eq(&f->advertise, a, false))
            return true;
        if (!px_addr_is_wildcard(&f->addr) && pbx_addr_eq(&f->addr, a, false))
            return true;
    }
    for (unsigned i = 0; i < p->n_ups; i++)
        if (p->ups[i].local.family && pbx_addr_eq(&p->ups[i].local, a, false))
            return true;
    return false;
}

static bool port_is_ours(const struct proxy *p, uint16_t port)
{
    for (unsigned i = 0; i < p->n_ifaces; i++) {
        const struct proxy_iface *f = &p->ifaces[i];
        if (f->addr.port == port || (f->advertise.family && f->advertise.port == port))
            return true;
    }
    return false;
}

bool px_uri_is_ours(struct proxy *p, const struct net_msg *in, const struct sip_uri *u,
                    struct flow *f, int *flow_rc)
{
    struct pbx_addr a;
    *flow_rc = -ENOENT;
    if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
        return false;
    /* A user part that verifies as a flow token was written by us, whatever the host: on a
     * wildcard socket our public address is only known from the messages that reach it. */
    if (u->user.len) {
        *flow_rc = px_flow_decode(p, u->user, f);
        if (*flow_rc == 0)
            return true;
    }
    if (px_uri_addr(u, px_uri_transport(u), &a) < 0)
        return false;
    return ip_is_ours(p, in, &a) && port_is_ours(p, a.port);
}

void px_drop(struct proxy_action *act, const char *reason)
{
    act->kind = PROXY_ACT_DROP;
    act->buf = NULL;
    act->len = 0;
    act->reason = reason;
}

int proxy_process(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                  struct proxy_action *act)
{
    if (!p || !in || !m || !act)
        return -EINVAL;
    memset(act, 0, sizeof(*act));
    act->upstream = -1;
    act->from = proxy_side_of(p, in);
    /* Header values with NUL or other control bytes (and a bare CR) are outside the
     * RFC 3261 §25.1 grammar and truncate or split headers in C consumers behind us: such a
     * message is malformed and handled like a parse failure, dropped without an answer. */
    if (m->anomalies & (1ull << SIP_ANOM_CTRL_CHAR)) {
        px_drop(act, "control byte in header");
        return 0;
    }
    if (m->is_request)
        return px_request(p, in, m, act);
    return px_response(p, in, m, act);
}
