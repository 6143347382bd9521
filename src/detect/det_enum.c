/*
 * Enumeration: one source asking for many distinct users that the PBX answers as missing
 * (404 Not Found, 484 Address Incomplete, 604 Does Not Exist Anywhere, or 403 to a request
 * without credentials). 401/407 are NOT counted: every legitimate first REGISTER gets one,
 * and 50 phones behind one NAT are 50 distinct users.
 */
#include "det_int.h"
#include "pbxguard/sip/auth.h"

void det_enum_response(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    const struct det_config *c = &e->cfg;
    const struct sip_msg *m = mc->m;
    struct det_src *src = mc->src;
    struct slice user;
    struct det_hit h;
    unsigned n;

    if (!c->enumeration.enabled)
        return;
    if (m->status != 404 && m->status != 484 && m->status != 604 && m->status != 403)
        return;
    if (m->status == 403) {
        /* A 403 after credentials is a brute-force failure, not a missing user. */
        if (mc->auth_answer)
            return;
        for (unsigned i = 0; i < DET_PENDING; i++)
            if (src->pend[i].txn)
                return;
    }
    user = det_target_user(m);
    if (!user.len)
        return;
    if (mc->now - src->enum_win.start >= c->enum_window_ms) {
        src->enum_win.start = mc->now;
        src->n_enum_users = 0;
    }
    det_note(mc);
    n = det_set_add(src->enum_users, &src->n_enum_users, DET_MAX_TARGETS, det_hash32(e, user));
    /* Learned trust (a source that logged in) widens this like every budget: a site behind
     * NAT whose phones retry with stale passwords in parallel sees 403s the pending-request
     * table (two per source) cannot all match to their credentials. */
    if (n < c->enum_users * det_factor(mc))
        return;
    det_hit_init(&h, "det.enumeration", "scan.enumeration", &c->enumeration, 90);
    h.reason = "user enumeration";
    h.target = user;
    h.ev[h.nev++] = EV_KV_I("distinct_users", n);
    h.ev[h.nev++] = EV_KV_I("status", m->status);
    h.ev[h.nev++] = EV_KV_I("window_s", c->enum_window_ms / 1000);
    det_hit(mc, &h);
}
