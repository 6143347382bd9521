/*
 * The fraud engine's life cycle, hooks, modes and statistics (see pbxguard/fraud/engine.h).
 * Decisions are decide.c, limits limits.c, business hours schedule.c, call tracking calls.c,
 * account locks locks.c.
 */
#include <errno.h>
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
int64_t fraud_clamp_now(struct fraud_engine *e, int64_t now_ms)
{
    if (now_ms < e->last_ms)
        return e->last_ms;
    e->last_ms = now_ms;
    return now_ms;
}

/* Copies attacker bytes for a detail text: printable ASCII only, capped. */
void fraud_safe_copy(char *dst, size_t cap, struct slice s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len && n + 1 < cap && i < 40; i++) {
        char c = s.p[i];
        dst[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
    }
    dst[n] = '\0';
}

void fraud_emit_alert(struct fraud_engine *e, enum fraud_rule rule, const char *account,
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
