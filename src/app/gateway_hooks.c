/* Pipeline hooks of the gateway; see gateway_hooks.h. Detection lives in gateway_guard.c. */
#include "gateway_hooks.h"
#include "gateway_fraud.h"
#include "gateway_guard.h"
#include "pbxguard/sip/headers.h"

static bool initial_invite(const struct sip_msg *m)
{
    /* No To tag: not inside a dialog (RFC 3261 §12.2). */
    struct sip_name_addr to;
    return m->method == SIP_METHOD_INVITE && sip_msg_to(m, &to) == 0 && !to.tag.p;
}

bool gw_hook_admit(void *ctx, const struct pbx_addr *remote, enum pbx_transport tp)
{
    struct gw_guard *g = gw_guard_get();
    (void)ctx;
    /* Ban table, allow-list, lockdown, geo and per-source packet budget, before parsing. */
    return g ? gw_guard_admit(g, remote, tp) : true;
}

void gw_hook_request(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                     enum proxy_side from, struct gw_decision *d)
{
    struct gw_guard *g = gw_guard_get();
    int status = 0;
    const char *reason = NULL;
    const struct sip_msg *sm = NULL;
    struct net_msg sin;
    d->verdict = GW_PASS;
    gw_fraud_request(in, m, from == PROXY_SIDE_INSIDE); /* call tracking (BYE, CSeq) */
    if (!g)
        return;
    if (gw_guard_request(g, in, m, from == PROXY_SIDE_INSIDE, &status, &reason, &sin, &sm)) {
        d->verdict = GW_DROP; /* dropped, or answered by the guard itself */
    } else if (status) {
        d->verdict = GW_REJECT;
        d->status = status;
        d->reason = reason;
    } else if (sm) {
        /* Identity headers removed: the copy goes through the remaining stage (the fraud
         * policy must see it like any initial INVITE) and is sent here; the original is
         * never forwarded, so the caller sees a drop. */
        struct gw_decision fd = {GW_PASS, 0, NULL, NULL};
        if (from == PROXY_SIDE_OUTSIDE && initial_invite(sm))
            gw_hook_initial_invite(ctx, &sin, sm, &fd);
        if (fd.verdict != GW_DROP)
            gw_guard_send(g, &sin, sm, fd.verdict == GW_REJECT ? fd.status : 0, fd.reason,
                          fd.extra);
        d->verdict = GW_DROP;
    }
}

void gw_hook_response_inside(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                             struct gw_decision *d)
{
    struct gw_guard *g = gw_guard_get();
    (void)ctx;
    d->verdict = GW_PASS;
    if (gw_fraud_response(in, m)) {
        d->verdict = GW_DROP; /* the answer to a BYE the fraud policy sent itself */
        return;
    }
    /* The PBX's 401/403/404/407/200 feed the per-source and per-account counters; an
     * enumeration answer may be replaced (shielding), which the guard sends itself. */
    if (g && gw_guard_response(g, in, m))
        d->verdict = GW_DROP;
}

void gw_hook_response_outside(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                              struct gw_decision *d)
{
    (void)ctx;
    /* A phone's answer to a BYE the fraud policy sent it: ours, absorbed (counted as a hook
     * drop) rather than reported as a response the proxy cannot route. */
    d->verdict = gw_fraud_response_outside(in, m) ? GW_DROP : GW_PASS;
}

void gw_hook_initial_invite(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                            struct gw_decision *d)
{
    (void)ctx;
    /* The fraud policy (destination class, schedule, account limits) decides here. */
    gw_fraud_initial_invite(in, m, d);
}

void gw_hook_malformed(void *ctx, const struct net_msg *in, int err, const struct sip_msg *m)
{
    struct gw_guard *g = gw_guard_get();
    (void)ctx;
    if (g)
        gw_guard_malformed(g, in, err, m);
}
