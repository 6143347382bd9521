/* FS-ESL-002: event socket listening on a public address. */
#include "checks.h"
#include "ctx.h"

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    if (!ctx->has_freeswitch)
        return 0;
    const struct fs_item *v = fs_conf_get(&ctx->fs, FS_KIND_EVENT_SOCKET, "listen-ip");
    if (!v || audit_addr_is_private(v->value))
        return 0;
    const struct fs_item *port = fs_conf_get(&ctx->fs, FS_KIND_EVENT_SOCKET, "listen-port");
    return audit_report_add(r, self, v->file, v->line, "listen-ip=%s listen-port=%s", v->value,
                            port ? port->value : "8021");
}

const struct audit_check check_fs_esl_002 = {
    .id = "FS-ESL-002",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_FREESWITCH,
    .title = "Event socket listens on a public address",
    .why = "Anyone who reaches port 8021 can try the event socket password and, once in, "
           "control the switch.",
    .fix = "Set listen-ip to 127.0.0.1 (or ::1) and add an apply-inbound-acl.",
    .run = run,
};
