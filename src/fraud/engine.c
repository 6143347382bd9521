/* The fraud engine's decisions and call tracking (see pbxguard/fraud/engine.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fraud_int.h"

static int load_ranges(struct fraud_engine *e, char *err, size_t err_cap)
{
    const char *path = e->pol.ranges_file;
    static const char *const search[] = {PBX_FRAUD_DATADIR "/ranges.txt",
                                         PBX_FRAUD_SRCDATADIR "/ranges.txt",
                                         "data/fraud/ranges.txt"};
    if (strcmp(path, "none") == 0)
        return 0;
    if (!path[0]) {
        const char *env = getenv("PBXGUARD_FRAUD_RANGES");
        path = search[0];
        if (env && env[0])
            path = env;
        else
            for (size_t i = 0; i < PBX_ARRAY_SIZE(search); i++)
                if (access(search[i], R_OK) == 0) {
                    path = search[i];
                    break;
                }
    }
    return fraud_ranges_load(&e->ranges, path, err, err_cap);
}

int fraud_engine_new(const struct fraud_policy *policy, struct fraud_engine **out, char *err,
                     size_t err_cap)
{
    struct fraud_engine *e = calloc(1, sizeof(*e));
    int rc;

    if (err && err_cap)
        err[0] = '\0';
    if (!e)
        return -ENOMEM;
    e->pol = *policy;
    e->last_ms = INT64_MIN;
    e->lt_minute = INT64_MIN;
    rc = fraud_ranges_init(&e->ranges);
    if (rc == 0)
        rc = fraud_trie_init(&e->rates);
    if (rc < 0)
        goto out;
    rc = load_ranges(e, err, err_cap);
    if (rc < 0)
        goto out;
    if (e->pol.default_high_risk)
        for (size_t i = 0; fraud_default_high_risk[i] && rc == 0; i++)
            rc = fraud_ranges_add_high_risk(&e->ranges, fraud_default_high_risk[i]);
    for (size_t i = 0; i < e->pol.n_high_risk && rc == 0; i++)
        rc = fraud_ranges_add_high_risk(&e->ranges, e->pol.high_risk[i]);
    for (size_t i = 0; i < e->pol.n_rates && rc == 0; i++)
        rc = fraud_trie_insert(&e->rates, slice_cstr(e->pol.rates[i].prefix),
                               e->pol.rates[i].per_minute);
    if (rc < 0) {
        if (err)
            snprintf(err, err_cap, "invalid high-risk or rate entry");
        goto out;
    }
    rc = fraud_tz_load(&e->tz, e->pol.schedule.timezone);
    if (rc < 0) {
        if (err)
            snprintf(err, err_cap, "time zone '%s' cannot be loaded", e->pol.schedule.timezone);
        goto out;
    }
    rc = fraud_state_init(e);
out:
    if (rc < 0) {
        fraud_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

void fraud_engine_free(struct fraud_engine *e)
{
    if (!e)
        return;
    fraud_state_fini(e);
    fraud_ranges_fini(&e->ranges);
    fraud_trie_fini(&e->rates);
    fraud_tz_fini(&e->tz);
    free(e);
}

const struct fraud_policy *fraud_engine_policy(const struct fraud_engine *e)
{
    return &e->pol;
}

const struct fraud_ranges *fraud_engine_ranges(const struct fraud_engine *e)
{
    return &e->ranges;
}

void fraud_engine_set_hooks(struct fraud_engine *e, fraud_record_fn on_record,
                            fraud_alert_fn on_alert, void *ctx)
{
    e->on_record = on_record;
    e->on_alert = on_alert;
    e->hook_ctx = ctx;
}

void fraud_lockdown_set(struct fraud_engine *e, bool on)
{
    e->lockdown = on;
}

bool fraud_lockdown_get(const struct fraud_engine *e)
{
    return e->lockdown;
}

void fraud_engine_stats(const struct fraud_engine *e, struct fraud_stats *out)
{
    *out = e->stats;
    out->accounts = e->n_accts;
    out->calls = e->n_calls;
}

/* Windows never run backwards: out-of-order instants count as the latest one seen. */
static int64_t clamp_now(struct fraud_engine *e, int64_t now_ms)
{
    if (now_ms < e->last_ms)
        return e->last_ms;
    e->last_ms = now_ms;
    return now_ms;
}

