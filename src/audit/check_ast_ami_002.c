/* AST-AMI-002: weak or default AMI secret (FreePBX shipped "amp111"). */
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
        const char *secret = ast_section_get(s, "secret", &sv);
        if (!secret || !audit_secret_is_weak(secret, s->name))
            continue;
        char mask[64];
        audit_mask_secret(secret, mask, sizeof(mask));
        bool dflt = strcasecmp(secret, "amp111") == 0 || strcasecmp(secret, "mysecret") == 0;
        int rc = audit_report_add(r, self, sv->file, sv->line, "[%s] secret=%s%s", s->name, mask,
                                  dflt ? " (a well-known default)" : "");
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_ami_002 = {
    .id = "AST-AMI-002",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Weak or default AMI secret",
    .why = "An AMI login can Originate calls to any number and run system commands; default "
           "secrets such as amp111 are in every attack script.",
    .fix = "Set a random secret of at least 20 characters for every manager user.",
    .run = run,
};
