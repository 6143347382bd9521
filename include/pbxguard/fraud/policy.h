/*
 * The toll-fraud policy: dialling plan, destination classes allowed per group, schedule
 * (business hours, holidays, off-hours profile), per-account limits, rates, detectors and
 * the action taken by each rule. Built programmatically (this header) or from the
 * `fraud:` YAML section (fraud_config_load in pbxguard/fraud/config.h). A policy is a plain
 * value: once handed to fraud_engine_new it is copied, and the caller may free it.
 * Not thread-safe while being built; read-only afterwards.
 */
#ifndef PBXGUARD_FRAUD_POLICY_H
#define PBXGUARD_FRAUD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/fraud/number.h"
#include "pbxguard/fraud/ranges.h"

#define FRAUD_NAME_MAX 48
#define FRAUD_GROUPS_MAX 64
#define FRAUD_COUNTRIES_MAX 64
#define FRAUD_ACCOUNT_RULES_MAX 1024
#define FRAUD_HOLIDAYS_MAX 128
#define FRAUD_RATES_MAX 8192
#define FRAUD_HIGH_RISK_MAX 256
#define FRAUD_PATH_MAX 256

/* What a rule does when it fires. Ordered by severity: the decision takes the maximum. */
enum fraud_action {
    FRAUD_ACT_ALLOW = 0,  /* rule disabled / nothing to do */
    FRAUD_ACT_ALERT,      /* event only, the call proceeds */
    FRAUD_ACT_REJECT,     /* refuse this INVITE (403 by default) */
    FRAUD_ACT_LOCK,       /* refuse, and lock the account until unlocked */
    FRAUD_ACT_QUARANTINE, /* lock, end the account's live calls, ban the source, alert */
};

/* Rules; each has a configured action (policy.actions[]) and a stable name for events. */
enum fraud_rule {
    FRAUD_RULE_LOCKDOWN = 0, /* global lockdown: only internal and emergency calls */
    FRAUD_RULE_ACCOUNT_LOCKED,
    FRAUD_RULE_NUMBER_INVALID,
    FRAUD_RULE_NUMBER_MANGLED, /* "++44", "0+44", "9011+44"... */
    FRAUD_RULE_CLASS,          /* destination class not allowed for the group */
    FRAUD_RULE_COUNTRY,        /* international country not on the group's list */
    FRAUD_RULE_HIGH_RISK,      /* destination on the high-risk list */
    FRAUD_RULE_OFF_HOURS,      /* allowed in business hours only */
    FRAUD_RULE_RATE,           /* calls per minute */
    FRAUD_RULE_CONCURRENT,
    FRAUD_RULE_INTL_HOUR,
    FRAUD_RULE_INTL_DAY,
    FRAUD_RULE_DURATION, /* call longer than max_duration (raised while it runs) */
    FRAUD_RULE_SPEND,    /* spend per day (checked at INVITE and while calls run) */
    FRAUD_RULE_SEQUENTIAL,
    FRAUD_RULE_SHORT_BURST,
    FRAUD_RULE_FIRST_INTL,
    FRAUD_RULE_SPIKE,
    FRAUD_RULE_STATE_FULL, /* account or call table full and nothing evictable */
    FRAUD_RULE_COUNT
};

/* Per-account limits; 0 means unlimited. Money is in milli-units of the rate currency. */
struct fraud_limits {
    uint32_t calls_per_minute;
    uint32_t concurrent;
    uint32_t intl_per_hour;
    uint32_t intl_per_day;
    uint32_t max_duration_s;
    uint64_t spend_per_day;
    bool end_at_max_duration; /* end the call (BYE both ways) rather than only alert */
};

struct fraud_group {
    char name[FRAUD_NAME_MAX];
    uint32_t allowed_classes;  /* FRAUD_CLASS_BIT()s allowed in business hours */
    uint32_t offhours_classes; /* allowed outside business hours and on holidays */
    /* International calls only to these regions ("essential destinations"); empty: any
     * region (still subject to the high-risk class). */
    char countries[FRAUD_COUNTRIES_MAX][4];
    size_t n_countries;
    struct fraud_limits limits;
};

/* Maps accounts to groups: exact name, or one '*' wildcard ("*@tenant-a.example"). */
struct fraud_account_rule {
    char pattern[FRAUD_NAME_MAX * 2];
    size_t group;
};

struct fraud_holiday {
    int16_t year; /* 0: every year (fixed date) */
    uint8_t month, day;
};

struct fraud_schedule {
    char timezone[64]; /* IANA name, "UTC" or "+02:00" */
    /* Business hours per weekday (0 = Sunday), minutes of the local day [open, close);
     * open == close means closed all day. */
    uint16_t open[7], close[7];
    struct fraud_holiday holidays[FRAUD_HOLIDAYS_MAX];
    size_t n_holidays;
};

struct fraud_rate {
    char prefix[FRAUD_TRIE_KEY_MAX + 2]; /* "+44", "+4490" */
    uint32_t per_minute;                 /* milli-units per minute */
};

