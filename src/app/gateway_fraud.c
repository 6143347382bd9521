/* The toll-fraud policy in the gateway; see gateway_fraud.h and docs/fraud.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gateway_fraud.h"
#include "gateway_guard.h"
#include "pbxguard/core/addr.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/escape.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/log.h"
#include "pbxguard/core/siphash.h"
#include "pbxguard/ctl/ctl.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/fraud/config.h"
#include "pbxguard/fraud/engine.h"
#include "pbxguard/fraud/event.h"
#include "pbxguard/net/loop.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/store/store.h"

/* fraud_tick cadence: max duration and spend are enforced within this. */
#define GF_TICK_MS 1000u
#define GF_ENDS_BATCH 16u
/* Branch prefix of the BYEs we originate: their responses are ours to absorb. */
#define GF_BRANCH "z9hG4bK-pbxgf-"
/* UDP BYEs towards the PBX are retransmitted until answered (RFC 3261 §17.1.2.2, Timer E:
 * 500 ms doubling up to 4 s, at most GF_RETX_TRIES resends): a lost BYE would leave the paid
 * leg running. Towards the phone a BYE is sent once: its answer does not come back through
 * the fraud hooks, and the phone leg costs nothing. */
#define GF_RETX_MAX 64u
#define GF_RETX_TRIES 6u
#define GF_RETX_LEN 2048u
#define GF_RETX_TICK_MS 250u

/* How long a source is banned on quarantine (escalation of the ban table applies). */
#define GF_QUARANTINE_BAN_MS (24LL * 3600 * 1000)

/* What the gateway keeps of one tracked call to be able to end it (RFC 3261 §12). */
struct gf_dialog {
    bool used, answered, cancelled;
    /* An INVITE without credentials the policy let through: the engine tracks it only if the
     * PBX answers it with a 2xx (no challenge), as a call of the pseudo-account. */
    bool anonymous;
    int64_t anon_since_ms;
    char anon_account[FRAUD_ACCOUNT_MAX];
    char anon_source[PBX_ENDPOINT_STRLEN];
    char anon_dialled[FRAUD_DIALLED_MAX + 1];
    int32_t next; /* hash chain */
    char call_id[FRAUD_CALL_ID_MAX];
    size_t call_id_len;
    uint32_t invite_cseq;                  /* CSeq of the INVITE being tracked */
    uint32_t caller_cseq;                  /* highest CSeq seen from the caller */
    uint32_t callee_cseq;                  /* highest CSeq seen from the callee side */
    char from[GW_FRAUD_HDR_MAX];           /* caller's From value, tag included */
    char to[GW_FRAUD_HDR_MAX];             /* To value of the 2xx, callee tag included */
    char caller_uri[GW_FRAUD_HDR_MAX];     /* remote target towards the caller (its Contact) */
    char callee_uri[GW_FRAUD_HDR_MAX];     /* remote target towards the callee (2xx Contact) */
    char route_callee[GW_FRAUD_ROUTE_MAX]; /* Record-Route entries beyond us, PBX side */
    char route_caller[GW_FRAUD_ROUTE_MAX]; /* Record-Route entries beyond us, phone side */
    struct net_dest caller_dest, pbx_dest;
    struct pbx_addr caller_local, pbx_local; /* our address on each side, for Via */
};

struct gf_retx {
    bool used;
    uint8_t tries;
    uint16_t len;
    uint64_t seq; /* the branch suffix */
    int64_t next_ms, interval_ms;
    struct net_dest dest;
    uint8_t buf[GF_RETX_LEN];
};

struct gw_fraud {
    struct fraud_engine *eng;
    struct store *store;
    struct net *net;
    struct net_loop *loop;
    struct proxy *px;
    struct net_timer tick;
    int64_t clock_offset_ms;
    uint8_t key[PBX_SIPHASH_KEY_LEN];
    struct gf_dialog *dlg;
    int32_t *buckets;
    uint32_t n_buckets; /* power of two */
    uint32_t n_dlg;
    uint32_t n_anon; /* dialogs still flagged anonymous */
    uint64_t bye_seq;
    struct net_timer retx_timer;
    struct gf_retx retx[GF_RETX_MAX];
    unsigned n_retx;
};

