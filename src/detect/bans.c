/*
 * Bans outside the per-message path: the hooks that persist them (SQLite, nftables), restoring
 * committed bans at start, operator bans and lifts, and expiry on the timer.
 */
#include <errno.h>
#include <string.h>

#include "det_int.h"
#include "pbxguard/ban/nft.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/store/store.h"

void det_set_ban_hook(struct det_engine *e, det_ban_hook_fn fn, void *ctx)
{
    e->ban_hook = fn;
    e->ban_hook_ctx = ctx;
}

void det_set_unban_hook(struct det_engine *e, det_unban_hook_fn fn, void *ctx)
{
    e->unban_hook = fn;
    e->unban_hook_ctx = ctx;
}

static void default_ban_hook(const struct ban_entry *b, const char *ev, size_t len, void *ctx)
{
    struct det_engine *e = ctx;
    int64_t now = clock_wall_ms();

    if (e->store && store_ban_put(e->store, b, ev, len, now) < 0)
        e->st.errors_hook++;
    if (e->nft && ban_nft_add(e->nft, b, now) != 0)
        e->st.errors_hook++;
}

static void default_unban_hook(const struct ban_entry *b, void *ctx)
{
    struct det_engine *e = ctx;

    if (e->store && store_ban_lift(e->store, b, clock_wall_ms()) < 0)
        e->st.errors_hook++;
    if (e->nft && ban_nft_del(e->nft, b) != 0)
        e->st.errors_hook++;
}

void det_attach_default_hook(struct det_engine *e, struct store *s, struct ban_nft *nft)
{
    e->store = s;
    e->nft = nft;
    det_set_ban_hook(e, default_ban_hook, e);
    det_set_unban_hook(e, default_unban_hook, e);
}

struct restore_ctx {
    struct det_engine *e;
    int64_t now;
    int n;
};

static void restore_one(const struct ban_entry *b, void *ctx)
{
    struct restore_ctx *rc = ctx;

    if (ban_restore(rc->e->bans, b, rc->now) != 0)
        return;
    if (rc->e->nft && ban_nft_add(rc->e->nft, b, rc->now) != 0)
        rc->e->st.errors_hook++;
    rc->n++;
}

int det_restore(struct det_engine *e, struct store *s, int64_t now_ms)
{
    struct restore_ctx rc = {e, now_ms, 0};
    int r = store_bans_load(s, now_ms, restore_one, &rc);
    return r != 0 ? r : rc.n;
}

static void emit_operator(const char *type, enum ev_action act, const struct ban_entry *b,
                          int64_t now, const char *reason)
{
    char scope[PBX_ADDR_STRLEN + 4];
    struct ev_record r;

    memset(&r, 0, sizeof(r));
    r.ts_ms = now;
    r.type = type;
    r.rule = b->rule[0] ? b->rule : "ctl";
    r.action = act;
    r.severity = EV_SEV_INFO;
    r.component = "detect";
    r.src = slice_cstr(ban_scope_fmt(b, scope, sizeof(scope)));
    r.reason = reason;
    if (act == EV_ACT_BAN)
        r.ban_s = b->expires_ms == BAN_PERMANENT ? -1 : (b->expires_ms - now) / 1000;
    ev_emit(&r);
}

int det_ban(struct det_engine *e, const struct pbx_addr *a, unsigned prefix, int64_t duration_ms,
            const char *rule, const char *reason, int64_t now_ms, struct ban_entry *out)
{
    struct ban_entry b;
    int rc = ban_add(e->bans, a, prefix, duration_ms, rule, reason, now_ms, &b, NULL);

    if (rc != 0)
        return rc;
    emit_operator("ban.operator", EV_ACT_BAN, &b, now_ms, reason);
    e->st.bans++;
    if (e->ban_hook)
        e->ban_hook(&b, NULL, 0, e->ban_hook_ctx);
    if (out)
        *out = b;
    return 0;
}

int det_unban(struct det_engine *e, const struct pbx_addr *a, unsigned prefix, int64_t now_ms)
{
    struct ban_entry b;
    int rc;

    if (!ban_check(e->bans, a, now_ms, &b))
        return -ENOENT;
    /* Lift exactly the scope asked for (an address inside a banned /64 lifts the /64 only if
     * asked with prefix 64). */
    rc = ban_del(e->bans, a, prefix, now_ms);
    if (rc != 0)
        return rc;
    if (prefix == 64 || b.prefix != 64) {
        b.expires_ms = now_ms;
        emit_operator("ban.lifted", EV_ACT_UNBAN, &b, now_ms, "operator");
        if (e->unban_hook)
            e->unban_hook(&b, e->unban_hook_ctx);
    }
    return 0;
}

static void expired_cb(const struct ban_entry *b, void *ctx)
{
    struct det_engine *e = ctx;

    emit_operator("ban.expired", EV_ACT_UNBAN, b, b->expires_ms, "expired");
    /* nftables drops timed-out elements itself; the store keeps the row as history. */
    (void)e;
}

void det_tick(struct det_engine *e, int64_t now_ms)
{
    ban_expire(e->bans, now_ms, expired_cb, e);
}
