/* AST-PJSIP-001: weak password in a pjsip auth section. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        const struct ast_var *pv;
        if (s->is_template || !ast_section_is_type(s, "auth"))
            continue;
        const char *atype = ast_section_get(s, "auth_type", NULL);
        if (atype && strcasecmp(atype, "userpass") != 0)
            continue; /* md5 credentials are a hash, judged elsewhere */
        const char *pw = ast_section_get(s, "password", &pv);
        const char *user = ast_section_get(s, "username", NULL);
        if (!pw || !audit_secret_is_weak(pw, user ? user : s->name))
            continue;
        char mask[64];
        audit_mask_secret(pw, mask, sizeof(mask));
        bool same = strcasecmp(pw, user ? user : s->name) == 0;
        int rc = audit_report_add(r, self, pv->file, pv->line, "[%s] password=%s%s", s->name, mask,
                                  same ? " (equal to the user name)" : "");
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_pjsip_001 = {
    .id = "AST-PJSIP-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Weak PJSIP authentication password",
    .why = "Scanners guess SIP passwords online around the clock; a short, numeric, "
           "dictionary or user-name password falls within hours and the account is then "
           "used for toll fraud.",
    .fix = "Use random passwords of at least 16 characters for every auth section.",
    .run = run,
};
