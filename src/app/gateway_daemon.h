/*
 * Daemon lifecycle pieces of `pbxguard gateway`: detaching, the pid file, the data
 * directory, the persistent flow-token key, privilege drop and systemd readiness.
 * Each returns 0 or a negative errno and logs nothing itself (the caller reports).
 */
#ifndef PBXGUARD_APP_GATEWAY_DAEMON_H
#define PBXGUARD_APP_GATEWAY_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/proxy/flow.h"

/* fork + setsid + fork; stdin/stdout/stderr to /dev/null; the parent exits 0. */
PBX_WUR int gw_daemonize(void);

/* Writes the pid (O_CREAT|O_TRUNC, 0644) to path. */
PBX_WUR int gw_pidfile_write(const char *path);

/*
 * Creates dir (0750) if missing; when running as root and uid/gid are given (not -1), hands
 * it to that account so the daemon can keep writing there after the privilege drop.
 */
PBX_WUR int gw_datadir_prepare(const char *dir, long uid, long gid);

/*
 * Loads the flow-token key from dir/flow.key, creating it (0600, 32 random bytes) when
 * absent, so Path and Record-Route tokens stay valid across restarts. *persistent tells
 * whether the key came from or went to the file; on any file error the key is random.
 * A file created as root is handed to uid/gid (when not -1) so the service account can
 * read it on its next start.
 */
PBX_WUR int gw_flow_key_load(const char *dir, long uid, long gid, struct flow_key *k,
                             bool *persistent);

/* Looks up user (and group, NULL = user's primary group). -ENOENT if unknown. */
PBX_WUR int gw_lookup_account(const char *user, const char *group, long *uid, long *gid);

/*
 * Drops root to uid/gid, keeping CAP_NET_BIND_SERVICE and CAP_NET_ADMIN (nftables bans)
 * permitted and effective, and nothing else. A no-op returning 0 when not root.
 */
PBX_WUR int gw_drop_privileges(long uid, long gid);

/* sd_notify(3)-compatible status message to $NOTIFY_SOCKET; 0 when unset. */
int gw_notify(const char *state);

#endif
