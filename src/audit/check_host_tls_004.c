/* HOST-TLS-004: Self-signed TLS certificate. */
#include <inttypes.h>

#include "checks.h"
#include "ctx.h"
#include "host_tls.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_cert c[HOST_MAX_CERTS];
    size_t n = host_certs(ctx, c, PBX_ARRAY_SIZE(c));
    for (size_t i = 0; i < n; i++) {
        if (!(c[i].self_signed && !c[i].issues_other))
            continue;
        int rc = audit_report_add(r, self, c[i].file, 0, "CN=%s is self-signed", c[i].subject);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_host_tls_004 = {
    .id = "HOST-TLS-004",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_HOST,
    .title = "Self-signed TLS certificate",
    .why = "Clients can only trust a self-signed certificate by pinning it or by turning "
           "verification off; most turn it off, which allows interception.",
    .fix = "Use a certificate from a public or private CA that the phones and trunks verify.",
    .run = run,
};
