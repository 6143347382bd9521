/*
 * Line-oriented Kamailio configuration reader: evaluates #!define / #!ifdef / #!ifndef /
 * #!else / #!endif and include_file, strips '#', '//' and block comments, and splits the
 * routing script into statements, each with the route block it belongs to and the
 * conditions of the if/else blocks around it. Enough to see which functions run for which
 * requests; not a full interpreter.
 */
#ifndef PBXGUARD_AUDIT_KAM_CFG_H
#define PBXGUARD_AUDIT_KAM_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "pbxguard/core/compiler.h"

#define KAM_MAX_STMTS 50000
#define KAM_MAX_DEPTH 32
#define KAM_MAX_DEFINES 512

struct kam_stmt {
    char *text;  /* owned, whitespace-collapsed */
    char *route; /* owned: "request_route", "REQINIT", ... or NULL at top level */
    char *cond;  /* owned: enclosing conditions joined by " && ", or "" */
    const char *file;
    unsigned line;
};

struct kam_cfg {
    struct kam_stmt *v;
    size_t n, cap;
    char **files;
    size_t nfiles;
};

/* 0, -ENOENT (path unreadable), -ENOMEM, -EMSGSIZE (a cap was hit). */
PBX_WUR int kam_cfg_load(const char *path, struct kam_cfg *c);
void kam_cfg_fini(struct kam_cfg *c);
/* The loadmodule statement for this module ("pike" matches "pike.so" and paths), or NULL. */
const struct kam_stmt *kam_cfg_module(const struct kam_cfg *c, const char *name);
/* True when the route is request_route or is called, directly or not, from it. */
bool kam_cfg_route_reachable(const struct kam_cfg *c, const char *route);
/* The first statement of request_route (for evidence), or NULL. */
const struct kam_stmt *kam_cfg_request_route(const struct kam_cfg *c);

#endif
