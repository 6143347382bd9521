/* FS-ESL-001: event socket password ClueCon (or otherwise weak). */
#include <strings.h>

#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_freeswitch)
        return 0;
    const struct fs_item *v = fs_conf_get(&ctx->fs, FS_KIND_EVENT_SOCKET, "password");
    if (!v || !audit_secret_is_weak(v->value, NULL))
        return 0;
    char mask[64];
    audit_mask_secret(v->value, mask, sizeof(mask));
    return audit_report_add(r, self, v->file, v->line, "password=%s%s", mask,
                            strcasecmp(v->value, "ClueCon") == 0 ? " (the shipped default)" : "");
}

const struct audit_check check_fs_esl_001 = {
    .id = "FS-ESL-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_FREESWITCH,
    .title = "Event socket password is ClueCon or weak",
    .why = "The event socket runs any API command, including originate and system; its "
           "stock password ClueCon is public knowledge.",
    .fix = "Set a long random password in autoload_configs/event_socket.conf.xml.",
    .run = run,
};