static bool is_holiday(const struct fraud_schedule *s, const struct fraud_local *l)
{
    for (size_t i = 0; i < s->n_holidays; i++) {
        const struct fraud_holiday *h = &s->holidays[i];
        if (h->month == l->month && h->day == l->day && (!h->year || h->year == l->year))
            return true;
    }
    return false;
}

static bool compute_hours(const struct fraud_engine *e, int64_t now_ms, int64_t *day)
{
    struct fraud_local l;
    const struct fraud_schedule *s = &e->pol.schedule;
    fraud_tz_local(&e->tz, now_ms, &l);
    *day = fraud_days_from_civil(l.year, l.month, l.day);
    if (is_holiday(s, &l))
        return false;
    return l.minute >= s->open[l.wday] && l.minute < s->close[l.wday];
}

static bool business_hours_at(struct fraud_engine *e, int64_t now_ms, int64_t *day)
{
    int64_t minute = now_ms >= 0 ? now_ms / 60000 : (now_ms - 59999) / 60000;
    if (minute != e->lt_minute) {
        e->lt_minute = minute;
        e->lt_open = compute_hours(e, now_ms, &e->lt_day);
    }
    *day = e->lt_day;
    return e->lt_open;
}

bool fraud_engine_business_hours(const struct fraud_engine *e, int64_t now_ms)
{
    int64_t day;
    return compute_hours(e, now_ms, &day);
}

/* Copies attacker bytes for a detail text: printable ASCII only, capped. */
static void safe_copy(char *dst, size_t cap, struct slice s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len && n + 1 < cap && i < 40; i++) {
        char c = s.p[i];
        dst[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
    }
    dst[n] = '\0';
}

static void add_reason(const struct fraud_engine *e, struct fraud_decision *d, enum fraud_rule rule,
                       const char *detail)
{
    enum fraud_action act = e->pol.actions[rule];
    struct fraud_reason *r;
    if (act == FRAUD_ACT_ALLOW)
        return; /* rule disabled */
    if (act > d->action || d->rule == FRAUD_RULE_COUNT) {
        if (act >= d->action) {
            d->action = act;
            d->rule = rule;
        }
    }
    if (d->n_reasons == FRAUD_REASONS_MAX)
        return;
    r = &d->reasons[d->n_reasons++];
    r->rule = rule;
    r->action = act;
    slice_copy_cstr(slice_cstr(detail), r->detail, sizeof(r->detail));
}

/* Sliding-window estimate over two fixed windows: prev weighted by the part of the
 * window still covered, plus the current one. Exact at window starts, never below cur. */
static uint32_t window_count(int64_t *win, uint32_t *cur, uint32_t *prev, int64_t now_ms,
                             int64_t len_ms)
{
    int64_t w = now_ms / len_ms;
    if (*win != w) {
        *prev = (*win == w - 1) ? *cur : 0;
        *cur = 0;
        *win = w;
    }
    int64_t into = now_ms - w * len_ms;
    return *cur + (uint32_t)((uint64_t)*prev * (uint64_t)(len_ms - into) / (uint64_t)len_ms);
}

static uint32_t rate_for(const struct fraud_engine *e, const char *e164, enum fraud_class c)
{
    uint32_t v;
    if (e164[0] && e->rates.n_values &&
        fraud_trie_lookup(&e->rates, slice_cstr(e164), &v, NULL) == 0)
        return v;
    return e->pol.class_rates[c];
}

static bool country_allowed(const struct fraud_group *g, const char *region)
{
    if (!g->n_countries)
        return true;
    for (size_t i = 0; i < g->n_countries; i++)
        if (strcmp(g->countries[i], region) == 0)
            return true;
    return false;
}

/* Normalises and classifies the dialled number and copies the result into the decision;
 * shared by the authenticated and the unauthenticated check so both classify alike. */
static void classify_dialled(const struct fraud_engine *e, const struct fraud_call_ctx *ctx,
                             struct fraud_number *num, struct fraud_dest *dest,
                             struct fraud_decision *d)
{
    if (fraud_number_normalise(&e->pol.plan, ctx->dialled, num) < 0)
        num->kind = FRAUD_NUM_INVALID; /* classified as unknown below */
    fraud_classify(&e->ranges, &e->pol.plan, num, dest);
    d->class = dest->class;
    d->classes = dest->classes;
    d->kind = num->kind;
    d->num_flags = num->flags;
    memcpy(d->country, dest->region, sizeof(d->country));
    if (num->kind != FRAUD_NUM_INVALID)
        slice_copy_cstr(slice_make(num->digits, num->len), d->e164, sizeof(d->e164));
}

