/* Inputs loaded once by audit_run() and shared read-only by every check. */
#ifndef PBXGUARD_AUDIT_CTX_H
#define PBXGUARD_AUDIT_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "pbxguard/audit/audit.h"

#include "ast_conf.h"
#include "fs_conf.h"
#include "kam_cfg.h"

struct audit_ctx {
    const struct audit_opts *o;
    const char *root; /* host root prefix without trailing slash ("" for "/") */
    int64_t today;    /* days since the epoch */

    bool has_asterisk;
    struct ast_conf pjsip, sip, ext, manager, http, ari, rtp;
    bool has_pjsip, has_sip, has_ext, has_manager, has_http, has_ari, has_rtp;

    bool has_freeswitch;
    struct fs_conf fs;

    bool has_kamailio;
    struct kam_cfg kam;
};

/* Joins root and an absolute path ("/etc/ssh/sshd_config") into out; returns out. */
const char *audit_host_path(const struct audit_ctx *ctx, const char *abs, char *out, size_t cap);

#endif
