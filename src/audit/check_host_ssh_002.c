/* HOST-SSH-002: SSH password authentication enabled (the default). */
#include <errno.h>
#include <strings.h>

#include "checks.h"
#include "ctx.h"
#include "host.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_setting s;
    char path[1024];
    int rc = host_sshd_get(ctx, "PasswordAuthentication", &s);
    if (rc == -ENODEV)
        return 0;
    if (rc == 0 && strcasecmp(s.value, "no") == 0)
        return 0;
    if (rc == 0)
        return audit_report_add(r, self, s.file, s.line, "PasswordAuthentication %s", s.value);
    audit_host_path(ctx, "/etc/ssh/sshd_config", path, sizeof(path));
    return audit_report_add(r, self, path, 0, "PasswordAuthentication not set (default yes)");
}

const struct audit_check check_host_ssh_002 = {
    .id = "HOST-SSH-002",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_HOST,
    .title = "SSH password authentication enabled",
    .why = "Password logins can be guessed by the bots that scan every public address.",
    .fix = "Use keys and set PasswordAuthentication no (and KbdInteractiveAuthentication no).",
    .run = run,
};
