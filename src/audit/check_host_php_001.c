/* HOST-PHP-001: PHP version past end of life. */
#include <string.h>

#include "check_util.h"
#include "checks.h"
#include "ctx.h"
#include "host.h"

static bool wanted(const char *product)
{
    return strcmp(product, "php") == 0;
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    return audit_report_eol(self, ctx, r, wanted);
}

const struct audit_check check_host_php_001 = {
    .id = "HOST-PHP-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_HOST,
    .title = "PHP version past end of life",
    .why = "FreePBX and other web GUIs run on PHP; an unsupported PHP gets no fixes for remotely "
           "exploitable bugs.",
    .fix = "Upgrade PHP to a supported branch (and the GUI with it).",
    .run = run,
};
