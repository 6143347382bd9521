/* HOST-TLS-002: TLS certificate expires within 30 days. */
#include <inttypes.h>

#include "checks.h"
#include "ctx.h"
#include "host_tls.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_cert c[HOST_MAX_CERTS];
    size_t n = host_certs(ctx, c, PBX_ARRAY_SIZE(c));
    for (size_t i = 0; i < n; i++) {
        if (!(c[i].not_after >= ctx->today && c[i].not_after - ctx->today <= 30))
            continue;
        int rc = audit_report_add(r, self, c[i].file, 0, "CN=%s expires in %" PRId64 " days",
                                  c[i].subject, c[i].not_after - ctx->today);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_host_tls_002 = {
    .id = "HOST-TLS-002",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_HOST,
    .title = "TLS certificate expires within 30 days",
    .why = "An expiring certificate becomes an outage or a reason to disable verification.",
    .fix = "Renew now and automate renewal.",
    .run = run,
};
