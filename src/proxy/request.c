/*
 * Requests through the edge proxy: RFC 3261 §16.3 validation, §16.4 route information
 * preprocessing, §16.5-16.6 target and forwarding (stateless, §16.11), RFC 3327 Path and
 * RFC 3581 rport.
 */
#include <errno.h>
#include <string.h>

#include "proxy_int.h"
#include "keyhash.h"

#define MAX_ROUTES SIP_MAX_LIST_VALUES

struct route_item {
    struct slice text; /* one comma item of a Route header */
    uint16_t hdr;      /* index into m->hdrs */
    bool drop;
};

struct req_ctx {
    const struct net_msg *in;
    const struct sip_msg *m;
    struct sip_via top;
    struct route_item routes[MAX_ROUTES];
    unsigned n_routes;
    struct slice new_ruri;   /* strict-route fix-up: replacement Request-URI */
    struct flow popped_flow; /* flow token found in a Route entry of ours */
    bool has_popped_flow;
    /* Decision */
    enum proxy_side to;
    int upstream;
    struct net_dest dest;
    const struct proxy_iface *out_ifc;
    struct pbx_addr out_adv;  /* our address on the destination side */
    struct flow outside_flow; /* phone-side flow, for the outside Record-Route token */
    bool has_outside_flow;
};

