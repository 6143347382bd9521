/*
 * Folding detector hits into one verdict (most severe wins), their events, and applying the
 * strongest ban hit once the detectors are done.
 */
#include <errno.h>
#include <string.h>

#include "det_int.h"
#include "pbxguard/sip/headers.h"

#define RAW_EXCERPT 512u

static int severity_rank(enum det_action a)
{
    static const int rank[] = {0, 1, 2, 3, 4};
    return rank[a];
}

void det_hit_init(struct det_hit *h, const char *rule, const char *type,
                  const struct det_rule_cfg *rc, int score)
{
    memset(h, 0, sizeof(*h));
    h->rule = rule;
    h->type = type;
    h->action = rc ? rc->action : DET_ALERT;
    h->status = rc && rc->reject_status ? rc->reject_status : 403;
    h->reason = "Forbidden";
    h->score = score;
    h->sev = EV_SEV_MEDIUM;
}

static enum ev_action ev_of(enum det_action a)
{
    switch (a) {
    case DET_ALERT:
        return EV_ACT_ALERT;
    case DET_DROP:
        return EV_ACT_DROP;
    case DET_REJECT:
        return EV_ACT_REJECT;
    case DET_BAN:
        return EV_ACT_BAN;
    case DET_PASS:
    default:
        return EV_ACT_LOG;
    }
}

static void emit(struct det_msgctx *mc, const struct det_hit *h, enum det_action act,
                 const struct ban_entry *b)
{
    struct det_engine *e = mc->e;
    char src[PBX_ADDR_STRLEN];
    struct ev_kv kv[8];
    size_t n = 0;
    struct ev_record r;

    memset(&r, 0, sizeof(r));
    pbx_addr_fmt(&mc->ctx->src, src, sizeof(src));
    r.ts_ms = mc->now;
    r.type = h->type;
    r.rule = h->rule;
    r.action = ev_of(act);
    r.severity = act == DET_BAN ? EV_SEV_HIGH : h->sev;
    r.shadow = e->cfg.shadow;
    r.component = "detect";
    r.src = slice_cstr(src);
    r.transport = pbx_transport_name(mc->ctx->tp);
    r.target = h->target;
    r.reason = h->reason;
    for (size_t i = 0; i < h->nev && n < PBX_ARRAY_SIZE(kv) - 2; i++)
        kv[n++] = h->ev[i];
    kv[n++] = EV_KV_I("score", h->score);
    if (b) {
        r.ban_s = b->expires_ms == BAN_PERMANENT ? -1 : (b->expires_ms - mc->now) / 1000;
        kv[n++] = EV_KV_I("ban_level", b->level);
    }
    r.evidence = kv;
    r.n_evidence = n;
    if (mc->m) {
        r.call_id = mc->m->call_id;
        r.method = mc->m->is_request ? mc->m->method_name : mc->m->cseq_method_name;
        r.user_agent = sip_msg_user_agent(mc->m);
        r.raw = slice_make(mc->m->buf, mc->m->len < RAW_EXCERPT ? mc->m->len : RAW_EXCERPT);
    }
    ev_emit(&r);
}

void det_hit(struct det_msgctx *mc, const struct det_hit *h)
{
    struct det_verdict *v = mc->v;
    enum det_action cur = mc->e->cfg.shadow ? v->would_action : v->action;

    if (h->action == DET_BAN) {
        /* Bans are emitted once applied, with their duration. */
        if (!mc->has_ban || h->score > mc->ban_hit.score)
            mc->ban_hit = *h;
        mc->has_ban = true;
    } else {
        emit(mc, h, h->action, NULL);
    }
    if (h->action != DET_PASS)
        det_note(mc);
    if (h->action == DET_ALERT)
        v->flags |= DET_F_ALERT;
    if (severity_rank(h->action) > severity_rank(cur) ||
        (h->action == cur && h->score > v->score)) {
        if (mc->e->cfg.shadow)
            v->would_action = h->action;
        else
            v->action = h->action;
        v->status = h->status;
        v->reason = h->reason;
        v->rule = h->rule;
        v->score = h->score;
    }
}

static void apply_ban(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    struct det_hit *h = &mc->ban_hit;
    struct ban_entry b;
    bool widened = false;
    int rc;

    if (e->cfg.shadow) {
        emit(mc, h, DET_BAN, NULL);
        mc->v->flags |= DET_F_SHADOW;
        return;
    }
    rc = ban_add(e->bans, &mc->ctx->src, h->ban_prefix, h->ban_ms, h->rule, h->reason, mc->now, &b,
                 &widened);
    if (rc != 0) {
        /* Allow-listed (or table full of active bans): never banned, but still visible. */
        struct det_hit a = *h;
        a.action = DET_ALERT;
        a.reason = rc == -EPERM ? "allow-listed source, not banned" : "ban table full";
        emit(mc, &a, DET_ALERT, NULL);
        if (mc->v->action == DET_BAN)
            mc->v->action = DET_DROP;
        mc->v->flags |= DET_F_ALERT;
        return;
    }
    mc->v->ban = b;
    emit(mc, h, DET_BAN, &b);
    e->st.bans++;
    if (e->ban_hook) {
        size_t len = det_evidence_collect(e, &mc->ctx->src, e->evidence);
        e->ban_hook(&b, e->evidence, len, e->ban_hook_ctx);
    }
}

void det_verdict_finish(struct det_msgctx *mc)
{
    struct det_verdict *v = mc->v;
    struct det_engine *e = mc->e;

    if (mc->has_ban)
        apply_ban(mc);
    if (e->cfg.shadow) {
        if (v->would_action != DET_PASS)
            v->flags |= DET_F_SHADOW;
        v->action = DET_PASS;
        v->flags &= ~DET_F_STRIP_IDENTITY;
        v->flags &= ~DET_F_REWRITE;
        v->rewrite_len = 0;
    }
    switch (v->action) {
    case DET_PASS:
        e->st.passes++;
        break;
    case DET_ALERT:
        e->st.alerts++;
        break;
    case DET_DROP:
        e->st.drops++;
        break;
    case DET_REJECT:
        e->st.rejects++;
        break;
    case DET_BAN:
        break;
    }
    if (v->flags & DET_F_REWRITE)
        e->st.rewrites++;
}
