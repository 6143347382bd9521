/* AST-PJSIP-005: no TLS transport defined. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    const struct ast_section *first = NULL;
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        if (s->is_template || !ast_section_is_type(s, "transport"))
            continue;
        const char *proto = ast_section_get(s, "protocol", NULL);
        if (proto && (strcasecmp(proto, "tls") == 0 || strcasecmp(proto, "wss") == 0))
            return 0;
        if (!first)
            first = s;
    }
    if (!first)
        return 0; /* no transports at all: nothing listens, nothing to say */
    return audit_report_add(r, self, first->file, first->line,
                            "transports defined, none with protocol=tls (first: [%s])",
                            first->name);
}

const struct audit_check check_ast_pjsip_005 = {
    .id = "AST-PJSIP-005",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "No PJSIP TLS transport",
    .why = "Without TLS, SIP signalling (digest exchanges, dialled numbers, SDP with SRTP "
           "keys) crosses the network in clear text.",
    .fix = "Add a transport with protocol=tls, a certificate and method=tlsv1_2 (or later), "
           "and move phones and trunks to it.",
    .run = run,
};
