/*
 * The fraud engine: applies a fraud_policy to initial INVITEs, tracks calls from INVITE to
 * BYE/CANCEL/timeout, keeps bounded per-account state (limits, locks, detectors) and tells
 * the caller which live calls to end. The gateway, the sensor and `pbxguard cdr analyze`
 * drive the same engine, so a rule behaves identically everywhere.
 *
 * Time: every entry point takes `now_ms` (wall-clock milliseconds since the epoch) from
 * the caller; the engine never reads a clock itself, so tests inject any instant.
 * Earlier-than-seen instants are treated as the latest one seen (windows never run back).
 *
 * Memory: the account table holds at most policy.max_accounts entries; when full, the
 * least recently used account with no live call and no lock is evicted (its counters and
 * learned baseline are lost). The call table holds at most policy.max_calls calls.
 * Nothing else grows with traffic.
 *
 * Thread-safety: none. One engine belongs to one thread (the gateway's event loop); the
 * control socket handler runs in that loop too. Use one engine per thread otherwise.
 */
#ifndef PBXGUARD_FRAUD_ENGINE_H
#define PBXGUARD_FRAUD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/fraud/number.h"
#include "pbxguard/fraud/policy.h"
#include "pbxguard/fraud/ranges.h"

#define FRAUD_REASONS_MAX 8
#define FRAUD_DETAIL_MAX 96
#define FRAUD_ACCOUNT_MAX 64 /* account names are cut to 63 bytes */
#define FRAUD_CALL_ID_MAX 128
#define FRAUD_SOURCE_MAX 64

struct fraud_engine;

/* One initial INVITE. Slices are borrowed for the call; any bytes are accepted. */
struct fraud_call_ctx {
    struct slice account; /* authenticated user (digest username) or trunk name */
    struct slice source;  /* "udp:203.0.113.5:5060" or just the address; for records */
    struct slice dialled; /* Request-URI user part as received */
    int64_t now_ms;
};

struct fraud_reason {
    enum fraud_rule rule;
    enum fraud_action action;
    char detail[FRAUD_DETAIL_MAX]; /* human text; attacker bytes already escaped */
};

struct fraud_decision {
    enum fraud_action action; /* the most severe action among reasons; ALLOW if none */
    int status;               /* SIP status to answer when action >= REJECT, else 0 */
    char reason_phrase[64];   /* SIP reason phrase for that status */
    enum fraud_rule rule;     /* the rule that set the action; FRAUD_RULE_COUNT if none */
    enum fraud_class class;
    uint32_t classes;
    char country[4];
    enum fraud_num_kind kind;
    unsigned num_flags;               /* FRAUD_NUMF_* */
    char e164[FRAUD_DIALLED_MAX + 1]; /* normalised number ("" when invalid) */
    char group[FRAUD_NAME_MAX];       /* policy group the account belongs to */
    uint32_t rate_per_minute;         /* cost estimate, milli-units per minute */
    bool business_hours;              /* schedule state at now_ms */
    bool unauthenticated;             /* from fraud_check_unauthenticated */
    struct fraud_reason reasons[FRAUD_REASONS_MAX];
    size_t n_reasons;
};

enum fraud_end_cause {
    FRAUD_END_BYE = 0,
    FRAUD_END_CANCEL,   /* caller gave up before answer */
    FRAUD_END_FAILED,   /* final non-2xx response */
    FRAUD_END_TIMEOUT,  /* no answer within setup_timeout_s; ended by fraud_tick */
    FRAUD_END_ENFORCED, /* ended by pbxguard (max duration, spend, quarantine) */
};

/* What the store keeps of each call (handed to the record hook when a call ends). */
struct fraud_call_record {
    char call_id[FRAUD_CALL_ID_MAX];
    char account[FRAUD_ACCOUNT_MAX];
    char source[FRAUD_SOURCE_MAX];
    char dialled[FRAUD_DIALLED_MAX + 1];
    char e164[FRAUD_DIALLED_MAX + 1];
    enum fraud_class class;
    char country[4];
    int64_t start_ms, answer_ms, end_ms; /* answer_ms 0 if never answered */
    uint64_t cost;                       /* milli-units, from the rate table */
    enum fraud_action verdict;           /* the INVITE decision */
    enum fraud_rule rule;                /* its rule, or the rule that ended the call */
    enum fraud_end_cause cause;
};