static struct gw_fraud *active;
/* What gw_fraud_open was given, so that a reload can turn the policy on. data_dir comes from
 * the command line or the first snapshot, both kept for the life of the process. */
static struct {
    struct net *net;
    struct proxy *px;
    const char *data_dir;
} env;
static char reject_reason[96]; /* outlives the hook call: proxy_reply copies it at once */

bool gw_fraud_active(void)
{
    return active != NULL;
}

static int64_t gf_now(const struct gw_fraud *f)
{
    return clock_wall_ms() + f->clock_offset_ms;
}

/* ------------------------------------------------------------------------------------ */
/* Dialog table: bounded, keyed by a seeded hash of the Call-ID confirmed by comparison. */

static uint32_t bucket_of(const struct gw_fraud *f, struct slice id)
{
    return (uint32_t)pbx_siphash24(f->key, id.p, id.len) & (f->n_buckets - 1);
}

static struct gf_dialog *dlg_find(struct gw_fraud *f, struct slice id)
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

static struct gf_dialog *dlg_add(struct gw_fraud *f, struct slice id)
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

static void dlg_del(struct gw_fraud *f, struct gf_dialog *d)
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
    d->used = false;
    f->n_dlg--;
}

/* ------------------------------------------------------------------------------------ */
/* Hooks of the engine: call records and alerts. */

static void on_record(void *ctx, const struct fraud_call_record *r)
{
    struct gw_fraud *f = ctx;
    char cost[32], ev_class[32];
    struct ev_kv kv[6];
    struct ev_record ev;
    int status = r->verdict >= FRAUD_ACT_REJECT ? 403 : r->answer_ms ? 200 : 487;
    const char *cls = fraud_class_name(r->class);

    snprintf(cost, sizeof(cost), "%" PRIu64 ".%03" PRIu64, r->cost / 1000, r->cost % 1000);
    snprintf(ev_class, sizeof(ev_class), "%s", cls ? cls : "unknown");
    if (f->store) {
        struct store_call c = {
            .start_ms = r->start_ms,
            .duration_ms = r->answer_ms && r->end_ms > r->answer_ms ? r->end_ms - r->answer_ms : 0,
            .call_id = r->call_id,
            .account = r->account,
            .src = r->source,
            .dest = r->e164[0] ? r->e164 : r->dialled,
            .dest_class = ev_class,
            .status = status,
            .answer_ms = r->answer_ms,
            .end_ms = r->end_ms,
            .cost_milli = (int64_t)r->cost,
            .verdict = fraud_action_name(r->verdict),
            .rule = (unsigned)r->rule < FRAUD_RULE_COUNT ? fraud_event_rule(r->rule) : NULL,
        };
        if (store_call_put(f->store, &c) < 0)
            log_warn("gateway: fraud: call record not stored");
    }
    /* The "fraud.call.end" event repeats the record for the event stream and alerting. */
    static const char *const causes[] = {"bye", "cancel", "failed", "timeout", "enforced"};
    kv[0] = EV_KV_S("class", slice_cstr(ev_class));
    kv[1] = EV_KV_S("cost", slice_cstr(cost));
    kv[2] = EV_KV_S("verdict", slice_cstr(fraud_action_name(r->verdict)));
    kv[3] = EV_KV_S("cause", slice_cstr((unsigned)r->cause < 5 ? causes[r->cause] : "?"));
    kv[4] = EV_KV_S("e164", slice_cstr(r->e164));
    kv[5] = EV_KV_S("country", slice_cstr(r->country));
    memset(&ev, 0, sizeof(ev));
    ev.type = "fraud.call.end";
    ev.rule = fraud_event_rule(r->rule);
    ev.action = EV_ACT_ALERT;
    ev.severity = EV_SEV_INFO;
    ev.component = "gateway";
    ev.src = slice_cstr(r->source);
    ev.target = slice_cstr(r->account);
    ev.call_id = slice_cstr(r->call_id);
    ev.reason = "call record";
    ev.evidence = kv;
    ev.n_evidence = 6;
    ev.ts_ms = clock_wall_ms();
    (void)ev_emit(&ev);
    /* With detection running, its store takes every event; without it, ours keeps this
     * one so the database alone answers "what did that call cost and why". */
    if (f->store && !gw_guard_get()) {
        static char line[EV_LINE_MAX];
        int n = ev_format(&ev, 0, 0, line, sizeof(line));
        if (n > 0 && store_event_put(f->store, ev.ts_ms, line, (size_t)n) < 0)
            log_warn("gateway: fraud: call event not stored");
    }
}

