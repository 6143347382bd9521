/*
 * Business hours: the policy's weekly schedule and holidays in its time zone, with a per-minute
 * cache for the decision path.
 */
#include "fraud_int.h"

static bool is_holiday(const struct fraud_schedule *s, const struct fraud_local *l)
{
    for (size_t i = 0; i < s->n_holidays; i++) {
        const struct fraud_holiday *h = &s->holidays[i];
        if (h->month == l->month && h->day == l->day && (!h->year || h->year == l->year))
            return true;
    }
    return false;
}

bool fraud_hours_compute(const struct fraud_engine *e, int64_t now_ms, int64_t *day)
{
    struct fraud_local l;
    const struct fraud_schedule *s = &e->pol.schedule;
    fraud_tz_local(&e->tz, now_ms, &l);
    *day = fraud_days_from_civil(l.year, l.month, l.day);
    if (is_holiday(s, &l))
        return false;
    return l.minute >= s->open[l.wday] && l.minute < s->close[l.wday];
}

bool fraud_hours_at(struct fraud_engine *e, int64_t now_ms, int64_t *day)
{
    int64_t minute = now_ms >= 0 ? now_ms / 60000 : (now_ms - 59999) / 60000;
    if (minute != e->lt_minute) {
        e->lt_minute = minute;
        e->lt_open = fraud_hours_compute(e, now_ms, &e->lt_day);
    }
    *day = e->lt_day;
    return e->lt_open;
}

bool fraud_engine_business_hours(const struct fraud_engine *e, int64_t now_ms)
{
    int64_t day;
    return fraud_hours_compute(e, now_ms, &day);
}
