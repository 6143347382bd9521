/* KAM-FLOOD-001: no anti-flood (pike, pipelimit or ratelimit) in the request path. */
#include <string.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    static const char *const calls[] = {"pike_check_req(", "pl_check(", "rl_check(",
                                        "rl_check_pipe("};
    if (!ctx->has_kamailio)
        return 0;
    for (size_t i = 0; i < ctx->kam.n; i++) {
        const struct kam_stmt *s = &ctx->kam.v[i];
        if (!s->route || !kam_cfg_route_reachable(&ctx->kam, s->route))
            continue;
        for (size_t j = 0; j < PBX_ARRAY_SIZE(calls); j++)
            if (strstr(s->text, calls[j]))
                return 0;
    }
    const struct kam_stmt *pike = kam_cfg_module(&ctx->kam, "pike");
    const struct kam_stmt *rr = kam_cfg_request_route(&ctx->kam);
    const struct kam_stmt *at = pike ? pike : rr;
    return audit_report_add(r, self, at ? at->file : ctx->o->kamailio_file, at ? at->line : 0, "%s",
                            pike ? "pike is loaded but pike_check_req() is never called"
                                 : "no pike/pipelimit/ratelimit check in request_route");
}

const struct audit_check check_kam_flood_001 = {
    .id = "KAM-FLOOD-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_KAMAILIO,
    .title = "No anti-flood protection",
    .why = "Without a per-source rate limit a single scanner can send thousands of requests "
           "per second: password guessing at full speed and a denial of service.",
    .fix = "loadmodule \"pike.so\" and in request_route: if (!pike_check_req()) { "
           "$sht(ipban=>$si) = 1; exit; } (with htable for the ban list).",
    .run = run,
};