/*
 * The destination rules of group g: mangled number, high-risk list, call class (at all, then
 * in business hours only) and country. unauth only changes the wording of the class reason.
 */
static void check_destination(const struct fraud_engine *e, struct fraud_decision *d,
                              const struct fraud_group *g, const struct fraud_number *num,
                              const struct fraud_dest *dest, const char *shown, bool unauth)
{
    char detail[256];
    uint32_t allowed_now, forbidden;

    if (num->flags & FRAUD_NUMF_MANGLED) {
        snprintf(detail, sizeof(detail), "mangled form '%s' normalised to %s", shown, d->e164);
        add_reason(e, d, FRAUD_RULE_NUMBER_MANGLED, detail);
    }
    allowed_now = d->business_hours ? g->allowed_classes : g->offhours_classes;
    forbidden = dest->classes & ~g->allowed_classes;
    if (forbidden & FRAUD_CLASS_BIT(FRAUD_CLASS_HIGH_RISK)) {
        snprintf(detail, sizeof(detail), "%s (%s) is on the high-risk list", d->e164,
                 d->country[0] ? d->country : "?");
        add_reason(e, d, FRAUD_RULE_HIGH_RISK, detail);
    }
    if (forbidden & ~FRAUD_CLASS_BIT(FRAUD_CLASS_HIGH_RISK)) {
        const char *cls = fraud_class_name(
            dest->class == FRAUD_CLASS_HIGH_RISK ? FRAUD_CLASS_INTERNATIONAL : dest->class);
        if (unauth)
            snprintf(detail, sizeof(detail),
                     "class %s not allowed without authentication (group %s)", cls, g->name);
        else
            snprintf(detail, sizeof(detail), "class %s not allowed for group %s", cls, g->name);
        add_reason(e, d, FRAUD_RULE_CLASS, detail);
    } else if (!forbidden && (dest->classes & ~allowed_now)) {
        snprintf(detail, sizeof(detail), "class %s allowed in business hours only",
                 fraud_class_name(dest->class));
        add_reason(e, d, FRAUD_RULE_OFF_HOURS, detail);
    }
    if (dest->international && num->kind == FRAUD_NUM_E164 && !country_allowed(g, dest->region)) {
        snprintf(detail, sizeof(detail), "country %s not on group %s's list",
                 dest->region[0] ? dest->region : "?", g->name);
        add_reason(e, d, FRAUD_RULE_COUNTRY, detail);
    }
}

static void lock_account(struct fraud_engine *e, struct acct *a, int64_t now_ms, const char *why)
{
    if (!a->locked)
        a->locked_at_ms = now_ms;
    a->locked = true;
    slice_copy_cstr(slice_cstr(why), a->lock_why, sizeof(a->lock_why));
}

static void emit_alert(struct fraud_engine *e, enum fraud_rule rule, const char *account,
                       const char *call_id, const char *e164, int64_t now_ms, const char *detail)
{
    struct fraud_alert al;
    if (!e->on_alert || e->pol.actions[rule] == FRAUD_ACT_ALLOW)
        return;
    memset(&al, 0, sizeof(al));
    al.rule = rule;
    al.action = e->pol.actions[rule];
    al.account = account;
    al.call_id = call_id;
    al.e164 = e164;
    al.now_ms = now_ms;
    slice_copy_cstr(slice_cstr(detail), al.detail, sizeof(al.detail));
    e->on_alert(e->hook_ctx, &al);
}

static void mark_calls_for_end(struct fraud_engine *e, struct acct *a)
{
    int32_t ai = (int32_t)(a - e->accts);
    for (uint32_t i = 0; i < e->call_cap && a->live; i++) {
        struct call *c = &e->calls[i];
        if (c->used && c->acct == ai && !c->end_wanted) {
            c->end_wanted = true;
            c->end_rule = FRAUD_RULE_ACCOUNT_LOCKED;
        }
    }
}

static void roll_day(struct acct *a, int64_t day)
{
    if (a->day != day) {
        a->day = day;
        a->intl_day = 0;
        a->spent_day = 0;
    }
}

