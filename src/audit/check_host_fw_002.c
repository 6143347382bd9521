/* HOST-FW-002: a firewall exists but its input path accepts everything. */
#include "checks.h"
#include "ctx.h"
#include "host_fw.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_fw fw;
    host_fw_read(ctx, &fw);
    if (!fw.found || fw.filters)
        return 0;
    return audit_report_add(r, self, fw.file, fw.line,
                            "%s: input policy accept and no drop/reject rule", fw.what);
}

const struct audit_check check_host_fw_002 = {
    .id = "HOST-FW-002",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_HOST,
    .title = "Firewall accepts all input",
    .why = "A ruleset whose input chain accepts everything protects nothing.",
    .fix = "Set the input chain policy to drop and add explicit accepts for the services and "
           "sources that need them.",
    .run = run,
};
