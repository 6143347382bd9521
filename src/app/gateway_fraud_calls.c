/*
 * Tracking of the calls the fraud policy let through, from the INVITE to their end (2xx, BYE,
 * CANCEL, failure), and ending a running call with a BYE both ways when the policy says so
 * (max duration, spend, quarantine). See gateway_fraud.h and docs/fraud.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gateway_fraud_int.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/log.h"
#include "pbxguard/fraud/event.h"
#include "pbxguard/sip/headers.h"

#define GF_ENDS_BATCH 16u
/* Branch prefix of the BYEs we originate: their responses are ours to absorb. */
#define GF_BRANCH "z9hG4bK-pbxgf-"

/* ------------------------------------------------------------------------------------ */
/* Retransmission of our requests towards the PBX over UDP (RFC 3261 §17.1.2.2). */

static void retx_add(struct gw_fraud *f, const struct net_dest *dest, const uint8_t *buf, size_t n,
                     uint64_t seq, int32_t dlg)
{
    if (dest->transport != PBX_TP_UDP || n > GF_RETX_LEN)
        return;
    for (unsigned i = 0; i < GF_RETX_MAX; i++) {
        struct gf_retx *x = &f->retx[i];
        if (x->used)
            continue;
        x->used = true;
        x->tries = 0;
        x->len = (uint16_t)n;
        x->seq = seq;
        x->dlg = dlg;
        x->interval_ms = 500;
        x->next_ms = clock_mono_ms() + x->interval_ms;
        x->dest = *dest;
        memcpy(x->buf, buf, n);
        f->n_retx++;
        return;
    }
}

/* The CANCEL of dialog slot dlg was answered (or its INVITE was). */
static void retx_stop_dlg(struct gw_fraud *f, int32_t dlg)
{
    for (unsigned i = 0; i < GF_RETX_MAX && f->n_retx; i++)
        if (f->retx[i].used && f->retx[i].dlg == dlg) {
            f->retx[i].used = false;
            f->n_retx--;
        }
}

/* ------------------------------------------------------------------------------------ */
/* Dialog table: bounded, keyed by a seeded hash of the Call-ID confirmed by comparison. */

static uint32_t bucket_of(const struct gw_fraud *f, struct slice id)
{
    return (uint32_t)pbx_siphash13(f->key, id.p, id.len) & (f->n_buckets - 1);
}

struct gf_dialog *gf_dlg_find(struct gw_fraud *f, struct slice id)
{
    if (!id.len || id.len >= FRAUD_CALL_ID_MAX)
        return NULL;
    for (int32_t i = f->buckets[bucket_of(f, id)]; i >= 0; i = f->dlg[i].next) {
        struct gf_dialog *d = &f->dlg[i];
        if (d->call_id_len == id.len && memcmp(d->call_id, id.p, id.len) == 0)
            return d;
    }
    return NULL;
}

struct gf_dialog *gf_dlg_add(struct gw_fraud *f, struct slice id)
{
    if (!id.len || id.len >= FRAUD_CALL_ID_MAX)
        return NULL;
    for (uint32_t i = 0; i < GW_FRAUD_DIALOGS_MAX; i++) {
        struct gf_dialog *d = &f->dlg[i];
        if (d->used)
            continue;
        memset(d, 0, sizeof(*d));
        d->used = true;
        memcpy(d->call_id, id.p, id.len);
        d->call_id_len = id.len;
        uint32_t b = bucket_of(f, id);
        d->next = f->buckets[b];
        f->buckets[b] = (int32_t)i;
        f->n_dlg++;
        return d;
    }
    return NULL;
}

void gf_dlg_del(struct gw_fraud *f, struct gf_dialog *d)
{
    uint32_t b = bucket_of(f, slice_make(d->call_id, d->call_id_len));
    int32_t idx = (int32_t)(d - f->dlg);
    for (int32_t *p = &f->buckets[b]; *p >= 0; p = &f->dlg[*p].next)
        if (*p == idx) {
            *p = d->next;
            break;
        }
    if (d->anonymous)
        f->n_anon--;
    if (d->cancel_sent) {
        /* Any answer to the INVITE means our CANCEL arrived or no longer matters. */
        retx_stop_dlg(f, idx);
        f->n_cancel--;
    }
    d->used = false;
    f->n_dlg--;
}

