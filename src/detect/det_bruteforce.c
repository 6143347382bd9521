/*
 * Brute force. A failure is a 401/407 (not stale) or 403 answering a request that carried
 * credentials; the request is matched to its response by Call-ID + CSeq number, remembered
 * per source. Per source: too many failures in a window -> action. Per account: failures
 * from many sources (distributed guessing) -> the account is protected: requests for it from
 * untrusted sources are refused for protect_ms, and an alert is raised once.
 * A success (2xx after credentials) gives the source learned trust for trust_ms; it never
 * lifts account protection nor exempts from canary, scanner or this detector.
 */
#include <string.h>

#include "det_int.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"

static uint64_t txn_id(const struct det_engine *e, const struct sip_msg *m)
{
    uint64_t h = pbx_siphash13(e->key, m->call_id.p, m->call_id.len) ^ m->cseq_num;
    return h ? h : 1;
}

/* The account a request is about: credentials' username, else the REGISTER's To user. */
static struct slice account_of(struct det_msgctx *mc)
{
    const struct sip_digest *d = det_credentials(mc);

    if (d && d->username.len)
        return d->username;
    if (mc->m->method == SIP_METHOD_REGISTER)
        return det_target_user(mc->m);
    return SLICE_NULL;
}

void det_account_request(struct det_msgctx *mc)
{
    const struct det_config *c = &mc->e->cfg;
    struct slice user;
    struct det_acct *a;
    struct det_hit h;

    if (!c->account.enabled)
        return;
    user = account_of(mc);
    a = det_acct_get(mc->e, user, mc->now, false);
    if (!a || a->protected_until <= mc->now)
        return;
    det_hit_init(&h, "det.account_protect", "auth.account_protected", &c->account, 80);
    if (h.action == DET_BAN)
        h.action = DET_REJECT; /* protection refuses; the per-source rule bans */
    h.reason = "Forbidden";
    h.target = user;
    det_hit(mc, &h);
}

void det_bruteforce_request(struct det_msgctx *mc)
{
    const struct sip_digest *d;
    struct det_pending *p;
    const struct sip_msg *m = mc->m;

    if (!mc->e->cfg.bruteforce.enabled && !mc->e->cfg.account.enabled)
        return;
    if (!(d = det_credentials(mc)) || !d->username.len || !m->call_id.len)
        return;
    /* Keep the newest two: a client retries one transaction at a time. */
    p = mc->src->pend[0].ms <= mc->src->pend[1].ms ? &mc->src->pend[0] : &mc->src->pend[1];
    p->txn = txn_id(mc->e, m);
    p->ms = mc->now;
    slice_copy_cstr(d->username, p->user, sizeof(p->user));
}

static bool stale_challenge(const struct sip_msg *m)
{
    struct sip_digest d;
    return (sip_msg_digest(m, SIP_HDR_WWW_AUTHENTICATE, 0, &d) == 0 ||
            sip_msg_digest(m, SIP_HDR_PROXY_AUTHENTICATE, 0, &d) == 0) &&
           d.stale_true;
}

static void account_failure(struct det_msgctx *mc, const char *user)
{
    struct det_engine *e = mc->e;
    const struct det_config *c = &e->cfg;
    struct det_acct *a = det_acct_get(e, slice_cstr(user), mc->now, true);
    struct pbx_addr sa = mc->src->addr;
    uint32_t sh = det_hash32(e, slice_make(&sa.ip, sa.family == AF_INET ? 4 : 16));
    struct det_hit h;
    unsigned fails, nsrc;

    if (!a)
        return;
    if (mc->now - a->fail.start >= c->bf_window_ms)
        a->n_fail_srcs = 0;
    fails = det_window_add(&a->fail, mc->now, c->bf_window_ms, 1);
    nsrc = det_set_add(a->fail_srcs, &a->n_fail_srcs, DET_ACCT_SRCS, sh);
    if (!c->account.enabled || (fails < c->bf_acct_failures && nsrc < c->bf_acct_sources))
        return;
    if (a->protected_until > mc->now)
        return; /* already protected: one alert per protection period */
    a->protected_until = mc->now + c->bf_protect_ms;
    a->alerted_ms = mc->now;
    det_hit_init(&h, "det.bruteforce_account", "auth.bruteforce_account", NULL, 90);
    h.action = DET_ALERT;
    h.sev = EV_SEV_HIGH;
    h.reason = "distributed password guessing; account protected";
    h.target = slice_cstr(a->name);
    h.ev[h.nev++] = EV_KV_I("failures", fails);
    h.ev[h.nev++] = EV_KV_I("sources", nsrc);
    h.ev[h.nev++] = EV_KV_I("protect_s", c->bf_protect_ms / 1000);
    det_hit(mc, &h);
}

void det_bruteforce_response(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    const struct det_config *c = &e->cfg;
    const struct sip_msg *m = mc->m;
    struct det_pending *p = NULL;
    uint64_t id;
    char user[DET_USER_MAX];
    struct det_hit h;
    unsigned fails;

    if (!m->call_id.len)
        return;
    id = txn_id(e, m);
    for (unsigned i = 0; i < DET_PENDING; i++)
        if (mc->src->pend[i].txn == id)
            p = &mc->src->pend[i];
    if (!p)
        return;
    if (m->status < 200)
        return; /* provisional: the final answer is still to come */
    memcpy(user, p->user, sizeof(user));
    memset(p, 0, sizeof(*p));
    /* Later detectors (enumeration) must know: the pending record is gone now. */
    mc->auth_answer = true;
    if (m->status >= 200 && m->status < 300) {
        /* Learned trust is bounded in time and only widens budgets (see header). */
        mc->src->trusted_until = mc->now + c->trust_ms;
        return;
    }
    if (!((m->status == 401 || m->status == 407) && !stale_challenge(m)) && m->status != 403)
        return;
    account_failure(mc, user);
    if (!c->bruteforce.enabled)
        return;
    det_note(mc);
    fails = det_window_add(&mc->src->auth_fail, mc->now, c->bf_window_ms, 1);
    /* A source that logged in successfully is usually a site behind NAT: a few phones with
     * a stale password must not get the whole site banned, so learned trust widens the
     * threshold as it widens the other budgets. Guessing sources never earn it. */
    if (fails < c->bf_src_failures * det_factor(mc))
        return;
    det_hit_init(&h, "det.bruteforce", "auth.bruteforce", &c->bruteforce, 90);
    h.reason = "password guessing";
    memcpy(mc->target_buf, user, sizeof(mc->target_buf));
    h.target = slice_cstr(mc->target_buf);
    h.ev[h.nev++] = EV_KV_I("failures", fails);
    h.ev[h.nev++] = EV_KV_I("window_s", c->bf_window_ms / 1000);
    h.ev[h.nev++] = EV_KV_I("status", m->status);
    det_hit(mc, &h);
}
