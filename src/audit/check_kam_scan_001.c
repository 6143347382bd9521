/* KAM-SCAN-001: no drop of known SIP scanners by User-Agent. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    static const char *const scanners[] = {"friendly-scanner", "sipvicious", "sipcli", "sip-scan",
                                           "vaxsipuseragent",  "pplsip",     "iwar",   "sundayddr",
                                           "friendly"};
    if (!ctx->has_kamailio)
        return 0;
    for (size_t i = 0; i < ctx->kam.n; i++) {
        const struct kam_stmt *s = &ctx->kam.v[i];
        if (!s->route || !kam_cfg_route_reachable(&ctx->kam, s->route))
            continue;
        if (!strstr(s->text, "$ua") && !strcasestr(s->text, "User-Agent"))
            continue;
        for (size_t j = 0; j < PBX_ARRAY_SIZE(scanners); j++)
            if (strcasestr(s->text, scanners[j]))
                return 0;
    }
    const struct kam_stmt *rr = kam_cfg_request_route(&ctx->kam);
    return audit_report_add(r, self, rr ? rr->file : ctx->o->kamailio_file, rr ? rr->line : 0,
                            "no User-Agent test for friendly-scanner/sipvicious/sipcli in the "
                            "request path");
}

const struct audit_check check_kam_scan_001 = {
    .id = "KAM-SCAN-001",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_KAMAILIO,
    .title = "No drop of known SIP scanners",
    .why = "Most Internet SIP scanning uses a few tools that announce themselves in "
           "User-Agent; dropping them silently costs nothing and hides the service.",
    .fix = "In request_route: if ($ua =~ \"friendly-scanner|sipvicious|sipcli|VaxSIPUserAgent\")"
           " { exit; }",
    .run = run,
};