/* ------------------------------------------------------------------------------------ */
/* Ending a running call: BYE both ways (RFC 3261 §15.1.1, Reason per RFC 3326). */

static const char *via_tp(enum pbx_transport t)
{
    return t == PBX_TP_TLS ? "TLS" : t == PBX_TP_TCP ? "TCP" : "UDP";
}

static void send_bye(struct gw_fraud *f, const struct gf_dialog *d, bool to_callee, const char *why)
{
    static char buf[4096];
    char local[PBX_ADDR_STRLEN];
    const struct net_dest *dest = to_callee ? &d->pbx_dest : &d->caller_dest;
    const struct pbx_addr *la = to_callee ? &d->pbx_local : &d->caller_local;
    const char *route = to_callee ? d->route_callee : d->route_caller;
    uint32_t cseq = to_callee ? d->caller_cseq + 1 : d->callee_cseq + 1;
    const char *target = to_callee ? d->callee_uri : d->caller_uri;

    if (!target[0] || !d->from[0] || !d->to[0]) {
        log_warn("gateway: fraud: no usable dialog data towards the %s; BYE not sent",
                 to_callee ? "PBX" : "caller");
        return;
    }
    pbx_addr_fmt(la, local, sizeof(local));
    int n =
        snprintf(buf, sizeof(buf),
                 "BYE %s SIP/2.0\r\n"
                 "Via: SIP/2.0/%s %s;branch=" GF_BRANCH "%016" PRIx64 ";rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "%s%s%s"
                 "From: %s\r\n"
                 "To: %s\r\n"
                 "Call-ID: %.*s\r\n"
                 "CSeq: %" PRIu32 " BYE\r\n"
                 "Reason: SIP;cause=200;text=\"pbxguard fraud policy: %s\"\r\n"
                 "Content-Length: 0\r\n\r\n",
                 target, via_tp(dest->transport), local, ++f->bye_seq, route[0] ? "Route: " : "",
                 route, route[0] ? "\r\n" : "", to_callee ? d->from : d->to,
                 to_callee ? d->to : d->from, (int)d->call_id_len, d->call_id, cseq, why);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        log_warn("gateway: fraud: BYE does not fit; call not ended on that side");
        return;
    }
    int rc = net_send(f->net, dest, (const uint8_t *)buf, (size_t)n);
    if (to_callee)
        retx_add(f, dest, (const uint8_t *)buf, (size_t)n, f->bye_seq, -1);
    if (rc < 0)
        log_warn("gateway: fraud: BYE towards the %s failed: %s", to_callee ? "PBX" : "caller",
                 strerror(-rc));
}

/*
 * RFC 3261 §9.1: a ringing call is ended by a CANCEL with the INVITE's Request-URI, Call-ID,
 * From, To, CSeq number and Route, and the top Via of the INVITE we forwarded. The CANCEL the
 * caller would send is prepared from its INVITE and goes through the proxy like one received
 * from the caller: the proxy's stateless branch (§16.11) is a hash of exactly those fields, so
 * it gets our Via of the INVITE and the same upstream. False when it could not be sent.
 */
static bool send_cancel(struct gw_fraud *f, const struct gf_dialog *d)
{
    static struct sip_msg cm; /* large; one event-loop thread */
    struct proxy_action act;
    struct net_msg in;

    if (!d->cancel_len || !f->px)
        return false;
    memset(&in, 0, sizeof(in));
    in.buf = (const uint8_t *)d->cancel;
    in.len = d->cancel_len;
    in.transport = d->caller_dest.transport;
    in.remote = d->caller_dest.addr;
    in.local = d->caller_local;
    in.listener_id = d->caller_dest.listener_id;
    in.conn_id = d->caller_dest.conn_id;
    if (sip_msg_parse(&cm, in.buf, in.len, SIP_PARSE_STREAM) < 0 ||
        proxy_process(f->px, &in, &cm, &act) < 0 || act.kind != PROXY_ACT_FORWARD) {
        log_warn("gateway: fraud: no CANCEL could be made for a ringing call");
        return false;
    }
    int rc = net_send(f->net, &act.dest, act.buf, act.len);
    if (rc < 0)
        log_warn("gateway: fraud: CANCEL towards the PBX failed: %s", strerror(-rc));
    retx_add(f, &act.dest, act.buf, act.len, 0, (int32_t)(d - f->dlg));
    return true;
}

