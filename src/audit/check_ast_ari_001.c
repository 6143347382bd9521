/* AST-ARI-001: weak ARI user password. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_ari)
        return 0;
    for (size_t i = 0; i < ctx->ari.nsecs; i++) {
        const struct ast_section *s = &ctx->ari.secs[i];
        const struct ast_var *pv;
        if (s->is_template || !ast_section_is_type(s, "user"))
            continue;
        const char *fmt = ast_section_get(s, "password_format", NULL);
        if (fmt && strcasecmp(fmt, "crypt") == 0)
            continue;
        const char *pw = ast_section_get(s, "password", &pv);
        if (!pw || !audit_secret_is_weak(pw, s->name))
            continue;
        char mask[64];
        audit_mask_secret(pw, mask, sizeof(mask));
        int rc = audit_report_add(r, self, pv->file, pv->line, "[%s] password=%s", s->name, mask);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_ari_001 = {
    .id = "AST-ARI-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Weak ARI password",
    .why = "An ARI user controls channels and can originate calls.",
    .fix = "Use a random password of at least 20 characters, stored with "
           "password_format=crypt.",
    .run = run,
};
