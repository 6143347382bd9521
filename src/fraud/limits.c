/*
 * Per-account limits: sliding-window and daily counters, and the rate, concurrency,
 * international and spend rules that read them.
 */
#include <stdio.h>

#include "fraud_int.h"

/* Sliding-window estimate over two fixed windows: prev weighted by the part of the
 * window still covered, plus the current one. Exact at window starts, never below cur. */
uint32_t fraud_window_count(int64_t *win, uint32_t *cur, uint32_t *prev, int64_t now_ms,
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

void fraud_roll_day(struct acct *a, int64_t day)
{
    if (a->day != day) {
        a->day = day;
        a->intl_day = 0;
        a->spent_day = 0;
    }
}

void fraud_limits_check(const struct fraud_engine *e, struct fraud_decision *d,
                        const struct fraud_group *g, struct acct *a, uint32_t attempts, bool intl,
                        int64_t now)
{
    char detail[256];

    if (g->limits.calls_per_minute && attempts >= g->limits.calls_per_minute) {
        snprintf(detail, sizeof(detail), "%u calls in the last minute (limit %u)", attempts + 1,
                 g->limits.calls_per_minute);
        fraud_add_reason(e, d, FRAUD_RULE_RATE, detail);
    }
    if (g->limits.concurrent && a->live >= g->limits.concurrent) {
        snprintf(detail, sizeof(detail), "%u calls in progress (limit %u)", a->live,
                 g->limits.concurrent);
        fraud_add_reason(e, d, FRAUD_RULE_CONCURRENT, detail);
    }
    uint32_t ih = fraud_window_count(&a->ih_win, &a->ih_cur, &a->ih_prev, now, 3600000);
    if (intl && g->limits.intl_per_hour && ih >= g->limits.intl_per_hour) {
        snprintf(detail, sizeof(detail), "%u international calls in the last hour (limit %u)",
                 ih + 1, g->limits.intl_per_hour);
        fraud_add_reason(e, d, FRAUD_RULE_INTL_HOUR, detail);
    }
    if (intl && g->limits.intl_per_day && a->intl_day >= g->limits.intl_per_day) {
        snprintf(detail, sizeof(detail), "%u international calls today (limit %u)", a->intl_day + 1,
                 g->limits.intl_per_day);
        fraud_add_reason(e, d, FRAUD_RULE_INTL_DAY, detail);
    }
    if (g->limits.spend_per_day && a->spent_day + a->live_cost >= g->limits.spend_per_day) {
        snprintf(detail, sizeof(detail), "spent %llu.%03llu today (limit %llu.%03llu)",
                 (unsigned long long)((a->spent_day + a->live_cost) / 1000),
                 (unsigned long long)((a->spent_day + a->live_cost) % 1000),
                 (unsigned long long)(g->limits.spend_per_day / 1000),
                 (unsigned long long)(g->limits.spend_per_day % 1000));
        fraud_add_reason(e, d, FRAUD_RULE_SPEND, detail);
    }
}