/* The engine forgets calls it ended itself (setup timeout): -ENOENT is expected then. */
void gf_track_end(struct fraud_engine *e, struct slice id, int64_t now, enum fraud_end_cause cause)
{
    int rc = fraud_call_ended(e, id, now, cause);
    if (rc < 0 && rc != -ENOENT)
        log_debug("gateway: fraud: call end not recorded: %s", strerror(-rc));
}

void gf_end_calls(struct gw_fraud *f, int64_t now)
{
    struct fraud_call_end ends[GF_ENDS_BATCH];
    size_t n;
    do {
        n = fraud_tick(f->eng, now, ends, GF_ENDS_BATCH);
        for (size_t i = 0; i < n; i++) {
            struct slice id = slice_cstr(ends[i].call_id);
            struct gf_dialog *d = gf_dlg_find(f, id);
            const char *why = fraud_rule_name(ends[i].rule);
            bool ringing = false;
            if (d && d->answered) {
                send_bye(f, d, true, why);
                send_bye(f, d, false, why);
            } else if (d && !d->anonymous && !d->cancelled && !d->cancel_sent &&
                       send_cancel(f, d)) {
                /* Kept until the PBX's final answer: the 200 to our CANCEL is ours, the
                 * 487 goes on to the caller. */
                ringing = d->cancel_sent = true;
                d->cancel_since_ms = now;
                d->end_why = why;
                f->n_cancel++;
            }
            log_info("gateway: fraud: call of account %s ended (%s)%s", ends[i].account, why,
                     d && d->answered ? ": BYE sent both ways"
                     : ringing        ? ": ringing, CANCEL sent to the PBX"
                                      : ": not answered, untracked");
            if (d && !ringing)
                gf_dlg_del(f, d);
            gf_track_end(f->eng, id, now, FRAUD_END_ENFORCED);
        }
    } while (n == GF_ENDS_BATCH);
}

void gf_on_retx(void *ctx, struct net_timer *t)
{
    struct gw_fraud *f = ctx;
    int64_t now = clock_mono_ms();
    (void)t;
    for (unsigned i = 0; i < GF_RETX_MAX && f->n_retx; i++) {
        struct gf_retx *x = &f->retx[i];
        if (!x->used || now < x->next_ms)
            continue;
        if (x->tries >= GF_RETX_TRIES) {
            log_warn("gateway: fraud: a %s towards the PBX was never answered",
                     x->dlg >= 0 ? "CANCEL" : "BYE");
            x->used = false;
            f->n_retx--;
            continue;
        }
        x->tries++;
        x->interval_ms = x->interval_ms * 2 > 4000 ? 4000 : x->interval_ms * 2;
        x->next_ms = now + x->interval_ms;
        if (net_send(f->net, &x->dest, x->buf, x->len) < 0)
            log_debug("gateway: fraud: retransmission towards the PBX failed");
    }
}

/* The sequence number of one of our BYEs from its branch; false for any other branch. */
static bool bye_branch_seq(const struct gw_fraud *f, struct slice branch, uint64_t *out)
{
    size_t plen = sizeof(GF_BRANCH) - 1;
    uint64_t seq = 0;
    if (branch.len != plen + 16 || !slice_starts_with_ci(branch, GF_BRANCH))
        return false;
    for (size_t i = plen; i < branch.len; i++) {
        char c = branch.p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        seq = seq << 4 | (uint64_t)v;
    }
    if (seq == 0 || seq > f->bye_seq)
        return false; /* never sent */
    *out = seq;
    return true;
}

