/*
 * Start-up pieces shared by the long-running subcommands (gateway, sensor).
 */
#ifndef PBXGUARD_APP_DAEMON_COMMON_H
#define PBXGUARD_APP_DAEMON_COMMON_H

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/config.h"

/*
 * Loads and validates the configuration at path with the program's section table, or the
 * built-in defaults when path is NULL. On success *out receives a new snapshot (one reference,
 * owned by the caller) and 0 is returned. On failure the diagnostics are printed to stderr
 * after "pbxguard <prog>: configuration rejected:", *out is left untouched and a negative errno
 * is returned. prog is borrowed and NUL-terminated. Not thread-safe (start-up and SIGHUP only).
 */
PBX_WUR int daemon_config_load(const char *prog, const char *path, struct cfg_snapshot **out);

struct det_runtime;
struct ban_section;
/* SIGHUP: applies the reloaded ban section to the running runtime and logs, as prog, what
 * only a restart can change. */
void reload_bans(struct det_runtime *rt, const struct ban_section *old,
                 const struct ban_section *new_, const char *prog);

#endif