int fraud_check_invite(struct fraud_engine *e, const struct fraud_call_ctx *ctx,
                       struct fraud_decision *d)
{
    struct fraud_number num;
    struct fraud_dest dest;
    const struct fraud_group *g = &e->pol.groups[0];
    struct acct *a;
    char detail[256], shown[48];
    int64_t now, day;
    bool intl;

    if (!e || !ctx || !d)
        return -EINVAL;
    /* Everything but the reasons array (filled up to n_reasons) starts zeroed. */
    memset(d, 0, offsetof(struct fraud_decision, reasons));
    d->n_reasons = 0;
    d->rule = FRAUD_RULE_COUNT;
    now = clamp_now(e, ctx->now_ms);
    e->stats.checks++;

    classify_dialled(e, ctx, &num, &dest, d);
    d->business_hours = business_hours_at(e, now, &day);
    intl = dest.international && num.kind == FRAUD_NUM_E164;
    safe_copy(shown, sizeof(shown), ctx->dialled);

    /* Emergency calls pass whatever else is true: a locked phone must still reach 112. */
    if (num.kind == FRAUD_NUM_EMERGENCY)
        goto out;
    if (e->lockdown && num.kind != FRAUD_NUM_INTERNAL) {
        snprintf(detail, sizeof(detail), "lockdown: only internal and emergency calls");
        add_reason(e, d, FRAUD_RULE_LOCKDOWN, detail);
        goto out;
    }
    if (num.kind == FRAUD_NUM_INTERNAL)
        goto out;

    a = fraud_acct_get(e, ctx->account);
    if (!a) {
        add_reason(e, d, FRAUD_RULE_STATE_FULL, "account table full of locked or busy accounts");
        goto out;
    }
    g = &e->pol.groups[a->group < e->pol.n_groups ? a->group : 0];
    roll_day(a, day);
    /* Every attempt counts towards the rate, refused ones too: a flood stays refused. */
    uint32_t attempts = window_count(&a->rate_win, &a->rate_cur, &a->rate_prev, now, 60000);
    a->rate_cur++;

    if (a->locked) {
        snprintf(detail, sizeof(detail), "account locked: %s", a->lock_why);
        add_reason(e, d, FRAUD_RULE_ACCOUNT_LOCKED, detail);
        goto account_done;
    }
    if (num.kind == FRAUD_NUM_INVALID) {
        snprintf(detail, sizeof(detail), "'%s' is not a number of the dialling plan", shown);
        add_reason(e, d, FRAUD_RULE_NUMBER_INVALID, detail);
        goto account_done;
    }
    check_destination(e, d, g, &num, &dest, shown, false);

    if (g->limits.calls_per_minute && attempts >= g->limits.calls_per_minute) {
        snprintf(detail, sizeof(detail), "%u calls in the last minute (limit %u)", attempts + 1,
                 g->limits.calls_per_minute);
        add_reason(e, d, FRAUD_RULE_RATE, detail);
    }
    if (g->limits.concurrent && a->live >= g->limits.concurrent) {
        snprintf(detail, sizeof(detail), "%u calls in progress (limit %u)", a->live,
                 g->limits.concurrent);
        add_reason(e, d, FRAUD_RULE_CONCURRENT, detail);
    }
    uint32_t ih = window_count(&a->ih_win, &a->ih_cur, &a->ih_prev, now, 3600000);
    if (intl && g->limits.intl_per_hour && ih >= g->limits.intl_per_hour) {
        snprintf(detail, sizeof(detail), "%u international calls in the last hour (limit %u)",
                 ih + 1, g->limits.intl_per_hour);
        add_reason(e, d, FRAUD_RULE_INTL_HOUR, detail);
    }
    if (intl && g->limits.intl_per_day && a->intl_day >= g->limits.intl_per_day) {
        snprintf(detail, sizeof(detail), "%u international calls today (limit %u)", a->intl_day + 1,
                 g->limits.intl_per_day);
        add_reason(e, d, FRAUD_RULE_INTL_DAY, detail);
    }
    if (g->limits.spend_per_day && a->spent_day + a->live_cost >= g->limits.spend_per_day) {
        snprintf(detail, sizeof(detail), "spent %llu.%03llu today (limit %llu.%03llu)",
                 (unsigned long long)((a->spent_day + a->live_cost) / 1000),
                 (unsigned long long)((a->spent_day + a->live_cost) % 1000),
                 (unsigned long long)(g->limits.spend_per_day / 1000),
                 (unsigned long long)(g->limits.spend_per_day % 1000));
        add_reason(e, d, FRAUD_RULE_SPEND, detail);
    }

