/* AST-PJSIP-004: an authenticated endpoint without any source ACL. */
#include "checks.h"
#include "ctx.h"

static bool has_acl(const struct ast_section *s)
{
    static const char *const keys[] = {"acl",         "permit",         "deny",
                                       "contact_acl", "contact_permit", "contact_deny"};
    for (size_t i = 0; i < PBX_ARRAY_SIZE(keys); i++)
        if (ast_section_get(s, keys[i], NULL))
            return true;
    return false;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        const struct ast_var *av;
        if (s->is_template || !ast_section_is_type(s, "endpoint"))
            continue;
        const char *auth = ast_section_get(s, "auth", &av);
        if (!auth || has_acl(s))
            continue;
        int rc = audit_report_add(r, self, av->file, av->line,
                                  "[%s] auth=%s without acl/permit/deny", s->name, auth);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_pjsip_004 = {
    .id = "AST-PJSIP-004",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "PJSIP endpoint without permit/deny ACL",
    .why = "Without an ACL the password is the only defence: any address in the world may "
           "register as the phone and try passwords.",
    .fix = "Add deny=0.0.0.0/0.0.0.0 and permit=<office or VPN network> (or acl=) to "
           "each endpoint, including contact_deny/contact_permit for registrations.",
    .run = run,
};
