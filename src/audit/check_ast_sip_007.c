/* AST-SIP-007: chan_sip without TLS. */
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
    const char *tls = ast_section_get(g, "tlsenable", &v);
    if (ast_true(tls))
        return 0;
    return audit_report_add(r, self, v ? v->file : g->file, v ? v->line : g->line,
                            "[general] tlsenable=%s", tls ? tls : "no (default)");
}

const struct audit_check check_ast_sip_007 = {
    .id = "AST-SIP-007",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "chan_sip without TLS",
    .why = "Signalling in clear text exposes digest exchanges, dialled numbers and SDP.",
    .fix = "Set tlsenable=yes with a certificate, tlsclientmethod=tlsv1_2, and use "
           "transport=tls on peers.",
    .run = run,
};
