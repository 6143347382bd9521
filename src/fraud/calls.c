/*
 * Call tracking: calls enter at the decision, are answered and ended by the gateway, and the
 * timer enforces setup timeouts, maximum durations and spend limits while they run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fraud_int.h"

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
    fraud_safe_copy(c->source, sizeof(c->source), ctx->source);
    fraud_safe_copy(c->dialled, sizeof(c->dialled), ctx->dialled);
    slice_copy_cstr(slice_cstr(d->e164), c->e164, sizeof(c->e164));
    memcpy(c->country, d->country, sizeof(c->country));
    c->class = d->class;
    c->classes = d->classes;
    c->rate = d->rate_per_minute;
    c->start_ms = fraud_clamp_now(e, ctx->now_ms);
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
        c->answer_ms = fraud_clamp_now(e, now_ms);
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
        (void)fraud_hours_at(e, now, &day);
        fraud_roll_day(a, day);
        a->spent_day += cost;
        /* The last tick counted this call as running: do not count it twice until the
         * next tick recomputes the running cost. */
        a->live_cost = a->live_cost > cost ? a->live_cost - cost : 0;
        if (c->answer_ms && !c->duration_flagged && g->limits.max_duration_s &&
            dur > (int64_t)g->limits.max_duration_s) {
            c->duration_flagged = true;
            snprintf(detail, sizeof(detail), "call lasted %llds (limit %us)", (long long)dur,
                     g->limits.max_duration_s);
            fraud_emit_alert(e, FRAUD_RULE_DURATION, a->name, c->id, c->e164, now, detail);
        }
        if (c->answer_ms &&
            fraud_detect_burst_record(e, a, c->e164, c->classes, dur, now, detail, sizeof(detail)))
            fraud_emit_alert(e, FRAUD_RULE_SHORT_BURST, a->name, c->id, c->e164, now, detail);
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
    finish_call(e, c, fraud_clamp_now(e, now_ms), cause);
    return 0;
}

size_t fraud_tick(struct fraud_engine *e, int64_t now_ms, struct fraud_call_end *out, size_t cap)
{
    int64_t now = fraud_clamp_now(e, now_ms);
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
            fraud_emit_alert(e, FRAUD_RULE_DURATION, acct_name(e, c), c->id, c->e164, now, detail);
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
            fraud_emit_alert(e, FRAUD_RULE_SPEND, a->name, c->id, c->e164, now, detail);
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
