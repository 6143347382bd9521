/*
 * FreeSWITCH configuration reader (libxml2). Reads vars.xml (X-PRE-PROCESS set
 * variables), autoload_configs/event_socket.conf.xml and sip_profiles/<name>.xml, and flattens
 * every <param name= value=> into a list with its file, line, kind and enclosing profile.
 * Values have $${var} references expanded from vars.xml.
 */
#ifndef PBXGUARD_AUDIT_FS_CONF_H
#define PBXGUARD_AUDIT_FS_CONF_H

#include <stddef.h>

#include "pbxguard/core/compiler.h"

enum fs_kind {
    FS_KIND_VARS,
    FS_KIND_EVENT_SOCKET,
    FS_KIND_SOFIA_PROFILE,
};

struct fs_item {
    enum fs_kind kind;
    char *profile; /* owned; enclosing <profile name=>, or NULL */
    char *name;    /* owned */
    char *value;   /* owned, expanded */
    const char *file;
    unsigned line;
};

struct fs_conf {
    struct fs_item *items; /* vars (kind VARS) and params */
    size_t n, cap;
    char **files;
    size_t nfiles;
};

#define FS_MAX_ITEMS 100000

/* Reads dir; -ENOENT when none of the known files exists, -ENOMEM, -EMSGSIZE. */
PBX_WUR int fs_conf_load(const char *dir, struct fs_conf *c);
void fs_conf_fini(struct fs_conf *c);
/* The last item of this kind and name (case-insensitive), or NULL. */
const struct fs_item *fs_conf_get(const struct fs_conf *c, enum fs_kind kind, const char *name);

#endif