static void on_alert(void *ctx, const struct fraud_alert *a)
{
    (void)ctx;
    (void)fraud_event_alert(a, "gateway", false);
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
    if (to_callee && dest->transport == PBX_TP_UDP && (size_t)n <= GF_RETX_LEN)
        for (unsigned i = 0; i < GF_RETX_MAX; i++) {
            struct gf_retx *x = &f->retx[i];
            if (x->used)
                continue;
            x->used = true;
            x->tries = 0;
            x->len = (uint16_t)n;
            x->seq = f->bye_seq;
            x->interval_ms = 500;
            x->next_ms = clock_mono_ms() + x->interval_ms;
            x->dest = *dest;
            memcpy(x->buf, buf, (size_t)n);
            f->n_retx++;
            break;
        }
    if (rc < 0)
        log_warn("gateway: fraud: BYE towards the %s failed: %s", to_callee ? "PBX" : "caller",
                 strerror(-rc));
}

/* The engine forgets calls it ended itself (setup timeout): -ENOENT is expected then. */
static void track_end(struct fraud_engine *e, struct slice id, int64_t now,
                      enum fraud_end_cause cause)
{
    int rc = fraud_call_ended(e, id, now, cause);
    if (rc < 0 && rc != -ENOENT)
        log_debug("gateway: fraud: call end not recorded: %s", strerror(-rc));
}

static void end_calls(struct gw_fraud *f, int64_t now)
{
    struct fraud_call_end ends[GF_ENDS_BATCH];
    size_t n;
    do {
        n = fraud_tick(f->eng, now, ends, GF_ENDS_BATCH);
        for (size_t i = 0; i < n; i++) {
            struct slice id = slice_cstr(ends[i].call_id);
            struct gf_dialog *d = dlg_find(f, id);
            const char *why = fraud_rule_name(ends[i].rule);
            if (d && d->answered) {
                send_bye(f, d, true, why);
                send_bye(f, d, false, why);
            }
            log_info("gateway: fraud: call of account %s ended (%s)%s", ends[i].account, why,
                     d && d->answered ? ": BYE sent both ways" : ": not answered, untracked");
            if (d)
                dlg_del(f, d);
            track_end(f->eng, id, now, FRAUD_END_ENFORCED);
        }
    } while (n == GF_ENDS_BATCH);
}

static void on_retx(void *ctx, struct net_timer *t)
{
    struct gw_fraud *f = ctx;
    int64_t now = clock_mono_ms();
    (void)t;
    for (unsigned i = 0; i < GF_RETX_MAX && f->n_retx; i++) {
        struct gf_retx *x = &f->retx[i];
        if (!x->used || now < x->next_ms)
            continue;
        if (x->tries >= GF_RETX_TRIES) {
            log_warn("gateway: fraud: a BYE towards the PBX was never answered");
            x->used = false;
            f->n_retx--;
            continue;
        }
        x->tries++;
        x->interval_ms = x->interval_ms * 2 > 4000 ? 4000 : x->interval_ms * 2;
        x->next_ms = now + x->interval_ms;
        if (net_send(f->net, &x->dest, x->buf, x->len) < 0)
            log_debug("gateway: fraud: BYE retransmission failed");
    }
}