/* An answer to one of our BYEs: stops its retransmissions. */
static void retx_answered(struct gw_fraud *f, struct slice branch)
{
    uint64_t seq;
    if (!bye_branch_seq(f, branch, &seq))
        return;
    for (unsigned i = 0; i < GF_RETX_MAX; i++)
        if (f->retx[i].used && f->retx[i].dlg < 0 && f->retx[i].seq == seq) {
            f->retx[i].used = false;
            f->n_retx--;
            return;
        }
}

/* Unauthenticated INVITEs never answered finally (lost responses), and INVITEs we cancelled
 * whose final answer never came, free their dialog slot after the setup timeout, like tracked
 * calls do in the engine. */
void gf_purge_pending(struct gw_fraud *f, int64_t now)
{
    int64_t limit = (int64_t)fraud_engine_policy(f->eng)->setup_timeout_s * 1000;
    for (uint32_t i = 0; i < GW_FRAUD_DIALOGS_MAX && (f->n_anon || f->n_cancel); i++) {
        struct gf_dialog *d = &f->dlg[i];
        if (d->used && ((d->anonymous && now - d->anon_since_ms > limit) ||
                        (d->cancel_sent && now - d->cancel_since_ms > limit)))
            gf_dlg_del(f, d);
    }
}

/* ------------------------------------------------------------------------------------ */
/* What a BYE needs, copied out of the messages of the call */

static bool copy_value(const struct sip_msg *m, enum sip_hdr_id id, char *dst, size_t cap)
{
    const struct sip_hdr *h = sip_msg_hdr(m, id, 0);
    if (!h)
        return false;
    size_t n = sip_value_unfold(h->value, dst, cap);
    if (n == 0 || n >= cap - 1) {
        dst[0] = '\0'; /* too long: never a cut header */
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20 && dst[i] != '\t') {
            dst[0] = '\0'; /* no header injection through a copied value */
            return false;
        }
    return true;
}

static bool copy_slice(struct slice s, char *dst, size_t cap)
{
    if (!s.len || s.len >= cap)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.p[i] < 0x20)
            return false; /* no header injection through a copied URI */
    memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    return true;
}

static void dest_of(const struct net_msg *in, struct net_dest *d)
{
    d->transport = in->transport;
    d->addr = in->remote;
    d->conn_id = in->conn_id;
    d->listener_id = in->listener_id;
}

static void cancel_put(struct gf_dialog *g, size_t *off, bool *ok, const char *fmt, ...)
    PBX_PRINTF(4, 5);

/* Appends to the prepared CANCEL; once something does not fit, nothing is kept. */
static void cancel_put(struct gf_dialog *g, size_t *off, bool *ok, const char *fmt, ...)
{
    va_list ap;
    if (!*ok)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(g->cancel + *off, sizeof(g->cancel) - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(g->cancel) - *off) {
        *ok = false;
        return;
    }
    *off += (size_t)n;
}

/*
 * The CANCEL the caller would send for INVITE m (RFC 3261 §9.1): its Request-URI, top Via,
 * Route, From, To, Call-ID and CSeq number. Copied values are the checked copies, so no
 * header can be injected; anything missing or too long leaves no CANCEL.
 */
