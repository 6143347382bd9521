/* AST-SIP-002: alwaysauthreject disabled: responses reveal which users exist. */
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
    const char *val = ast_section_get(g, "alwaysauthreject", &v);
    if (!val || ast_true(val))
        return 0;
    return audit_report_add(r, self, v->file, v->line, "[general] alwaysauthreject=%s", val);
}

const struct audit_check check_ast_sip_002 = {
    .id = "AST-SIP-002",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "alwaysauthreject disabled (user enumeration)",
    .why = "With alwaysauthreject=no, unknown users get a different answer from known ones, "
           "so a scanner (svwar) lists every valid extension before guessing passwords.",
    .fix = "Set alwaysauthreject=yes in [general] of sip.conf.",
    .run = run,
};
