/* Local responses of the proxy (RFC 3261 §8.2.6, §16.3), built statelessly. */
#include <errno.h>
#include <string.h>

#include "proxy_int.h"
#include "keyhash.h"

void px_reply(struct proxy *p, const struct net_msg *in, const struct sip_msg *m, int status,
              const char *reason, const char *extra, struct proxy_action *act)
{
    struct wbuf w;
    struct sip_via top;
    bool have_top = sip_msg_via(m, 0, &top) == 0;

    /* RFC 3261 §17.2.1 / §16.3: an ACK is never answered. */
    if (m->method == SIP_METHOD_ACK || !have_top) {
        px_drop(act, reason);
        return;
    }
    wb_init(&w, p->out, sizeof(p->out));
    wb_str(&w, "SIP/2.0 ");
    wb_u64(&w, (uint64_t)status);
    wb_str(&w, " ");
    wb_str(&w, reason);
    wb_str(&w, "\r\n");
    for (unsigned i = 0; i < m->nhdrs; i++) {
        const struct sip_hdr *h = &m->hdrs[i];
        switch (h->id) {
        case SIP_HDR_VIA:
            if (i == m->first[SIP_HDR_VIA])
                px_emit_top_via(p, &w, m, in, &top);
            else
                px_emit_raw(&w, m, h);
            break;
        case SIP_HDR_FROM:
        case SIP_HDR_CALL_ID:
        case SIP_HDR_CSEQ:
            px_emit_raw(&w, m, h);
            break;
        case SIP_HDR_TO: {
            struct sip_name_addr to;
            px_emit_raw(&w, m, h);
            if (status > 100 && i == m->first[SIP_HDR_TO] && sip_msg_to(m, &to) == 0 && !to.tag.p) {
                /* §8.2.6.2: add a To tag; a keyed hash keeps retransmissions identical. */
                struct px_khash s;
                px_kh_init(&s, p->hash_key);
                px_kh_field(&s, m->call_id.p, m->call_id.len);
                px_kh_field(&s, top.branch.p, top.branch.len);
                w.len -= 2; /* reopen the line */
                wb_str(&w, ";tag=");
                wb_hex64(&w, px_kh_final(&s));
                wb_str(&w, "\r\n");
            }
            break;
        }
        default:
            break;
        }
    }
    if (extra)
        wb_str(&w, extra);
    wb_str(&w, "Content-Length: 0\r\n\r\n");
    if (w.overflow) {
        px_drop(act, reason);
        return;
    }
    act->kind = PROXY_ACT_REPLY;
    act->status = status;
    act->reason = reason;
    act->buf = w.p;
    act->len = w.len;
    act->dest.transport = in->transport;
    act->dest.addr = px_back_addr(p, in, &top);
    act->dest.conn_id = in->conn_id;
    act->dest.listener_id = in->listener_id;
    act->to = act->from;
}

void proxy_reply_hdrs(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                      int status, const char *reason, const char *extra, struct proxy_action *act)
{
    memset(act, 0, sizeof(*act));
    act->upstream = -1;
    act->from = proxy_side_of(p, in);
    px_reply(p, in, m, status, reason, extra, act);
}

void proxy_reply(struct proxy *p, const struct net_msg *in, const struct sip_msg *m, int status,
                 const char *reason, struct proxy_action *act)
{
    proxy_reply_hdrs(p, in, m, status, reason, NULL, act);
}
