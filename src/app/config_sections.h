/*
 * The configuration section table of the pbxguard program: which top-level YAML key is
 * validated by which subsystem's loader. See docs/internals/config.md ("Adding a section").
 */
#ifndef PBXGUARD_APP_CONFIG_SECTIONS_H
#define PBXGUARD_APP_CONFIG_SECTIONS_H

#include <stddef.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/config.h"

extern const struct cfg_section app_config_sections[];
extern const size_t app_config_sections_count;

/* cfg_snapshot_load_file with the table above. */
PBX_WUR int app_config_load(const char *path, struct cfg_diag *d, struct cfg_snapshot **out);
/* cfg_live_reload with the table above (SIGHUP). */
PBX_WUR int app_config_reload(struct cfg_live *live, const char *path, struct cfg_diag *d);

/*
 * Applies the core sections of a published snapshot to the process: log destination and level
 * (log_configure) and the event sink (ev_open). Call after start-up and after each successful
 * reload. Each part keeps its previous setting when it fails; returns 0 or the first -errno,
 * and logs what failed.
 */
PBX_WUR int app_config_apply_core(const struct cfg_snapshot *s);

#endif