/* An answer to one of our BYEs: stops its retransmissions. */
static void retx_answered(struct gw_fraud *f, struct slice branch)
{
    size_t plen = sizeof(GF_BRANCH) - 1;
    uint64_t seq = 0;
    if (branch.len != plen + 16)
        return;
    for (size_t i = plen; i < branch.len; i++) {
        char c = branch.p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return;
        seq = seq << 4 | (uint64_t)v;
    }
    for (unsigned i = 0; i < GF_RETX_MAX; i++)
        if (f->retx[i].used && f->retx[i].seq == seq) {
            f->retx[i].used = false;
            f->n_retx--;
            return;
        }
}

/* Unauthenticated INVITEs never answered finally (lost responses) free their dialog slot
 * after the setup timeout, like tracked calls do in the engine. */
static void purge_anonymous(struct gw_fraud *f, int64_t now)
{
    int64_t limit = (int64_t)fraud_engine_policy(f->eng)->setup_timeout_s * 1000;
    for (uint32_t i = 0; i < GW_FRAUD_DIALOGS_MAX && f->n_anon; i++) {
        struct gf_dialog *d = &f->dlg[i];
        if (d->used && d->anonymous && now - d->anon_since_ms > limit)
            dlg_del(f, d);
    }
}

static void on_tick(void *ctx, struct net_timer *t)
{
    struct gw_fraud *f = ctx;
    (void)t;
    end_calls(f, gf_now(f));
    purge_anonymous(f, gf_now(f));
    if (f->store && store_tick(f->store, clock_wall_ms()) < 0)
        log_warn("gateway: fraud: store commit failed");
}

/* ------------------------------------------------------------------------------------ */
/* Set-up */

static int open_store(struct gw_fraud *f, const struct cfg_snapshot *s, const char *data_dir,
                      char *err, size_t errcap)
{
    const struct store_config *sc = cfg_snapshot_section(s, "store");
    struct store_config c;
    char path[512];
    if (sc)
        c = *sc;
    else
        store_config_defaults(&c);
    if (!c.path) {
        if (!data_dir)
            return 0;
        if (snprintf(path, sizeof(path), "%s/pbxguard.db", data_dir) >= (int)sizeof(path))
            return -ENAMETOOLONG;
        c.path = path;
    }
    int rc = store_open(&c, &f->store);
    if (rc < 0)
        snprintf(err, errcap, "fraud: call store %s: %s", c.path, strerror(-rc));
    return rc;
}

/* PBXGUARD_TEST_FRAUD_TIME: test-only fixed start time (seconds since the epoch). */
static int64_t test_clock_offset(void)
{
    const char *v = getenv("PBXGUARD_TEST_FRAUD_TIME");
    int64_t secs = 0;
    if (!v || !*v)
        return 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || secs > INT64_MAX / 10000)
            return 0;
        secs = secs * 10 + (*p - '0');
    }
    log_warn("gateway: fraud: test clock in use (PBXGUARD_TEST_FRAUD_TIME=%s)", v);
    return secs * 1000 - clock_wall_ms();
}

static void gf_free(struct gw_fraud *f)
{
    if (!f)
        return;
    if (f->loop) {
        net_timer_cancel(f->loop, &f->tick);
        net_timer_cancel(f->loop, &f->retx_timer);
    }
    fraud_engine_free(f->eng);
    store_close(f->store);
    free(f->dlg);
    free(f->buckets);
    free(f);
}

static int new_engine(const struct fraud_policy *pol, struct fraud_engine **out, char *err,
                      size_t errcap)
{
    char why[160];
    int rc = fraud_engine_new(pol, out, why, sizeof(why));
    if (rc < 0)
        snprintf(err, errcap, "fraud policy: %s", why);
    return rc;
}

int gw_fraud_open(const struct cfg_snapshot *s, const char *data_dir, struct net *net,
                  struct proxy *px, char *err, size_t errcap)
{
    const struct fraud_policy *pol = fraud_config_get(s);
    struct gw_fraud *f;
    int rc;

