/* Fraud decisions as security events (see pbxguard/fraud/event.h). */
#include <stdio.h>
#include <string.h>

#include "pbxguard/fraud/event.h"

enum ev_action fraud_event_action(enum fraud_action a)
{
    switch (a) {
    case FRAUD_ACT_ALLOW:
        return EV_ACT_PASS;
    case FRAUD_ACT_ALERT:
        return EV_ACT_ALERT;
    case FRAUD_ACT_REJECT:
        return EV_ACT_REJECT;
    case FRAUD_ACT_LOCK:
    case FRAUD_ACT_QUARANTINE:
        break;
    }
    return EV_ACT_LOCK;
}

enum ev_severity fraud_event_severity(enum fraud_action a)
{
    switch (a) {
    case FRAUD_ACT_ALLOW:
        return EV_SEV_INFO;
    case FRAUD_ACT_ALERT:
    case FRAUD_ACT_REJECT:
        return EV_SEV_MEDIUM;
    case FRAUD_ACT_LOCK:
        return EV_SEV_HIGH;
    case FRAUD_ACT_QUARANTINE:
        break;
    }
    return EV_SEV_CRITICAL;
}

/* Rule ids for the event stream; tests/fraud/test_event.c checks they match
 * fraud_rule_name(). */
static const char *const event_rules[FRAUD_RULE_COUNT] = {
    [FRAUD_RULE_LOCKDOWN] = "fraud.lockdown",
    [FRAUD_RULE_ACCOUNT_LOCKED] = "fraud.account_locked",
    [FRAUD_RULE_NUMBER_INVALID] = "fraud.number_invalid",
    [FRAUD_RULE_NUMBER_MANGLED] = "fraud.number_mangled",
    [FRAUD_RULE_CLASS] = "fraud.class_forbidden",
    [FRAUD_RULE_COUNTRY] = "fraud.country_forbidden",
    [FRAUD_RULE_HIGH_RISK] = "fraud.high_risk",
    [FRAUD_RULE_OFF_HOURS] = "fraud.off_hours",
    [FRAUD_RULE_RATE] = "fraud.calls_per_minute",
    [FRAUD_RULE_CONCURRENT] = "fraud.concurrent",
    [FRAUD_RULE_INTL_HOUR] = "fraud.intl_per_hour",
    [FRAUD_RULE_INTL_DAY] = "fraud.intl_per_day",
    [FRAUD_RULE_DURATION] = "fraud.max_duration",
    [FRAUD_RULE_SPEND] = "fraud.spend_per_day",
    [FRAUD_RULE_SEQUENTIAL] = "fraud.sequential",
    [FRAUD_RULE_SHORT_BURST] = "fraud.short_burst",
    [FRAUD_RULE_FIRST_INTL] = "fraud.first_international",
    [FRAUD_RULE_SPIKE] = "fraud.spike",
    [FRAUD_RULE_STATE_FULL] = "fraud.state_full",
};

const char *fraud_event_rule(enum fraud_rule r)
{
    return (unsigned)r < FRAUD_RULE_COUNT ? event_rules[r] : "fraud.none";
}

int fraud_event_decision(const struct fraud_decision *d, const struct fraud_call_ctx *ctx,
                         struct slice call_id, const char *component, bool shadow)
{
    static const char *const reason_keys[FRAUD_REASONS_MAX] = {
        "reason_1", "reason_2", "reason_3", "reason_4",
        "reason_5", "reason_6", "reason_7", "reason_8",
    };
    char reasons[FRAUD_REASONS_MAX][FRAUD_DETAIL_MAX + 32];
    struct ev_kv ev[5 + FRAUD_REASONS_MAX];
    struct ev_record r;
    size_t n = 0;

    if (d->action == FRAUD_ACT_ALLOW && d->n_reasons == 0)
        return 0;
    ev[n++] = EV_KV_S("e164", slice_cstr(d->e164));
    ev[n++] = EV_KV_S("class", slice_cstr(fraud_class_name(d->class)));
    ev[n++] = EV_KV_S("country", slice_cstr(d->country));
    ev[n++] = EV_KV_S("group", slice_cstr(d->group));
    ev[n++] = EV_KV_B("business_hours", d->business_hours);
    for (size_t i = 0; i < d->n_reasons && i < FRAUD_REASONS_MAX; i++) {
        snprintf(reasons[i], sizeof(reasons[i]), "%s: %s", fraud_rule_name(d->reasons[i].rule),
                 d->reasons[i].detail);
        ev[n++] = EV_KV_S(reason_keys[i], slice_cstr(reasons[i]));
    }
    memset(&r, 0, sizeof(r));
    r.ts_ms = ctx->now_ms;
    r.type = "fraud.invite";
    r.rule = fraud_event_rule(d->rule);
    r.action = fraud_event_action(d->action);
    r.severity = fraud_event_severity(d->action);
    r.shadow = shadow;
    r.component = component;
    r.src = ctx->source;
    r.target = ctx->account;
    r.call_id = call_id;
    r.method = SLICE_LIT("INVITE");
    r.reason = d->n_reasons ? "toll-fraud policy" : NULL;
    r.evidence = ev;
    r.n_evidence = n;
    return ev_emit(&r);
}

int fraud_event_alert(const struct fraud_alert *a, const char *component, bool shadow)
{
    struct ev_kv ev[2];
    struct ev_record r;
    size_t n = 0;

    if (a->e164 && a->e164[0])
        ev[n++] = EV_KV_S("e164", slice_cstr(a->e164));
    ev[n++] = EV_KV_S("detail", slice_cstr(a->detail));
    memset(&r, 0, sizeof(r));
    r.ts_ms = a->now_ms;
    r.type = a->call_id && a->call_id[0] ? "fraud.call" : "fraud.account";
    r.rule = fraud_event_rule(a->rule);
    r.action = a->call_id && a->call_id[0] ? EV_ACT_ALERT : fraud_event_action(a->action);
    r.severity = fraud_event_severity(a->action);
    r.shadow = shadow;
    r.component = component;
    r.target = slice_cstr(a->account);
    r.call_id = slice_cstr(a->call_id);
    r.reason = "toll-fraud policy";
    r.evidence = ev;
    r.n_evidence = n;
    return ev_emit(&r);
}
