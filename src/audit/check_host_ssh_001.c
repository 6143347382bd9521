/* HOST-SSH-001: root may log in over SSH. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"
#include "host.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_setting s;
    /* Since OpenSSH 7.0 the default is prohibit-password; only an explicit yes is open. */
    if (host_sshd_get(ctx, "PermitRootLogin", &s) != 0 || strcasecmp(s.value, "yes") != 0)
        return 0;
    return audit_report_add(r, self, s.file, s.line, "PermitRootLogin %s", s.value);
}

const struct audit_check check_host_ssh_001 = {
    .id = "HOST-SSH-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_HOST,
    .title = "SSH allows root login",
    .why = "Root is the one user name every brute-force bot knows; a guessed root password "
           "owns the PBX and everything it can dial.",
    .fix = "Set PermitRootLogin no (or prohibit-password) and log in as a named user.",
    .run = run,
};