static int collect_routes(struct req_ctx *c)
{
    const struct sip_msg *m = c->m;
    c->n_routes = 0;
    for (unsigned i = 0; i < m->nhdrs; i++) {
        if (m->hdrs[i].id != SIP_HDR_ROUTE)
            continue;
        struct sip_list_iter it;
        struct slice item;
        int rc;
        sip_list_iter_init(&it, m->hdrs[i].value);
        while ((rc = sip_list_next(&it, &item)) == 1) {
            if (c->n_routes >= MAX_ROUTES)
                return -EMSGSIZE;
            c->routes[c->n_routes].text = item;
            c->routes[c->n_routes].hdr = (uint16_t)i;
            c->routes[c->n_routes].drop = false;
            c->n_routes++;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* RFC 3261 §16.4 and §16.12.1.1 (loose routing), on the parsed Route set. */
static int preprocess_routes(struct proxy *p, struct req_ctx *c)
{
    struct sip_name_addr na;
    struct flow f;
    int frc = -ENOENT;

    /* Strict-route fix-up: a Request-URI that is one of our Record-Route URIs (ours, with
     * lr, and no user part or a flow token) means the previous hop is a strict router: the
     * real Request-URI is the last Route value. */
    if (c->n_routes > 0 && px_uri_is_ours(p, c->in, &c->m->ruri, &f, &frc) && c->m->ruri.lr &&
        (frc == -ENOENT || frc == 0 || frc == -EPERM)) {
        if (frc == -EPERM)
            return -EPERM;
        struct route_item *last = &c->routes[c->n_routes - 1];
        if (sip_name_addr_parse(&na, last->text) < 0)
            return -EBADMSG;
        c->new_ruri = na.uri_raw;
        last->drop = true;
        if (frc == 0) {
            c->popped_flow = f;
            c->has_popped_flow = true;
        }
    }
    /* Pop our own entries from the top: two when we record-routed twice. */
    for (unsigned i = 0; i < c->n_routes && i < 2; i++) {
        struct route_item *r = &c->routes[i];
        if (r->drop)
            break;
        if (sip_name_addr_parse(&na, r->text) < 0)
            return -EBADMSG;
        if (!px_uri_is_ours(p, c->in, &na.uri, &f, &frc))
            break;
        /* A token-shaped user part that does not verify was altered or forged. */
        if (frc == -EPERM)
            return -EPERM;
        r->drop = true;
        if (frc == 0 && !c->has_popped_flow) {
            c->popped_flow = f;
            c->has_popped_flow = true;
        }
    }
    return 0;
}

/* First Route value still present, parsed; -ENOENT if none. */
static int next_route(const struct req_ctx *c, struct sip_name_addr *na)
{
    for (unsigned i = 0; i < c->n_routes; i++)
        if (!c->routes[i].drop)
            return sip_name_addr_parse(na, c->routes[i].text) < 0 ? -EBADMSG : 0;
    return -ENOENT;
}

/* Address and port: two PBXes may share a host (and do on loopback). */
static int upstream_by_addr(const struct proxy *p, const struct pbx_addr *a)
{
    for (unsigned i = 0; i < p->n_ups; i++)
        if (pbx_addr_eq(&p->ups[i].ep.addr, a, true))
            return (int)i;
    return -1;
}

static bool has_to_tag(const struct sip_msg *m)
{
    struct sip_name_addr to;
    return sip_msg_to(m, &to) == 0 && to.tag.p != NULL;
}

static int upstream_of_uri(const struct proxy *p, const struct sip_uri *u)
{
    struct pbx_addr a;
    if (px_uri_addr(u, px_uri_transport(u), &a) < 0)
        return -1;
    return upstream_by_addr(p, &a);
}

static void flow_of_sender(const struct proxy *p, const struct req_ctx *c, enum proxy_side side,
                           struct flow *f)
{
    memset(f, 0, sizeof(*f));
    f->transport = c->in->transport;
    f->addr = px_back_addr(p, c->in, &c->top);
    f->listener_id = c->in->listener_id;
    f->conn_id = c->in->conn_id;
    f->side = (uint8_t)side;
}

static void set_upstream_dest(struct proxy *p, struct req_ctx *c, int idx, enum pbx_transport tp)
{
    const struct proxy_upstream *u = &p->ups[idx];
    c->to = PROXY_SIDE_INSIDE;
    c->upstream = idx;
    c->dest.transport = tp;
    c->dest.addr = u->ep.addr;
    c->dest.conn_id = 0;
    c->out_ifc = px_iface_for(p, PROXY_SIDE_INSIDE, tp, u->ep.addr.family);
    if (!c->out_ifc && tp != PBX_TP_UDP) {
        /* TCP/TLS to an upstream is an outbound connection: any inside interface's
         * address serves for the Via; the response comes back on the connection. */
        for (unsigned i = 0; i < p->n_ifaces && !c->out_ifc; i++)
            if (p->ifaces[i].sides & PROXY_SIDE_INSIDE)
                c->out_ifc = &p->ifaces[i];
    }
    c->dest.listener_id =
        c->out_ifc && tp == PBX_TP_UDP ? c->out_ifc->listener_id : NET_ANY_LISTENER;
    if (c->out_ifc)
        c->out_adv = px_iface_adv(p, c->out_ifc, c->in, u);
}

/* §16.5/§16.6 item 6: choose where the request goes. Returns NULL or a reply reason. */
static const char *choose_target(struct proxy *p, struct req_ctx *c, enum proxy_side from,
                                 int *status)
{
    struct sip_name_addr na;
    int rc;

    if (from == PROXY_SIDE_OUTSIDE) {
        /* Outside requests go to an upstream and nowhere else: an in-dialog request stays
         * with the PBX its route or Request-URI names (the dialog lives there); a new one
         * goes to the preferred healthy upstream; anything else is the PBX's call. */
        int idx = -1;
        rc = next_route(c, &na);
        if (rc == -EBADMSG) {
            *status = 400;
            return "Bad Route";
        }
        bool in_dialog = has_to_tag(c->m);
        if (rc == 0 && in_dialog)
            idx = upstream_of_uri(p, &na.uri);
        if (idx < 0 && in_dialog && !c->new_ruri.p) {
            idx = upstream_of_uri(p, &c->m->ruri);
        } else if (idx < 0 && in_dialog) {
            struct sip_uri ru;
            if (sip_uri_parse(&ru, c->new_ruri) == 0)
                idx = upstream_of_uri(p, &ru);
        }
        if (idx < 0) {
            idx = proxy_upstream_pick(p, c->m->call_id);
            if (idx < 0) {
                *status = 503;
                return "Service Unavailable";
            }
        }
        set_upstream_dest(p, c, idx, p->ups[idx].ep.transport);
        flow_of_sender(p, c, PROXY_SIDE_OUTSIDE, &c->outside_flow);
        c->has_outside_flow = true;
        return NULL;
    }

    /* From the PBX: a flow token in one of our Route entries names the phone's flow. */
    c->to = PROXY_SIDE_OUTSIDE;
    if (c->has_popped_flow) {
        if (c->popped_flow.side != PROXY_SIDE_OUTSIDE) {
            *status = 403;
            return "Forbidden";
        }
        c->dest.transport = c->popped_flow.transport;
        c->dest.addr = c->popped_flow.addr;
        c->dest.conn_id = c->popped_flow.conn_id;
        c->dest.listener_id = c->popped_flow.listener_id;
        c->outside_flow = c->popped_flow;
        c->has_outside_flow = true;
        c->out_ifc = px_iface_by_listener(p, c->popped_flow.listener_id);
    } else {
        /* Next Route or the Request-URI; IP literals only: no DNS on the packet path. */
        struct sip_uri ru;
        const struct sip_uri *u;
        rc = next_route(c, &na);
        if (rc == -EBADMSG) {
            *status = 400;
            return "Bad Route";
        }
        if (rc == 0) {
            u = &na.uri;
        } else if (c->new_ruri.p) {
            if (sip_uri_parse(&ru, c->new_ruri) < 0) {
                *status = 400;
                return "Bad Request-URI";
            }
            u = &ru;
        } else {
            u = &c->m->ruri;
        }
        enum pbx_transport tp = px_uri_transport(u);
        if (px_uri_addr(u, tp, &c->dest.addr) < 0) {
            /* No resolver on the packet path (docs/gateway.md): the PBX must route to
             * the gateway's Path/Record-Route URIs or IP literals. */
            *status = 478;
            return "Unresolvable Destination";
        }
        if (upstream_by_addr(p, &c->dest.addr) >= 0) {
            *status = 482;
            return "Loop Detected";
        }
        c->dest.transport = tp;
        c->dest.conn_id = 0;
        c->out_ifc = NULL;
        memset(&c->outside_flow, 0, sizeof(c->outside_flow));
        c->outside_flow.transport = tp;
        c->outside_flow.addr = c->dest.addr;
        c->outside_flow.listener_id = NET_ANY_LISTENER;
        c->outside_flow.side = PROXY_SIDE_OUTSIDE;
        c->has_outside_flow = true;
    }
    if (!c->out_ifc || c->out_ifc->transport != c->dest.transport ||
        c->out_ifc->addr.family != c->dest.addr.family)
        c->out_ifc = px_iface_for(p, PROXY_SIDE_OUTSIDE, c->dest.transport, c->dest.addr.family);
    if (!c->out_ifc) {
        *status = 503;
        return "Service Unavailable";
    }
    if (c->dest.transport == PBX_TP_UDP)
        c->dest.listener_id = c->out_ifc->listener_id;
    else if (!c->dest.conn_id)
        c->dest.listener_id = NET_ANY_LISTENER;
    c->out_adv = px_iface_adv(p, c->out_ifc, c->in, NULL);
    return NULL;
}

static bool dialog_creating(const struct sip_msg *m)
{
    struct sip_name_addr to;
    if (m->method != SIP_METHOD_INVITE && m->method != SIP_METHOD_SUBSCRIBE &&
        m->method != SIP_METHOD_REFER)
        return false;
    /* RFC 3261 §16.6 item 4: the route set is fixed by the initial request. */
    return sip_msg_to(m, &to) == 0 && !to.tag.p;
}

static void emit_rr_uri(struct wbuf *w, const struct pbx_addr *a, enum pbx_transport tp,
                        const char *token, bool ob)
{
    wb_str(w, "<sip:");
    if (token) {
        wb_str(w, token);
        wb_str(w, "@");
    }
    px_wb_hostport(w, a);
    wb_str(w, ";transport=");
    wb_str(w, px_tp_lower(tp));
    wb_str(w, ";lr");
    if (ob)
        wb_str(w, ";ob");
    wb_str(w, ">");
}

static bool contact_has_reg_id(const struct sip_msg *m)
{
    for (unsigned i = 0; i < m->nhdrs; i++) {
        const struct sip_hdr *h = &m->hdrs[i];
        if (h->id != SIP_HDR_CONTACT)
            continue;
        for (size_t k = 0; k + 7 <= h->value.len; k++)
            if (slice_eq_cstr_ci(slice_make(h->value.p + k, 7), "reg-id="))
                return true;
    }
    return false;
}

static bool supports_path(const struct sip_msg *m)
{
    struct sip_value_iter it;
    struct slice item;
    sip_value_iter_init(&it, m, SIP_HDR_SUPPORTED);
    while (sip_value_next(&it, &item) == 1)
        if (slice_eq_cstr_ci(item, "path"))
            return true;
    return false;
}

static void emit_route_hdr(struct wbuf *w, const struct sip_msg *m, const struct req_ctx *c,
                           unsigned hdr)
{
    bool any_dropped = false, first = true;
    for (unsigned i = 0; i < c->n_routes; i++)
        if (c->routes[i].hdr == hdr && c->routes[i].drop)
            any_dropped = true;
    if (!any_dropped) {
        px_emit_raw(w, m, &m->hdrs[hdr]);
        return;
    }
    for (unsigned i = 0; i < c->n_routes; i++) {
        if (c->routes[i].hdr != hdr || c->routes[i].drop)
            continue;
        wb_str(w, first ? "Route: " : ", ");
        wb_slice(w, c->routes[i].text);
        first = false;
    }
    if (!first)
        wb_str(w, "\r\n");
}

static int build(struct proxy *p, struct req_ctx *c, uint64_t branch, uint32_t lh, struct wbuf *w)
{
    const struct sip_msg *m = c->m;
    const struct net_msg *in = c->in;
    char tok[FLOW_TOKEN_MAX + 1];
    struct flow back;
    int rc;

    wb_init(w, p->out, sizeof(p->out));
    /* Request line: the method and version as received; the Request-URI unless §16.4
     * replaced it. */
    wb_slice(w, m->method_name);
    wb_str(w, " ");
    wb_slice(w, c->new_ruri.p ? c->new_ruri : m->ruri_raw);
    wb_str(w, " SIP/2.0\r\n");

    /* §16.6 item 8: our Via on top. The flow token names the way back for the response
     * (source address, listener, connection) and proves the Via is ours. */
    flow_of_sender(
        p, c,
        (enum proxy_side)(c->to == PROXY_SIDE_INSIDE ? PROXY_SIDE_OUTSIDE : PROXY_SIDE_INSIDE),
        &back);
    rc = px_flow_encode(p, &back, tok, sizeof(tok));
    if (rc < 0)
        return rc;
    wb_str(w, "Via: SIP/2.0/");
    wb_str(w, px_tp_upper(c->dest.transport));
    wb_str(w, " ");
    px_wb_hostport(w, &c->out_adv);
    wb_str(w, ";branch=" PX_MAGIC_COOKIE);
    wb_hex64(w, branch);
    wb_hex32(w, lh);
    wb_str(w, ";" PX_VIA_FLOW_PARAM "=");
    wb_str(w, tok);
    wb_str(w, "\r\n");

    /* §16.6 item 4: Record-Route; twice when the message changes interface or transport
     * (each entry faces one side; the top one faces the next hop). Only the phone-facing
     * entry carries the phone's flow token. */
    if (p->set.record_route && dialog_creating(m)) {
        const struct proxy_iface *in_ifc = px_iface_by_listener(p, in->listener_id);
        /* The inbound interface's address as the sender reached it. */
        struct pbx_addr in_adv = in_ifc ? px_iface_adv(p, in_ifc, in, NULL) : in->local;
        bool dbl = in_ifc != c->out_ifc || in->transport != c->dest.transport ||
                   !pbx_addr_eq(&in_adv, &c->out_adv, true);
        const char *otok = NULL;
        char otokbuf[FLOW_TOKEN_MAX + 1];
        if (c->has_outside_flow &&
            px_flow_encode(p, &c->outside_flow, otokbuf, sizeof(otokbuf)) > 0)
            otok = otokbuf;
        bool to_inside = c->to == PROXY_SIDE_INSIDE;
        wb_str(w, "Record-Route: ");
        emit_rr_uri(w, &c->out_adv, c->dest.transport, to_inside && dbl ? NULL : otok, false);
        if (dbl) {
            wb_str(w, ", ");
            emit_rr_uri(w, &in_adv, in->transport, to_inside ? otok : NULL, false);
        }
        wb_str(w, "\r\n");
    }

    /* RFC 3327 §5.3: a REGISTER from a phone gets a Path URI naming its flow, so requests
     * from the PBX to that registration come back through us and over the same flow. */
    if (p->set.add_path && m->method == SIP_METHOD_REGISTER && c->to == PROXY_SIDE_INSIDE &&
        c->has_outside_flow) {
        char ptok[FLOW_TOKEN_MAX + 1];
        if (px_flow_encode(p, &c->outside_flow, ptok, sizeof(ptok)) > 0) {
            wb_str(w, "Path: ");
            emit_rr_uri(w, &c->out_adv, c->dest.transport, ptok, contact_has_reg_id(m));
            wb_str(w, "\r\n");
            /* RFC 3327 §5.3: a registrar may refuse Path (420) unless the REGISTER says
             * "Supported: path" (Kamailio's default path_mode). Path only changes how the
             * registrar routes towards the phone through this gateway, which understands it,
             * so the gateway declares the support on the phone's behalf. */
            if (!supports_path(m))
                wb_str(w, "Supported: path\r\n");
        }
    }

    /* §16.6 item 3: Max-Forwards. */
    if (m->max_forwards < 0)
        wb_str(w, "Max-Forwards: 70\r\n");

    bool mf_done = false;
    for (unsigned i = 0; i < m->nhdrs; i++) {
        const struct sip_hdr *h = &m->hdrs[i];
        switch (h->id) {
        case SIP_HDR_VIA:
            if (i == m->first[SIP_HDR_VIA])
                px_emit_top_via(p, w, m, in, &c->top);
            else
                px_emit_raw(w, m, h);
            continue;
        case SIP_HDR_ROUTE:
            emit_route_hdr(w, m, c, i);
            continue;
        case SIP_HDR_MAX_FORWARDS:
            if (!mf_done && m->max_forwards > 0) {
                wb_str(w, "Max-Forwards: ");
                wb_u64(w, (uint64_t)(m->max_forwards - 1));
                wb_str(w, "\r\n");
            }
            mf_done = true;
            continue;
        case SIP_HDR_CONTENT_LENGTH:
            continue; /* rewritten below */
        default:
            break;
        }
        if (c->to == PROXY_SIDE_OUTSIDE && px_is_exposure_hdr(h))
            px_emit_outside(p, w, m, h);
        else
            px_emit_raw(w, m, h);
    }
    /* Always an exact Content-Length: mandatory on streams (RFC 3261 §18.3), and the body
     * forwarded is the one the parser delimited (trailing bytes of a datagram dropped). */
    wb_str(w, "Content-Length: ");
    wb_u64(w, m->body.len);
    wb_str(w, "\r\n\r\n");
    wb_slice(w, m->body);
    return w->overflow ? -EMSGSIZE : 0;
}

static uint32_t loop_hash(const struct proxy *p, const struct req_ctx *c,
                          const struct slice *from_tag)
{
    /* RFC 3261 §16.6 item 8: the second branch component is computed from what a loop
     * leaves unchanged but a spiral changes (the Request-URI after §16.4), so a request that
     * comes back with one of our Vias carrying the same value has looped (§16.3 item 4). */
    struct px_khash s;
    uint8_t key[16];
    memcpy(key, p->hash_key, 16);
    key[0] ^= 0x5a; /* independent of the transaction component */
    px_kh_init(&s, key);
    struct slice ruri = c->new_ruri.p ? c->new_ruri : c->m->ruri_raw;
    px_kh_field(&s, ruri.p, ruri.len);
    if (from_tag)
        px_kh_field(&s, from_tag->p, from_tag->len);
    px_kh_field(&s, c->m->call_id.p, c->m->call_id.len);
    uint8_t cs[4] = {(uint8_t)(c->m->cseq_num >> 24), (uint8_t)(c->m->cseq_num >> 16),
                     (uint8_t)(c->m->cseq_num >> 8), (uint8_t)c->m->cseq_num};
    px_kh_put(&s, cs, 4);
    return (uint32_t)px_kh_final(&s);
}

static bool loop_detected(struct proxy *p, const struct req_ctx *c, uint32_t lh)
{
    char want[9];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++)
        want[i] = hex[(lh >> (28 - 4 * i)) & 15];
    want[8] = '\0';
    for (unsigned i = 0; i < c->m->via_count && i < SIP_MAX_VIA; i++) {
        struct sip_via v;
        struct flow f;
        struct sip_param prm;
        if (sip_msg_via(c->m, i, &v) < 0)
            break;
        /* Ours: our branch shape and a flow token that verifies. */
        if (v.branch.len != PX_BRANCH_LEN || !slice_starts_with_ci(v.branch, PX_MAGIC_COOKIE))
            continue;
        if (!sip_param_find(v.params, PX_VIA_FLOW_PARAM, &prm) || !prm.value.p)
            continue;
        if (px_flow_decode(p, prm.value, &f) != 0)
            continue;
        if (slice_eq_cstr_ci(slice_make(v.branch.p + PX_BRANCH_LEN - 8, 8), want))
            return true;
    }
    return false;
}

int px_request(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
               struct proxy_action *act)
{
    struct req_ctx ctx; /* about 2 KiB: the Route item table */
    struct req_ctx *c = &ctx;
    struct wbuf w;
    int status = 0;
    const char *why;
    int rc;

    memset(c, 0, sizeof(*c));
    c->in = in;
    c->m = m;
    c->upstream = -1;

    /* §16.3 item 1: reasonable syntax. */
    if (!m->count[SIP_HDR_VIA] || !m->count[SIP_HDR_FROM] || !m->count[SIP_HDR_TO] ||
        !m->count[SIP_HDR_CALL_ID] || !m->count[SIP_HDR_CSEQ]) {
        /* Without them no correct response can be built (§8.2.6.2): drop silently. */
        px_drop(act, "missing required header");
        return 0;
    }
    if (sip_msg_via(m, 0, &c->top) < 0) {
        px_drop(act, "bad top Via");
        return 0;
    }
    /* Only configured upstreams may use a PBX-facing socket. */
    const struct proxy_iface *in_ifc = px_iface_by_listener(p, in->listener_id);
    if (act->from == PROXY_SIDE_OUTSIDE && in_ifc && !(in_ifc->sides & PROXY_SIDE_OUTSIDE)) {
        px_drop(act, "request on an inside interface from a non-upstream");
        return 0;
    }
    if (m->cseq_method != m->method ||
        (m->method == SIP_METHOD_UNKNOWN && !slice_eq(m->cseq_method_name, m->method_name))) {
        px_reply(p, in, m, 400, "CSeq Method Mismatch", NULL, act);
        return 0;
    }
    /* §16.3 item 2: URI scheme. */
    if (m->ruri.scheme == SIP_URI_OTHER) {
        px_reply(p, in, m, 416, "Unsupported URI Scheme", NULL, act);
        return 0;
    }
    /* §16.3 item 3: Max-Forwards. */
    if (m->max_forwards == 0) {
        px_reply(p, in, m, 483, "Too Many Hops", NULL, act);
        return 0;
    }
    /* §16.3 item 5 (and §8.2.2.3): no extension needs proxy support here, so any
     * Proxy-Require option is unsupported. CANCEL and ACK are exempt (RFC 3261 §9.1). */
    if (m->count[SIP_HDR_PROXY_REQUIRE] && m->method != SIP_METHOD_ACK &&
        m->method != SIP_METHOD_CANCEL) {
        char extra[512];
        struct wbuf e;
        struct sip_value_iter it;
        struct slice item;
        bool first = true;
        wb_init(&e, (uint8_t *)extra, sizeof(extra) - 1);
        sip_value_iter_init(&it, m, SIP_HDR_PROXY_REQUIRE);
        while (sip_value_next(&it, &item) == 1) {
            size_t mark = e.len;
            wb_str(&e, first ? "Unsupported: " : ", ");
            wb_slice(&e, item);
            if (e.overflow || e.len > sizeof(extra) - 8) {
                e.len = mark;
                e.overflow = false;
                break;
            }
            first = false;
        }
        if (!first)
            wb_str(&e, "\r\n");
        extra[e.len] = '\0';
        px_reply(p, in, m, 420, "Bad Extension", first ? NULL : extra, act);
        return 0;
    }

    /* §16.4: route information preprocessing. */
    rc = collect_routes(c);
    if (rc == 0)
        rc = preprocess_routes(p, c);
    if (rc == -EPERM) {
        px_reply(p, in, m, 403, "Invalid Flow Token", NULL, act);
        return 0;
    }
    if (rc < 0) {
        px_reply(p, in, m, 400, "Bad Route", NULL, act);
        return 0;
    }
    /* The From tag feeds both hashes: parse the From once. */
    struct sip_name_addr from_na;
    const struct slice *from_tag = sip_msg_from(m, &from_na) == 0 ? &from_na.tag : NULL;
    uint64_t branch = px_branch_hash(p, m, &c->top, from_tag);
    uint32_t lh = loop_hash(p, c, from_tag);
    if (loop_detected(p, c, lh)) {
        px_reply(p, in, m, 482, "Loop Detected", NULL, act);
        return 0;
    }

    why = choose_target(p, c, act->from, &status);
    if (!why && !c->out_ifc) {
        /* No socket of the destination's family and transport (see
         * proxy_unreachable_upstream): the request cannot leave, say so. */
        status = 503;
        why = "Service Unavailable";
    }
    if (why) {
        char extra[48];
        extra[0] = '\0';
        if (status == 503)
            snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", p->set.retry_after_s);
        px_reply(p, in, m, status, why, extra[0] ? extra : NULL, act);
        return 0;
    }
    rc = build(p, c, branch, lh, &w);
    /* RFC 3261 §18.1.1: too large for UDP towards the PBX -> TCP if it takes it, else 513. */
    if (rc == 0 && c->to == PROXY_SIDE_INSIDE && c->dest.transport == PBX_TP_UDP &&
        w.len > p->set.udp_max) {
        if (p->ups[c->upstream].tcp_fallback) {
            set_upstream_dest(p, c, c->upstream, PBX_TP_TCP);
            if (c->out_ifc)
                rc = build(p, c, branch, lh, &w);
            else
                rc = -EMSGSIZE;
        } else {
            rc = -EMSGSIZE;
        }
    }
    if (rc < 0) {
        px_reply(p, in, m, 513, "Message Too Large", NULL, act);
        return 0;
    }
    act->kind = PROXY_ACT_FORWARD;
    act->reason = "forward";
    act->buf = w.p;
    act->len = w.len;
    act->dest = c->dest;
    act->to = c->to;
    act->upstream = c->upstream;
    return 0;
}
