/*
 * KAM-AUTH-001: INVITEs from outside are not authenticated. Looks for a digest check
 * (auth_check, www_authorize, proxy_authorize, pv_*_authenticate) in a route reachable
 * from request_route whose enclosing conditions do not restrict it to other methods
 * (the classic mistake: authenticating REGISTER only).
 */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static const char *const auth_calls[] = {
    "auth_check(",          "www_authorize(",         "proxy_authorize(",
    "pv_www_authenticate(", "pv_proxy_authenticate(", "pv_auth_check(",
    "www_authenticate(",    "proxy_authenticate(",    "auth_db_check(",
};

static bool is_auth(const char *text)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(auth_calls); i++)
        if (strstr(text, auth_calls[i]))
            return true;
    return false;
}

/* True when one "&&" part of a condition limits the block to methods other than INVITE. */
static bool excludes_invite_part(const char *part, size_t len)
{
    char buf[1024];
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, part, len);
    buf[len] = '\0';
    if (strstr(buf, "||") || strncmp(buf, "else", 4) == 0)
        return false;
    const char *m = strstr(buf, "is_method(");
    if (m) {
        if (m > buf && m[-1] == '!')
            return false;
        const char *end = strchr(m, ')');
        char args[256];
        size_t n = end ? (size_t)(end - m) : strlen(m);
        if (n >= sizeof(args))
            n = sizeof(args) - 1;
        memcpy(args, m, n);
        args[n] = '\0';
        return strcasestr(args, "INVITE") == NULL;
    }
    const char *rm = strstr(buf, "$rm==");
    if (!rm)
        rm = strstr(buf, "$rm ==");
    if (!rm)
        rm = strstr(buf, "method==");
    if (!rm)
        rm = strstr(buf, "method ==");
    if (rm)
        return strcasestr(rm, "INVITE") == NULL;
    return false;
}

static bool covers_invite(const struct kam_stmt *s)
{
    /* The enclosing block conditions, then the statement itself ("if (x) auth_check()"). */
    const char *parts[2] = {s->cond, s->text};
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i];
        while (p && *p) {
            const char *sep = strstr(p, " && ");
            size_t len = sep ? (size_t)(sep - p) : strlen(p);
            if (excludes_invite_part(p, len))
                return false;
            p = sep ? sep + 4 : NULL;
        }
    }
    return true;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const struct kam_stmt *limited = NULL;
    if (!ctx->has_kamailio)
        return 0;
    for (size_t i = 0; i < ctx->kam.n; i++) {
        const struct kam_stmt *s = &ctx->kam.v[i];
        if (!s->route || !is_auth(s->text) || !kam_cfg_route_reachable(&ctx->kam, s->route))
            continue;
        if (covers_invite(s))
            return 0;
        if (!limited)
            limited = s;
    }
    const struct kam_stmt *rr = kam_cfg_request_route(&ctx->kam);
    if (limited)
        return audit_report_add(r, self, limited->file, limited->line,
                                "digest check only under '%.200s' in route %s; INVITEs are "
                                "relayed unauthenticated",
                                limited->cond, limited->route);
    return audit_report_add(r, self, rr ? rr->file : ctx->o->kamailio_file, rr ? rr->line : 0,
                            "no auth_check/proxy_authorize reachable from request_route%s",
                            kam_cfg_module(&ctx->kam, "auth") ? "" : " (auth module not loaded)");
}

const struct audit_check check_kam_auth_001 = {
    .id = "KAM-AUTH-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_KAMAILIO,
    .title = "INVITEs from outside are not authenticated",
    .why = "Without a digest check on INVITE, anyone can send calls through the proxy to "
           "the PBX or to outbound gateways (toll fraud), and spoof any caller.",
    .fix = "In request_route, challenge every request from untrusted sources: "
           "if (!allow_source_address()) { if (!auth_check(\"$fd\", \"subscriber\", 1)) "
           "{ auth_challenge(\"$fd\", \"1\"); exit; } }",
    .run = run,
};