    if (fraud_detect_sequential(e, a, d->e164, now, detail, sizeof(detail)))
        add_reason(e, d, FRAUD_RULE_SEQUENTIAL, detail);
    if (fraud_detect_burst_hit(e, a, d->e164, now, detail, sizeof(detail)))
        add_reason(e, d, FRAUD_RULE_SHORT_BURST, detail);
    if (intl && e->pol.det.first_intl && !a->seen_intl) {
        snprintf(detail, sizeof(detail), "first international call of this account, to %s",
                 d->e164);
        add_reason(e, d, FRAUD_RULE_FIRST_INTL, detail);
    }
    if (fraud_detect_spike(e, a, now, detail, sizeof(detail)))
        add_reason(e, d, FRAUD_RULE_SPIKE, detail);

    if (d->action <= FRAUD_ACT_ALERT) {
        if (intl) {
            a->ih_cur++;
            a->intl_day++;
            a->seen_intl = true;
        }
        fraud_detect_spike_count(e, a, now);
    }
    if (d->action >= FRAUD_ACT_LOCK) {
        snprintf(detail, sizeof(detail), "%s: %s", fraud_rule_name(d->rule),
                 d->n_reasons ? d->reasons[0].detail : "");
        for (size_t i = 0; i < d->n_reasons; i++)
            if (d->reasons[i].rule == d->rule)
                snprintf(detail, sizeof(detail), "%s: %s", fraud_rule_name(d->rule),
                         d->reasons[i].detail);
        lock_account(e, a, now, detail);
        if (d->action == FRAUD_ACT_QUARANTINE) {
            a->quarantined = true;
            mark_calls_for_end(e, a);
            e->stats.quarantined++;
        } else {
            e->stats.locked++;
        }
    }
account_done:;
out:
    d->rate_per_minute = rate_for(e, d->e164, d->class);
    slice_copy_cstr(slice_cstr(g->name), d->group, sizeof(d->group));
    if (d->action >= FRAUD_ACT_REJECT) {
        d->status = e->pol.reject_status;
        slice_copy_cstr(slice_cstr(e->pol.reject_reason), d->reason_phrase,
                        sizeof(d->reason_phrase));
        e->stats.rejected++;
    } else if (d->action == FRAUD_ACT_ALERT) {
        e->stats.alerted++;
        e->stats.allowed++;
    } else {
        e->stats.allowed++;
    }
    return 0;
}

/* The group of unauthenticated INVITEs: the configured one, else the built-in profile. */
static const struct fraud_group *unauth_group(const struct fraud_engine *e, struct fraud_group *tmp)
{
    size_t gi;
    if (fraud_policy_find_group(&e->pol, e->pol.unauth_group, &gi) == 0)
        return &e->pol.groups[gi];
    /* Without credentials nobody is accountable for the bill: only what costs nothing and
     * what must never be refused passes. A PBX with an open dial plan then still cannot be
     * used to reach paid destinations; the operator widens it with a group of that name. */
    memset(tmp, 0, sizeof(*tmp));
    slice_copy_cstr(slice_cstr(e->pol.unauth_group), tmp->name, sizeof(tmp->name));
    tmp->allowed_classes = tmp->offhours_classes =
        FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL) | FRAUD_CLASS_BIT(FRAUD_CLASS_EMERGENCY);
    return tmp;
}

int fraud_check_unauthenticated(const struct fraud_engine *e, const struct fraud_call_ctx *ctx,
                                struct fraud_decision *d)
{
    struct fraud_number num;
    struct fraud_dest dest;
    struct fraud_group builtin;
    const struct fraud_group *g;
    const struct acct *a;
    char detail[256], shown[48];
    int64_t now, day;

    if (!e || !ctx || !d)
        return -EINVAL;
    memset(d, 0, offsetof(struct fraud_decision, reasons));
    d->n_reasons = 0;
    d->rule = FRAUD_RULE_COUNT;
    d->unauthenticated = true;
    g = unauth_group(e, &builtin);
    now = ctx->now_ms < e->last_ms ? e->last_ms : ctx->now_ms;

    classify_dialled(e, ctx, &num, &dest, d);
    d->business_hours = compute_hours(e, now, &day);
    safe_copy(shown, sizeof(shown), ctx->dialled);

