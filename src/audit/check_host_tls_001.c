/* HOST-TLS-001: TLS certificate expired. */
#include <inttypes.h>

#include "checks.h"
#include "ctx.h"
#include "host_tls.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_cert c[HOST_MAX_CERTS];
    size_t n = host_certs(ctx, c, PBX_ARRAY_SIZE(c));
    for (size_t i = 0; i < n; i++) {
        if (!(c[i].not_after < ctx->today))
            continue;
        int rc = audit_report_add(r, self, c[i].file, 0, "CN=%s expired %" PRId64 " days ago",
                                  c[i].subject, ctx->today - c[i].not_after);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_host_tls_001 = {
    .id = "HOST-TLS-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_HOST,
    .title = "TLS certificate expired",
    .why = "Phones and trunks either refuse an expired certificate (calls fail) or were set to "
           "accept anything, which voids TLS.",
    .fix = "Renew the certificate (automate it with ACME) and reload the PBX.",
    .run = run,
};
