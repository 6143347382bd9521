/* FS-VARS-001: default_password left at the shipped 1234 (or otherwise weak). */
#include <string.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_freeswitch)
        return 0;
    const struct fs_item *v = fs_conf_get(&ctx->fs, FS_KIND_VARS, "default_password");
    if (!v || !audit_secret_is_weak(v->value, NULL))
        return 0;
    char mask[64];
    audit_mask_secret(v->value, mask, sizeof(mask));
    return audit_report_add(r, self, v->file, v->line, "default_password=%s%s", mask,
                            strcmp(v->value, "1234") == 0 ? " (the shipped default)" : "");
}

const struct audit_check check_fs_vars_001 = {
    .id = "FS-VARS-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_FREESWITCH,
    .title = "FreeSWITCH default_password is weak (1234)",
    .why = "Every directory user of the stock configuration authenticates with "
           "$${default_password}; 1234 is the first password any scanner tries.",
    .fix = "Set a long random default_password in vars.xml, or better, give every user its "
           "own random password and remove the variable.",
    .run = run,
};
