/* AST-SIP-005: a chan_sip peer with a secret but no permit/deny. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_sip)
        return 0;
    for (size_t i = 0; i < ctx->sip.nsecs; i++) {
        const struct ast_section *s = &ctx->sip.secs[i];
        const struct ast_var *sv;
        if (s->is_template || strcasecmp(s->name, "general") == 0)
            continue;
        if (!ast_section_get(s, "secret", &sv))
            continue;
        if (ast_section_get(s, "permit", NULL) || ast_section_get(s, "deny", NULL) ||
            ast_section_get(s, "acl", NULL))
            continue;
        int rc = audit_report_add(r, self, sv->file, sv->line,
                                  "[%s] has a secret but no permit/deny", s->name);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_sip_005 = {
    .id = "AST-SIP-005",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "chan_sip peer without permit/deny ACL",
    .why = "Without an ACL every address on the Internet may register as the peer and guess "
           "its secret.",
    .fix = "Add deny=0.0.0.0/0.0.0.0 followed by permit=<trusted network> to each peer.",
    .run = run,
};