struct fraud_detectors {
    /* Sequential dialling: `sequential_run` numbers each one above/below the last, within
     * `sequential_window_s` seconds. 0 disables. */
    uint32_t sequential_run, sequential_window_s;
    /* Short-call bursts: `burst_calls` calls no longer than `burst_max_s` to one prefix of
     * `burst_prefix_len` digits in `burst_classes`, within `burst_window_s`. 0 disables. */
    uint32_t burst_calls, burst_max_s, burst_window_s, burst_prefix_len, burst_classes;
    bool first_intl; /* flag an account's first international call ever */
    /* Spike: calls this hour > max(spike_min_calls, spike_factor x EWMA of calls per hour),
     * once spike_learn_hours of history exist. alpha is the EWMA weight of the last hour. */
    uint32_t spike_min_calls, spike_learn_hours;
    double spike_factor, spike_alpha;
};

struct fraud_policy {
    /* Applied by the daemons (gateway, live sensor): true when the configuration has a
     * `fraud:` section, unless it says `enabled: false`. The offline tools ignore it. */
    bool enabled;
    struct fraud_dialplan plan;
    char ranges_file[FRAUD_PATH_MAX]; /* "" = the shipped file; "none" = no range data */
    bool default_high_risk;           /* include fraud_default_high_risk[] */
    char high_risk[FRAUD_HIGH_RISK_MAX][16];
    size_t n_high_risk;
    struct fraud_schedule schedule;
    struct fraud_group groups[FRAUD_GROUPS_MAX]; /* groups[0] is "default" */
    size_t n_groups;
    struct fraud_account_rule accounts[FRAUD_ACCOUNT_RULES_MAX];
    size_t n_accounts;
    struct fraud_rate rates[FRAUD_RATES_MAX];
    size_t n_rates;
    uint32_t class_rates[FRAUD_CLASS_COUNT]; /* per-minute fallback by class */
    enum fraud_action actions[FRAUD_RULE_COUNT];
    int reject_status;      /* SIP status for refusals, 403 */
    char reject_reason[64]; /* reason phrase, "Forbidden" */
    struct fraud_detectors det;
    uint32_t max_accounts;    /* account table cap */
    uint32_t max_calls;       /* call table cap */
    uint32_t setup_timeout_s; /* unanswered calls dropped from tracking after this */
    /* Initial INVITEs from outside without credentials: when check_unauthenticated, decided
     * (not counted) against the group named unauth_group, or, when no group has that name,
     * the built-in profile allowing internal and emergency calls only. Off by default
     * (fraud_policy_new); the `fraud:` section turns it on by defining that group. */
    bool check_unauthenticated;
    char unauth_group[FRAUD_NAME_MAX]; /* "unauthenticated" */
};

/*
 * A new policy with the documented defaults (docs/fraud.md): no country (set a plan),
 * group "default" allowing internal, emergency, national, mobile and toll-free at any
 * time and international in business hours, Monday-Friday 08:00-18:00 UTC, default
 * high-risk list on, mangled numbers alerted, everything else rejected.
 * Returns NULL on allocation failure. Free with fraud_policy_free (NULL is a no-op).
 */
struct fraud_policy *fraud_policy_new(void);
void fraud_policy_free(struct fraud_policy *p);

/* Adds a group initialised like "default"; *idx receives its index. -EEXIST duplicate name,
 * -EMSGSIZE cap, -EINVAL bad name. */
PBX_WUR int fraud_policy_add_group(struct fraud_policy *p, const char *name, size_t *idx);
/* Index of a named group, or -ENOENT. */
PBX_WUR int fraud_policy_find_group(const struct fraud_policy *p, const char *name, size_t *idx);
/* Adds a region to a group's international allow-list. -EINVAL, -EMSGSIZE. */
PBX_WUR int fraud_group_allow_country(struct fraud_group *g, const char *region);
/* Maps accounts matching `pattern` to group `group`; first match wins. -EINVAL, -EMSGSIZE. */
PBX_WUR int fraud_policy_add_account(struct fraud_policy *p, const char *pattern, size_t group);
/* Adds a rate ("+4490", milli-units per minute). -EINVAL, -EMSGSIZE. */
PBX_WUR int fraud_policy_add_rate(struct fraud_policy *p, const char *prefix, uint32_t per_minute);
/* Adds a holiday: "MM-DD" every year or "YYYY-MM-DD" once. -EINVAL, -EMSGSIZE. */
PBX_WUR int fraud_policy_add_holiday(struct fraud_policy *p, const char *date);
/* Adds a high-risk entry: region "CU" or prefix "+1876". -EINVAL, -EMSGSIZE. */
PBX_WUR int fraud_policy_add_high_risk(struct fraud_policy *p, const char *entry);
/* Business hours "HH:MM-HH:MM" for a weekday (0 = Sunday), or "closed". -EINVAL. */
PBX_WUR int fraud_policy_set_hours(struct fraud_policy *p, unsigned wday, const char *range);

/* Stable names ("reject", "premium_rate"...) and back (-1 when unknown). */
const char *fraud_action_name(enum fraud_action a);
int fraud_action_from_name(struct slice name);
const char *fraud_rule_name(enum fraud_rule r);
int fraud_rule_from_name(struct slice name);

#endif