    err[0] = '\0';
    if (active)
        return -EEXIST;
    env.net = net;
    env.px = px;
    env.data_dir = data_dir;
    if (!pol || !pol->enabled)
        return 0;
    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->net = net;
    f->loop = net_get_loop(net);
    f->px = px;
    f->n_buckets = GW_FRAUD_DIALOGS_MAX * 2;
    f->dlg = calloc(GW_FRAUD_DIALOGS_MAX, sizeof(*f->dlg));
    f->buckets = malloc(f->n_buckets * sizeof(*f->buckets));
    net_timer_init(&f->tick, on_tick, f);
    net_timer_init(&f->retx_timer, on_retx, f);
    if (!f->dlg || !f->buckets) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < f->n_buckets; i++)
        f->buckets[i] = -1;
    if ((rc = pbx_siphash_keygen(f->key)) < 0) {
        snprintf(err, errcap, "fraud: no randomness");
        goto out;
    }
    f->clock_offset_ms = test_clock_offset();
    if ((rc = new_engine(pol, &f->eng, err, errcap)) < 0)
        goto out;
    fraud_engine_set_hooks(f->eng, on_record, on_alert, f);
    if ((rc = open_store(f, s, data_dir, err, errcap)) < 0)
        goto out;
    if ((rc = net_timer_add(f->loop, &f->tick, GF_TICK_MS, GF_TICK_MS)) < 0 ||
        (rc = net_timer_add(f->loop, &f->retx_timer, GF_RETX_TICK_MS, GF_RETX_TICK_MS)) < 0) {
        snprintf(err, errcap, "fraud: cannot arm the timer");
        goto out;
    }
    log_info("gateway: fraud policy on (%s call store)", f->store ? "with" : "without");
    active = f;
    return 0;
out:
    gf_free(f);
    return rc;
}

struct carry {
    struct fraud_engine *to;
    int64_t now;
};

static void carry_lock(void *ctx, const struct fraud_account_info *a)
{
    struct carry *c = ctx;
    if (a->locked && fraud_account_lock(c->to, slice_cstr(a->name), c->now, a->lock_why) < 0)
        log_warn("gateway: fraud: reload: a lock could not be carried over");
}

int gw_fraud_reload(const struct cfg_snapshot *s)
{
    struct gw_fraud *f = active;
    const struct fraud_policy *pol = fraud_config_get(s);
    struct fraud_engine *e = NULL;
    char err[256];
    int rc;

    if (!f) {
        if (!pol || !pol->enabled || !env.net)
            return 0;
        if ((rc = gw_fraud_open(s, env.data_dir, env.net, env.px, err, sizeof(err))) < 0)
            log_error("gateway: reload: %s; the fraud policy stays off", err);
        return rc;
    }
    if (!pol || !pol->enabled) {
        log_warn("gateway: reload: fraud policy disabled; locks are forgotten");
        gw_fraud_close();
        return 0;
    }
    if ((rc = new_engine(pol, &e, err, sizeof(err))) < 0) {
        log_error("gateway: reload: %s; the running fraud policy stays", err);
        return rc;
    }
    struct carry c = {e, gf_now(f)};
    (void)fraud_account_foreach(f->eng, carry_lock, &c);
    fraud_lockdown_set(e, fraud_lockdown_get(f->eng));
    fraud_engine_set_hooks(e, on_record, on_alert, f);
    fraud_engine_free(f->eng);
    f->eng = e;
    /* Tracked calls belonged to the old engine. */
    for (uint32_t i = 0; i < f->n_buckets; i++)
        f->buckets[i] = -1;
    for (uint32_t i = 0; i < GW_FRAUD_DIALOGS_MAX; i++)
        f->dlg[i].used = false;
    f->n_dlg = 0;
    f->n_anon = 0;
    return 0;
}

void gw_fraud_close(void)
{
    struct gw_fraud *f = active;
    active = NULL;
    gf_free(f);
}