/* An alert raised outside an INVITE decision (max duration, spend, burst detected). */
struct fraud_alert {
    enum fraud_rule rule;
    enum fraud_action action;
    const char *account; /* NUL-terminated, valid during the callback */
    const char *call_id; /* may be "" */
    const char *e164;
    int64_t now_ms;
    char detail[FRAUD_DETAIL_MAX];
};

typedef void (*fraud_record_fn)(void *ctx, const struct fraud_call_record *rec);
typedef void (*fraud_alert_fn)(void *ctx, const struct fraud_alert *alert);

/* A call the caller must now end with BYE both ways (from fraud_tick). */
struct fraud_call_end {
    char call_id[FRAUD_CALL_ID_MAX];
    char account[FRAUD_ACCOUNT_MAX];
    enum fraud_rule rule; /* FRAUD_RULE_DURATION, _SPEND or _ACCOUNT_LOCKED (quarantine) */
};

/*
 * Creates an engine from a policy (copied; the caller keeps ownership of `policy`). Loads
 * the ranges file named by the policy, compiles rates and high-risk entries, loads the
 * schedule's time zone. On error returns -errno and writes a reason to err (may be NULL):
 * -ENOENT ranges file or time zone missing, -EBADMSG malformed data, -ENOMEM.
 */
PBX_WUR int fraud_engine_new(const struct fraud_policy *policy, struct fraud_engine **out,
                             char *err, size_t err_cap);
void fraud_engine_free(struct fraud_engine *e);

/* The engine's copy of the policy, and its range database (read-only). */
const struct fraud_policy *fraud_engine_policy(const struct fraud_engine *e);
const struct fraud_ranges *fraud_engine_ranges(const struct fraud_engine *e);

/* Hooks, called synchronously from the engine's thread; either may be NULL. */
void fraud_engine_set_hooks(struct fraud_engine *e, fraud_record_fn on_record,
                            fraud_alert_fn on_alert, void *ctx);

/*
 * Decides an initial INVITE; always fills *d (0), or returns -EINVAL for NULL arguments.
 * Counts the attempt (calls per minute), and when the decision lets the call through
 * (action ALLOW or ALERT) its international counters and learned baseline. A LOCK or
 * QUARANTINE decision locks the account before returning; QUARANTINE also marks its live
 * calls for ending (collected by fraud_tick) — the caller bans ctx->source.
 * Emergency numbers are always allowed, whatever locks, lockdown or limits say.
 */
PBX_WUR int fraud_check_invite(struct fraud_engine *e, const struct fraud_call_ctx *ctx,
                               struct fraud_decision *d);

/*
 * Decides an initial INVITE that carries no credentials, counting nothing (a PBX normally
 * challenges it and the credentialed retry is what fraud_check_invite counts). ctx->account
 * names the pseudo-account of the source ("anonymous@203.0.113.5"). Applies the lockdown,
 * the number checks, the classes, off-hours profile and countries of the group named
 * policy.unauth_group (built-in when absent: internal and emergency only, at any time), the
 * high-risk list, and, when the pseudo-account already exists, its lock and concurrency
 * limit. Emergency numbers always pass. Never changes the engine; fills *d (d->unauthenticated
 * set) and returns 0, or -EINVAL for NULL arguments.
 */
PBX_WUR int fraud_check_unauthenticated(const struct fraud_engine *e,
                                        const struct fraud_call_ctx *ctx, struct fraud_decision *d);

