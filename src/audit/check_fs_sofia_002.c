/* FS-SOFIA-002: blind registration or blind authentication accepted. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_freeswitch)
        return 0;
    for (size_t i = 0; i < ctx->fs.n; i++) {
        const struct fs_item *it = &ctx->fs.items[i];
        if (it->kind != FS_KIND_SOFIA_PROFILE)
            continue;
        if (strcasecmp(it->name, "accept-blind-reg") != 0 &&
            strcasecmp(it->name, "accept-blind-auth") != 0)
            continue;
        if (strcasecmp(it->value, "true") != 0 && strcasecmp(it->value, "yes") != 0)
            continue;
        int rc = audit_report_add(r, self, it->file, it->line, "profile %s: %s=%s",
                                  it->profile ? it->profile : "?", it->name, it->value);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_fs_sofia_002 = {
    .id = "FS-SOFIA-002",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_FREESWITCH,
    .title = "SIP profile accepts blind registration or authentication",
    .why = "accept-blind-reg / accept-blind-auth accept any credentials, so anyone can "
           "register as any user and call out.",
    .fix = "Remove accept-blind-reg and accept-blind-auth (they default to false).",
    .run = run,
};
