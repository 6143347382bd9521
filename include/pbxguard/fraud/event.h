/*
 * Fraud decisions and alerts as security events (core event stream, docs/events.md).
 * Event types: "fraud.invite" for an INVITE decision, "fraud.call" for alerts raised while
 * a call runs or ends, "fraud.account" for operator locks and quarantines. The rule field is
 * "fraud.<rule name>" (docs/fraud.md lists the rules). Evidence keys: e164, class, country,
 * group, business_hours, and reason_1..reason_N ("rule: detail").
 * Thread-safe as ev_emit is; the arguments are borrowed for the call.
 */
#ifndef PBXGUARD_FRAUD_EVENT_H
#define PBXGUARD_FRAUD_EVENT_H

#include <stdbool.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/event.h"
#include "pbxguard/fraud/engine.h"

/* The event action and severity for a fraud action. */
enum ev_action fraud_event_action(enum fraud_action a);
enum ev_severity fraud_event_severity(enum fraud_action a);
/* "fraud.<rule name>", a static string. */
const char *fraud_event_rule(enum fraud_rule r);

/*
 * Emits the event of one INVITE decision (nothing for a plain ALLOW with no reason).
 * call_id may be absent; component is "gateway", "sensor"...; shadow marks decisions that
 * were recorded but not enforced. Returns ev_emit's result, or 0 when nothing was emitted.
 */
int fraud_event_decision(const struct fraud_decision *d, const struct fraud_call_ctx *ctx,
                         struct slice call_id, const char *component, bool shadow);

/* Emits the event of an alert from the engine's alert hook. */
int fraud_event_alert(const struct fraud_alert *a, const char *component, bool shadow);

#endif
