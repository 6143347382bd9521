/* AST-PJSIP-002: an "anonymous" endpoint accepts calls from unidentified sources. */
#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_pjsip)
        return 0;
    const struct ast_section *s = ast_conf_find(&ctx->pjsip, "anonymous", "endpoint");
    if (!s)
        return 0;
    const char *context = ast_section_get(s, "context", NULL);
    return audit_report_add(r, self, s->file, s->line, "[anonymous] type=endpoint context=%s",
                            context ? context : "default");
}

const struct audit_check check_ast_pjsip_002 = {
    .id = "AST-PJSIP-002",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Anonymous PJSIP endpoint accepts unauthenticated calls",
    .why = "res_pjsip_endpoint_identifier_anonymous sends every request it cannot identify "
           "to the endpoint named 'anonymous', without authentication; whatever its context "
           "can dial, anyone on the Internet can dial.",
    .fix = "Remove the [anonymous] endpoint, or give it a context that only reaches local "
           "inbound destinations.",
    .run = run,
};
