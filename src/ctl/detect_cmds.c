/*
 * ctl commands backed by the detection engine: status, ban, allow, lockdown, shadow, top.
 * Text output is for people (one item per line); JSON output is one document per reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/detect/detect.h"

#define LIST_MAX 4096u

int ctl_parse_duration(const char *s, int64_t *ms)
{
    int64_t v = 0, mul = 1000;
    const char *p = s;

    if (strcmp(s, "permanent") == 0) {
        *ms = -1;
        return 0;
    }
    if (!*p)
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > INT64_MAX / 10 / 86400000)
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (p == s)
        return -EINVAL;
    if (*p == 's')
        mul = 1000;
    else if (*p == 'm')
        mul = 60 * 1000;
    else if (*p == 'h')
        mul = 3600 * 1000;
    else if (*p == 'd')
        mul = 86400 * 1000;
    else if (*p)
        return -EINVAL;
    if (*p && p[1])
        return -EINVAL;
    if (v == 0)
        return -EINVAL;
    *ms = v * mul;
    return 0;
}

/* "203.0.113.7" or "2001:db8::/64" -> address + prefix (0 or 64). */
static int parse_scope(const char *s, struct pbx_addr *a, unsigned *prefix)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    *prefix = 0;
    if (slash) {
        if (strcmp(slash + 1, "64") == 0)
            *prefix = 64;
        else if (strcmp(slash + 1, "32") != 0 && strcmp(slash + 1, "128") != 0)
            return -EINVAL;
    }
    if (pbx_addr_parse(s, n, a) != 0)
        return -EINVAL;
    if (*prefix == 64 && a->family != AF_INET6)
        return -EINVAL;
    return 0;
}

static void join_reason(const struct ctl_req *r, int from, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = from; i < r->argc && n + 1 < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", n ? " " : "", r->argv[i]);
        if (w < 0)
            break;
        n += (size_t)w;
        if (n >= cap)
            n = cap - 1;
    }
}

static void ban_json(struct json_writer *w, const struct ban_entry *b, int64_t now)
{
    char scope[PBX_ADDR_STRLEN + 4];

    json_obj_begin(w);
    json_kv_str(w, "scope", ban_scope_fmt(b, scope, sizeof(scope)));
    json_kv_str(w, "rule", b->rule);
    json_kv_str(w, "reason", b->reason);
    json_kv_uint(w, "level", b->level);
    json_kv_uint(w, "hits", b->hits);
    json_kv_int(w, "since_ms", b->since_ms);
    if (b->expires_ms == BAN_PERMANENT)
        json_kv_int(w, "expires_in_s", -1);
    else
        json_kv_int(w, "expires_in_s", (b->expires_ms - now) / 1000);
    json_obj_end(w);
}

static int cmd_ban(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = ctx;
    int64_t now = clock_wall_ms();
    struct pbx_addr a;
    unsigned prefix;
    int rc;

    if (r->argc < 2 || strcmp(r->argv[1], "list") == 0) {
        struct ban_entry *list = calloc(LIST_MAX, sizeof(*list));
        size_t n;
        if (!list)
            return -ENOMEM;
        n = ban_list(det_bans(e), list, LIST_MAX, now);
        if (o->json_mode) {
            json_arr_begin(ctl_json(o));
            for (size_t i = 0; i < n; i++)
                ban_json(ctl_json(o), &list[i], now);
            json_arr_end(ctl_json(o));
        } else {
            for (size_t i = 0; i < n; i++) {
                char scope[PBX_ADDR_STRLEN + 4];
                ctl_printf(o, "%s\t%s\tlevel=%u\texpires=%s%lld\t%s\n",
                           ban_scope_fmt(&list[i], scope, sizeof(scope)), list[i].rule,
                           list[i].level, list[i].expires_ms == BAN_PERMANENT ? "never" : "",
                           list[i].expires_ms == BAN_PERMANENT
                               ? 0LL
                               : (long long)(list[i].expires_ms - now) / 1000,
                           list[i].reason);
            }
        }
        free(list);
        return 0;
    }
    if ((strcmp(r->argv[1], "add") == 0 || strcmp(r->argv[1], "del") == 0) && r->argc >= 3) {
        if (parse_scope(r->argv[2], &a, &prefix) != 0) {
            ctl_printf(o, "bad address '%.64s' (IPv4, IPv6 or IPv6/64)\n", r->argv[2]);
            return -EINVAL;
        }
        if (r->argv[1][0] == 'd') {
            rc = det_unban(e, &a, prefix, now);
            if (rc != 0)
                ctl_printf(o, "%s\n", rc == -ENOENT ? "not banned" : strerror(-rc));
            else if (!o->json_mode)
                ctl_printf(o, "unbanned %s\n", r->argv[2]);
            return rc;
        }
        int64_t dur = 0;
        char reason[BAN_REASON_MAX];
        int from = 3;
        if (r->argc >= 4 && ctl_parse_duration(r->argv[3], &dur) == 0)
            from = 4;
        join_reason(r, from, reason, sizeof(reason));
        struct ban_entry b;
        rc = det_ban(e, &a, prefix, dur, "ctl", reason[0] ? reason : "operator", now, &b);
        if (rc != 0) {
            ctl_printf(o, "%s\n", rc == -EPERM ? "address is allow-listed" : strerror(-rc));
            return rc;
        }
        if (o->json_mode)
            ban_json(ctl_json(o), &b, now);
        else
            ctl_printf(o, "banned %s level %u expires_in_s %lld\n", r->argv[2], b.level,
                       b.expires_ms == BAN_PERMANENT ? -1LL
                                                     : (long long)(b.expires_ms - now) / 1000);
        return 0;
    }
    ctl_printf(o,
               "usage: ban list | ban add ADDR[/64] [DURATION] [REASON...] | ban del ADDR[/64]\n");
    return -EINVAL;
}

