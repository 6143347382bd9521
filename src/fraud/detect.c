/*
 * Pattern detectors over one account's calls. Each keeps a few fixed-size fields in the
 * account record, so their memory is bounded by the account table.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fraud_int.h"

/* The digits of "+CCNSN" as a number (at most 15 digits fit easily in 64 bits). */
static uint64_t number_value(const char *e164, unsigned *ndigits, unsigned max_digits)
{
    uint64_t v = 0;
    unsigned n = 0;
    for (const char *p = e164; *p && n < max_digits; p++) {
        if (*p < '0' || *p > '9')
            continue;
        v = v * 10 + (uint64_t)(*p - '0');
        n++;
    }
    *ndigits = n;
    return v;
}

bool fraud_detect_sequential(struct fraud_engine *e, struct acct *a, const char *e164,
                             int64_t now_ms, char *detail, size_t cap)
{
    const struct fraud_detectors *det = &e->pol.det;
    unsigned nd;
    uint64_t v;
    bool step;

    if (!det->sequential_run || !e164[0])
        return false;
    v = number_value(e164, &nd, 20);
    /* Scanners walk a range one number at a time, up or down: 4420...01, ...02, ...03. */
    step = a->seq_run && nd == a->seq_digits && (v == a->seq_last + 1 || v + 1 == a->seq_last) &&
           now_ms - a->seq_ms <= (int64_t)det->sequential_window_s * 1000;
    a->seq_run = step ? a->seq_run + 1 : 1;
    a->seq_last = v;
    a->seq_digits = nd;
    a->seq_ms = now_ms;
    if (a->seq_run < det->sequential_run)
        return false;
    snprintf(detail, cap, "%u consecutive numbers dialled, last %s", a->seq_run, e164);
    return true;
}

static uint64_t burst_key(const struct fraud_engine *e, const char *e164)
{
    unsigned nd;
    return number_value(e164, &nd, e->pol.det.burst_prefix_len ? e->pol.det.burst_prefix_len : 6);
}

bool fraud_detect_burst_hit(struct fraud_engine *e, struct acct *a, const char *e164,
                            int64_t now_ms, char *detail, size_t cap)
{
    uint64_t key;
    if (!e->pol.det.burst_calls || !e164[0] || a->burst_flagged_until_ms <= now_ms)
        return false; /* no burst flagged for this account: nothing to match */
    key = burst_key(e, e164);
    for (int i = 0; i < BURST_SLOTS; i++) {
        const struct burst_slot *s = &a->burst[i];
        if (s->count && s->key == key && s->flagged_until_ms > now_ms) {
            snprintf(detail, cap, "prefix +%llu under a short-call burst (%u calls)",
                     (unsigned long long)key, s->count);
            return true;
        }
    }
    return false;
}

bool fraud_detect_burst_record(struct fraud_engine *e, struct acct *a, const char *e164,
                               uint32_t classes, int64_t duration_s, int64_t now_ms, char *detail,
                               size_t cap)
{
    const struct fraud_detectors *det = &e->pol.det;
    struct burst_slot *s = NULL, *oldest = &a->burst[0];
    uint64_t key;
    int64_t window = (int64_t)det->burst_window_s * 1000;

    if (!det->burst_calls || !e164[0] || !(classes & det->burst_classes) ||
        duration_s > (int64_t)det->burst_max_s)
        return false;
    key = burst_key(e, e164);
    for (int i = 0; i < BURST_SLOTS; i++) {
        struct burst_slot *c = &a->burst[i];
        if (c->count && c->key == key) {
            s = c;
            break;
        }
        if (!c->count || c->first_ms < oldest->first_ms)
            oldest = c;
    }
    if (!s || now_ms - s->first_ms > window) {
        if (!s)
            s = oldest; /* the slot idle longest makes room */
        memset(s, 0, sizeof(*s));
        s->key = key;
        s->first_ms = now_ms;
    }
    s->count++;
    if (s->count < det->burst_calls)
        return false;
    s->flagged_until_ms = now_ms + window;
    if (s->flagged_until_ms > a->burst_flagged_until_ms)
        a->burst_flagged_until_ms = s->flagged_until_ms;
    snprintf(detail, cap, "%u calls of at most %us to +%llu within %us", s->count, det->burst_max_s,
             (unsigned long long)key, det->burst_window_s);
    return s->count == det->burst_calls; /* alert once per burst; INVITEs see the flag */
}

/* Folds completed hours into the EWMA, decaying over hours with no calls. */
static void spike_roll(struct fraud_engine *e, struct acct *a, int64_t hour)
{
    double alpha = e->pol.det.spike_alpha;
    if (a->sp_hour == INT64_MIN) {
        a->sp_hour = hour;
        return;
    }
    if (hour <= a->sp_hour)
        return;
    a->sp_ewma = alpha * a->sp_count + (1.0 - alpha) * a->sp_ewma;
    if (hour - a->sp_hour > 1)
        a->sp_ewma *=
            pow(1.0 - alpha, (double)(hour - a->sp_hour - 1 > 1000 ? 1000 : hour - a->sp_hour - 1));
    a->sp_hours += (uint32_t)(hour - a->sp_hour > 100000 ? 100000 : hour - a->sp_hour);
    a->sp_hour = hour;
    a->sp_count = 0;
}

bool fraud_detect_spike(struct fraud_engine *e, struct acct *a, int64_t now_ms, char *detail,
                        size_t cap)
{
    const struct fraud_detectors *det = &e->pol.det;
    int64_t hour = now_ms / 3600000;
    double limit;

    if (!det->spike_min_calls)
        return false;
    spike_roll(e, a, hour);
    if (a->sp_hours < det->spike_learn_hours || a->sp_flagged_hour == hour)
        return false;
    limit = det->spike_factor * a->sp_ewma;
    if (limit < det->spike_min_calls)
        limit = det->spike_min_calls;
    if ((double)(a->sp_count + 1) <= limit)
        return false;
    a->sp_flagged_hour = hour;
    snprintf(detail, cap, "%u calls this hour, baseline %.1f/h (limit %.0f)", a->sp_count + 1,
             a->sp_ewma, limit);
    return true;
}

void fraud_detect_spike_count(struct fraud_engine *e, struct acct *a, int64_t now_ms)
{
    if (!e->pol.det.spike_min_calls)
        return;
    spike_roll(e, a, now_ms / 3600000);
    a->sp_count++;
}
