/* AST-SIP-008: chan_sip peer without media encryption. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_sip)
        return 0;
    const struct ast_section *g = ast_conf_find(&ctx->sip, "general", NULL);
    const char *gen = g ? ast_section_get(g, "encryption", NULL) : NULL;
    for (size_t i = 0; i < ctx->sip.nsecs; i++) {
        const struct ast_section *s = &ctx->sip.secs[i];
        const struct ast_var *sv, *ev;
        if (s->is_template || strcasecmp(s->name, "general") == 0)
            continue;
        if (!ast_section_get(s, "secret", &sv))
            continue;
        const char *enc = ast_section_get(s, "encryption", &ev);
        if (!enc)
            enc = gen; /* peers inherit [general] */
        if (ast_true(enc))
            continue;
        int rc = audit_report_add(r, self, ev ? ev->file : sv->file, ev ? ev->line : sv->line,
                                  "[%s] encryption=%s", s->name, enc ? enc : "no (default)");
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_sip_008 = {
    .id = "AST-SIP-008",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "chan_sip peer without media encryption",
    .why = "Plain RTP can be recorded or injected by anyone on the path.",
    .fix = "Set encryption=yes (SRTP) together with TLS on phone peers.",
    .run = run,
};
