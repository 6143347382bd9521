/* Firewall rule files under the host root, for HOST-FW-*. */
#ifndef PBXGUARD_AUDIT_HOST_FW_H
#define PBXGUARD_AUDIT_HOST_FW_H

#include <stdbool.h>

struct audit_ctx;

struct host_fw {
    bool found;      /* some firewall configuration exists */
    bool filters;    /* an input chain drops or rejects something (or defaults to drop) */
    char file[1100]; /* the input chain (or the first file) for evidence */
    unsigned line;
    char what[128]; /* "nftables", "iptables", "ufw", "firewalld" */
};

/*
 * Reads etc/nftables.conf (and files it includes), etc/iptables/rules.v4,
 * etc/sysconfig/iptables, etc/ufw/ufw.conf and etc/firewalld/zones/<zone>.xml.
 */
void host_fw_read(const struct audit_ctx *ctx, struct host_fw *fw);

#endif
