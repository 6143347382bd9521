/*
 * The "general" configuration section: process-wide settings that belong to no subsystem.
 * See docs/configuration.md.
 */
#ifndef PBXGUARD_CORE_GENERAL_H
#define PBXGUARD_CORE_GENERAL_H

#include <stdbool.h>

#include "pbxguard/core/compiler.h"

struct general_config {
    const char *data_dir; /* absolute path; default /var/lib/pbxguard */
    const char *user;     /* account to drop privileges to after binding; NULL = stay */
    const char *group;    /* group to drop to; NULL = the user's primary group */
    bool shadow_mode;     /* detect and record, but enforce nothing; default false */
};

struct cfg_node;
struct cfg_diag;
struct cfg_snapshot;

PBX_WUR int general_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void general_config_free(void *obj);

/* Sections of a snapshot by their table names ("general", "log", "events"); never NULL for a
 * snapshot loaded with the application table. Borrowed for the snapshot's lifetime. */
const struct general_config *general_config_get(const struct cfg_snapshot *s);

#endif
