/*
 * Upstream choice and OPTIONS health checks (RFC 3261 §11). The timer and the sockets
 * belong to the caller; this file only builds the probe and keeps the up/down state with
 * hysteresis (fails_to_down, oks_to_up) so one lost datagram does not cause a failover.
 */
#include <errno.h>
#include <string.h>

#include "proxy_int.h"
#include "keyhash.h"

int proxy_upstream_pick(const struct proxy *p, struct slice key)
{
    int best = -1;
    unsigned n_best = 0;
    for (unsigned i = 0; i < p->n_ups; i++) {
        if (!p->ups[i].up)
            continue;
        if (best < 0 || p->ups[i].priority < best) {
            best = p->ups[i].priority;
            n_best = 1;
        } else if (p->ups[i].priority == best) {
            n_best++;
        }
    }
    if (n_best == 0)
        return -ENOENT;
    /* Equal priorities share the load by Call-ID, so every transaction of a call (and a
     * CANCEL after its INVITE) lands on the same PBX. */
    unsigned pick = 0;
    if (n_best > 1) { /* one candidate: no hash needed */
        struct px_khash s;
        px_kh_init(&s, p->hash_key);
        px_kh_field(&s, key.p, key.len);
        pick = (unsigned)(px_kh_final(&s) % n_best);
    }
    for (unsigned i = 0; i < p->n_ups; i++) {
        if (!p->ups[i].up || p->ups[i].priority != best)
            continue;
        if (pick-- == 0)
            return (int)i;
    }
    return -ENOENT;
}

int proxy_health_request(struct proxy *p, unsigned idx, int64_t now_ms, struct proxy_action *act)
{
    struct proxy_upstream *u;
    const struct proxy_iface *ifc;
    struct wbuf w;
    struct px_khash s;
    enum pbx_transport tp;

    if (!p || !act || idx >= p->n_ups)
        return -EINVAL;
    u = &p->ups[idx];
    tp = u->ep.transport;
    ifc = px_iface_for(p, PROXY_SIDE_INSIDE, tp, u->ep.addr.family);
    for (unsigned i = 0; i < p->n_ifaces && !ifc && tp != PBX_TP_UDP; i++)
        if (p->ifaces[i].sides & PROXY_SIDE_INSIDE)
            ifc = &p->ifaces[i];
    if (!ifc)
        return -ENETUNREACH;
    if (++p->probe_counter == 0)
        p->probe_counter = 1;
    u->probe_seq = p->probe_counter;
    struct pbx_addr adv = px_iface_adv(p, ifc, NULL, u);

    px_kh_init(&s, p->hash_key);
    px_kh_put(&s, &now_ms, sizeof(now_ms));
    px_kh_put(&s, &u->probe_seq, sizeof(u->probe_seq));
    px_kh_put(&s, &idx, sizeof(idx));
    uint64_t id = px_kh_final(&s);

    memset(act, 0, sizeof(*act));
    wb_init(&w, p->out, sizeof(p->out));
    wb_str(&w, "OPTIONS sip:");
    px_wb_hostport(&w, &u->ep.addr);
    if (tp != PBX_TP_UDP) {
        wb_str(&w, ";transport=");
        wb_str(&w, px_tp_lower(tp));
    }
    wb_str(&w, " SIP/2.0\r\nVia: SIP/2.0/");
    wb_str(&w, px_tp_upper(tp));
    wb_str(&w, " ");
    px_wb_hostport(&w, &adv);
    wb_str(&w, ";branch=" PX_MAGIC_COOKIE);
    wb_hex64(&w, id);
    wb_str(&w, ";" PX_VIA_HEALTH_PARAM "=");
    wb_u64(&w, idx);
    wb_str(&w, ".");
    wb_u64(&w, u->probe_seq);
    wb_str(&w, "\r\nMax-Forwards: 70\r\nFrom: <sip:health@");
    px_wb_hostport(&w, &adv);
    wb_str(&w, ">;tag=");
    wb_hex64(&w, id ^ 0x9e3779b97f4a7c15ull);
    wb_str(&w, "\r\nTo: <sip:");
    px_wb_hostport(&w, &u->ep.addr);
    wb_str(&w, ">\r\nCall-ID: ");
    wb_hex64(&w, id);
    wb_str(&w, "\r\nCSeq: ");
    wb_u64(&w, u->probe_seq & 0x7fffffffu);
    wb_str(&w, " OPTIONS\r\nContent-Length: 0\r\n\r\n");
    if (w.overflow)
        return -EMSGSIZE;
    act->kind = PROXY_ACT_FORWARD;
    act->reason = "health check";
    act->buf = w.p;
    act->len = w.len;
    act->dest.transport = tp;
    act->dest.addr = u->ep.addr;
    act->dest.conn_id = 0;
    act->dest.listener_id = tp == PBX_TP_UDP ? ifc->listener_id : NET_ANY_LISTENER;
    act->from = PROXY_SIDE_INSIDE;
    act->to = PROXY_SIDE_INSIDE;
    act->upstream = (int)idx;
    return 0;
}

int proxy_health_result(struct proxy *p, unsigned idx, bool ok)
{
    if (!p || idx >= p->n_ups)
        return 0;
    struct proxy_upstream *u = &p->ups[idx];
    bool was = u->up;
    u->probe_seq = 0;
    if (ok) {
        u->fails = 0;
        if (u->oks < UINT32_MAX)
            u->oks++;
        if (!u->up && u->oks >= (p->set.oks_to_up ? p->set.oks_to_up : 1))
            u->up = true;
    } else {
        u->oks = 0;
        if (u->fails < UINT32_MAX)
            u->fails++;
        if (u->up && u->fails >= (p->set.fails_to_down ? p->set.fails_to_down : 1))
            u->up = false;
    }
    return u->up != was;
}
