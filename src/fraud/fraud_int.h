/* Private to src/fraud: engine internals shared by the engine's files (engine.c and beside). */
#ifndef PBXGUARD_FRAUD_INT_H
#define PBXGUARD_FRAUD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/fraud/engine.h"
#include "pbxguard/fraud/tz.h"

#define BURST_SLOTS 8

struct burst_slot {
    uint64_t key; /* first burst_prefix_len digits of the E.164 number, as a number */
    uint32_t count;
    int64_t first_ms, flagged_until_ms;
};

struct acct {
    char name[FRAUD_ACCOUNT_MAX];
    size_t name_len;
    uint64_t hash;
    int32_t hnext, lru_prev, lru_next;
    bool used, locked, quarantined;
    char lock_why[FRAUD_DETAIL_MAX];
    int64_t locked_at_ms;
    uint32_t group;
    uint32_t live; /* calls in the call table */
    /* Sliding-window counters: current and previous fixed window (see internals doc). */
    int64_t rate_win;
    uint32_t rate_cur, rate_prev;
    int64_t ih_win;
    uint32_t ih_cur, ih_prev;
    int64_t day; /* local day number the daily counters belong to */
    uint32_t intl_day;
    uint64_t spent_day, live_cost;
    bool seen_intl;
    uint64_t seq_last;
    unsigned seq_digits;
    int64_t seq_ms;
    uint32_t seq_run;
    struct burst_slot burst[BURST_SLOTS];
    int64_t burst_flagged_until_ms; /* latest flagged_until_ms of any slot */
    int64_t sp_hour, sp_flagged_hour;
    uint32_t sp_count, sp_hours;
    double sp_ewma;
};

struct call {
    char id[FRAUD_CALL_ID_MAX];
    size_t id_len;
    uint64_t hash;
    int32_t hnext;
    bool used;
    int32_t acct;
    char source[FRAUD_SOURCE_MAX];
    char dialled[FRAUD_DIALLED_MAX + 1];
    char e164[FRAUD_DIALLED_MAX + 1];
    enum fraud_class class;
    uint32_t classes;
    char country[4];
    uint32_t rate;
    int64_t start_ms, answer_ms;
    enum fraud_action verdict;
    enum fraud_rule rule;
    bool duration_flagged, end_wanted, end_returned;
    enum fraud_rule end_rule;
};

struct fraud_engine {
    struct fraud_policy pol;
    struct fraud_ranges ranges;
    struct fraud_trie rates;
    struct fraud_tz tz;
    uint8_t key[16]; /* SipHash key for the account and call tables */
    bool lockdown;
    int64_t last_ms;
    fraud_record_fn on_record;
    fraud_alert_fn on_alert;
    void *hook_ctx;
    struct fraud_stats stats;
    /* accounts */
    struct acct *accts;
    int32_t *acct_buckets;
    uint32_t acct_mask, n_accts, acct_cap;
    int32_t lru_head, lru_tail, acct_free;
    int32_t acct_last; /* one-entry lookup cache, -1 when empty */
    /* calls */
    struct call *calls;
    int32_t *call_buckets;
    uint32_t call_mask, n_calls, call_cap;
    int32_t call_free;
    int32_t call_last; /* one-entry lookup cache, -1 when empty */
    uint32_t tick_cursor;
    /* Local-time cache: schedule lookups for instants in the same UTC minute reuse it
     * (every zone changes offset on a minute boundary). */
    int64_t lt_minute;
    bool lt_open;
    int64_t lt_day;
};

/* engine.c */
/* Windows never run backwards: returns now_ms, or the latest instant seen when earlier. */
int64_t fraud_clamp_now(struct fraud_engine *e, int64_t now_ms);
/* Copies attacker bytes for a detail text: printable ASCII only, at most 40, NUL-terminated. */
void fraud_safe_copy(char *dst, size_t cap, struct slice s);
/* Hands an alert to the alert hook unless none is set or the rule is disabled. */
void fraud_emit_alert(struct fraud_engine *e, enum fraud_rule rule, const char *account,
                      const char *call_id, const char *e164, int64_t now_ms, const char *detail);

/* schedule.c: whether now_ms falls in business hours; *day receives the local day number. */
bool fraud_hours_compute(const struct fraud_engine *e, int64_t now_ms, int64_t *day);
/* The same, cached per UTC minute in the engine. */
bool fraud_hours_at(struct fraud_engine *e, int64_t now_ms, int64_t *day);

/* decide.c: adds a reason for rule (unless disabled) and raises the decision's action. */
void fraud_add_reason(const struct fraud_engine *e, struct fraud_decision *d, enum fraud_rule rule,
                      const char *detail);

/* limits.c */
uint32_t fraud_window_count(int64_t *win, uint32_t *cur, uint32_t *prev, int64_t now_ms,
                            int64_t len_ms);
/* Resets the daily counters when day is a new local day. */
void fraud_roll_day(struct acct *a, int64_t day);
/* The rate, concurrency, international and spend rules of group g for this attempt
 * (attempts: calls in the last minute before it); rolls the hourly window. */
void fraud_limits_check(const struct fraud_engine *e, struct fraud_decision *d,
                        const struct fraud_group *g, struct acct *a, uint32_t attempts, bool intl,
                        int64_t now);

/* locks.c */
void fraud_lock_account(struct fraud_engine *e, struct acct *a, int64_t now_ms, const char *why);
/* Asks the timer to end the account's calls in progress. */
void fraud_mark_calls_for_end(struct fraud_engine *e, struct acct *a);

/* state.c */
int fraud_state_init(struct fraud_engine *e);
void fraud_state_fini(struct fraud_engine *e);
struct acct *fraud_acct_find(const struct fraud_engine *e, struct slice name);
/* Finds or creates (evicting the LRU idle account); NULL when nothing can be evicted. */
struct acct *fraud_acct_get(struct fraud_engine *e, struct slice name);
struct call *fraud_call_find(const struct fraud_engine *e, struct slice id);
int fraud_call_insert(struct fraud_engine *e, struct slice id, struct call **out);
void fraud_call_remove(struct fraud_engine *e, struct call *c);

/* detect.c: each returns true when the detector fires, writing a detail. */
bool fraud_detect_sequential(struct fraud_engine *e, struct acct *a, const char *e164,
                             int64_t now_ms, char *detail, size_t cap);
bool fraud_detect_burst_hit(struct fraud_engine *e, struct acct *a, const char *e164,
                            int64_t now_ms, char *detail, size_t cap);
bool fraud_detect_burst_record(struct fraud_engine *e, struct acct *a, const char *e164,
                               uint32_t classes, int64_t duration_s, int64_t now_ms, char *detail,
                               size_t cap);
bool fraud_detect_spike(struct fraud_engine *e, struct acct *a, int64_t now_ms, char *detail,
                        size_t cap);
void fraud_detect_spike_count(struct fraud_engine *e, struct acct *a, int64_t now_ms);

#endif
