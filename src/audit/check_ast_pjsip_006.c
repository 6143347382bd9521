/* AST-PJSIP-006: a plain transport bound to the default port on every interface. */
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        const struct ast_var *bv;
        if (s->is_template || !ast_section_is_type(s, "transport"))
            continue;
        const char *proto = ast_section_get(s, "protocol", NULL);
        if (proto && strcasecmp(proto, "udp") != 0 && strcasecmp(proto, "tcp") != 0)
            continue;
        const char *bind = ast_section_get(s, "bind", &bv);
        if (!bind || !audit_addr_is_any(bind))
            continue;
        /* Without ":port", PJSIP uses 5060. */
        const char *port = strrchr(bind, ':');
        bool v6 = strchr(bind, '[') != NULL;
        bool default_port = !port || (v6 && !strstr(bind, "]:")) || strcmp(port, ":5060") == 0;
        if (!default_port)
            continue;
        int rc = audit_report_add(r, self, bv->file, bv->line, "[%s] protocol=%s bind=%s", s->name,
                                  proto ? proto : "udp", bind);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_ast_pjsip_006 = {
    .id = "AST-PJSIP-006",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "SIP on the default port on all interfaces",
    .why = "Port 5060 on every interface is the first thing SIP scanners sweep; it invites "
           "a constant stream of enumeration and password guessing.",
    .fix = "Bind to the interface that needs SIP, firewall 5060 to known peers, or move "
           "phones to TLS on 5061 behind an edge proxy.",
    .run = run,
};
