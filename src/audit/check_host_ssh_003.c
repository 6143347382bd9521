/* HOST-SSH-003: SSH on the default port 22. */
#include <errno.h>
#include <string.h>

#include "checks.h"
#include "ctx.h"
#include "host.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_setting s;
    char path[1024];
    int rc = host_sshd_get(ctx, "Port", &s);
    if (rc == -ENODEV || (rc == 0 && strcmp(s.value, "22") != 0))
        return 0;
    if (rc == 0)
        return audit_report_add(r, self, s.file, s.line, "Port %s", s.value);
    audit_host_path(ctx, "/etc/ssh/sshd_config", path, sizeof(path));
    return audit_report_add(r, self, path, 0, "Port not set (default 22)");
}

const struct audit_check check_host_ssh_003 = {
    .id = "HOST-SSH-003",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_HOST,
    .title = "SSH on the default port",
    .why = "Port 22 receives the bulk of automated login attempts; another port (together "
           "with a firewall) removes most of the noise.",
    .fix = "Restrict port 22 to management addresses in the firewall, or move SSH to "
           "another port.",
    .run = run,
};
