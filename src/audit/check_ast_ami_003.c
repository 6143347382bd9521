/* AST-AMI-003: AMI user without permit/deny. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_manager)
        return 0;
    for (size_t i = 0; i < ctx->manager.nsecs; i++) {
        const struct ast_section *s = &ctx->manager.secs[i];
        const struct ast_var *sv;
        if (s->is_template || strcasecmp(s->name, "general") == 0)
            continue;
        if (!ast_section_get(s, "secret", &sv))
            continue;
        if (ast_section_get(s, "permit", NULL) || ast_section_get(s, "acl", NULL))
            continue;
        int rc = audit_report_add(r, self, s->file, s->line, "[%s] has no permit=", s->name);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_ami_003 = {
    .id = "AST-AMI-003",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "AMI user without permit/deny",
    .why = "Without deny/permit any address that reaches port 5038 may try the login.",
    .fix = "Add deny=0.0.0.0/0.0.0.0 and permit=127.0.0.1/255.255.255.255 to each user.",
    .run = run,
};
