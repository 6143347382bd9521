/* AST-SIP-004: insecure=invite lets INVITEs through without authentication. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_sip)
        return 0;
    for (size_t i = 0; i < ctx->sip.nsecs; i++) {
        const struct ast_section *s = &ctx->sip.secs[i];
        const struct ast_var *v;
        if (s->is_template)
            continue;
        const char *ins = ast_section_get(s, "insecure", &v);
        if (!ins || (!strcasestr(ins, "invite") && strcasecmp(ins, "very") != 0))
            continue;
        const char *host = ast_section_get(s, "host", NULL);
        int rc = audit_report_add(r, self, v->file, v->line, "[%s] insecure=%s host=%s", s->name,
                                  ins, host ? host : "(unset)");
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_sip_004 = {
    .id = "AST-SIP-004",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "insecure=invite: INVITEs accepted without authentication",
    .why = "insecure=invite (or port,invite) skips the digest challenge for calls matched to "
           "the peer; with host=dynamic or a spoofable match, strangers call through it.",
    .fix = "Remove insecure= and match providers by IP with permit/deny, or move the trunk to "
           "PJSIP with an identify section listing only the provider's addresses.",
    .run = run,
};