/* ------------------------------------------------------------------------------------ */
/* Message path */

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
    on_record(f, &r);
    if (d->action == FRAUD_ACT_QUARANTINE) {
        emit_quarantine_ban(in, c, clock_wall_ms());
        end_calls(f, c->now_ms);
    }
    snprintf(reject_reason, sizeof(reject_reason), "%s (%s)",
             d->reason_phrase[0] ? d->reason_phrase : "Forbidden", fraud_rule_name(d->rule));
    out->verdict = GW_REJECT;
    out->status = d->status >= 400 && d->status <= 699 ? d->status : 403;
    out->reason = reject_reason;
}

/* What a BYE towards the caller needs from its INVITE. */
static void remember_caller(struct gf_dialog *g, const struct net_msg *in, const struct sip_msg *m)
{
    g->invite_cseq = g->caller_cseq = m->cseq_num;
    dest_of(in, &g->caller_dest);
    g->caller_local = in->local;
    const struct sip_name_addr *ct = sip_msg_contact_get(m, 0);
    if (!copy_value(m, SIP_HDR_FROM, g->from, sizeof(g->from)) || !ct ||
        !copy_slice(ct->uri_raw, g->caller_uri, sizeof(g->caller_uri)))
        g->caller_uri[0] = '\0'; /* cannot address a BYE to the caller */
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
        dlg_del(f, known);
    }
    struct gf_dialog *g = dlg_add(f, call_id);
    if (!g)
        return; /* passes, but an answer without authentication would go untracked */
    g->anonymous = true;
    f->n_anon++;
    g->anon_since_ms = c.now_ms;
    slice_copy_cstr(c.account, g->anon_account, sizeof(g->anon_account));
    slice_copy_cstr(c.source, g->anon_source, sizeof(g->anon_source));
    slice_copy_cstr(c.dialled, g->anon_dialled, sizeof(g->anon_dialled));
    remember_caller(g, in, m);
}

void gw_fraud_initial_invite(const struct net_msg *in, const struct sip_msg *m,
                             struct gw_decision *out)
{
    struct gw_fraud *f = active;
    static struct fraud_decision d;
    struct fraud_call_ctx c;
    char src[PBX_ENDPOINT_STRLEN];
    struct pbx_endpoint ep;
    struct slice call_id = sip_msg_call_id(m);

    out->verdict = GW_PASS;
    if (!f)
        return;
    /* A retransmission of a call already decided and tracked passes as it did. */
    struct gf_dialog *known = dlg_find(f, call_id);
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
        track_end(f->eng, call_id, c.now_ms, FRAUD_END_FAILED);
        dlg_del(f, known);
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
    struct gf_dialog *g = dlg_add(f, call_id);
    if (!g)
        return; /* decided and counted, but it cannot be ended by BYE */
    remember_caller(g, in, m);
}

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
        dlg_del(f, d);
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
        dlg_del(f, d);
        return;
    }
    learn_answer(d, in, m);
    if (fraud_call_answered(f->eng, id, now) < 0)
        log_debug("gateway: fraud: answered call unknown to the engine");
}