/*
 * Starts tracking a call the caller let through (after fraud_check_invite, or after
 * fraud_check_unauthenticated for a call answered without authentication: its
 * pseudo-account ctx->account then takes the limits of policy.unauth_group when that group
 * exists, whatever the account rules say). call_id is
 * copied (cut to FRAUD_CALL_ID_MAX-1 bytes). Errors: -EEXIST already tracked, -ENOSPC call
 * table full (the call is not tracked; policy decides whether to refuse it, see
 * docs/internals/fraud.md), -EINVAL.
 */
PBX_WUR int fraud_call_start(struct fraud_engine *e, struct slice call_id,
                             const struct fraud_call_ctx *ctx, const struct fraud_decision *d);
/* The call got a 2xx. -ENOENT unknown call. Idempotent. */
PBX_WUR int fraud_call_answered(struct fraud_engine *e, struct slice call_id, int64_t now_ms);
/*
 * The call ended (BYE, CANCEL, final failure). Computes duration and cost, charges the
 * account's daily spend, runs the short-call burst detector, raises a duration alert if
 * the limit was passed unnoticed, and hands the record to the record hook. -ENOENT.
 */
PBX_WUR int fraud_call_ended(struct fraud_engine *e, struct slice call_id, int64_t now_ms,
                             enum fraud_end_cause cause);

/*
 * Timer hook (the gateway calls it about once a second). Drops calls unanswered past
 * setup_timeout_s (recorded with cause TIMEOUT), raises max-duration and running-spend
 * alerts, and writes into out[0..cap) the calls to end now (max duration with
 * end_at_max_duration, spend exceeded, quarantined accounts). Each call is returned once;
 * calls that did not fit are returned by the next tick. Returns the number written.
 */
size_t fraud_tick(struct fraud_engine *e, int64_t now_ms, struct fraud_call_end *out, size_t cap);

/* Locks an account (all outbound refused except emergency). Creates its state if needed.
 * -ENOSPC account table full of locked/busy accounts, -EINVAL. */
PBX_WUR int fraud_account_lock(struct fraud_engine *e, struct slice account, int64_t now_ms,
                               const char *why);
/* -ENOENT when the account is not locked. */
PBX_WUR int fraud_account_unlock(struct fraud_engine *e, struct slice account);
bool fraud_account_is_locked(const struct fraud_engine *e, struct slice account);
/* Lock + mark the account's live calls for ending + alert. Errors as fraud_account_lock. */
PBX_WUR int fraud_account_quarantine(struct fraud_engine *e, struct slice account, int64_t now_ms,
                                     const char *why);

/* One account's state as `pbxguard ctl account list` shows it. */
struct fraud_account_info {
    const char *name; /* NUL-terminated, valid during the callback */
    bool locked, quarantined;
    const char *lock_why; /* "" when not locked */
    int64_t locked_at_ms;
    uint32_t live_calls;
    uint64_t spent_day; /* milli-units charged today (local day of the schedule) */
};
typedef void (*fraud_account_fn)(void *ctx, const struct fraud_account_info *info);
/* Calls fn for every tracked account (table order; at most policy.max_accounts). Returns
 * the number visited. The engine must not be changed from fn. */
size_t fraud_account_foreach(const struct fraud_engine *e, fraud_account_fn fn, void *ctx);

/* Global lockdown: only internal and emergency calls pass. */
void fraud_lockdown_set(struct fraud_engine *e, bool on);
bool fraud_lockdown_get(const struct fraud_engine *e);

struct fraud_stats {
    uint64_t checks, allowed, alerted, rejected, locked, quarantined;
    uint64_t accounts_evicted, calls_dropped_full;
    uint32_t accounts, calls;
};
void fraud_engine_stats(const struct fraud_engine *e, struct fraud_stats *out);

/* Business hours at now_ms by the policy's schedule (false on holidays). */
bool fraud_engine_business_hours(const struct fraud_engine *e, int64_t now_ms);

/* Human summary of a decision: "reject 403 class_forbidden (premium +44909...)". */
void fraud_decision_fmt(const struct fraud_decision *d, char *buf, size_t cap);

#endif
