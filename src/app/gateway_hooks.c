/* Pipeline hooks of the gateway; see gateway_hooks.h. All pass for now. */
#include "gateway_hooks.h"

bool gw_hook_admit(void *ctx, const struct pbx_addr *remote, enum pbx_transport tp)
{
    (void)ctx;
    (void)remote;
    (void)tp;
    /* Ban table, allow-list, geo and per-source packet budget go here. */
    return true;
}

void gw_hook_request(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                     enum proxy_side from, struct gw_decision *d)
{
    (void)ctx;
    (void)in;
    (void)m;
    (void)from;
    /* Per-source / per-account detectors (scanners, brute force, floods) go here. */
    d->verdict = GW_PASS;
}

void gw_hook_response_inside(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                             struct gw_decision *d)
{
    (void)ctx;
    (void)in;
    (void)m;
    /* The PBX's 401/403/404/407/200 feed authentication failure/success counters here. */
    d->verdict = GW_PASS;
}

void gw_hook_initial_invite(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                            struct gw_decision *d)
{
    (void)ctx;
    (void)in;
    (void)m;
    /* The fraud policy (destination class, schedule, account limits) decides here. */
    d->verdict = GW_PASS;
}