static void prepare_cancel(struct gf_dialog *g, const struct sip_msg *m)
{
    char to[GW_FRAUD_HDR_MAX], uri[GW_FRAUD_HDR_MAX], route[GW_FRAUD_ROUTE_MAX];
    struct sip_via v;
    size_t off = 0;
    bool ok = true;

    g->cancel_len = 0;
    if (!g->from[0] || !copy_value(m, SIP_HDR_TO, to, sizeof(to)) ||
        !copy_slice(m->ruri_raw, uri, sizeof(uri)) || sip_msg_via(m, 0, &v) < 0 ||
        v.host.len >= GW_FRAUD_HDR_MAX || v.params.len >= GW_FRAUD_HDR_MAX)
        return;
    char host[GW_FRAUD_HDR_MAX], params[GW_FRAUD_HDR_MAX];
    if (!copy_slice(v.host, host, sizeof(host)))
        return;
    params[0] = '\0';
    if (v.params.len && !copy_slice(v.params, params, sizeof(params)))
        return;
    bool v6 = v.host_type == SIP_HOST_IPV6;
    cancel_put(g, &off, &ok, "CANCEL %s SIP/2.0\r\nVia: %.*s/%.*s/%.*s %s%s%s", uri,
               (int)v.protocol.len, v.protocol.p, (int)v.version.len, v.version.p,
               (int)v.transport.len, v.transport.p, v6 ? "[" : "", host, v6 ? "]" : "");
    if (v.port)
        cancel_put(g, &off, &ok, ":%u", (unsigned)v.port);
    cancel_put(g, &off, &ok, "%s\r\n", params);
    for (unsigned i = 0; i < m->count[SIP_HDR_ROUTE] && ok; i++) {
        const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE, i);
        size_t n = h ? sip_value_unfold(h->value, route, sizeof(route)) : 0;
        if (n == 0 || n >= sizeof(route) - 1)
            return;
        for (size_t j = 0; j < n; j++)
            if ((unsigned char)route[j] < 0x20 && route[j] != '\t')
                return;
        cancel_put(g, &off, &ok, "Route: %.*s\r\n", (int)n, route);
    }
    cancel_put(g, &off, &ok,
               "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %.*s\r\n"
               "CSeq: %" PRIu32 " CANCEL\r\nContent-Length: 0\r\n\r\n",
               g->from, to, (int)g->call_id_len, g->call_id, m->cseq_num);
    if (ok && off <= UINT16_MAX)
        g->cancel_len = (uint16_t)off;
}

/* What a BYE towards the caller, or a CANCEL of its INVITE, needs from the INVITE. */
void gf_remember_caller(struct gf_dialog *g, const struct net_msg *in, const struct sip_msg *m)
{
    g->invite_cseq = g->caller_cseq = m->cseq_num;
    dest_of(in, &g->caller_dest);
    g->caller_local = in->local;
    const struct sip_name_addr *ct = sip_msg_contact_get(m, 0);
    if (!copy_value(m, SIP_HDR_FROM, g->from, sizeof(g->from)) || !ct ||
        !copy_slice(ct->uri_raw, g->caller_uri, sizeof(g->caller_uri)))
        g->caller_uri[0] = '\0'; /* cannot address a BYE to the caller */
    prepare_cancel(g, m);
}

/* ------------------------------------------------------------------------------------ */
/* Message path: answers and in-dialog requests */

/* Our Record-Route entry: its host and port are one of our local addresses. */
static bool rr_is_ours(const struct sip_name_addr *na, const struct gf_dialog *d)
{
    struct pbx_addr a;
    if (pbx_addr_parse(na->uri.host.p, na->uri.host.len, &a) < 0)
        return false;
    a.port = na->uri.port ? na->uri.port : 5060;
    return pbx_addr_eq(&a, &d->pbx_local, true) || pbx_addr_eq(&a, &d->caller_local, true);
}

static void append_route(char *dst, size_t cap, struct slice v)
{
    size_t n = strlen(dst);
    if (!v.len)
        return;
    int w = snprintf(dst + n, cap - n, "%s%.*s", n ? ", " : "", (int)v.len, v.p);
    if (w < 0 || (size_t)w >= cap - n)
        dst[0] = '\0';
}

/*
 * A 2xx to the tracked INVITE (RFC 3261 §12.1.2): the callee's tag and Contact, the route
 * set split at our own Record-Route entries into the PBX side and the phone side.
 */
static void learn_answer(struct gf_dialog *d, const struct net_msg *in, const struct sip_msg *m)
{
    struct sip_name_addr na;
    bool seen_ours = false;
    const struct sip_name_addr *ct = sip_msg_contact_get(m, 0);

    dest_of(in, &d->pbx_dest);
    d->pbx_local = in->local;
    if (!copy_value(m, SIP_HDR_TO, d->to, sizeof(d->to)) || !ct ||
        !copy_slice(ct->uri_raw, d->callee_uri, sizeof(d->callee_uri)))
        return;
    d->route_callee[0] = d->route_caller[0] = '\0';
    for (unsigned i = 0; i < 16 && sip_msg_name_addr(m, SIP_HDR_RECORD_ROUTE, i, &na) == 0; i++) {
        struct slice raw = slice_make(na.uri_raw.p, na.uri_raw.len);
        char item[GW_FRAUD_HDR_MAX];
        if (rr_is_ours(&na, d)) {
            seen_ours = true;
            continue;
        }
        if (!copy_slice(raw, item, sizeof(item)))
            continue;
        char wrapped[GW_FRAUD_HDR_MAX + 2];
        snprintf(wrapped, sizeof(wrapped), "<%s>", item);
        if (seen_ours)
            append_route(d->route_caller, sizeof(d->route_caller), slice_cstr(wrapped));
        else
            append_route(d->route_callee, sizeof(d->route_callee), slice_cstr(wrapped));
    }
    d->answered = true;
}

