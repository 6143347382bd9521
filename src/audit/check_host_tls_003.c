/* HOST-TLS-003: Weak TLS key size. */
#include <inttypes.h>

#include "checks.h"
#include "ctx.h"
#include "host_tls.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    struct host_cert c[HOST_MAX_CERTS];
    size_t n = host_certs(ctx, c, PBX_ARRAY_SIZE(c));
    for (size_t i = 0; i < n; i++) {
        if (!((c[i].rsa_like && c[i].bits < 2048) ||
              (!c[i].rsa_like && c[i].bits > 0 && c[i].bits < 224)))
            continue;
        int rc = audit_report_add(r, self, c[i].file, 0, "CN=%s key of %d bits", c[i].subject,
                                  c[i].bits);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_host_tls_003 = {
    .id = "HOST-TLS-003",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_HOST,
    .title = "Weak TLS key size",
    .why = "RSA keys under 2048 bits (or EC under 224) are within reach of factoring/brute force "
           "and are refused by current clients.",
    .fix = "Issue a new certificate with an RSA 3072 or ECDSA P-256 key.",
    .run = run,
};