bool gw_fraud_response(const struct net_msg *in, const struct sip_msg *m)
{
    struct gw_fraud *f = active;
    const struct sip_via *v = sip_msg_via0_get(m);
    if (!f)
        return false;
    if (v && slice_starts_with_ci(v->branch, GF_BRANCH)) {
        if (m->status >= 200)
            retx_answered(f, v->branch);
        return true; /* the answer to one of our BYEs */
    }
    if (m->status < 200)
        return false;
    struct slice id = sip_msg_call_id(m);
    struct gf_dialog *d = dlg_find(f, id);
    if (!d)
        return false;
    int64_t now = gf_now(f);
    if (m->cseq_method == SIP_METHOD_BYE) {
        /* The caller's BYE ends the call when the PBX accepts it (or no longer knows the
         * dialog): a BYE the PBX refuses must not stop the clock of a running call. */
        if (m->status < 300 || m->status == 481) {
            track_end(f->eng, id, now, FRAUD_END_BYE);
            dlg_del(f, d);
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
        if (!d->answered) {
            learn_answer(d, in, m);
            if (fraud_call_answered(f->eng, id, now) < 0)
                log_debug("gateway: fraud: answered call unknown to the engine");
        }
        return false;
    }
    if (!d->answered) {
        track_end(f->eng, id, now, d->cancelled ? FRAUD_END_CANCEL : FRAUD_END_FAILED);
        dlg_del(f, d);
    }
    return false;
}

void gw_fraud_request(const struct net_msg *in, const struct sip_msg *m, bool from_inside)
{
    struct gw_fraud *f = active;
    (void)in;
    const struct sip_name_addr *to = sip_msg_to_get(m);
    if (!f || (m->method == SIP_METHOD_INVITE && (!to || !to->tag.p)))
        return; /* initial INVITEs are decided by gw_fraud_initial_invite */
    struct slice id = sip_msg_call_id(m);
    struct gf_dialog *d = dlg_find(f, id);
    if (!d)
        return;
    switch (m->method) {
    case SIP_METHOD_BYE:
        /* The PBX side is trusted: its BYE ends the call now. The caller's BYE ends it when
         * the PBX accepts it (gw_fraud_response). */
        if (from_inside) {
            track_end(f->eng, id, gf_now(f), FRAUD_END_BYE);
            dlg_del(f, d);
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

/* ------------------------------------------------------------------------------------ */
/* Control commands */

/* One-line reply: {"<key>": <on>} with --json, "<text>" otherwise. */
static void reply_state(const struct ctl_req *r, struct ctl_out *o, const char *key, bool on,
                        const char *text)
{
    if (r->json) {
        struct json_writer *w = ctl_json(o);
        json_obj_begin(w);
        json_kv_bool(w, key, on);
        json_obj_end(w);
    } else {
        ctl_printf(o, "%s\n", text);
    }
}

static int need_engine(struct ctl_out *o)
{
    if (active)
        return 0;
    ctl_printf(o, "the fraud policy is not enabled (no fraud section)\n");
    return -ENOTSUP;
}

struct list_ctx {
    struct ctl_out *o;
    bool json;
};

static void list_one(void *ctx, const struct fraud_account_info *a)
{
    struct list_ctx *l = ctx;
    char name[FRAUD_ACCOUNT_MAX * 4 + ESC_MIN_CAP];
    esc_untrusted(name, sizeof(name), a->name, strlen(a->name), FRAUD_ACCOUNT_MAX, ESC_TEXT);
    if (l->json) {
        struct json_writer *w = ctl_json(l->o);
        json_obj_begin(w);
        json_key(w, "account");
        json_str_untrusted(w, slice_cstr(a->name), FRAUD_ACCOUNT_MAX);
        json_kv_bool(w, "locked", a->locked);
        json_kv_bool(w, "quarantined", a->quarantined);
        json_kv_str(w, "reason", a->lock_why);
        json_kv_uint(w, "live_calls", a->live_calls);
        json_kv_uint(w, "spent_today_milli", a->spent_day);
        json_obj_end(w);
        return;
    }
    ctl_printf(l->o, "%s %s live=%" PRIu32 " spent=%" PRIu64 ".%03" PRIu64 "%s%s\n", name,
               a->quarantined ? "quarantined"
               : a->locked    ? "locked"
                              : "ok",
               a->live_calls, a->spent_day / 1000, a->spent_day % 1000,
               a->lock_why[0] ? " reason=" : "", a->lock_why);
}

static void account_event(const char *type, const char *account, const char *reason)
{
    struct ev_record r;
    memset(&r, 0, sizeof(r));
    r.type = type;
    r.rule = "fraud.operator";
    r.action = EV_ACT_ALERT;
    r.severity = EV_SEV_MEDIUM;
    r.component = "ctl";
    r.target = slice_cstr(account);
    r.reason = reason;
    (void)ev_emit(&r);
}

static int cmd_account(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    int rc;
    (void)ctx;
    if ((rc = need_engine(o)) < 0)
        return rc;
    struct gw_fraud *f = active;
    if (r->argc == 2 && strcmp(r->argv[1], "list") == 0) {
        struct list_ctx l = {o, r->json};
        if (r->json)
            json_arr_begin(ctl_json(o));
        (void)fraud_account_foreach(f->eng, list_one, &l);
        if (r->json)
            json_arr_end(ctl_json(o));
        return 0;
    }
    if (r->argc < 3 || (strcmp(r->argv[1], "lock") && strcmp(r->argv[1], "unlock"))) {
        ctl_printf(o, "usage: account lock NAME [REASON] | unlock NAME | list\n");
        return -EINVAL;
    }
    const char *name = r->argv[2];
    if (strcmp(r->argv[1], "lock") == 0) {
        const char *why = r->argc > 3 ? r->argv[3] : "locked by the operator";
        rc = fraud_account_lock(f->eng, slice_cstr(name), gf_now(f), why);
        if (rc < 0) {
            ctl_printf(o, "cannot lock: %s\n", strerror(-rc));
            return rc;
        }
        account_event("fraud.account.lock", name, why);
        reply_state(r, o, "locked", true, "account locked: calls refused except emergency");
        return 0;
    }
    rc = fraud_account_unlock(f->eng, slice_cstr(name));
    if (rc < 0) {
        ctl_printf(o, "not locked\n");
        return rc;
    }
    account_event("fraud.account.unlock", name, "unlocked by the operator");
    reply_state(r, o, "locked", false, "account unlocked");
    return 0;
}

static int cmd_lockdown(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    int rc;
    (void)ctx;
    if ((rc = need_engine(o)) < 0)
        return rc;
    if (r->argc == 2 && (strcmp(r->argv[1], "on") == 0 || strcmp(r->argv[1], "off") == 0)) {
        bool want = strcmp(r->argv[1], "on") == 0;
        fraud_lockdown_set(active->eng, want);
        account_event(want ? "fraud.lockdown.on" : "fraud.lockdown.off", "*",
                      want ? "global lockdown: only internal and emergency calls"
                           : "global lockdown lifted");
    } else if (r->argc != 1) {
        ctl_printf(o, "usage: lockdown [on|off]\n");
        return -EINVAL;
    }
    bool on = fraud_lockdown_get(active->eng);
    reply_state(r, o, "lockdown", on, on ? "lockdown on" : "lockdown off");
    return 0;
}

/* Detection's admission lockdown (only allow-listed and recently authenticated sources
 * pass), kept under its own name since `lockdown` means the fraud lockdown. */
static int cmd_admission(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = gw_guard_engine(gw_guard_get());
    (void)ctx;
    if (!e) {
        ctl_printf(o, "detection is not running\n");
        return -ENOTSUP;
    }
    if (r->argc == 2 && (strcmp(r->argv[1], "on") == 0 || strcmp(r->argv[1], "off") == 0))
        det_set_lockdown(e, strcmp(r->argv[1], "on") == 0);
    else if (r->argc != 1) {
        ctl_printf(o, "usage: admission [on|off]\n");
        return -EINVAL;
    }
    reply_state(r, o, "admission", det_lockdown(e),
                det_lockdown(e) ? "admission lockdown on" : "admission lockdown off");
    return 0;
}

int gw_fraud_ctl_register(struct ctl_server *s)
{
    int rc = ctl_register(s, "admission",
                          "admission on|off: only allow-listed and recently authenticated "
                          "sources pass",
                          cmd_admission, NULL);
    if (rc < 0)
        return rc;
    rc = ctl_register(s, "account", "account lock NAME [REASON] | unlock NAME | list", cmd_account,
                      NULL);
    if (rc < 0)
        return rc;
    return ctl_register(s, "lockdown", "lockdown on|off: only internal and emergency calls",
                        cmd_lockdown, NULL);
}