    if (num.kind == FRAUD_NUM_EMERGENCY)
        goto out;
    if (e->lockdown && num.kind != FRAUD_NUM_INTERNAL) {
        add_reason(e, d, FRAUD_RULE_LOCKDOWN, "lockdown: only internal and emergency calls");
        goto out;
    }
    /* A locked (quarantined) source gets nothing but emergency, internal calls included:
     * unlike an account, it has no other way in that the lock would leave open. */
    a = fraud_acct_find(e, ctx->account);
    if (a && a->locked) {
        snprintf(detail, sizeof(detail), "account locked: %s", a->lock_why);
        add_reason(e, d, FRAUD_RULE_ACCOUNT_LOCKED, detail);
        goto out;
    }
    if (num.kind == FRAUD_NUM_INTERNAL &&
        (g->allowed_classes & FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL)))
        goto out;
    if (num.kind == FRAUD_NUM_INVALID) {
        snprintf(detail, sizeof(detail), "'%s' is not a number of the dialling plan", shown);
        add_reason(e, d, FRAUD_RULE_NUMBER_INVALID, detail);
        goto out;
    }
    check_destination(e, d, g, &num, &dest, shown, true);
    if (a && g->limits.concurrent && a->live >= g->limits.concurrent) {
        snprintf(detail, sizeof(detail), "%u calls in progress (limit %u)", a->live,
                 g->limits.concurrent);
        add_reason(e, d, FRAUD_RULE_CONCURRENT, detail);
    }
out:
    /* Nothing is counted here, so a LOCK or QUARANTINE action only refuses this INVITE: a
     * source address is not an account anyone can unlock by proving who they are. */
    d->rate_per_minute = rate_for(e, d->e164, d->class);
    slice_copy_cstr(slice_cstr(g->name), d->group, sizeof(d->group));
    if (d->action >= FRAUD_ACT_REJECT) {
        d->status = e->pol.reject_status;
        slice_copy_cstr(slice_cstr(e->pol.reject_reason), d->reason_phrase,
                        sizeof(d->reason_phrase));
    }
    return 0;
}

int fraud_call_start(struct fraud_engine *e, struct slice call_id, const struct fraud_call_ctx *ctx,
                     const struct fraud_decision *d)
{
    struct call *c;
    struct acct *a = NULL;
    int rc;

    if (!e || !ctx || !d || !call_id.len)
        return -EINVAL;
    /* An answered unauthenticated call is charged to its source's pseudo-account even when
     * internal: that is what bounds its duration and number. */
    if (d->class != FRAUD_CLASS_EMERGENCY &&
        (d->class != FRAUD_CLASS_INTERNAL || d->unauthenticated)) {
        a = fraud_acct_get(e, ctx->account);
        if (!a)
            return -ENOSPC;
        size_t gi;
        if (d->unauthenticated && fraud_policy_find_group(&e->pol, e->pol.unauth_group, &gi) == 0)
            a->group = (uint32_t)gi;
    }
    rc = fraud_call_insert(e, call_id, &c);
    if (rc < 0) {
        if (rc == -ENOSPC)
            e->stats.calls_dropped_full++;
        return rc;
    }
    c->acct = a ? (int32_t)(a - e->accts) : -1;
    if (a)
        a->live++;
    safe_copy(c->source, sizeof(c->source), ctx->source);
    safe_copy(c->dialled, sizeof(c->dialled), ctx->dialled);
    slice_copy_cstr(slice_cstr(d->e164), c->e164, sizeof(c->e164));
    memcpy(c->country, d->country, sizeof(c->country));
    c->class = d->class;
    c->classes = d->classes;
    c->rate = d->rate_per_minute;
    c->start_ms = clamp_now(e, ctx->now_ms);
    c->verdict = d->action;
    c->rule = d->rule;
    return 0;
}

int fraud_call_answered(struct fraud_engine *e, struct slice call_id, int64_t now_ms)
{
    struct call *c = fraud_call_find(e, call_id);
    if (!c)
        return -ENOENT;
    if (!c->answer_ms)
        c->answer_ms = clamp_now(e, now_ms);
    return 0;
}

static uint64_t cost_of(const struct call *c, int64_t end_ms)
{
    if (!c->answer_ms || end_ms <= c->answer_ms)
        return 0;
    /* Per-second billing of a per-minute rate, in milli-units. */
    return (uint64_t)(end_ms - c->answer_ms) / 1000 * c->rate / 60;
}

