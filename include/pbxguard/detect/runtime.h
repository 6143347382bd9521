/*
 * The detection runtime a daemon (gateway, live sensor) builds from its configuration in one
 * call: ban table with the configured allow-list, optional geo database, engine, SQLite store
 * (bans restored, events subscribed) and optional nftables enforcement, wired together with
 * det_attach_default_hook. One owner thread; see docs/internals/detect.md.
 */
#ifndef PBXGUARD_DETECT_RUNTIME_H
#define PBXGUARD_DETECT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/ban/nft.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/geo/geo.h"
#include "pbxguard/store/store.h"

struct det_runtime {
    struct ban_table *bans;
    struct geo *geo; /* NULL without geo.database */
    struct det_engine *engine;
    struct store *store; /* NULL when data_dir and store.path are both NULL */
    struct ban_nft *nft; /* NULL unless kernel enforcement is on */
    int restored;        /* bans restored from the store at open */
    int64_t last_prune_ms;
    char db_path[512];
};

/*
 * Builds the runtime. Any section pointer may be NULL (defaults). The store path is
 * store->path, else <data_dir>/pbxguard.db, else no store. nftables is used when
 * kernel && ban->nft. The configuration structs (and their strings) must outlive the runtime.
 * Returns 0, or a negative errno with a one-line reason in err: -EINVAL (configuration),
 * -ENOENT (geo database / signatures), -EIO (store), -EPERM (nftables), -ENOMEM.
 */
PBX_WUR int det_runtime_open(const struct det_config *dc, const struct ban_section *bs,
                             const struct store_config *sc, const struct geo_config *gc,
                             const char *data_dir, bool kernel, int64_t now_ms, char *err,
                             size_t errcap, struct det_runtime **out);

/*
 * Reload of the ban section (old: the running one, new_: the reloaded one; NULL = defaults).
 * Escalation steps, history and IPv6 widening apply at once; allow-list networks that left
 * the section are removed and new ones added (networks added with `ctl allow add` stay).
 * Returns 0, or 1 when the section also changes what only a restart applies (capacity,
 * nftables) — *note then says what. -ENOSPC: the allow-list is full (the rest applied).
 */
PBX_WUR int det_runtime_reload_bans(struct det_runtime *r, const struct ban_section *old,
                                    const struct ban_section *new_, char *note, size_t cap);

/* Timer work, every ~100 ms to 1 s: ban expiry events, store batches, hourly event pruning. */
void det_runtime_tick(struct det_runtime *r, int64_t now_ms);

/* Commits the store, removes the nftables table, frees everything. NULL is a no-op. */
void det_runtime_close(struct det_runtime *r);

#endif
