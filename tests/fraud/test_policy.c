/*
 * Policy decisions over an injected clock: schedule, holidays, lockdown, locks, limits,
 * detectors, quarantine, call tracking and the bounded tables.
 */
#include <errno.h>
#include <stdlib.h>

#include "pbxguard/fraud/engine.h"
#include "pbxguard/fraud/tz.h"
#include "test.h"

static int64_t utc(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    return (fraud_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

/* Monday 23 November 2026, 10:00 in London (GMT). */
#define MONDAY_10 utc(2026, 11, 23, 10, 0, 0)

struct sink {
    struct fraud_call_record last;
    unsigned records;
    enum fraud_rule alerts[32];
    unsigned n_alerts;
};

static void on_record(void *ctx, const struct fraud_call_record *r)
{
    struct sink *s = ctx;
    s->last = *r;
    s->records++;
}

static void on_alert(void *ctx, const struct fraud_alert *a)
{
    struct sink *s = ctx;
    if (s->n_alerts < 32)
        s->alerts[s->n_alerts++] = a->rule;
}

static bool alerted(const struct sink *s, enum fraud_rule r)
{
    for (unsigned i = 0; i < s->n_alerts; i++)
        if (s->alerts[i] == r)
            return true;
    return false;
}

static struct fraud_policy *gb_policy(void)
{
    struct fraud_policy *p = fraud_policy_new();
    if (!p)
        abort();
    if (fraud_dialplan_preset(&p->plan, "GB") < 0)
        abort();
    slice_copy_cstr(slice_cstr("Europe/London"), p->schedule.timezone,
                    sizeof(p->schedule.timezone));
    slice_copy_cstr(slice_cstr("data/fraud/ranges.txt"), p->ranges_file, sizeof(p->ranges_file));
    if (fraud_policy_add_holiday(p, "12-25") < 0 || fraud_policy_add_holiday(p, "2026-12-28") < 0)
        abort();
    return p;
}

static struct fraud_engine *engine(const struct fraud_policy *p, struct sink *s)
{
    struct fraud_engine *e = NULL;
    char err[256];
    int rc = fraud_engine_new(p, &e, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "engine: %d %s\n", rc, err);
        abort();
    }
    if (s) {
        memset(s, 0, sizeof(*s));
        fraud_engine_set_hooks(e, on_record, on_alert, s);
    }
    return e;
}

static struct fraud_decision check(struct fraud_engine *e, const char *account, const char *dialled,
                                   int64_t now)
{
    struct fraud_decision d;
    struct fraud_call_ctx ctx = {slice_cstr(account), SLICE_LIT("udp:198.51.100.7:5060"),
                                 slice_cstr(dialled), now};
    if (fraud_check_invite(e, &ctx, &d) < 0)
        abort();
    return d;
}

static bool has_reason(const struct fraud_decision *d, enum fraud_rule r)
{
    for (size_t i = 0; i < d->n_reasons; i++)
        if (d->reasons[i].rule == r)
            return true;
    return false;
}

/* A call that passes check_invite and is tracked; returns the decision. */
static struct fraud_decision start(struct fraud_engine *e, const char *call_id, const char *account,
                                   const char *dialled, int64_t now)
{
    struct fraud_decision d = check(e, account, dialled, now);
    struct fraud_call_ctx ctx = {slice_cstr(account), SLICE_LIT("udp:198.51.100.7:5060"),
                                 slice_cstr(dialled), now};
    if (d.action <= FRAUD_ACT_ALERT && fraud_call_start(e, slice_cstr(call_id), &ctx, &d) < 0)
        TEST_FAIL_AT("call_start %s", call_id);
    return d;
}

struct sched_case {
    const char *what;
    const char *dialled;
    int64_t now;
    enum fraud_action action;
    enum fraud_rule rule;
};

static void test_schedule_and_classes(void)
{
    struct fraud_policy *p = gb_policy();
    const struct sched_case cases[] = {
        {"national, weekday", "02079460000", MONDAY_10, FRAUD_ACT_ALLOW, FRAUD_RULE_COUNT},
        {"mobile, Saturday", "07400123456", utc(2026, 11, 28, 10, 0, 0), FRAUD_ACT_ALLOW,
         FRAUD_RULE_COUNT},
        {"international, weekday", "0033142685300", MONDAY_10, FRAUD_ACT_ALERT,
         FRAUD_RULE_FIRST_INTL},
        {"international, Saturday", "0033142685300", utc(2026, 11, 28, 10, 0, 0), FRAUD_ACT_REJECT,
         FRAUD_RULE_OFF_HOURS},
        {"international, Monday night", "0033142685300", utc(2026, 11, 23, 23, 0, 0),
         FRAUD_ACT_REJECT, FRAUD_RULE_OFF_HOURS},
        {"international, 07:59", "0033142685300", utc(2026, 11, 24, 7, 59, 0), FRAUD_ACT_REJECT,
         FRAUD_RULE_OFF_HOURS},
        {"international, Christmas (fixed date)", "0033142685300", utc(2026, 12, 25, 11, 0, 0),
         FRAUD_ACT_REJECT, FRAUD_RULE_OFF_HOURS},
        {"international, 2026-12-28 (one-off)", "0033142685300", utc(2026, 12, 28, 11, 0, 0),
         FRAUD_ACT_REJECT, FRAUD_RULE_OFF_HOURS},
        /* 08:30 BST is 07:30 UTC: the schedule follows local time */
        {"international, summer 08:30 BST", "0033142685300", utc(2026, 7, 6, 7, 30, 0),
         FRAUD_ACT_ALERT, FRAUD_RULE_FIRST_INTL},
        {"premium", "09098790123", MONDAY_10, FRAUD_ACT_REJECT, FRAUD_RULE_CLASS},
        {"satellite", "+881612345678", MONDAY_10, FRAUD_ACT_REJECT, FRAUD_RULE_CLASS},
        {"international networks", "00882161234567", MONDAY_10, FRAUD_ACT_REJECT, FRAUD_RULE_CLASS},
        {"high risk (Cuba)", "00537234567", MONDAY_10, FRAUD_ACT_REJECT, FRAUD_RULE_HIGH_RISK},
        {"high risk (Jamaica)", "+18765550123", MONDAY_10, FRAUD_ACT_REJECT, FRAUD_RULE_HIGH_RISK},
        {"invalid", "12ab", MONDAY_10, FRAUD_ACT_REJECT, FRAUD_RULE_NUMBER_INVALID},
        {"mangled", "0+33142685300", MONDAY_10, FRAUD_ACT_ALERT, FRAUD_RULE_NUMBER_MANGLED},
        {"emergency", "999", utc(2026, 12, 25, 3, 0, 0), FRAUD_ACT_ALLOW, FRAUD_RULE_COUNT},
        {"internal at night", "2001", utc(2026, 12, 25, 3, 0, 0), FRAUD_ACT_ALLOW,
         FRAUD_RULE_COUNT},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        struct fraud_engine *e = engine(p, NULL);
        struct fraud_decision d = check(e, "1001", cases[i].dialled, cases[i].now);
        char buf[200];
        fraud_decision_fmt(&d, buf, sizeof(buf));
        if (d.action != cases[i].action ||
            (cases[i].rule != FRAUD_RULE_COUNT && !has_reason(&d, cases[i].rule)))
            TEST_FAIL_AT("%s: got %s", cases[i].what, buf);
        else
            test_passed_count++;
        if (d.action >= FRAUD_ACT_REJECT) {
            CHECK_INT(d.status, 403);
            CHECK_STR(d.reason_phrase, "Forbidden");
        }
        fraud_engine_free(e);
    }
    fraud_policy_free(p);
}

struct locks {
    unsigned locked, named;
};

static void count_locks(void *ctx, const struct fraud_account_info *a)
{
    struct locks *l = ctx;
    if (a->locked) {
        l->locked++;
        if (strcmp(a->name, "1001") == 0 && strcmp(a->lock_why, "operator") == 0)
            l->named++;
    }
}

static void test_lockdown_and_lock(void)
{
    struct fraud_policy *p = gb_policy();
    struct sink s;
    struct fraud_engine *e = engine(p, &s);
    struct fraud_decision d;

    fraud_lockdown_set(e, true);
    CHECK(fraud_lockdown_get(e));
    d = check(e, "1001", "02079460000", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_REJECT);
    CHECK_INT(d.rule, FRAUD_RULE_LOCKDOWN);
    CHECK_INT(check(e, "1001", "2002", MONDAY_10).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1001", "112", MONDAY_10).action, FRAUD_ACT_ALLOW);
    fraud_lockdown_set(e, false);
    CHECK_INT(check(e, "1001", "02079460000", MONDAY_10).action, FRAUD_ACT_ALLOW);

    CHECK_INT(fraud_account_lock(e, SLICE_LIT("1001"), MONDAY_10, "operator"), 0);
    CHECK(fraud_account_is_locked(e, SLICE_LIT("1001")));
    d = check(e, "1001", "02079460000", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_REJECT);
    CHECK_INT(d.rule, FRAUD_RULE_ACCOUNT_LOCKED);
    CHECK_INT(check(e, "1001", "999", MONDAY_10).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1002", "02079460000", MONDAY_10).action, FRAUD_ACT_ALLOW);
    struct locks l = {0, 0};
    CHECK_INT(fraud_account_foreach(e, count_locks, &l), 2); /* 1001 and 1002 are known */
    CHECK_INT(l.locked, 1);
    CHECK_INT(l.named, 1);
    CHECK_INT(fraud_account_unlock(e, SLICE_LIT("1001")), 0);
    CHECK_INT(fraud_account_unlock(e, SLICE_LIT("1001")), -ENOENT);
    CHECK_INT(check(e, "1001", "02079460000", MONDAY_10).action, FRAUD_ACT_ALLOW);

    /* A rule configured to lock locks the account for every later call. */
    fraud_engine_free(e);
    p->actions[FRAUD_RULE_CLASS] = FRAUD_ACT_LOCK;
    e = engine(p, &s);
    d = check(e, "1003", "09098790123", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_LOCK);
    CHECK_INT(d.status, 403);
    CHECK(fraud_account_is_locked(e, SLICE_LIT("1003")));
    CHECK_INT(check(e, "1003", "02079460000", MONDAY_10).rule, FRAUD_RULE_ACCOUNT_LOCKED);
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_rate_and_concurrency(void)
{
    struct fraud_policy *p = gb_policy();
    p->groups[0].limits.calls_per_minute = 5;
    p->groups[0].limits.concurrent = 2;
    struct sink s;
    struct fraud_engine *e = engine(p, &s);
    struct fraud_decision d;
    char id[32];

    for (int i = 0; i < 5; i++)
        CHECK_INT(check(e, "1001", "02079460000", MONDAY_10 + i * 1000).action, FRAUD_ACT_ALLOW);
    d = check(e, "1001", "02079460000", MONDAY_10 + 5000);
    CHECK_INT(d.action, FRAUD_ACT_REJECT);
    CHECK_INT(d.rule, FRAUD_RULE_RATE);
    CHECK_INT(check(e, "1001", "02079460000", MONDAY_10 + 180000).action, FRAUD_ACT_ALLOW);

    int64_t t = MONDAY_10 + 3600000;
    for (int i = 0; i < 2; i++) {
        snprintf(id, sizeof(id), "call-%d", i);
        CHECK_INT(start(e, id, "2001", "02079460000", t).action, FRAUD_ACT_ALLOW);
        CHECK_INT(fraud_call_answered(e, slice_cstr(id), t + 1000), 0);
    }
    d = check(e, "2001", "02079460000", t + 2000);
    CHECK_INT(d.rule, FRAUD_RULE_CONCURRENT);
    CHECK_INT(fraud_call_ended(e, SLICE_LIT("call-0"), t + 3000, FRAUD_END_BYE), 0);
    CHECK_INT(s.records, 1);
    CHECK_STR(s.last.account, "2001");
    CHECK_STR(s.last.e164, "+442079460000");
    CHECK_INT(s.last.cause, FRAUD_END_BYE);
    CHECK_INT(s.last.answer_ms, t + 1000);
    CHECK_INT(check(e, "2001", "02079460000", t + 4000).action, FRAUD_ACT_ALLOW);
    CHECK_INT(fraud_call_ended(e, SLICE_LIT("call-0"), t + 5000, FRAUD_END_BYE), -ENOENT);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("nope"), t), -ENOENT);

    /* An unanswered call leaves the table after setup_timeout_s. */
    struct fraud_call_end ends[4];
    CHECK_INT(start(e, "ringing", "2002", "02079460000", t).action, FRAUD_ACT_ALLOW);
    CHECK_INT(fraud_tick(e, t + 179000, ends, 4), 0);
    unsigned before = s.records;
    CHECK_INT(fraud_tick(e, t + 190000, ends, 4), 0);
    CHECK_INT(s.records, before + 1);
    CHECK_INT(s.last.cause, FRAUD_END_TIMEOUT);
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_international_limits(void)
{
    struct fraud_policy *p = gb_policy();
    size_t gi;
    p->groups[0].limits.intl_per_hour = 3;
    p->groups[0].limits.intl_per_day = 5;
    p->groups[0].limits.calls_per_minute = 0;
    p->det.sequential_run = 0;
    CHECK_INT(fraud_policy_add_group(p, "essential", &gi), 0);
    CHECK_INT(fraud_group_allow_country(&p->groups[gi], "FR"), 0);
    CHECK_INT(fraud_group_allow_country(&p->groups[gi], "IE"), 0);
    CHECK_INT(fraud_policy_add_account(p, "*@tenant-a.example", gi), 0);
    CHECK_INT(fraud_policy_add_group(p, "essential", &gi), -EEXIST);
    struct fraud_engine *e = engine(p, NULL);
    struct fraud_decision d;

    for (int i = 0; i < 3; i++)
        CHECK(check(e, "1001", "0033142685300", MONDAY_10 + i * 60000).action <= FRAUD_ACT_ALERT);
    d = check(e, "1001", "0033142685300", MONDAY_10 + 200000);
    CHECK_INT(d.rule, FRAUD_RULE_INTL_HOUR);
    CHECK_INT(check(e, "1001", "02079460000", MONDAY_10 + 200000).action, FRAUD_ACT_ALLOW);
    /* Two hours later the hourly window is clear; the daily one fills at 5. */
    CHECK_INT(check(e, "1001", "0033142685300", MONDAY_10 + 7200000).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1001", "0033142685300", MONDAY_10 + 7260000).action, FRAUD_ACT_ALLOW);
    d = check(e, "1001", "0033142685300", MONDAY_10 + 7320000);
    CHECK_INT(d.rule, FRAUD_RULE_INTL_DAY);
    CHECK_INT(check(e, "1001", "0033142685300", utc(2026, 11, 24, 9, 0, 0)).action,
              FRAUD_ACT_ALLOW);

    /* Group by account pattern: only France and Ireland abroad. */
    d = check(e, "100@tenant-a.example", "0033142685300", MONDAY_10);
    CHECK_STR(d.group, "essential");
    CHECK(d.action <= FRAUD_ACT_ALERT);
    d = check(e, "100@tenant-a.example", "004930123456", MONDAY_10);
    CHECK_INT(d.rule, FRAUD_RULE_COUNTRY);
    CHECK_STR(d.country, "DE");
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_duration_and_spend(void)
{
    struct fraud_policy *p = gb_policy();
    p->groups[0].limits.max_duration_s = 60;
    p->groups[0].limits.end_at_max_duration = true;
    p->groups[0].limits.spend_per_day = 1000; /* 1.000 */
    CHECK_INT(fraud_policy_add_rate(p, "+33", 600), 0);
    CHECK_INT(fraud_policy_add_rate(p, "+33abc", 600), -EINVAL);
    struct sink s;
    struct fraud_engine *e = engine(p, &s);
    struct fraud_call_end ends[4];
    int64_t t = MONDAY_10;

    /* Max duration: raised while the call runs, the call returned once for BYE. */
    CHECK_INT(start(e, "long", "1001", "02079460000", t).action, FRAUD_ACT_ALLOW);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("long"), t + 2000), 0);
    CHECK_INT(fraud_tick(e, t + 30000, ends, 4), 0);
    CHECK_INT(fraud_tick(e, t + 62000, ends, 4), 1);
    CHECK_STR(ends[0].call_id, "long");
    CHECK_INT(ends[0].rule, FRAUD_RULE_DURATION);
    CHECK(alerted(&s, FRAUD_RULE_DURATION));
    CHECK_INT(fraud_tick(e, t + 63000, ends, 4), 0);
    CHECK_INT(fraud_call_ended(e, SLICE_LIT("long"), t + 64000, FRAUD_END_BYE), 0);
    CHECK_INT(s.last.cause, FRAUD_END_ENFORCED);
    CHECK_INT(s.last.rule, FRAUD_RULE_DURATION);

    /* Spend: a 0.600/min destination; 50 s costs 0.500, twice makes 1.000: the next
     * INVITE is refused. */
    for (int i = 0; i < 2; i++) {
        char id[16];
        snprintf(id, sizeof(id), "fr-%d", i);
        int64_t t0 = t + 100000 + i * 100000;
        CHECK(start(e, id, "1001", "0033142685300", t0).action <= FRAUD_ACT_ALERT);
        CHECK_INT(fraud_call_answered(e, slice_cstr(id), t0), 0);
        CHECK_INT(fraud_call_ended(e, slice_cstr(id), t0 + 50000, FRAUD_END_BYE), 0);
        CHECK_INT(s.last.cost, 500);
    }
    CHECK_INT(check(e, "1001", "0033142685300", t + 400000).rule, FRAUD_RULE_SPEND);
    /* Next day the budget is back; a running call is ended once it would pass it. */
    int64_t t2 = utc(2026, 11, 24, 10, 0, 0);
    CHECK(start(e, "run", "1001", "0033142685300", t2).action <= FRAUD_ACT_ALERT);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("run"), t2), 0);
    CHECK_INT(fraud_tick(e, t2 + 50000, ends, 4), 0);
    size_t n = fraud_tick(e, t2 + 61000, ends, 4);
    CHECK_INT(n, 1);
    CHECK_INT(ends[0].rule, FRAUD_RULE_DURATION);
    n = fraud_tick(e, t2 + 101000, ends, 4);
    CHECK_INT(n, 0); /* already returned once for duration */
    CHECK(alerted(&s, FRAUD_RULE_SPEND) || s.n_alerts >= 2);
    fraud_engine_free(e);

    /* Spend ends a call within the duration limit too. */
    p->groups[0].limits.max_duration_s = 0;
    e = engine(p, &s);
    CHECK(start(e, "run2", "1001", "0033142685300", t2).action <= FRAUD_ACT_ALERT);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("run2"), t2), 0);
    CHECK_INT(fraud_tick(e, t2 + 90000, ends, 4), 0);
    CHECK_INT(fraud_tick(e, t2 + 101000, ends, 4), 1);
    CHECK_INT(ends[0].rule, FRAUD_RULE_SPEND);
    CHECK(alerted(&s, FRAUD_RULE_SPEND));
    fraud_engine_free(e);

    /* A call counted as running by the last tick is not counted again once it ended. */
    e = engine(p, &s);
    CHECK(start(e, "half", "1001", "0033142685300", t2).action <= FRAUD_ACT_ALERT);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("half"), t2), 0);
    CHECK_INT(fraud_tick(e, t2 + 50000, ends, 4), 0); /* running cost 0.500 */
    CHECK_INT(fraud_call_ended(e, SLICE_LIT("half"), t2 + 50000, FRAUD_END_BYE), 0);
    CHECK(check(e, "1001", "0033142685300", t2 + 50500).action <= FRAUD_ACT_ALERT);
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_detectors(void)
{
    struct fraud_policy *p = gb_policy();
    p->groups[0].limits.calls_per_minute = 0;
    p->groups[0].limits.intl_per_hour = 0;
    p->groups[0].limits.intl_per_day = 0;
    p->groups[0].limits.concurrent = 0;
    struct sink s;
    struct fraud_engine *e = engine(p, &s);
    struct fraud_decision d;
    int64_t t = MONDAY_10;

    /* Sequential dialling: the 4th consecutive number is refused. */
    CHECK_INT(check(e, "1001", "02079460001", t).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1001", "02079460002", t + 1000).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1001", "02079460003", t + 2000).action, FRAUD_ACT_ALLOW);
    d = check(e, "1001", "02079460004", t + 3000);
    CHECK_INT(d.rule, FRAUD_RULE_SEQUENTIAL);
    /* ...but not when the steps are far apart in time. */
    CHECK_INT(check(e, "1002", "02079460001", t).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1002", "02079460002", t + 700000).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1002", "02079460003", t + 1400000).action, FRAUD_ACT_ALLOW);
    CHECK_INT(check(e, "1002", "02079460004", t + 2100000).action, FRAUD_ACT_ALLOW);

    /* First international call: an alert once, then silence. */
    d = check(e, "1003", "0033142685300", t);
    CHECK_INT(d.action, FRAUD_ACT_ALERT);
    CHECK_INT(d.rule, FRAUD_RULE_FIRST_INTL);
    CHECK_INT(check(e, "1003", "0033142685300", t + 1000).action, FRAUD_ACT_ALLOW);

    /* Short-call burst to one prefix: 5 calls of 5 s; the next INVITE there is refused. */
    const char *nums[] = {"0033142685317", "0033142685342", "0033142685388",
                          "0033142685311", "0033142685356", "0033142685399"};
    for (int i = 0; i < 5; i++) {
        char id[16];
        int64_t t0 = t + 10000 + i * 20000;
        snprintf(id, sizeof(id), "b-%d", i);
        CHECK(start(e, id, "1004", nums[i], t0).action <= FRAUD_ACT_ALERT);
        CHECK_INT(fraud_call_answered(e, slice_cstr(id), t0 + 1000), 0);
        CHECK_INT(fraud_call_ended(e, slice_cstr(id), t0 + 6000, FRAUD_END_BYE), 0);
    }
    CHECK(alerted(&s, FRAUD_RULE_SHORT_BURST));
    d = check(e, "1004", nums[5], t + 200000);
    CHECK_INT(d.rule, FRAUD_RULE_SHORT_BURST);
    CHECK_INT(check(e, "1004", "0033612345678", t + 200000).action, FRAUD_ACT_ALLOW);

    /* Spike: 24 h of 2 calls an hour, then a flood in one hour. */
    int64_t h0 = utc(2026, 11, 23, 0, 0, 0) + 3600000LL * 48;
    for (int h = 0; h < 26; h++)
        for (int c = 0; c < 2; c++)
            (void)check(e, "1005", "02079460100", h0 + h * 3600000LL + c * 1000000);
    int64_t hs = h0 + 26 * 3600000LL;
    int flagged_at = -1;
    for (int c = 0; c < 30; c++) {
        d = check(e, "1005", "02079460100", hs + c * 1000);
        if (has_reason(&d, FRAUD_RULE_SPIKE) && flagged_at < 0)
            flagged_at = c;
    }
    CHECK_INT(flagged_at, 20); /* the 21st call passes max(20, 5 x baseline) */
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_quarantine(void)
{
    struct fraud_policy *p = gb_policy();
    p->actions[FRAUD_RULE_HIGH_RISK] = FRAUD_ACT_QUARANTINE;
    struct sink s;
    struct fraud_engine *e = engine(p, &s);
    struct fraud_call_end ends[4];
    struct fraud_decision d;
    int64_t t = MONDAY_10;

    CHECK_INT(start(e, "live-1", "1001", "02079460000", t).action, FRAUD_ACT_ALLOW);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("live-1"), t), 0);
    d = check(e, "1001", "+5372345678", t + 1000);
    CHECK_INT(d.action, FRAUD_ACT_QUARANTINE);
    CHECK_INT(d.status, 403);
    CHECK(fraud_account_is_locked(e, SLICE_LIT("1001")));
    CHECK_INT(fraud_tick(e, t + 2000, ends, 4), 1);
    CHECK_STR(ends[0].call_id, "live-1");
    CHECK_INT(ends[0].rule, FRAUD_RULE_ACCOUNT_LOCKED);
    CHECK_INT(check(e, "1001", "999", t + 3000).action, FRAUD_ACT_ALLOW);

    /* The operator's quarantine does the same. */
    CHECK_INT(start(e, "live-2", "1002", "02079460000", t).action, FRAUD_ACT_ALLOW);
    CHECK_INT(fraud_account_quarantine(e, SLICE_LIT("1002"), t + 4000, "operator"), 0);
    CHECK_INT(fraud_tick(e, t + 5000, ends, 4), 1);
    CHECK_STR(ends[0].call_id, "live-2");
    CHECK(alerted(&s, FRAUD_RULE_ACCOUNT_LOCKED));
    struct fraud_stats st;
    fraud_engine_stats(e, &st);
    CHECK_INT(st.quarantined, 2);
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_bounded_tables(void)
{
    struct fraud_policy *p = gb_policy();
    p->max_accounts = 4;
    p->max_calls = 2;
    struct fraud_engine *e = engine(p, NULL);
    struct fraud_decision d;
    struct fraud_stats st;
    char acct[16];
    int64_t t = MONDAY_10;

    for (int i = 0; i < 100; i++) {
        snprintf(acct, sizeof(acct), "spoof-%d", i);
        CHECK_INT(check(e, acct, "02079460000", t + i).action, FRAUD_ACT_ALLOW);
    }
    fraud_engine_stats(e, &st);
    CHECK_INT(st.accounts, 4);
    CHECK_INT(st.accounts_evicted, 96);
    /* Locked accounts are never evicted: with all four locked, new accounts are refused. */
    for (int i = 0; i < 4; i++) {
        snprintf(acct, sizeof(acct), "locked-%d", i);
        CHECK_INT(fraud_account_lock(e, slice_cstr(acct), t, "test"), 0);
    }
    d = check(e, "newcomer", "02079460000", t + 1000);
    CHECK_INT(d.rule, FRAUD_RULE_STATE_FULL);
    CHECK(fraud_account_is_locked(e, SLICE_LIT("locked-0")));
    CHECK_INT(fraud_account_lock(e, SLICE_LIT("one-more"), t, "x"), -ENOSPC);
    CHECK_INT(fraud_account_unlock(e, SLICE_LIT("locked-0")), 0);

    struct fraud_call_ctx ctx = {SLICE_LIT("locked-1"), SLICE_NULL, SLICE_LIT("2001"), t};
    d = check(e, "locked-1", "2001", t);
    CHECK_INT(fraud_call_start(e, SLICE_LIT("c1"), &ctx, &d), 0);
    CHECK_INT(fraud_call_start(e, SLICE_LIT("c1"), &ctx, &d), -EEXIST);
    CHECK_INT(fraud_call_start(e, SLICE_LIT("c2"), &ctx, &d), 0);
    CHECK_INT(fraud_call_start(e, SLICE_LIT("c3"), &ctx, &d), -ENOSPC);
    /* Earlier instants than seen are taken as the latest: no crash, no negative window. */
    CHECK_INT(check(e, "locked-0", "02079460000", t - 86400000).action, FRAUD_ACT_ALLOW);
    fraud_engine_free(e);
    fraud_engine_free(NULL);

    /* A long hostile account name and Call-ID are cut, not overflowed. */
    e = engine(p, NULL);
    char big[600];
    memset(big, 'A', sizeof(big));
    d = check(e, "x", "02079460000", t);
    struct fraud_call_ctx c2 = {slice_make(big, sizeof(big)), slice_make(big, sizeof(big)),
                                SLICE_LIT("02079460000"), t};
    CHECK_INT(fraud_check_invite(e, &c2, &d), 0);
    CHECK_INT(fraud_call_start(e, slice_make(big, sizeof(big)), &c2, &d), 0);
    CHECK_INT(fraud_call_ended(e, slice_make(big, sizeof(big)), t + 1, FRAUD_END_CANCEL), 0);
    fraud_engine_free(e);
    fraud_policy_free(p);
}

