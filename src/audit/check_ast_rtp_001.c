/* AST-RTP-001: strictrtp disabled (RTP bleed / injection). */
#include <string.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const struct ast_var *v;
    if (!ctx->has_rtp)
        return 0;
    const struct ast_section *g = ast_conf_find(&ctx->rtp, "general", NULL);
    if (!g)
        return 0;
    const char *val = ast_section_get(g, "strictrtp", &v);
    if (!val || ast_true(val) || strcmp(val, "seqno") == 0)
        return 0;
    return audit_report_add(r, self, v->file, v->line, "[general] strictrtp=%s", val);
}

const struct audit_check check_ast_rtp_001 = {
    .id = "AST-RTP-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "strictrtp disabled",
    .why = "Without strict RTP, Asterisk follows media from any source (the 'RTP bleed' "
           "attack), letting an outsider receive or inject call audio.",
    .fix = "Set strictrtp=yes in rtp.conf.",
    .run = run,
};
