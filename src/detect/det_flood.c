/*
 * Floods: token buckets per source (all requests, and per method class) and one global
 * bucket. Excess from one source is dropped silently; a source that keeps exceeding is
 * banned. Excess beyond the global rate is answered 503 + Retry-After, so legitimate
 * clients back off instead of the PBX collapsing; in-dialog ACK/BYE/CANCEL always pass the
 * global limit (they end calls and free resources), and so do sources with learned trust: a
 * flood spread over thousands of spoofed addresses fills the global budget, and the phones
 * that logged in before it must not be the ones turned away (a spoofed source cannot earn
 * trust: that takes a successful authentication, answered to its address).
 */
#include "det_int.h"

static enum det_mclass mclass(enum sip_method m)
{
    switch (m) {
    case SIP_METHOD_REGISTER:
        return MC_REGISTER;
    case SIP_METHOD_INVITE:
        return MC_INVITE;
    case SIP_METHOD_OPTIONS:
        return MC_OPTIONS;
    default:
        return MC_OTHER;
    }
}

void det_flood_request(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    const struct det_config *c = &e->cfg;
    const struct sip_msg *m = mc->m;
    struct det_src *src = mc->src;
    unsigned f = det_factor(mc);
    enum det_mclass k = mclass(m->method);
    struct det_hit h;
    bool ok;

    if (m->method != SIP_METHOD_ACK && m->method != SIP_METHOD_BYE &&
        m->method != SIP_METHOD_CANCEL && !mc->learned_trust &&
        !det_bucket_take(&e->global, mc->now, c->global_rate, c->global_burst, 1)) {
        det_hit_init(&h, "det.overload", "flood.global", NULL, 10);
        h.action = DET_REJECT;
        h.status = 503;
        h.reason = "Service Unavailable";
        h.sev = EV_SEV_LOW;
        mc->v->retry_after_s = c->retry_after_s;
        /* One event per 1000 overload answers: under overload the event stream must not
         * become one more thing to saturate. */
        if (e->overload_n++ % 1000 == 0) {
            h.ev[h.nev++] = EV_KV_I("overload_total", e->overload_n);
            det_hit(mc, &h);
        } else {
            struct det_verdict *v = mc->v;
            if (e->cfg.shadow) {
                v->would_action = DET_REJECT;
            } else {
                v->action = DET_REJECT;
            }
            v->status = 503;
            v->reason = h.reason;
            v->rule = h.rule;
        }
        return;
    }
    if (!c->flood.enabled)
        return;
    ok = det_bucket_take(&src->flood[MC_TOTAL], mc->now, c->flood_rate[MC_TOTAL],
                         c->flood_burst[MC_TOTAL], f);
    ok = det_bucket_take(&src->flood[k], mc->now, c->flood_rate[k], c->flood_burst[k], f) && ok;
    if (ok)
        return;
    uint32_t n = det_window_add(&src->flood_excess, mc->now, c->flood_window_ms, 1);
    det_hit_init(&h, "det.flood", "flood.source", &c->flood, 50);
    h.reason = "request flood";
    h.ev[h.nev++] = EV_KV_I("excess", n);
    bool quiet = n != 1 && n % 100 != 0;
    if (c->flood_ban_after && n >= c->flood_ban_after) {
        h.action = DET_BAN;
        h.score = 90;
        /* In shadow mode the source is never banned and keeps coming: past the first
         * would-ban, the same one line per 100 messages as for drops. */
        quiet = e->cfg.shadow && n != c->flood_ban_after && n % 100 != 0;
    }
    if (quiet) {
        /* Drop without an event: one line per 100 dropped messages keeps the event stream
         * from becoming the flood's amplifier. */
        struct det_verdict *v = mc->v;
        if (e->cfg.shadow) {
            if (v->would_action < h.action)
                v->would_action = h.action;
        } else if (v->action < h.action) {
            v->action = h.action;
        }
        v->rule = h.rule;
        return;
    }
    det_hit(mc, &h);
}