static void unauthenticated_call_event(const struct gf_dialog *d, const struct fraud_decision *dec,
                                       int64_t now)
{
    struct ev_kv kv[4];
    struct ev_record ev;
    kv[0] = EV_KV_S("e164", slice_cstr(dec->e164));
    kv[1] = EV_KV_S("class", slice_cstr(fraud_class_name(dec->class)));
    kv[2] = EV_KV_S("dialled", slice_cstr(d->anon_dialled));
    kv[3] = EV_KV_S("group", slice_cstr(dec->group));
    memset(&ev, 0, sizeof(ev));
    ev.ts_ms = now;
    ev.type = "fraud.unauthenticated_call";
    ev.rule = "fraud.unauthenticated_call";
    ev.action = EV_ACT_ALERT;
    ev.severity = EV_SEV_HIGH;
    ev.component = "gateway";
    ev.src = slice_cstr(d->anon_source);
    ev.target = slice_cstr(d->anon_account);
    ev.call_id = slice_make(d->call_id, d->call_id_len);
    ev.method = SLICE_LIT("INVITE");
    ev.reason = "the PBX answered a call that carried no credentials (open dial plan)";
    ev.evidence = kv;
    ev.n_evidence = 4;
    (void)ev_emit(&ev);
}

/*
 * The final answer to an unauthenticated INVITE. A challenge or a refusal ends our interest
 * (the credentialed retry is decided as usual); a 2xx means the PBX routed it without
 * authentication: from now on it is a call of the source's pseudo-account, limited and
 * ended like any other, and the operator is alerted.
 */
static void anonymous_final(struct gw_fraud *f, struct gf_dialog *d, const struct net_msg *in,
                            const struct sip_msg *m, int64_t now)
{
    struct fraud_decision dec;
    struct fraud_call_ctx c;
    struct slice id = slice_make(d->call_id, d->call_id_len);

    if (m->status >= 300) {
        gf_dlg_del(f, d);
        return;
    }
    memset(&c, 0, sizeof(c));
    c.account = slice_cstr(d->anon_account);
    c.source = slice_cstr(d->anon_source);
    c.dialled = slice_cstr(d->anon_dialled);
    c.now_ms = now;
    if (fraud_check_unauthenticated(f->eng, &c, &dec) < 0)
        return;
    d->anonymous = false;
    f->n_anon--;
    log_warn("gateway: fraud: the PBX answered an unauthenticated call from %s to %s",
             d->anon_source, dec.e164[0] ? dec.e164 : "?");
    unauthenticated_call_event(d, &dec, now);
    int rc = fraud_call_start(f->eng, id, &c, &dec);
    if (rc < 0 && rc != -EEXIST) {
        log_warn("gateway: fraud: unauthenticated call not tracked: %s", strerror(-rc));
        gf_dlg_del(f, d);
        return;
    }
    learn_answer(d, in, m);
    if (fraud_call_answered(f->eng, id, now) < 0)
        log_debug("gateway: fraud: answered call unknown to the engine");
}