static void test_builder(void)
{
    struct fraud_policy *p = fraud_policy_new();
    CHECK(p != NULL);
    CHECK_INT(fraud_policy_add_holiday(p, "02-30"), -EINVAL);
    CHECK_INT(fraud_policy_add_holiday(p, "2026-13-01"), -EINVAL);
    CHECK_INT(fraud_policy_add_holiday(p, "xx"), -EINVAL);
    CHECK_INT(fraud_policy_set_hours(p, 1, "09:00-17:30"), 0);
    CHECK_INT(p->schedule.close[1], 17 * 60 + 30);
    CHECK_INT(fraud_policy_set_hours(p, 1, "18:00-09:00"), -EINVAL);
    CHECK_INT(fraud_policy_set_hours(p, 7, "closed"), -EINVAL);
    CHECK_INT(fraud_policy_set_hours(p, 6, "closed"), 0);
    CHECK_INT(fraud_policy_add_high_risk(p, "+1876"), 0);
    CHECK_INT(fraud_policy_add_high_risk(p, "+1x"), -EINVAL);
    CHECK_INT(fraud_policy_add_account(p, "a*b*", 0), -EINVAL);
    CHECK_INT(fraud_policy_add_account(p, "x", 9), -EINVAL);
    CHECK_INT(fraud_rule_from_name(SLICE_LIT("spend_per_day")), FRAUD_RULE_SPEND);
    CHECK_INT(fraud_action_from_name(SLICE_LIT("quarantine")), FRAUD_ACT_QUARANTINE);
    CHECK_INT(fraud_action_from_name(SLICE_LIT("ban")), -1);
    CHECK_STR(fraud_rule_name(FRAUD_RULE_SHORT_BURST), "short_burst");
    /* An unknown time zone or ranges file is refused at creation. */
    struct fraud_engine *e = NULL;
    char err[128];
    slice_copy_cstr(slice_cstr("Mars/Olympus"), p->schedule.timezone, sizeof(p->schedule.timezone));
    slice_copy_cstr(slice_cstr("none"), p->ranges_file, sizeof(p->ranges_file));
    CHECK_INT(fraud_engine_new(p, &e, err, sizeof(err)), -ENOENT);
    slice_copy_cstr(slice_cstr("UTC"), p->schedule.timezone, sizeof(p->schedule.timezone));
    slice_copy_cstr(slice_cstr("/nonexistent/ranges.txt"), p->ranges_file, sizeof(p->ranges_file));
    CHECK_INT(fraud_engine_new(p, &e, err, sizeof(err)), -ENOENT);
    fraud_policy_free(p);
    fraud_policy_free(NULL);
}

