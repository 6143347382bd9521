/* AST-PJSIP-007: endpoint without media encryption. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        const struct ast_var *mv;
        if (s->is_template || !ast_section_is_type(s, "endpoint"))
            continue;
        if (!ast_section_get(s, "auth", NULL))
            continue; /* trunks identified by IP are judged by the provider's offer */
        const char *me = ast_section_get(s, "media_encryption", &mv);
        if (me && strcasecmp(me, "no") != 0)
            continue;
        int rc = audit_report_add(r, self, mv ? mv->file : s->file, mv ? mv->line : s->line,
                                  "[%s] media_encryption=%s", s->name, me ? me : "no (default)");
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_pjsip_007 = {
    .id = "AST-PJSIP-007",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "PJSIP endpoint without media encryption",
    .why = "Plain RTP can be recorded or injected by anyone on the path.",
    .fix = "Set media_encryption=sdes (with a TLS transport) or dtls on phone endpoints.",
    .run = run,
};
