/* AST-SIP-001: chan_sip accepts guest calls (allowguest, on by default). */
#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const struct ast_var *v;
    if (!ctx->has_sip)
        return 0;
    const struct ast_section *g = ast_conf_find(&ctx->sip, "general", NULL);
    if (!g)
        return 0;
    const char *ag = ast_section_get(g, "allowguest", &v);
    if (ag && !ast_true(ag))
        return 0;
    const char *context = ast_section_get(g, "context", NULL);
    return audit_report_add(r, self, v ? v->file : g->file, v ? v->line : g->line,
                            "[general] allowguest=%s, guests land in context=%s",
                            ag ? ag : "yes (default)", context ? context : "default");
}

const struct audit_check check_ast_sip_001 = {
    .id = "AST-SIP-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "chan_sip allows guest (unauthenticated) calls",
    .why = "With allowguest=yes (the default) a call from any unknown source is accepted "
           "into the [general] context without authentication.",
    .fix = "Set allowguest=no in [general] of sip.conf.",
    .run = run,
};
