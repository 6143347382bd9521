/* AST-PJSIP-003: an identify section matches every address. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static bool match_any(const char *v)
{
    return strstr(v, "0.0.0.0/0") || strstr(v, "::/0") || strcmp(v, "0.0.0.0") == 0;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        if (s->is_template || !ast_section_is_type(s, "identify"))
            continue;
        for (size_t j = 0; j < s->nvars; j++) {
            const struct ast_var *v = &s->vars[j];
            if (strcasecmp(v->name, "match") != 0 || !match_any(v->value))
                continue;
            const char *ep = ast_section_get(s, "endpoint", NULL);
            int rc = audit_report_add(r, self, v->file, v->line, "[%s] match=%s endpoint=%s",
                                      s->name, v->value, ep ? ep : "?");
            if (rc)
                return rc;
        }
    }
    return 0;
}

const struct audit_check check_ast_pjsip_003 = {
    .id = "AST-PJSIP-003",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "PJSIP identify matches any source address",
    .why = "An identify section maps requests to an endpoint by source IP and skips "
           "authentication; matching 0.0.0.0/0 makes the endpoint reachable by anyone.",
    .fix = "List only the provider's signalling addresses in match=.",
    .run = run,
};
