/* AST-AMI-001: Asterisk Manager Interface reachable from outside. */
#include "check_util.h"
#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const char *bind = NULL;
    if (!ctx->has_manager)
        return 0;
    const struct ast_var *v = audit_ast_general_public(&ctx->manager, &bind);
    if (!v)
        return 0;
    const struct ast_section *g = ast_conf_find(&ctx->manager, "general", NULL);
    const char *port = ast_section_get(g, "port", NULL);
    return audit_report_add(r, self, v->file, v->line, "[general] enabled=yes bindaddr=%s port=%s",
                            bind ? bind : "0.0.0.0 (default)", port ? port : "5038");
}

const struct audit_check check_ast_ami_001 = {
    .id = "AST-AMI-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "AMI listens on a public address",
    .why = "The Manager Interface can originate calls and run commands; exposed on a "
           "public address it is one password away from full control of the PBX.",
    .fix = "Set bindaddr=127.0.0.1 in manager.conf [general] (or disable AMI), and reach it "
           "over SSH or a VPN.",
    .run = run,
};
