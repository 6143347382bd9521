/* HOST-DB-001: MariaDB/MySQL version past end of life. */
#include <string.h>

#include "check_util.h"
#include "checks.h"
#include "ctx.h"
#include "host.h"

/* Every product but PHP: the database server's packages. */
static bool wanted(const char *product)
{
    return strcmp(product, "php") != 0;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    return audit_report_eol(self, ctx, r, wanted);
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
