/* FS-SOFIA-001: a SIP profile that does not authenticate calls. */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_freeswitch)
        return 0;
    for (size_t i = 0; i < ctx->fs.n; i++) {
        const struct fs_item *it = &ctx->fs.items[i];
        if (it->kind != FS_KIND_SOFIA_PROFILE || strcasecmp(it->name, "auth-calls") != 0)
            continue;
        if (strcasecmp(it->value, "false") != 0 && strcasecmp(it->value, "no") != 0)
            continue;
        int rc = audit_report_add(r, self, it->file, it->line, "profile %s: auth-calls=%s",
                                  it->profile ? it->profile : "?", it->value);
        if (rc)
            return rc;
    }
    return 0;
}

const struct audit_check check_fs_sofia_001 = {
    .id = "FS-SOFIA-001",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_FREESWITCH,
    .title = "SIP profile without call authentication",
    .why = "With auth-calls=false every INVITE reaching the profile runs in its dialplan "
           "context without a challenge.",
    .fix = "Set auth-calls=true on user-facing profiles; let providers in by "
           "apply-inbound-acl with their addresses only.",
    .run = run,
};
