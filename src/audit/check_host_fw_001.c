/* HOST-FW-001: no firewall configuration at all. */
#include "checks.h"
#include "ctx.h"
#include "host_fw.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_fw fw;
    host_fw_read(ctx, &fw);
    if (fw.found)
        return 0;
    return audit_report_add(r, self, NULL, 0,
                            "no nftables.conf, iptables rules, ufw or firewalld zones under %s",
                            ctx->root[0] ? ctx->root : "/");
}

const struct audit_check check_host_fw_001 = {
    .id = "HOST-FW-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_HOST,
    .title = "No host firewall configured",
    .why = "Without a firewall every service on the PBX (SIP, AMI, SSH, web GUI, database) "
           "is reachable by the whole Internet.",
    .fix = "Install nftables with an input policy of drop; allow SIP only from phones and "
           "providers, management only from admin networks.",
    .run = run,
};
