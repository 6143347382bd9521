/* HOST-PORT-001: SIP port listening on a non-loopback address. */
#include "check_util.h"
#include "checks.h"
#include "ctx.h"
#include "host.h"

static bool wanted(const struct host_listen *l)
{
    return l->port == 5060 || l->port == 5061 || l->port == 5160;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    return audit_report_listeners(self, ctx, r, wanted);
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
