/* HOST-OS-001: the operating system is past its end of life. */
#include <inttypes.h>

#include "checks.h"
#include "ctx.h"
#include "host.h"
#include "host_os.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_os os;
    int64_t eol;
    char name[128];
    if (host_os_release(ctx, &os) != 0 ||
        host_eol_lookup(ctx, os.id, os.version, &eol, name, sizeof(name)) != 0)
        return 0;
    if (ctx->today <= eol)
        return 0;
    return audit_report_add(r, self, os.file, os.line,
                            "%s (ID=%s VERSION_ID=%s) reached end of life %" PRId64 " days ago",
                            name, os.id, os.version, ctx->today - eol);
}

const struct audit_check check_host_os_001 = {
    .id = "HOST-OS-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_HOST,
    .title = "Operating system past end of life",
    .why = "An end-of-life system gets no security updates: every kernel, OpenSSL and "
           "OpenSSH flaw found since stays open.",
    .fix = "Upgrade to a supported release (or migrate the PBX to a supported distribution).",
    .run = run,
};
