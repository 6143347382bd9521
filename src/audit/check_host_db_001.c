/* HOST-DB-001: MariaDB/MySQL version past end of life. */
#include <inttypes.h>
#include <string.h>

#include "checks.h"
#include "ctx.h"
#include "host.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_version v[16];
    size_t n = host_versions(ctx, v, PBX_ARRAY_SIZE(v));
    for (size_t i = 0; i < n; i++) {
        int64_t eol;
        char name[128];
        if (!(strcmp(v[i].product, "php") != 0))
            continue;
        if (host_eol_lookup(ctx, v[i].product, v[i].version, &eol, name, sizeof(name)) != 0 ||
            ctx->today <= eol)
            continue;
        int rc = audit_report_add(r, self, v[i].file, v[i].line,
                                  "%s installed, end of life %" PRId64 " days ago", name,
                                  ctx->today - eol);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_host_db_001 = {
    .id = "HOST-DB-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_HOST,
    .title = "MariaDB/MySQL version past end of life",
    .why = "The database holds extensions, secrets and CDRs; an unsupported server gets no "
           "security fixes.",
    .fix = "Upgrade MariaDB/MySQL to a supported release.",
    .run = run,
};
