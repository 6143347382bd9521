/* One security event -> one JSON line; schema in docs/events.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/json.h"

#define EV_SCHEMA_VERSION 1

static const char *const action_names[] = {
    [EV_ACT_LOG] = "log",       [EV_ACT_PASS] = "pass", [EV_ACT_DROP] = "drop",
    [EV_ACT_REJECT] = "reject", [EV_ACT_BAN] = "ban",   [EV_ACT_UNBAN] = "unban",
    [EV_ACT_ALERT] = "alert",   [EV_ACT_LOCK] = "lock", [EV_ACT_UNLOCK] = "unlock",
};

static const char *const severity_names[] = {"info", "low", "medium", "high", "critical"};

const char *ev_action_name(enum ev_action a)
{
    return (unsigned)a < PBX_ARRAY_SIZE(action_names) && action_names[a] ? action_names[a]
                                                                         : "unknown";
}

const char *ev_severity_name(enum ev_severity s)
{
    return (unsigned)s < PBX_ARRAY_SIZE(severity_names) ? severity_names[s] : "unknown";
}

static void kv_slice(struct json_writer *w, const char *key, struct slice s, size_t max_in)
{
    if (!s.p)
        return;
    json_key(w, key);
    json_str_untrusted(w, s, max_in);
}

static void kv_opt_str(struct json_writer *w, const char *key, const char *s)
{
    if (s)
        json_kv_str(w, key, s);
}

/* Parts that may be left out when the line would not fit. */
#define PART_EVIDENCE 0x1u
#define PART_RAW 0x2u

static void write_event(struct json_writer *w, const struct ev_record *r, uint64_t seq,
                        size_t raw_max, unsigned parts)
{
    char ts[80];
    int64_t ms = r->ts_ms ? r->ts_ms : clock_wall_ms();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));

    json_obj_begin(w);
    json_kv_str(w, "ts", ts);
    json_kv_uint(w, "seq", seq);
    json_kv_int(w, "v", EV_SCHEMA_VERSION);
    json_kv_str(w, "type", r->type);
    kv_opt_str(w, "rule", r->rule);
    json_kv_str(w, "action", ev_action_name(r->action));
    json_kv_str(w, "severity", ev_severity_name(r->severity));
    json_kv_bool(w, "shadow", r->shadow);
    kv_opt_str(w, "component", r->component);
    kv_slice(w, "src", r->src, EV_FIELD_MAX);
    kv_opt_str(w, "transport", r->transport);
    kv_slice(w, "target", r->target, EV_FIELD_MAX);
    kv_slice(w, "method", r->method, 32);
    kv_slice(w, "call_id", r->call_id, EV_FIELD_MAX);
    kv_slice(w, "user_agent", r->user_agent, EV_FIELD_MAX);
    kv_opt_str(w, "reason", r->reason);
    if (r->action == EV_ACT_BAN && r->ban_s)
        json_kv_int(w, "ban_s", r->ban_s);

    size_t n_ev = r->evidence ? r->n_evidence : 0;
    size_t shown = n_ev < EV_MAX_EVIDENCE ? n_ev : EV_MAX_EVIDENCE;
    if (n_ev && (parts & PART_EVIDENCE)) {
        json_key(w, "evidence");
        json_obj_begin(w);
        for (size_t i = 0; i < shown; i++) {
            const struct ev_kv *kv = &r->evidence[i];
            json_key(w, kv->key ? kv->key : "?");
            switch (kv->kind) {
            case EV_KV_INT:
                json_int(w, kv->num);
                break;
            case EV_KV_BOOL:
                json_bool(w, kv->num != 0);
                break;
            case EV_KV_STR:
            default:
                json_str_untrusted(w, kv->str, EV_FIELD_MAX);
                break;
            }
        }
        json_obj_end(w);
        if (n_ev > shown)
            json_kv_uint(w, "evidence_dropped", n_ev - shown);
    }
    if (r->raw.p && raw_max > 0 && (parts & PART_RAW)) {
        json_key(w, "raw");
        json_str_untrusted(w, r->raw, raw_max);
        json_kv_uint(w, "raw_len", r->raw.len);
    }
    if ((!(parts & PART_RAW) && r->raw.p && raw_max > 0) || (!(parts & PART_EVIDENCE) && n_ev))
        json_kv_bool(w, "truncated", true);
    json_obj_end(w);
}

int ev_format(const struct ev_record *r, uint64_t seq, size_t raw_max, char *buf, size_t cap)
{
    static const unsigned attempts[] = {PART_EVIDENCE | PART_RAW, PART_EVIDENCE, 0};
    struct json_writer w;

    if (!r || !r->type || !buf || cap < 256)
        return -EINVAL;
    if (raw_max > EV_RAW_MAX)
        raw_max = EV_RAW_MAX;
    /* Drop the bulkiest optional parts until the line fits; never split it. */
    for (size_t i = 0; i < PBX_ARRAY_SIZE(attempts); i++) {
        json_init_fixed(&w, buf, cap - 1); /* one byte kept for the newline */
        write_event(&w, r, seq, raw_max, attempts[i]);
        if (json_error(&w) == 0) {
            size_t len = json_len(&w);
            buf[len++] = '\n';
            buf[len] = '\0';
            return (int)len;
        }
    }
    buf[0] = '\0';
    return -EMSGSIZE;
}
