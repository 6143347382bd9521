/* HOST-OS-002: the operating system reaches its end of life within 180 days. */
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
    if (ctx->today > eol || eol - ctx->today > 180)
        return 0;
    return audit_report_add(r, self, os.file, os.line, "%s reaches end of life in %" PRId64 " days",
                            name, eol - ctx->today);
}

const struct audit_check check_host_os_002 = {
    .id = "HOST-OS-002",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_HOST,
    .title = "Operating system end of life within 180 days",
    .why = "Upgrades of a production PBX take planning; start before updates stop.",
    .fix = "Plan the upgrade to the next supported release.",
    .run = run,
};
