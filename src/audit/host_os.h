/* os-release reader for HOST-OS-*. */
#ifndef PBXGUARD_AUDIT_HOST_OS_H
#define PBXGUARD_AUDIT_HOST_OS_H

struct audit_ctx;

struct host_os {
    char id[64];
    char version[32];
    char pretty[128];
    char file[1100];
    unsigned line; /* of VERSION_ID */
};

/* 0 when ID and VERSION_ID were read, -1 otherwise. */
int host_os_release(const struct audit_ctx *ctx, struct host_os *os);

#endif
