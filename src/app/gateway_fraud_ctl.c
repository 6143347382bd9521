/*
 * The control commands of the fraud policy: `account lock|unlock|list`, `lockdown on|off`,
 * and detection's admission lockdown under `admission` (see gateway_fraud.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "gateway_fraud_int.h"
#include "gateway_guard.h"
#include "pbxguard/core/escape.h"
#include "pbxguard/core/event.h"
#include "pbxguard/ctl/ctl.h"
#include "pbxguard/detect/detect.h"

/* One-line reply: {"<key>": <on>} with --json, "<text>" otherwise. */
static void reply_state(const struct ctl_req *r, struct ctl_out *o, const char *key, bool on,
                        const char *text)
{
    if (r->json) {
        struct json_writer *w = ctl_json(o);
        json_obj_begin(w);
        json_kv_bool(w, key, on);
        json_obj_end(w);
    } else {
        ctl_printf(o, "%s\n", text);
    }
}

static int need_engine(struct ctl_out *o)
{
    if (gf_active)
        return 0;
    ctl_printf(o, "the fraud policy is not enabled (no fraud section)\n");
    return -ENOTSUP;
}

struct list_ctx {
    struct ctl_out *o;
    bool json;
};

static void list_one(void *ctx, const struct fraud_account_info *a)
{
    struct list_ctx *l = ctx;
    char name[FRAUD_ACCOUNT_MAX * 4 + ESC_MIN_CAP];
    esc_untrusted(name, sizeof(name), a->name, strlen(a->name), FRAUD_ACCOUNT_MAX, ESC_TEXT);
    if (l->json) {
        struct json_writer *w = ctl_json(l->o);
        json_obj_begin(w);
        json_key(w, "account");
        json_str_untrusted(w, slice_cstr(a->name), FRAUD_ACCOUNT_MAX);
        json_kv_bool(w, "locked", a->locked);
        json_kv_bool(w, "quarantined", a->quarantined);
        json_kv_str(w, "reason", a->lock_why);
        json_kv_uint(w, "live_calls", a->live_calls);
        json_kv_uint(w, "spent_today_milli", a->spent_day);
        json_obj_end(w);
        return;
    }
    ctl_printf(l->o, "%s %s live=%" PRIu32 " spent=%" PRIu64 ".%03" PRIu64 "%s%s\n", name,
               a->quarantined ? "quarantined"
               : a->locked    ? "locked"
                              : "ok",
               a->live_calls, a->spent_day / 1000, a->spent_day % 1000,
               a->lock_why[0] ? " reason=" : "", a->lock_why);
}

static void account_event(const char *type, const char *account, const char *reason)
{
    struct ev_record r;
    memset(&r, 0, sizeof(r));
    r.type = type;
    r.rule = "fraud.operator";
    r.action = EV_ACT_ALERT;
    r.severity = EV_SEV_MEDIUM;
    r.component = "ctl";
    r.target = slice_cstr(account);
    r.reason = reason;
    (void)ev_emit(&r);
}

static int cmd_account(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    int rc;
    (void)ctx;
    if ((rc = need_engine(o)) < 0)
        return rc;
    struct gw_fraud *f = gf_active;
    if (r->argc == 2 && strcmp(r->argv[1], "list") == 0) {
        struct list_ctx l = {o, r->json};
        if (r->json)
            json_arr_begin(ctl_json(o));
        (void)fraud_account_foreach(f->eng, list_one, &l);
        if (r->json)
            json_arr_end(ctl_json(o));
        return 0;
    }
    if (r->argc < 3 || (strcmp(r->argv[1], "lock") && strcmp(r->argv[1], "unlock"))) {
        ctl_printf(o, "usage: account lock NAME [REASON] | unlock NAME | list\n");
        return -EINVAL;
    }
    const char *name = r->argv[2];
    if (strcmp(r->argv[1], "lock") == 0) {
        const char *why = r->argc > 3 ? r->argv[3] : "locked by the operator";
        rc = fraud_account_lock(f->eng, slice_cstr(name), gf_now(f), why);
        if (rc < 0) {
            ctl_printf(o, "cannot lock: %s\n", strerror(-rc));
            return rc;
        }
        account_event("fraud.account.lock", name, why);
        reply_state(r, o, "locked", true, "account locked: calls refused except emergency");
        return 0;
    }
    rc = fraud_account_unlock(f->eng, slice_cstr(name));
    if (rc < 0) {
        ctl_printf(o, "not locked\n");
        return rc;
    }
    account_event("fraud.account.unlock", name, "unlocked by the operator");
    reply_state(r, o, "locked", false, "account unlocked");
    return 0;
}

static int cmd_lockdown(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    int rc;
    (void)ctx;
    if ((rc = need_engine(o)) < 0)
        return rc;
    if (r->argc == 2 && (strcmp(r->argv[1], "on") == 0 || strcmp(r->argv[1], "off") == 0)) {
        bool want = strcmp(r->argv[1], "on") == 0;
        fraud_lockdown_set(gf_active->eng, want);
        account_event(want ? "fraud.lockdown.on" : "fraud.lockdown.off", "*",
                      want ? "global lockdown: only internal and emergency calls"
                           : "global lockdown lifted");
    } else if (r->argc != 1) {
        ctl_printf(o, "usage: lockdown [on|off]\n");
        return -EINVAL;
    }
    bool on = fraud_lockdown_get(gf_active->eng);
    reply_state(r, o, "lockdown", on, on ? "lockdown on" : "lockdown off");
    return 0;
}

/* Detection's admission lockdown (only allow-listed and recently authenticated sources
 * pass), kept under its own name since `lockdown` means the fraud lockdown. */
static int cmd_admission(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = gw_guard_engine(gw_guard_get());
    (void)ctx;
    if (!e) {
        ctl_printf(o, "detection is not running\n");
        return -ENOTSUP;
    }
    if (r->argc == 2 && (strcmp(r->argv[1], "on") == 0 || strcmp(r->argv[1], "off") == 0))
        det_set_lockdown(e, strcmp(r->argv[1], "on") == 0);
    else if (r->argc != 1) {
        ctl_printf(o, "usage: admission [on|off]\n");
        return -EINVAL;
    }
    reply_state(r, o, "admission", det_lockdown(e),
                det_lockdown(e) ? "admission lockdown on" : "admission lockdown off");
    return 0;
}

int gw_fraud_ctl_register(struct ctl_server *s)
{
    int rc = ctl_register(s, "admission",
                          "admission on|off: only allow-listed and recently authenticated "
                          "sources pass",
                          cmd_admission, NULL);
    if (rc < 0)
        return rc;
    rc = ctl_register(s, "account", "account lock NAME [REASON] | unlock NAME | list", cmd_account,
                      NULL);
    if (rc < 0)
        return rc;
    return ctl_register(s, "lockdown", "lockdown on|off: only internal and emergency calls",
                        cmd_lockdown, NULL);
}
