/* AST-HTTP-001: Asterisk's HTTP server (ARI, AJAM, WebSocket) on a public address. */
#include "check_util.h"
#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const char *bind = NULL;
    if (!ctx->has_http)
        return 0;
    const struct ast_var *v = audit_ast_general_public(&ctx->http, &bind);
    if (!v)
        return 0;
    const struct ast_section *g = ast_conf_find(&ctx->http, "general", NULL);
    const char *port = ast_section_get(g, "bindport", NULL);
    bool ari = false;
    if (ctx->has_ari) {
        const struct ast_section *ag = ast_conf_find(&ctx->ari, "general", NULL);
        ari = ag && ast_true(ast_section_get(ag, "enabled", NULL));
    }
    return audit_report_add(r, self, v->file, v->line,
                            "[general] enabled=yes bindaddr=%s port=%s%s", bind ? bind : "(unset)",
                            port ? port : "8088", ari ? " (ARI enabled)" : "");
}

const struct audit_check check_ast_http_001 = {
    .id = "AST-HTTP-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Asterisk HTTP/ARI server on a public address",
    .why = "The built-in HTTP server carries ARI and the manager over HTTP; exposed publicly "
           "it offers call control to password guessing.",
    .fix = "Set bindaddr=127.0.0.1 in http.conf, or put a TLS reverse proxy with "
           "authentication in front of it.",
    .run = run,
};
