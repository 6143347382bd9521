/*
 * Canary extensions and honey numbers: users nobody legitimate ever registers to or calls.
 * Any REGISTER or INVITE naming one (To, Request-URI or credentials) is an attacker walking
 * the number space: ban at first touch, whatever the source's learned trust.
 */
#include "det_int.h"
#include "pbxguard/sip/auth.h"

static bool is_canary(const struct det_config *c, struct slice u)
{
    for (size_t i = 0; i < c->ncanaries && u.len; i++)
        if (slice_eq_cstr(u, c->canaries[i]))
            return true;
    return false;
}

void det_canary_request(struct det_msgctx *mc)
{
    const struct det_config *c = &mc->e->cfg;
    const struct sip_msg *m = mc->m;
    const struct sip_digest *d;
    struct slice hit = SLICE_NULL;
    struct det_hit h;

    if (!c->canary.enabled || c->ncanaries == 0)
        return;
    if (m->method != SIP_METHOD_REGISTER && m->method != SIP_METHOD_INVITE)
        return;
    if (is_canary(c, det_target_user(m)))
        hit = det_target_user(m);
    else if (is_canary(c, m->ruri.user))
        hit = m->ruri.user;
    else if ((d = det_credentials(mc)) != NULL && is_canary(c, d->username))
        hit = d->username;
    if (!hit.len)
        return;
    det_hit_init(&h, "det.canary", "scan.canary", &c->canary, 100);
    h.reason = "canary extension touched";
    h.sev = EV_SEV_HIGH;
    h.target = hit;
    det_hit(mc, &h);
}
