/*
 * The fraud policy's decision on each initial INVITE from outside: the account's policy for
 * a credentialed INVITE, the unauthenticated profile for one without credentials, and what a
 * refusal entails (call record, quarantine, the answer). See gateway_fraud.h, docs/fraud.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway_fraud_int.h"
#include "gateway_guard.h"
#include "pbxguard/core/log.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/fraud/event.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"

/* How long a source is banned on quarantine (escalation of the ban table applies). */
#define GF_QUARANTINE_BAN_MS (24LL * 3600 * 1000)

static char reject_reason[96]; /* outlives the hook call: proxy_reply copies it at once */

/* The authenticated account: digest username of Proxy-Authorization, else Authorization. */
static bool digest_user(const struct sip_msg *m, struct slice *user)
{
    struct sip_digest dg;
    if ((sip_msg_digest(m, SIP_HDR_PROXY_AUTHORIZATION, 0, &dg) == 0 ||
         sip_msg_digest(m, SIP_HDR_AUTHORIZATION, 0, &dg) == 0) &&
        dg.username.len > 0) {
        *user = dg.username;
        return true;
    }
    return false;
}

static void emit_quarantine_ban(const struct net_msg *in, const struct fraud_call_ctx *c,
                                int64_t now_wall)
{
    struct gw_guard *g = gw_guard_get();
    struct det_engine *de = gw_guard_engine(g);
    struct pbx_addr a = in->remote;
    a.port = 0;
    if (!de) {
        log_warn("gateway: fraud: quarantine: no detection engine to ban the source");
        return;
    }
    int rc = det_ban(de, &a, a.family == AF_INET6 ? 128 : 32, GF_QUARANTINE_BAN_MS,
                     "fraud.quarantine", "toll-fraud quarantine of the account", now_wall, NULL);
    if (rc < 0)
        log_warn("gateway: fraud: quarantine: ban of the source failed: %s", strerror(-rc));
    (void)c;
}

/* A refused INVITE: its record (the engine tracked nothing), quarantine, and the answer. */
static void refuse(struct gw_fraud *f, const struct net_msg *in, const struct fraud_call_ctx *c,
                   struct slice call_id, const struct fraud_decision *d, struct gw_decision *out)
{
    struct fraud_call_record r;
    memset(&r, 0, sizeof(r));
    slice_copy_cstr(call_id, r.call_id, sizeof(r.call_id));
    slice_copy_cstr(c->account, r.account, sizeof(r.account));
    slice_copy_cstr(c->source, r.source, sizeof(r.source));
    slice_copy_cstr(c->dialled, r.dialled, sizeof(r.dialled));
    memcpy(r.e164, d->e164, sizeof(r.e164));
    r.class = d->class;
    memcpy(r.country, d->country, sizeof(r.country));
    r.start_ms = r.end_ms = c->now_ms;
    r.verdict = d->action;
    r.rule = d->rule;
    r.cause = FRAUD_END_FAILED;
    gf_call_record(f, &r);
    if (d->action == FRAUD_ACT_QUARANTINE) {
        emit_quarantine_ban(in, c, clock_wall_ms());
        gf_end_calls(f, c->now_ms);
    }
    snprintf(reject_reason, sizeof(reject_reason), "%s (%s)",
             d->reason_phrase[0] ? d->reason_phrase : "Forbidden", fraud_rule_name(d->rule));
    out->verdict = GW_REJECT;
    out->status = d->status >= 400 && d->status <= 699 ? d->status : 403;
    out->reason = reject_reason;
}

/*
 * A refused INVITE without credentials is answered like a PBX that wants authentication
 * first: the challenge the enumeration shielding makes (the PBX's realm and nonce shape).
 * A 403 naming the rule would tell a scanner which numbers the PBX would have challenged,
 * that is which numbers exist (docs/fraud.md). The event keeps the rule. A caller with
 * credentials retries and is decided by its account's policy.
 */
static void challenge_instead(const struct sip_msg *m, struct gw_decision *out)
{
    static char line[512];
    struct gw_guard *g = gw_guard_get();
    if (!g || det_challenge_line(gw_guard_engine(g), true, m->ruri.host, line, sizeof(line)) < 0)
        return; /* no shape to copy: the 403 stands */
    out->status = 407;
    out->reason = "Proxy Authentication Required";
    out->extra = line;
}

/*
 * An initial INVITE without credentials. Decided without counting (the PBX normally
 * challenges it, and the credentialed retry is what counts); refused when the
 * unauthenticated profile forbids it, else remembered so that a 2xx from the PBX (an open
 * dial plan) makes it a tracked call of the source's pseudo-account.
 */
static void unauthenticated_invite(struct gw_fraud *f, const struct net_msg *in,
                                   const struct sip_msg *m, struct gf_dialog *known,
                                   struct gw_decision *out)
{
    static struct fraud_decision d;
    struct fraud_call_ctx c;
    char src[PBX_ENDPOINT_STRLEN], ip[PBX_ADDR_STRLEN], acct[FRAUD_ACCOUNT_MAX];
    struct pbx_endpoint ep;
    struct slice call_id = sip_msg_call_id(m);