static const char *acct_name(const struct fraud_engine *e, const struct call *c)
{
    return c->acct >= 0 ? e->accts[c->acct].name : "";
}

static void finish_call(struct fraud_engine *e, struct call *c, int64_t now,
                        enum fraud_end_cause cause)
{
    struct acct *a = c->acct >= 0 ? &e->accts[c->acct] : NULL;
    const struct fraud_group *g = &e->pol.groups[0];
    char detail[256];
    uint64_t cost = cost_of(c, now);
    int64_t dur = c->answer_ms ? (now - c->answer_ms) / 1000 : 0;

    if (a) {
        int64_t day;
        g = &e->pol.groups[a->group < e->pol.n_groups ? a->group : 0];
        (void)business_hours_at(e, now, &day);
        roll_day(a, day);
        a->spent_day += cost;
        /* The last tick counted this call as running: do not count it twice until the
         * next tick recomputes the running cost. */
        a->live_cost = a->live_cost > cost ? a->live_cost - cost : 0;
        if (c->answer_ms && !c->duration_flagged && g->limits.max_duration_s &&
            dur > (int64_t)g->limits.max_duration_s) {
            c->duration_flagged = true;
            snprintf(detail, sizeof(detail), "call lasted %llds (limit %us)", (long long)dur,
                     g->limits.max_duration_s);
            emit_alert(e, FRAUD_RULE_DURATION, a->name, c->id, c->e164, now, detail);
        }
        if (c->answer_ms &&
            fraud_detect_burst_record(e, a, c->e164, c->classes, dur, now, detail, sizeof(detail)))
            emit_alert(e, FRAUD_RULE_SHORT_BURST, a->name, c->id, c->e164, now, detail);
    }
    if (e->on_record) {
        struct fraud_call_record r;
        memset(&r, 0, sizeof(r));
        memcpy(r.call_id, c->id, c->id_len);
        slice_copy_cstr(slice_cstr(acct_name(e, c)), r.account, sizeof(r.account));
        memcpy(r.source, c->source, sizeof(r.source));
        memcpy(r.dialled, c->dialled, sizeof(r.dialled));
        memcpy(r.e164, c->e164, sizeof(r.e164));
        r.class = c->class;
        memcpy(r.country, c->country, sizeof(r.country));
        r.start_ms = c->start_ms;
        r.answer_ms = c->answer_ms;
        r.end_ms = now;
        r.cost = cost;
        r.verdict = c->verdict;
        r.rule = c->end_returned ? c->end_rule : c->rule;
        r.cause = c->end_returned ? FRAUD_END_ENFORCED : cause;
        e->on_record(e->hook_ctx, &r);
    }
    fraud_call_remove(e, c);
}

int fraud_call_ended(struct fraud_engine *e, struct slice call_id, int64_t now_ms,
                     enum fraud_end_cause cause)
{
    struct call *c = fraud_call_find(e, call_id);
    if (!c)
        return -ENOENT;
    finish_call(e, c, clamp_now(e, now_ms), cause);
    return 0;
}