bool gw_fraud_response(const struct net_msg *in, const struct sip_msg *m)
{
    struct gw_fraud *f = gf_active;
    const struct sip_via *v = sip_msg_via0_get(m);
    if (!f)
        return false;
    if (v && slice_starts_with_ci(v->branch, GF_BRANCH)) {
        if (m->status >= 200)
            retx_answered(f, v->branch);
        f->own_answers++;
        return true; /* the answer to one of our BYEs */
    }
    struct slice id = sip_msg_call_id(m);
    struct gf_dialog *d = gf_dlg_find(f, id);
    if (d && m->cseq_method == SIP_METHOD_CANCEL) {
        /* Our CANCEL carries the INVITE's branch: its answer is told apart by the dialog
         * only. The caller's own CANCEL (d->cancelled) gets its answer. */
        if (!d->cancel_sent || d->cancelled)
            return false;
        if (m->status >= 200)
            retx_stop_dlg(f, (int32_t)(d - f->dlg));
        f->own_answers++;
        return true;
    }
    if (!d || m->status < 200)
        return false;
    int64_t now = gf_now(f);
    if (m->cseq_method == SIP_METHOD_BYE) {
        /* The caller's BYE ends the call when the PBX accepts it (or no longer knows the
         * dialog): a BYE the PBX refuses must not stop the clock of a running call. */
        if (m->status < 300 || m->status == 481) {
            gf_track_end(f->eng, id, now, FRAUD_END_BYE);
            gf_dlg_del(f, d);
        }
        return false;
    }
    if (m->cseq_method != SIP_METHOD_INVITE || d->invite_cseq != m->cseq_num)
        return false;
    if (d->anonymous) {
        anonymous_final(f, d, in, m, now);
        return false;
    }
    if (m->status < 300) {
        if (!d->answered && d->cancel_sent) {
            /* Answered before our CANCEL arrived (RFC 3261 §9.1): the call is up but
             * already ended for the policy, so it is ended with BYE both ways. */
            learn_answer(d, in, m);
            if (d->answered) {
                send_bye(f, d, true, d->end_why);
                send_bye(f, d, false, d->end_why);
            }
            gf_dlg_del(f, d);
            return false;
        }
        if (!d->answered) {
            learn_answer(d, in, m);
            if (fraud_call_answered(f->eng, id, now) < 0)
                log_debug("gateway: fraud: answered call unknown to the engine");
        }
        return false;
    }
    if (!d->answered) {
        gf_track_end(f->eng, id, now, d->cancelled ? FRAUD_END_CANCEL : FRAUD_END_FAILED);
        gf_dlg_del(f, d);
    }
    return false;
}

void gw_fraud_request(const struct net_msg *in, const struct sip_msg *m, bool from_inside)
{
    struct gw_fraud *f = gf_active;
    (void)in;
    const struct sip_name_addr *to = sip_msg_to_get(m);
    if (!f || (m->method == SIP_METHOD_INVITE && (!to || !to->tag.p)))
        return; /* initial INVITEs are decided by gw_fraud_initial_invite */
    struct slice id = sip_msg_call_id(m);
    struct gf_dialog *d = gf_dlg_find(f, id);
    if (!d)
        return;
    switch (m->method) {
    case SIP_METHOD_BYE:
        /* The PBX side is trusted: its BYE ends the call now. The caller's BYE ends it when
         * the PBX accepts it (gw_fraud_response). */
        if (from_inside) {
            gf_track_end(f->eng, id, gf_now(f), FRAUD_END_BYE);
            gf_dlg_del(f, d);
        }
        return;
    case SIP_METHOD_CANCEL:
        /* The call ends with the PBX's 487 to the INVITE; remember why. */
        if (!from_inside)
            d->cancelled = true;
        return;
    case SIP_METHOD_ACK:
        return; /* an ACK carries the CSeq number of its INVITE */
    default:
        break;
    }
    if (from_inside) {
        if (m->cseq_num > d->callee_cseq)
            d->callee_cseq = m->cseq_num;
    } else if (m->cseq_num > d->caller_cseq) {
        d->caller_cseq = m->cseq_num;
    }
}

bool gw_fraud_response_outside(const struct net_msg *in, const struct sip_msg *m)
{
    struct gw_fraud *f = gf_active;
    const struct sip_via *v = sip_msg_via0_get(m);
    uint64_t seq;
    (void)in;
    /* The caller's answer to the BYE we sent it: ours alone (the proxy has no Via of its own
     * to route it on), so it ends here instead of being reported as a stray response. */
    if (!f || !v || !bye_branch_seq(f, v->branch, &seq))
        return false;
    f->own_answers++;
    return true;
}
