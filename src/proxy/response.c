/*
 * Responses through the edge proxy, stateless (RFC 3261 §16.11): the top Via must be ours
 * (our branch shape and a flow token that verifies), it is removed, and the response goes
 * to the flow the token names: over the connection the request came on for TCP/TLS
 * (§18.2.2), to the source address and port for UDP (RFC 3581 §4). Provisional responses,
 * 100 Trying included, are forwarded like any other: a stateless proxy keeps no transaction
 * that could absorb them (§16.11), and the client's own transaction needs them to stop
 * retransmitting.
 */
#include <errno.h>
#include <string.h>

#include "proxy_int.h"

static int health_response(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                           struct slice val, struct proxy_action *act)
{
    /* "<index>.<sequence>" written by proxy_health_request(). */
    const char *dot = memchr(val.p, '.', val.len);
    uint64_t idx, seq;
    if (!dot ||
        sip_parse_uint(slice_make(val.p, (size_t)(dot - val.p)), PROXY_MAX_UPSTREAMS, &idx) < 0 ||
        sip_parse_uint(slice_make(dot + 1, (size_t)(val.p + val.len - dot - 1)), UINT32_MAX, &seq) <
            0) {
        px_drop(act, "bad health-check Via");
        return 0;
    }
    if (idx >= p->n_ups || !pbx_addr_eq(&p->ups[idx].ep.addr, &in->remote, false) ||
        p->ups[idx].probe_seq == 0 || p->ups[idx].probe_seq != seq) {
        px_drop(act, "stale or foreign health-check response");
        return 0;
    }
    if (m->status < 200) {
        px_drop(act, "provisional health-check response");
        return 0;
    }
    act->kind = PROXY_ACT_HEALTH;
    act->upstream = (int)idx;
    act->status = m->status;
    act->reason = "health check";
    return 0;
}

static void emit_via_without_first(struct wbuf *w, const struct sip_msg *m, const struct sip_hdr *h)
{
    struct sip_list_iter it;
    struct slice item;
    sip_list_iter_init(&it, h->value);
    if (sip_list_next(&it, &item) != 1)
        return;
    const char *r = item.p + item.len, *end = h->value.p + h->value.len;
    while (r < end && (*r == ' ' || *r == '\t' || *r == ',' || *r == '\r' || *r == '\n'))
        r++;
    if (r < end) {
        wb_str(w, "Via: ");
        wb_put(w, r, (size_t)(end - r));
        wb_str(w, "\r\n");
    }
}

int px_response(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                struct proxy_action *act)
{
    struct sip_via v;
    struct sip_param prm;
    struct flow f;
    struct wbuf w;

    if (m->via_count == 0 || sip_msg_via(m, 0, &v) < 0) {
        px_drop(act, "response without a valid Via");
        return 0;
    }
    if (sip_param_find(v.params, PX_VIA_HEALTH_PARAM, &prm) && prm.value.p)
        return health_response(p, in, m, prm.value, act);
    if (v.branch.len != PX_BRANCH_LEN || !slice_starts_with_ci(v.branch, PX_MAGIC_COOKIE) ||
        !sip_param_find(v.params, PX_VIA_FLOW_PARAM, &prm) || !prm.value.p ||
        px_flow_decode(p, prm.value, &f) != 0) {
        px_drop(act, "top Via not ours");
        return 0;
    }
    if (m->via_count < 2) {
        px_drop(act, "no Via left after ours");
        return 0;
    }
    /* Responses cross the gateway; a response may not be bounced back to the side it came
     * from (that would make the gateway a reflector). */
    if (f.side == act->from) {
        px_drop(act, "response towards its own side");
        return 0;
    }

    wb_init(&w, p->out, sizeof(p->out));
    wb_put(&w, m->buf, m->nhdrs ? m->hdrs[0].off : 0);
    for (unsigned i = 0; i < m->nhdrs; i++) {
        const struct sip_hdr *h = &m->hdrs[i];
        if (h->id == SIP_HDR_VIA && i == m->first[SIP_HDR_VIA]) {
            emit_via_without_first(&w, m, h);
            continue;
        }
        if (h->id == SIP_HDR_CONTENT_LENGTH)
            continue;
        if (f.side == PROXY_SIDE_OUTSIDE && px_is_exposure_hdr(h))
            px_emit_outside(p, &w, m, h);
        else
            px_emit_raw(&w, m, h);
    }
    wb_str(&w, "Content-Length: ");
    wb_u64(&w, m->body.len);
    wb_str(&w, "\r\n\r\n");
    wb_slice(&w, m->body);
    if (w.overflow) {
        px_drop(act, "response too large after rewriting");
        return 0;
    }
    act->kind = PROXY_ACT_FORWARD;
    act->reason = "forward";
    act->buf = w.p;
    act->len = w.len;
    act->status = m->status;
    act->dest.transport = f.transport;
    act->dest.addr = f.addr;
    act->dest.conn_id = f.conn_id;
    act->dest.listener_id =
        f.transport == PBX_TP_UDP || f.conn_id ? f.listener_id : NET_ANY_LISTENER;
    act->to = (enum proxy_side)f.side;
    if (f.side == PROXY_SIDE_INSIDE) {
        for (unsigned i = 0; i < p->n_ups; i++)
            if (pbx_addr_eq(&p->ups[i].ep.addr, &f.addr, false))
                act->upstream = (int)i;
    }
    return 0;
}