static int cmd_allow(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = ctx;
    struct pbx_cidr c;
    int rc;

    if (r->argc < 2 || strcmp(r->argv[1], "list") == 0) {
        struct pbx_cidr list[BAN_MAX_ALLOW];
        size_t n = ban_allow_list(det_bans(e), list, BAN_MAX_ALLOW);
        char ip[PBX_ADDR_STRLEN], s[PBX_ADDR_STRLEN + 5];
        if (o->json_mode)
            json_arr_begin(ctl_json(o));
        for (size_t i = 0; i < n; i++) {
            snprintf(s, sizeof(s), "%s/%u", pbx_addr_fmt_ip(&list[i].base, ip, sizeof(ip)),
                     list[i].prefix);
            if (o->json_mode)
                json_str(ctl_json(o), s);
            else
                ctl_printf(o, "%s\n", s);
        }
        if (o->json_mode)
            json_arr_end(ctl_json(o));
        return 0;
    }
    if (r->argc == 3 && (strcmp(r->argv[1], "add") == 0 || strcmp(r->argv[1], "del") == 0)) {
        if (pbx_cidr_parse(r->argv[2], strlen(r->argv[2]), &c) != 0) {
            ctl_printf(o, "bad network '%.64s'\n", r->argv[2]);
            return -EINVAL;
        }
        rc = r->argv[1][0] == 'a' ? ban_allow_add(det_bans(e), &c) : ban_allow_del(det_bans(e), &c);
        if (rc != 0)
            ctl_printf(o, "%s\n", rc == -ENOENT ? "not in the allow-list" : strerror(-rc));
        else if (!o->json_mode)
            ctl_printf(o, "%s %s\n", r->argv[1][0] == 'a' ? "allowed" : "removed", r->argv[2]);
        return rc;
    }
    ctl_printf(o, "usage: allow list | allow add CIDR | allow del CIDR\n");
    return -EINVAL;
}

static int on_off(const struct ctl_req *r, struct ctl_out *o, bool cur, bool *out, const char *what)
{
    if (r->argc == 1) {
        *out = cur;
    } else if (r->argc == 2 && (strcmp(r->argv[1], "on") == 0 || strcmp(r->argv[1], "off") == 0)) {
        *out = r->argv[1][1] == 'n';
    } else {
        ctl_printf(o, "usage: %s on|off\n", what);
        return -EINVAL;
    }
    if (o->json_mode) {
        json_obj_begin(ctl_json(o));
        json_kv_bool(ctl_json(o), what, *out);
        json_obj_end(ctl_json(o));
    } else {
        ctl_printf(o, "%s %s\n", what, *out ? "on" : "off");
    }
    return 0;
}

static int cmd_lockdown(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = ctx;
    bool v;
    int rc = on_off(r, o, det_lockdown(e), &v, "lockdown");
    if (rc == 0)
        det_set_lockdown(e, v);
    return rc;
}

static int cmd_shadow(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = ctx;
    bool v;
    int rc = on_off(r, o, det_shadow(e), &v, "shadow");
    if (rc == 0)
        det_set_shadow(e, v);
    return rc;
}

