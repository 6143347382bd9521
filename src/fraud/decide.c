/*
 * Decisions on INVITEs, authenticated and not: classify the dialled number, apply the
 * destination rules, the account's limits and the detectors, and fold the reasons into one
 * action.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fraud_int.h"

void fraud_add_reason(const struct fraud_engine *e, struct fraud_decision *d, enum fraud_rule rule,
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
        fraud_add_reason(e, d, FRAUD_RULE_NUMBER_MANGLED, detail);
    }
    allowed_now = d->business_hours ? g->allowed_classes : g->offhours_classes;
    forbidden = dest->classes & ~g->allowed_classes;
    if (forbidden & FRAUD_CLASS_BIT(FRAUD_CLASS_HIGH_RISK)) {
        snprintf(detail, sizeof(detail), "%s (%s) is on the high-risk list", d->e164,
                 d->country[0] ? d->country : "?");
        fraud_add_reason(e, d, FRAUD_RULE_HIGH_RISK, detail);
    }
    if (forbidden & ~FRAUD_CLASS_BIT(FRAUD_CLASS_HIGH_RISK)) {
        const char *cls = fraud_class_name(
            dest->class == FRAUD_CLASS_HIGH_RISK ? FRAUD_CLASS_INTERNATIONAL : dest->class);
        if (unauth)
            snprintf(detail, sizeof(detail),
                     "class %s not allowed without authentication (group %s)", cls, g->name);
        else
            snprintf(detail, sizeof(detail), "class %s not allowed for group %s", cls, g->name);
        fraud_add_reason(e, d, FRAUD_RULE_CLASS, detail);
    } else if (!forbidden && (dest->classes & ~allowed_now)) {
        snprintf(detail, sizeof(detail), "class %s allowed in business hours only",
                 fraud_class_name(dest->class));
        fraud_add_reason(e, d, FRAUD_RULE_OFF_HOURS, detail);
    }
    if (dest->international && num->kind == FRAUD_NUM_E164 && !country_allowed(g, dest->region)) {
        snprintf(detail, sizeof(detail), "country %s not on group %s's list",
                 dest->region[0] ? dest->region : "?", g->name);
        fraud_add_reason(e, d, FRAUD_RULE_COUNTRY, detail);
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
    now = fraud_clamp_now(e, ctx->now_ms);
    e->stats.checks++;

    classify_dialled(e, ctx, &num, &dest, d);
    d->business_hours = fraud_hours_at(e, now, &day);
    intl = dest.international && num.kind == FRAUD_NUM_E164;
    fraud_safe_copy(shown, sizeof(shown), ctx->dialled);

    /* Emergency calls pass whatever else is true: a locked phone must still reach 112. */
    if (num.kind == FRAUD_NUM_EMERGENCY)
        goto out;
    if (e->lockdown && num.kind != FRAUD_NUM_INTERNAL) {
        snprintf(detail, sizeof(detail), "lockdown: only internal and emergency calls");
        fraud_add_reason(e, d, FRAUD_RULE_LOCKDOWN, detail);
        goto out;
    }
    if (num.kind == FRAUD_NUM_INTERNAL)
        goto out;

    a = fraud_acct_get(e, ctx->account);
    if (!a) {
        fraud_add_reason(e, d, FRAUD_RULE_STATE_FULL,
                         "account table full of locked or busy accounts");
        goto out;
    }
    g = &e->pol.groups[a->group < e->pol.n_groups ? a->group : 0];
    fraud_roll_day(a, day);
    /* Every attempt counts towards the rate, refused ones too: a flood stays refused. */
    uint32_t attempts = fraud_window_count(&a->rate_win, &a->rate_cur, &a->rate_prev, now, 60000);
    a->rate_cur++;

    if (a->locked) {
        snprintf(detail, sizeof(detail), "account locked: %s", a->lock_why);
        fraud_add_reason(e, d, FRAUD_RULE_ACCOUNT_LOCKED, detail);
        goto account_done;
    }
    if (num.kind == FRAUD_NUM_INVALID) {
        snprintf(detail, sizeof(detail), "'%s' is not a number of the dialling plan", shown);
        fraud_add_reason(e, d, FRAUD_RULE_NUMBER_INVALID, detail);
        goto account_done;
    }
    check_destination(e, d, g, &num, &dest, shown, false);

    fraud_limits_check(e, d, g, a, attempts, intl, now);

    if (fraud_detect_sequential(e, a, d->e164, now, detail, sizeof(detail)))
        fraud_add_reason(e, d, FRAUD_RULE_SEQUENTIAL, detail);
    if (fraud_detect_burst_hit(e, a, d->e164, now, detail, sizeof(detail)))
        fraud_add_reason(e, d, FRAUD_RULE_SHORT_BURST, detail);
    if (intl && e->pol.det.first_intl && !a->seen_intl) {
        snprintf(detail, sizeof(detail), "first international call of this account, to %s",
                 d->e164);
        fraud_add_reason(e, d, FRAUD_RULE_FIRST_INTL, detail);
    }
    if (fraud_detect_spike(e, a, now, detail, sizeof(detail)))
        fraud_add_reason(e, d, FRAUD_RULE_SPIKE, detail);

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
        fraud_lock_account(e, a, now, detail);
        if (d->action == FRAUD_ACT_QUARANTINE) {
            a->quarantined = true;
            fraud_mark_calls_for_end(e, a);
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
    d->business_hours = fraud_hours_compute(e, now, &day);
    fraud_safe_copy(shown, sizeof(shown), ctx->dialled);

    if (num.kind == FRAUD_NUM_EMERGENCY)
        goto out;
    if (e->lockdown && num.kind != FRAUD_NUM_INTERNAL) {
        fraud_add_reason(e, d, FRAUD_RULE_LOCKDOWN, "lockdown: only internal and emergency calls");
        goto out;
    }
    /* A locked (quarantined) source gets nothing but emergency, internal calls included:
     * unlike an account, it has no other way in that the lock would leave open. */
    a = fraud_acct_find(e, ctx->account);
    if (a && a->locked) {
        snprintf(detail, sizeof(detail), "account locked: %s", a->lock_why);
        fraud_add_reason(e, d, FRAUD_RULE_ACCOUNT_LOCKED, detail);
        goto out;
    }
    if (num.kind == FRAUD_NUM_INTERNAL &&
        (g->allowed_classes & FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL)))
        goto out;
    if (num.kind == FRAUD_NUM_INVALID) {
        snprintf(detail, sizeof(detail), "'%s' is not a number of the dialling plan", shown);
        fraud_add_reason(e, d, FRAUD_RULE_NUMBER_INVALID, detail);
        goto out;
    }
    check_destination(e, d, g, &num, &dest, shown, true);
    if (a && g->limits.concurrent && a->live >= g->limits.concurrent) {
        snprintf(detail, sizeof(detail), "%u calls in progress (limit %u)", a->live,
                 g->limits.concurrent);
        fraud_add_reason(e, d, FRAUD_RULE_CONCURRENT, detail);
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