    if (!fraud_engine_policy(f->eng)->check_unauthenticated)
        return;
    memset(&c, 0, sizeof(c));
    ep.transport = in->transport;
    ep.addr = in->remote;
    pbx_endpoint_fmt(&ep, src, sizeof(src));
    /* Keyed by the address alone: a new source port must not make a new account. */
    pbx_addr_fmt_ip(&in->remote, ip, sizeof(ip));
    if (snprintf(acct, sizeof(acct), "anonymous@%s", ip) >= (int)sizeof(acct))
        acct[sizeof(acct) - 1] = '\0'; /* cut like any account name */
    c.account = slice_cstr(acct);
    c.source = slice_cstr(src);
    c.dialled = m->ruri.user.len ? m->ruri.user : m->ruri.opaque;
    c.now_ms = gf_now(f);
    if (fraud_check_unauthenticated(f->eng, &c, &d) < 0)
        return;
    (void)fraud_event_decision(&d, &c, call_id, "gateway", false);
    if (d.action >= FRAUD_ACT_REJECT) {
        /* The engine counted nothing; locking and quarantine apply to the pseudo-account
         * (its answered calls end, the source is banned) as they would to an account. */
        int rc = 0;
        if (d.action == FRAUD_ACT_QUARANTINE)
            rc = fraud_account_quarantine(f->eng, c.account, c.now_ms, fraud_rule_name(d.rule));
        else if (d.action == FRAUD_ACT_LOCK)
            rc = fraud_account_lock(f->eng, c.account, c.now_ms, fraud_rule_name(d.rule));
        if (rc < 0)
            log_warn("gateway: fraud: %s not locked: %s", acct, strerror(-rc));
        refuse(f, in, &c, call_id, &d, out);
        challenge_instead(m, out);
        return;
    }
    if (known) {
        if (!known->anonymous)
            return; /* a tracked call's Call-ID reused without credentials: keep tracking */
        gf_dlg_del(f, known);
    }
    struct gf_dialog *g = gf_dlg_add(f, call_id);
    if (!g)
        return; /* passes, but an answer without authentication would go untracked */
    g->anonymous = true;
    f->n_anon++;
    g->anon_since_ms = c.now_ms;
    slice_copy_cstr(c.account, g->anon_account, sizeof(g->anon_account));
    slice_copy_cstr(c.source, g->anon_source, sizeof(g->anon_source));
    slice_copy_cstr(c.dialled, g->anon_dialled, sizeof(g->anon_dialled));
    gf_remember_caller(g, in, m);
}

void gw_fraud_initial_invite(const struct net_msg *in, const struct sip_msg *m,
                             struct gw_decision *out)
{
    struct gw_fraud *f = gf_active;
    static struct fraud_decision d;
    struct fraud_call_ctx c;
    char src[PBX_ENDPOINT_STRLEN];
    struct pbx_endpoint ep;
    struct slice call_id = sip_msg_call_id(m);

    out->verdict = GW_PASS;
    if (!f)
        return;
    /* A retransmission of a call already decided and tracked passes as it did. */
    struct gf_dialog *known = gf_dlg_find(f, call_id);
    if (known && known->invite_cseq == m->cseq_num)
        return;
    memset(&c, 0, sizeof(c));
    if (!digest_user(m, &c.account)) {
        unauthenticated_invite(f, in, m, known, out);
        return;
    }
    ep.transport = in->transport;
    ep.addr = in->remote;
    pbx_endpoint_fmt(&ep, src, sizeof(src));
    c.source = slice_cstr(src);
    c.dialled = m->ruri.user.len ? m->ruri.user : m->ruri.opaque;
    c.now_ms = gf_now(f);
    if (fraud_check_invite(f->eng, &c, &d) < 0)
        return;
    (void)fraud_event_decision(&d, &c, call_id, "gateway", false);
    if (d.action >= FRAUD_ACT_REJECT) {
        refuse(f, in, &c, call_id, &d, out);
        return;
    }
    if (known) {
        /* The same Call-ID again with a new CSeq (a new challenge round): track afresh. */
        gf_track_end(f->eng, call_id, c.now_ms, FRAUD_END_FAILED);
        gf_dlg_del(f, known);
    }
    int rc = fraud_call_start(f->eng, call_id, &c, &d);
    if (rc == -ENOSPC) {
        /* An untracked call would escape concurrency, duration and spend control: refuse
         * it (fail closed) until calls end (docs/internals/fraud.md). */
        log_warn("gateway: fraud: call table full; call refused");
        out->verdict = GW_REJECT;
        out->status = 503;
        out->reason = "Service Unavailable (state_full)";
        return;
    }
    if (rc < 0 && rc != -EEXIST) {
        log_debug("gateway: fraud: call not tracked: %s", strerror(-rc));
        return;
    }
    struct gf_dialog *g = gf_dlg_add(f, call_id);
    if (!g)
        return; /* decided and counted, but it cannot be ended by BYE */
    gf_remember_caller(g, in, m);
}
