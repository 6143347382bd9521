/*
 * Account locks and quarantine: set by decisions and operators, lifted by operators only.
 */
#include <errno.h>

#include "fraud_int.h"

void fraud_lock_account(struct fraud_engine *e, struct acct *a, int64_t now_ms, const char *why)
{
    if (!a->locked)
        a->locked_at_ms = now_ms;
    a->locked = true;
    slice_copy_cstr(slice_cstr(why), a->lock_why, sizeof(a->lock_why));
}

void fraud_mark_calls_for_end(struct fraud_engine *e, struct acct *a)
{
    int32_t ai = (int32_t)(a - e->accts);
    for (uint32_t i = 0; i < e->call_cap && a->live; i++) {
        struct call *c = &e->calls[i];
        if (c->used && c->acct == ai && !c->end_wanted) {
            c->end_wanted = true;
            c->end_rule = FRAUD_RULE_ACCOUNT_LOCKED;
        }
    }
}

int fraud_account_lock(struct fraud_engine *e, struct slice account, int64_t now_ms,
                       const char *why)
{
    struct acct *a;
    if (!e || !why)
        return -EINVAL;
    a = fraud_acct_get(e, account);
    if (!a)
        return -ENOSPC;
    fraud_lock_account(e, a, fraud_clamp_now(e, now_ms), why);
    e->stats.locked++;
    return 0;
}

int fraud_account_unlock(struct fraud_engine *e, struct slice account)
{
    struct acct *a = fraud_acct_find(e, account);
    if (!a || !a->locked)
        return -ENOENT;
    a->locked = false;
    a->quarantined = false;
    a->lock_why[0] = '\0';
    return 0;
}

size_t fraud_account_foreach(const struct fraud_engine *e, fraud_account_fn fn, void *ctx)
{
    size_t n = 0;
    if (!e || !fn)
        return 0;
    for (uint32_t i = 0; i < e->acct_cap; i++) {
        const struct acct *a = &e->accts[i];
        struct fraud_account_info info;
        if (!a->used)
            continue;
        info.name = a->name;
        info.locked = a->locked;
        info.quarantined = a->quarantined;
        info.lock_why = a->lock_why;
        info.locked_at_ms = a->locked_at_ms;
        info.live_calls = a->live;
        info.spent_day = a->spent_day;
        fn(ctx, &info);
        n++;
    }
    return n;
}

bool fraud_account_is_locked(const struct fraud_engine *e, struct slice account)
{
    const struct acct *a = fraud_acct_find(e, account);
    return a && a->locked;
}

int fraud_account_quarantine(struct fraud_engine *e, struct slice account, int64_t now_ms,
                             const char *why)
{
    struct acct *a;
    if (!e || !why)
        return -EINVAL;
    a = fraud_acct_get(e, account);
    if (!a)
        return -ENOSPC;
    now_ms = fraud_clamp_now(e, now_ms);
    fraud_lock_account(e, a, now_ms, why);
    a->quarantined = true;
    fraud_mark_calls_for_end(e, a);
    e->stats.quarantined++;
    fraud_emit_alert(e, FRAUD_RULE_ACCOUNT_LOCKED, a->name, "", "", now_ms, why);
    return 0;
}
