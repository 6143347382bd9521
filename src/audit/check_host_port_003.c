/* HOST-PORT-003: PBX web/HTTP port listening on a non-loopback address. */
#include <string.h>

#include "check_util.h"
#include "checks.h"
#include "ctx.h"
#include "host.h"

static bool wanted(const struct host_listen *l)
{
    return strcmp(l->proto, "tcp") == 0 &&
           (l->port == 8088 || l->port == 8089 || l->port == 80 || l->port == 443);
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    return audit_report_listeners(self, ctx, r, wanted);
}

const struct audit_check check_host_port_003 = {
    .id = "HOST-PORT-003",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_HOST,
    .title = "PBX web/HTTP port listening on a non-loopback address",
    .why = "Administration GUIs and ARI are frequent targets of remote exploits.",
    .fix =
        "Restrict the web ports to management networks in the firewall or bind them to loopback.",
    .run = run,
};