size_t fraud_tick(struct fraud_engine *e, int64_t now_ms, struct fraud_call_end *out, size_t cap)
{
    int64_t now = clamp_now(e, now_ms);
    size_t n = 0;
    char detail[256];

    /* Running cost per account, so spend limits act while calls run, not after. */
    for (uint32_t i = 0; i < e->acct_cap; i++)
        e->accts[i].live_cost = 0;
    for (uint32_t i = 0; i < e->call_cap; i++) {
        struct call *c = &e->calls[i];
        if (c->used && c->acct >= 0)
            e->accts[c->acct].live_cost += cost_of(c, now);
    }
    for (uint32_t i = 0; i < e->call_cap; i++) {
        struct call *c = &e->calls[i];
        struct acct *a;
        const struct fraud_group *g = &e->pol.groups[0];
        if (!c->used)
            continue;
        a = c->acct >= 0 ? &e->accts[c->acct] : NULL;
        if (a)
            g = &e->pol.groups[a->group < e->pol.n_groups ? a->group : 0];
        if (!c->answer_ms && now - c->start_ms > (int64_t)e->pol.setup_timeout_s * 1000) {
            finish_call(e, c, now, FRAUD_END_TIMEOUT);
            continue;
        }
        if (c->answer_ms && !c->duration_flagged && g->limits.max_duration_s &&
            now - c->answer_ms >= (int64_t)g->limits.max_duration_s * 1000) {
            c->duration_flagged = true;
            snprintf(detail, sizeof(detail), "call running for %llds (limit %us)",
                     (long long)((now - c->answer_ms) / 1000), g->limits.max_duration_s);
            emit_alert(e, FRAUD_RULE_DURATION, acct_name(e, c), c->id, c->e164, now, detail);
            if (g->limits.end_at_max_duration && !c->end_wanted) {
                c->end_wanted = true;
                c->end_rule = FRAUD_RULE_DURATION;
            }
        }
        if (a && c->answer_ms && g->limits.spend_per_day && !c->end_wanted &&
            a->spent_day + a->live_cost > g->limits.spend_per_day &&
            e->pol.actions[FRAUD_RULE_SPEND] >= FRAUD_ACT_REJECT) {
            c->end_wanted = true;
            c->end_rule = FRAUD_RULE_SPEND;
            snprintf(detail, sizeof(detail), "running spend %llu exceeds the daily limit %llu",
                     (unsigned long long)(a->spent_day + a->live_cost),
                     (unsigned long long)g->limits.spend_per_day);
            emit_alert(e, FRAUD_RULE_SPEND, a->name, c->id, c->e164, now, detail);
        }
        if (c->end_wanted && !c->end_returned && n < cap) {
            c->end_returned = true;
            slice_copy_cstr(slice_make(c->id, c->id_len), out[n].call_id, sizeof(out[n].call_id));
            slice_copy_cstr(slice_cstr(acct_name(e, c)), out[n].account, sizeof(out[n].account));
            out[n].rule = c->end_rule;
            n++;
        }
    }
    return n;
}

int fraud_account_lock(struct fraud_engine *e, struct slice account, int64_t now_ms,
                       const char *why)
{
    struct acct *a;
    if (!e || !why)
        return -EINVAL;
    a = fraud_acct_get(e, account);
    if (!a)
        return -ENOSPC;
    lock_account(e, a, clamp_now(e, now_ms), why);
    e->stats.locked++;
    return 0;
}

int fraud_account_unlock(struct fraud_engine *e, struct slice account)
{
    struct acct *a = fraud_acct_find(e, account);
    if (!a || !a->locked)
        return -ENOENT;
    a->locked = false;
    a->quarantined = false;
    a->lock_why[0] = '\0';
    return 0;
}

size_t fraud_account_foreach(const struct fraud_engine *e, fraud_account_fn fn, void *ctx)
{
    size_t n = 0;
    if (!e || !fn)
        return 0;
    for (uint32_t i = 0; i < e->acct_cap; i++) {
        const struct acct *a = &e->accts[i];
        struct fraud_account_info info;
        if (!a->used)
            continue;
        info.name = a->name;
        info.locked = a->locked;
        info.quarantined = a->quarantined;
        info.lock_why = a->lock_why;
        info.locked_at_ms = a->locked_at_ms;
        info.live_calls = a->live;
        info.spent_day = a->spent_day;
        fn(ctx, &info);
        n++;
    }
    return n;
}

bool fraud_account_is_locked(const struct fraud_engine *e, struct slice account)
{
    const struct acct *a = fraud_acct_find(e, account);
    return a && a->locked;
}

int fraud_account_quarantine(struct fraud_engine *e, struct slice account, int64_t now_ms,
                             const char *why)
{
    struct acct *a;
    if (!e || !why)
        return -EINVAL;
    a = fraud_acct_get(e, account);
    if (!a)
        return -ENOSPC;
    now_ms = clamp_now(e, now_ms);
    lock_account(e, a, now_ms, why);
    a->quarantined = true;
    mark_calls_for_end(e, a);
    e->stats.quarantined++;
    emit_alert(e, FRAUD_RULE_ACCOUNT_LOCKED, a->name, "", "", now_ms, why);
    return 0;
}

void fraud_decision_fmt(const struct fraud_decision *d, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s", fraud_action_name(d->action));
    if (d->status && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " %d", d->status);
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " %s (%s %s%s%s)",
                      d->rule < FRAUD_RULE_COUNT ? fraud_rule_name(d->rule) : "-",
                      fraud_class_name(d->class), d->e164[0] ? d->e164 : "?",
                      d->country[0] ? " " : "", d->country);
}