static struct fraud_decision check_anon(struct fraud_engine *e, const char *dialled, int64_t now)
{
    struct fraud_decision d;
    struct fraud_call_ctx ctx = {SLICE_LIT("anonymous@198.51.100.7"),
                                 SLICE_LIT("udp:198.51.100.7:5060"), slice_cstr(dialled), now};
    if (fraud_check_unauthenticated(e, &ctx, &d) < 0)
        abort();
    return d;
}

/* INVITEs without credentials: the built-in profile, a configured group, nothing counted,
 * and an answered one tracked under the pseudo-account with that group's limits. */
static void test_unauthenticated(void)
{
    struct sink s;
    struct fraud_policy *p = gb_policy();
    struct fraud_engine *e = engine(p, &s);
    struct fraud_decision d;
    struct fraud_stats st;

    d = check_anon(e, "2001", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_ALLOW);
    CHECK(d.unauthenticated);
    d = check_anon(e, "999", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_ALLOW);
    d = check_anon(e, "02079460000", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_REJECT);
    CHECK_INT(d.rule, FRAUD_RULE_CLASS);
    CHECK_INT(d.status, 403);
    CHECK_STR(d.group, "unauthenticated");
    d = check_anon(e, "+449098790000", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_REJECT);
    d = check_anon(e, "+5372345678", MONDAY_10);
    CHECK(has_reason(&d, FRAUD_RULE_HIGH_RISK));
    /* Pure: no account created, nothing counted, the limits of nobody touched. */
    fraud_engine_stats(e, &st);
    CHECK_INT(st.checks, 0);
    CHECK_INT(st.accounts, 0);
    fraud_lockdown_set(e, true);
    d = check_anon(e, "999", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_ALLOW);
    fraud_engine_free(e);

    /* A configured group: national in business hours only, one call at a time, 60 s. */
    size_t gi;
    CHECK_INT(fraud_policy_add_group(p, "unauthenticated", &gi), 0);
    p->groups[gi].allowed_classes =
        FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL) | FRAUD_CLASS_BIT(FRAUD_CLASS_NATIONAL);
    p->groups[gi].offhours_classes = FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL);
    p->groups[gi].limits.concurrent = 1;
    p->groups[gi].limits.max_duration_s = 60;
    p->groups[gi].limits.end_at_max_duration = true;
    e = engine(p, &s);
    d = check_anon(e, "02079460000", MONDAY_10);
    CHECK_INT(d.action, FRAUD_ACT_ALLOW);
    d = check_anon(e, "02079460000", utc(2026, 11, 23, 22, 0, 0));
    CHECK_INT(d.rule, FRAUD_RULE_OFF_HOURS);
    d = check_anon(e, "+33142685300", MONDAY_10);
    CHECK_INT(d.rule, FRAUD_RULE_CLASS);
    /* Answered without authentication: tracked under the pseudo-account and its group. */
    d = check_anon(e, "02079460000", MONDAY_10);
    struct fraud_call_ctx ctx = {SLICE_LIT("anonymous@198.51.100.7"),
                                 SLICE_LIT("udp:198.51.100.7:5060"), SLICE_LIT("02079460000"),
                                 MONDAY_10};
    CHECK_INT(fraud_call_start(e, SLICE_LIT("anon-1"), &ctx, &d), 0);
    CHECK_INT(fraud_call_answered(e, SLICE_LIT("anon-1"), MONDAY_10), 0);
    d = check_anon(e, "02079460000", MONDAY_10 + 1000);
    CHECK_INT(d.rule, FRAUD_RULE_CONCURRENT);
    struct fraud_call_end ends[4];
    CHECK_INT(fraud_tick(e, MONDAY_10 + 59000, ends, 4), 0);
    CHECK_INT(fraud_tick(e, MONDAY_10 + 61000, ends, 4), 1);
    CHECK_STR(ends[0].account, "anonymous@198.51.100.7");
    CHECK_INT(ends[0].rule, FRAUD_RULE_DURATION);
    CHECK_INT(fraud_call_ended(e, SLICE_LIT("anon-1"), MONDAY_10 + 61000, FRAUD_END_ENFORCED), 0);
    /* A quarantined pseudo-account is refused even internal calls of the profile's classes. */
    CHECK_INT(fraud_account_quarantine(e, SLICE_LIT("anonymous@198.51.100.7"), MONDAY_10, "test"),
              0);
    d = check_anon(e, "02079460000", MONDAY_10 + 62000);
    CHECK_INT(d.rule, FRAUD_RULE_ACCOUNT_LOCKED);
    d = check_anon(e, "2001", MONDAY_10 + 62000);
    CHECK_INT(d.rule, FRAUD_RULE_ACCOUNT_LOCKED);
    d = check_anon(e, "999", MONDAY_10 + 62000);
    CHECK_INT(d.action, FRAUD_ACT_ALLOW);
    fraud_engine_free(e);
    fraud_policy_free(p);
}

int main(void)
{
    test_unauthenticated();
    test_schedule_and_classes();
    test_lockdown_and_lock();
    test_rate_and_concurrency();
    test_international_limits();
    test_duration_and_spend();
    test_detectors();
    test_quarantine();
    test_bounded_tables();
    test_builder();
    return test_finish();
}
