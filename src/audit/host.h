/* Host readers shared by the HOST-* checks; every path is taken under ctx->root. */
#ifndef PBXGUARD_AUDIT_HOST_H
#define PBXGUARD_AUDIT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"

struct audit_ctx;

struct host_setting {
    char value[256];
    char file[1100];
    unsigned line;
};

/*
 * sshd_config semantics: the first value obtained for a keyword wins; Include (glob,
 * relative names under /etc/ssh) is read in place; Match blocks are skipped because they
 * apply to a subset of connections. Returns 0, -ENOENT (keyword absent) or -ENODEV (no
 * sshd_config under the root).
 */
PBX_WUR int host_sshd_get(const struct audit_ctx *ctx, const char *keyword,
                          struct host_setting *out);

/*
 * End-of-life lookup: product ("debian", "centos", "ubuntu", "php", "mariadb", "mysql")
 * and version ("10", "7", "18.04", "7.4"). Returns 0 and the EOL day (days since epoch)
 * plus a display name, or -ENOENT when the table has no such entry.
 */
PBX_WUR int host_eol_lookup(const struct audit_ctx *ctx, const char *product, const char *version,
                            int64_t *eol_day, char *name, size_t cap);

/* A software version found on the host (PHP, MariaDB, MySQL). */
struct host_version {
    char product[16];
    char version[16]; /* major.minor */
    char file[1100];
    unsigned line;
};
/* Fills up to cap versions from dpkg status and /etc/php/X.Y; returns the count. */
size_t host_versions(const struct audit_ctx *ctx, struct host_version *v, size_t cap);

/* A listening socket from /proc/net/{tcp,tcp6,udp,udp6}. */
struct host_listen {
    char proto[8]; /* "tcp", "udp" */
    char addr[64]; /* textual local address */
    unsigned port;
    bool any; /* bound to 0.0.0.0 or :: */
    bool loopback;
    char file[1100];
    unsigned line;
};
size_t host_listeners(const struct audit_ctx *ctx, struct host_listen *v, size_t cap);

#endif
