/* HOST-PORT-001: SIP port listening on a non-loopback address. */
#include <string.h>

#include "checks.h"
#include "ctx.h"
#include "host.h"

static bool wanted(const struct host_listen *l)
{
    return l->port == 5060 || l->port == 5061 || l->port == 5160;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_listen l[512];
    size_t n = host_listeners(ctx, l, PBX_ARRAY_SIZE(l));
    for (size_t i = 0; i < n; i++) {
        if (l[i].loopback || !wanted(&l[i]))
            continue;
        int rc = audit_report_add(r, self, l[i].file, l[i].line, "%s %s%s%s:%u listening",
                                  l[i].proto, strchr(l[i].addr, ':') ? "[" : "", l[i].addr,
                                  strchr(l[i].addr, ':') ? "]" : "", l[i].port);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_host_port_001 = {
    .id = "HOST-PORT-001",
    .severity = AUDIT_SEV_INFO,
    .scope = AUDIT_SCOPE_HOST,
    .title = "SIP port listening on a non-loopback address",
    .why = "Shows which addresses the SIP service is reachable on, to compare with the firewall.",
    .fix = "Bind SIP to the interfaces that need it and filter the rest.",
    .run = run,
};
