/* HOST-PORT-002: Management port (AMI 5038, event socket 8021) listening on a non-loopback address.
 */
#include <string.h>

#include "check_util.h"
#include "checks.h"
#include "ctx.h"
#include "host.h"

static bool wanted(const struct host_listen *l)
{
    return strcmp(l->proto, "tcp") == 0 && (l->port == 5038 || l->port == 8021);
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    return audit_report_listeners(self, ctx, r, wanted);
}

const struct audit_check check_host_port_002 = {
    .id = "HOST-PORT-002",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_HOST,
    .title = "Management port (AMI 5038, event socket 8021) listening on a non-loopback address",
    .why = "AMI and the FreeSWITCH event socket give full call control; they must never be "
           "reachable from the network.",
    .fix = "Bind AMI (manager.conf bindaddr) and the event socket (listen-ip) to 127.0.0.1.",
    .run = run,
};