static int cmd_status(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = ctx;
    struct det_stats st;
    int64_t now = clock_wall_ms();
    size_t active = ban_table_active(det_bans(e), now);

    (void)r;
    det_stats_get(e, &st);
    if (o->json_mode) {
        struct json_writer *w = ctl_json(o);
        json_obj_begin(w);
        json_kv_str(w, "version", PBX_VERSION);
        json_kv_bool(w, "shadow", det_shadow(e));
        json_kv_bool(w, "lockdown", det_lockdown(e));
        json_kv_uint(w, "bans_active", active);
        json_kv_uint(w, "sources", st.src_used);
        json_kv_uint(w, "sources_cap", st.src_cap);
        json_kv_uint(w, "accounts", st.acct_used);
        json_kv_uint(w, "memory_bytes", st.mem_bytes);
        json_kv_uint(w, "admitted", st.admitted);
        json_kv_uint(w, "refused_ban", st.refused_ban);
        json_kv_uint(w, "refused_budget", st.refused_budget);
        json_kv_uint(w, "requests", st.requests);
        json_kv_uint(w, "responses", st.responses);
        json_kv_uint(w, "drops", st.drops);
        json_kv_uint(w, "rejects", st.rejects);
        json_kv_uint(w, "bans", st.bans);
        json_kv_uint(w, "rewrites", st.rewrites);
        json_obj_end(w);
        return 0;
    }
    ctl_printf(o,
               "version %s\nshadow %s\nlockdown %s\nbans_active %zu\nsources %zu/%zu\n"
               "accounts %zu/%zu\nmemory_bytes %zu\nadmitted %llu\nrefused_ban %llu\n"
               "requests %llu\nresponses %llu\ndrops %llu\nrejects %llu\nbans %llu\n",
               PBX_VERSION, det_shadow(e) ? "on" : "off", det_lockdown(e) ? "on" : "off", active,
               st.src_used, st.src_cap, st.acct_used, st.acct_cap, st.mem_bytes,
               (unsigned long long)st.admitted, (unsigned long long)st.refused_ban,
               (unsigned long long)st.requests, (unsigned long long)st.responses,
               (unsigned long long)st.drops, (unsigned long long)st.rejects,
               (unsigned long long)st.bans);
    return 0;
}

static int cmd_top(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    struct det_engine *e = ctx;
    struct det_talker t[100];
    size_t max = 10, n;
    char ip[PBX_ADDR_STRLEN];

    if (r->argc >= 2) {
        size_t v = 0;
        for (const char *p = r->argv[1]; *p; p++) {
            if (*p < '0' || *p > '9' || v > 100) {
                ctl_printf(o, "usage: top [N<=100]\n");
                return -EINVAL;
            }
            v = v * 10 + (size_t)(*p - '0');
        }
        max = v == 0 || v > 100 ? 100 : v;
    }
    n = det_top(e, t, max);
    if (o->json_mode)
        json_arr_begin(ctl_json(o));
    for (size_t i = 0; i < n; i++) {
        pbx_addr_fmt_ip(&t[i].addr, ip, sizeof(ip));
        if (o->json_mode) {
            struct json_writer *w = ctl_json(o);
            json_obj_begin(w);
            json_kv_str(w, "source", ip);
            json_kv_uint(w, "packets", t[i].packets);
            json_kv_int(w, "last_ms", t[i].last_ms);
            json_kv_int(w, "score", t[i].score);
            json_kv_bool(w, "trusted", t[i].trusted);
            json_obj_end(w);
        } else {
            ctl_printf(o, "%s\t%llu\tscore=%d%s\n", ip, (unsigned long long)t[i].packets,
                       t[i].score, t[i].trusted ? "\ttrusted" : "");
        }
    }
    if (o->json_mode)
        json_arr_end(ctl_json(o));
    return 0;
}

int ctl_register_detect(struct ctl_server *s, struct det_engine *e)
{
    int rc;
    if ((rc = ctl_register(s, "status", "engine status and counters", cmd_status, e)) ||
        (rc = ctl_register(s, "ban", "ban list | add ADDR[/64] [DURATION] [REASON] | del ADDR",
                           cmd_ban, e)) ||
        (rc = ctl_register(s, "allow", "allow list | add CIDR | del CIDR", cmd_allow, e)) ||
        (rc = ctl_register(s, "lockdown", "lockdown on|off: only trusted sources pass",
                           cmd_lockdown, e)) ||
        (rc =
             ctl_register(s, "shadow", "shadow on|off: detect without enforcing", cmd_shadow, e)) ||
        (rc = ctl_register(s, "top", "top [N]: sources by packets", cmd_top, e)))
        return rc;
    return 0;
}
