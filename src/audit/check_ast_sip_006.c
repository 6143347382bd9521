/* AST-SIP-006: chan_sip listens on 5060 on every interface. */
#include <string.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const struct ast_var *bv, *pv;
    if (!ctx->has_sip)
        return 0;
    const struct ast_section *g = ast_conf_find(&ctx->sip, "general", NULL);
    if (!g)
        return 0;
    const char *bind = ast_section_get(g, "udpbindaddr", &bv);
    if (!bind)
        bind = ast_section_get(g, "bindaddr", &bv);
    const char *port = ast_section_get(g, "bindport", &pv);
    if (bind && !audit_addr_is_any(bind))
        return 0;
    const char *colon = bind ? strrchr(bind, ':') : NULL;
    bool v6bare = colon && !strchr(bind, ']') && strchr(bind, ':') != colon;
    if (colon && !v6bare && strcmp(colon, ":5060") != 0)
        return 0;
    if (!colon && port && strcmp(port, "5060") != 0)
        return 0;
    const struct ast_var *v = bv ? bv : pv;
    return audit_report_add(r, self, v ? v->file : g->file, v ? v->line : g->line,
                            "[general] bindaddr=%s port=%s", bind ? bind : "0.0.0.0 (default)",
                            port ? port : "5060");
}

const struct audit_check check_ast_sip_006 = {
    .id = "AST-SIP-006",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "chan_sip on the default port on all interfaces",
    .why = "Port 5060 on every interface is swept by SIP scanners continuously.",
    .fix = "Bind udpbindaddr to the needed interface and firewall 5060 to known peers.",
    .run = run,
};
