/*
 * The toll-fraud policy in the gateway: the instance's life (open, reload, close), the
 * engine's call records and alerts, and the periodic tick. See gateway_fraud.h and
 * docs/fraud.md; the calls, the INVITE decisions and the control commands have their own
 * files (gateway_fraud_int.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_fraud_int.h"
#include "gateway_guard.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/log.h"
#include "pbxguard/fraud/config.h"
#include "pbxguard/fraud/event.h"
#include "pbxguard/store/store.h"

/* fraud_tick cadence: max duration and spend are enforced within this. */
#define GF_TICK_MS 1000u

struct gw_fraud *gf_active;

/* What gw_fraud_open was given, so that a reload can turn the policy on. data_dir comes from
 * the command line or the first snapshot, both kept for the life of the process. */
static struct {
    struct net *net;
    struct proxy *px;
    const char *data_dir;
} env;

bool gw_fraud_active(void)
{
    return gf_active != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Hooks of the engine: call records and alerts. */

void gf_call_record(void *ctx, const struct fraud_call_record *r)
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
/* Timers and set-up */

static void on_tick(void *ctx, struct net_timer *t)
{
    struct gw_fraud *f = ctx;
    (void)t;
    gf_end_calls(f, gf_now(f));
    gf_purge_pending(f, gf_now(f));
    if (f->store && store_tick(f->store, clock_wall_ms()) < 0)
        log_warn("gateway: fraud: store commit failed");
}

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
    if (gf_active)
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
    net_timer_init(&f->retx_timer, gf_on_retx, f);
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
    fraud_engine_set_hooks(f->eng, gf_call_record, on_alert, f);
    if ((rc = open_store(f, s, data_dir, err, errcap)) < 0)
        goto out;
    if ((rc = net_timer_add(f->loop, &f->tick, GF_TICK_MS, GF_TICK_MS)) < 0 ||
        (rc = net_timer_add(f->loop, &f->retx_timer, GF_RETX_TICK_MS, GF_RETX_TICK_MS)) < 0) {
        snprintf(err, errcap, "fraud: cannot arm the timer");
        goto out;
    }
    log_info("gateway: fraud policy on (%s call store)", f->store ? "with" : "without");
    gf_active = f;
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
    struct gw_fraud *f = gf_active;
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
    fraud_engine_set_hooks(e, gf_call_record, on_alert, f);
    fraud_engine_free(f->eng);
    f->eng = e;
    /* Tracked calls belonged to the old engine. */
    for (uint32_t i = 0; i < f->n_buckets; i++)
        f->buckets[i] = -1;
    for (uint32_t i = 0; i < GW_FRAUD_DIALOGS_MAX; i++)
        f->dlg[i].used = false;
    f->n_dlg = 0;
    f->n_anon = 0;
    f->n_cancel = 0;
    for (unsigned i = 0; i < GF_RETX_MAX; i++)
        if (f->retx[i].used && f->retx[i].dlg >= 0) {
            f->retx[i].used = false; /* its dialog slot is gone */
            f->n_retx--;
        }
    return 0;
}

void gw_fraud_close(void)
{
    struct gw_fraud *f = gf_active;
    gf_active = NULL;
    if (f && f->own_answers)
        log_info("gateway: fraud: %llu answers to our own BYEs and CANCELs absorbed",
                 (unsigned long long)f->own_answers);
    gf_free(f);
}
