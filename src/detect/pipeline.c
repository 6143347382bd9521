/*
 * The per-message pipeline: admission before parsing, then the per-message context and the
 * order in which detectors see requests, responses and parse errors.
 */
#include <stddef.h>
#include <string.h>

#include "det_int.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"

bool det_admit(struct det_engine *e, const struct pbx_addr *src, enum pbx_transport tp,
               int64_t now_ms)
{
    struct det_src *s;
    unsigned factor;

    (void)tp;
    if (ban_allowed(e->bans, src)) {
        e->st.admitted++;
        return true;
    }
    if (ban_check(e->bans, src, now_ms, NULL)) {
        e->st.refused_ban++;
        return false;
    }
    s = det_src_get(e, src, now_ms);
    s->packets++;
    s->last_ms = now_ms;
    factor = s->trusted_until > now_ms ? e->cfg.trust_factor : 1;
    if (e->lockdown && s->trusted_until <= now_ms) {
        e->st.refused_lockdown++;
        return false;
    }
    if (e->geo && (e->cfg.geo.nallow || e->cfg.geo.ndeny || e->cfg.geo.unknown_deny)) {
        /* One lookup per source record: the verdict is cached with it. */
        if (!s->geo_checked) {
            struct geo_result g;
            s->geo_checked = 1;
            s->geo_denied =
                !geo_policy_permits(&e->cfg.geo, geo_lookup(e->geo, src, &g) == 0 ? g.cc : NULL);
        }
        if (s->geo_denied && !e->cfg.shadow) {
            e->st.refused_geo++;
            return false;
        }
    }
    if (!det_bucket_take(&s->admit, now_ms, e->cfg.admit_rate, e->cfg.admit_burst, factor) &&
        !e->cfg.shadow) {
        e->st.refused_budget++;
        return false;
    }
    e->st.admitted++;
    return true;
}

bool det_user_numeric(struct slice u)
{
    if (u.len == 0)
        return false;
    for (size_t i = 0; i < u.len; i++)
        if (u.p[i] < '0' || u.p[i] > '9')
            return false;
    return true;
}

const struct sip_digest *det_credentials(struct det_msgctx *mc)
{
    if (mc->cred_state == 0) {
        mc->cred_state =
            sip_msg_digest(mc->m, SIP_HDR_AUTHORIZATION, 0, &mc->cred) == 0 ||
                    sip_msg_digest(mc->m, SIP_HDR_PROXY_AUTHORIZATION, 0, &mc->cred) == 0
                ? 1
                : -1;
    }
    return mc->cred_state > 0 ? &mc->cred : NULL;
}

struct slice det_target_user(const struct sip_msg *m)
{
    const struct sip_name_addr *to = sip_msg_to_get(m);
    struct sip_name_addr buf;

    /* Several detectors ask for every message: borrow the To the parser kept, and parse only
     * when it kept none (same value either way). */
    if (!to && sip_msg_to(m, &buf) == 0)
        to = &buf;
    if (to && to->uri.user.len)
        return to->uri.user;
    if (m->is_request)
        return m->ruri.user;
    return SLICE_NULL;
}

unsigned det_factor(const struct det_msgctx *mc)
{
    return mc->learned_trust ? mc->e->cfg.trust_factor : 1;
}

static void verdict_init(struct det_verdict *v)
{
    v->action = DET_PASS;
    v->would_action = DET_PASS;
    v->flags = 0;
    v->status = 0;
    v->reason = NULL;
    v->retry_after_s = 0;
    v->rule = NULL;
    v->score = 0;
    memset(&v->ban, 0, sizeof(v->ban));
    v->rewrite_len = 0;
}

static void ctx_init(struct det_msgctx *mc, struct det_engine *e, const struct det_ctx *ctx,
                     const struct sip_msg *m, int64_t now, struct det_verdict *v)
{
    /* cred and ban_hit (the last ~700 bytes) are only read once cred_state / has_ban say
     * they were written: clearing them for every message was a measurable share of the
     * per-message cost. */
    memset(mc, 0, offsetof(struct det_msgctx, cred));
    mc->e = e;
    mc->ctx = ctx;
    mc->m = m;
    mc->now = now;
    mc->v = v;
    verdict_init(v);
}

static bool allow_listed(struct det_engine *e, const struct det_ctx *ctx)
{
    return ctx->trusted || ban_allowed(e->bans, &ctx->src);
}

void det_on_request(struct det_engine *e, const struct det_ctx *ctx, const struct sip_msg *m,
                    int64_t now_ms, struct det_verdict *v)
{
    struct det_msgctx mc;

    ctx_init(&mc, e, ctx, m, now_ms, v);
    e->st.requests++;
    if (ctx->from_upstream) {
        e->st.passes++;
        return;
    }
    if (allow_listed(e, ctx)) {
        /* Trunks and trusted networks: no scoring, but a canary still raises an alert. */
        det_canary_request(&mc);
        if (v->action != DET_PASS || mc.has_ban) {
            mc.has_ban = false;
            v->action = DET_PASS;
        }
        e->st.passes++;
        return;
    }
    mc.src = det_src_get(e, &ctx->src, now_ms);
    mc.learned_trust = mc.src->trusted_until > now_ms;
    det_canary_request(&mc);
    det_scanner_request(&mc);
    det_account_request(&mc);
    det_flood_request(&mc);
    det_spoof_request(&mc);
    det_malformed_request(&mc);
    det_bruteforce_request(&mc);
    det_verdict_finish(&mc);
}

void det_on_response(struct det_engine *e, const struct det_ctx *ctx, const struct sip_msg *resp,
                     int64_t now_ms, struct det_verdict *v)
{
    struct det_msgctx mc;

    ctx_init(&mc, e, ctx, resp, now_ms, v);
    e->st.responses++;
    det_shield_learn(e, resp);
    if (allow_listed(e, ctx)) {
        e->st.passes++;
        return;
    }
    mc.src = det_src_get(e, &ctx->src, now_ms);
    mc.learned_trust = mc.src->trusted_until > now_ms;
    det_bruteforce_response(&mc);
    det_enum_response(&mc);
    det_regan_response(&mc);
    det_shield_response(&mc);
    /* A response is never rejected back to the PBX: drop/reject mean "do not forward". */
    det_verdict_finish(&mc);
}

void det_on_malformed(struct det_engine *e, const struct det_ctx *ctx, int err,
                      const struct sip_msg *m, int64_t now_ms, struct det_verdict *v)
{
    struct det_msgctx mc;

    ctx_init(&mc, e, ctx, m, now_ms, v);
    e->st.malformed++;
    if (ctx->from_upstream || allow_listed(e, ctx)) {
        e->st.passes++;
        return;
    }
    mc.src = det_src_get(e, &ctx->src, now_ms);
    mc.learned_trust = mc.src->trusted_until > now_ms;
    det_malformed_parse_error(&mc, err);
    det_verdict_finish(&mc);
}
