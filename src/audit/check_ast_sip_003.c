/* AST-SIP-003: weak secret on a chan_sip peer. */
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
        const char *secret = ast_section_get(s, "secret", &sv);
        if (!secret)
            continue;
        const char *user = ast_section_get(s, "defaultuser", NULL);
        if (!user)
            user = s->name;
        if (!audit_secret_is_weak(secret, user))
            continue;
        char mask[64];
        audit_mask_secret(secret, mask, sizeof(mask));
        int rc = audit_report_add(r, self, sv->file, sv->line, "[%s] secret=%s%s", s->name, mask,
                                  strcasecmp(secret, user) == 0 ? " (equal to the user name)" : "");
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_sip_003 = {
    .id = "AST-SIP-003",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Weak chan_sip peer secret",
    .why = "Online password guessing (svcrack and friends) finds short, numeric, dictionary "
           "and user-name secrets quickly; the account then places fraudulent calls.",
    .fix = "Use random secrets of at least 16 characters.",
    .run = run,
};
