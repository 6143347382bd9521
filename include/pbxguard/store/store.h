/*
 * Persistence in SQLite (WAL): bans, security events and calls.
 *
 * Writes never run on the caller's packet path: store_*_put() copies the record into an
 * in-memory queue (bounded, store_config.queue_max) and returns. store_tick(), called by the
 * daemon from a timer, commits the queue in ONE transaction when batch_ms passed since the
 * last commit or batch_max records are waiting; store_commit() commits at once.
 *
 * Durability: a record is committed when the store_commit/store_tick call that wrote it
 * returned (store_committed_seq() >= the sequence number store_*_put returned). With WAL and
 * synchronous=FULL (default) a committed ban survives kill -9 and power loss; with
 * synchronous=NORMAL it survives kill -9 (process crash) but the last batches may be lost on
 * power loss. Records still queued when the process dies are lost: that window is batch_ms.
 * When the queue is full, put() commits synchronously first (back-pressure, counted in
 * store_stats.forced) rather than dropping a ban.
 *
 * Schema versioned with PRAGMA user_version; store_open applies pending migrations in order.
 * Not thread-safe: one owner thread.
 */
#ifndef PBXGUARD_STORE_STORE_H
#define PBXGUARD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/compiler.h"

#define STORE_SCHEMA_VERSION 1

struct store_config {
    const char *path;          /* database file; default <data_dir>/pbxguard.db */
    int64_t batch_ms;          /* commit at most this long after a put; default 200 ms */
    unsigned batch_max;        /* or when this many records wait; default 512 */
    unsigned queue_max;        /* queued records before put() commits itself; default 8192 */
    uint64_t events_max;       /* events kept (oldest pruned); default 1000000; 0 = no cap */
    int64_t events_max_age_ms; /* events older than this pruned; default 30 days; 0 = keep */
    size_t evidence_max;       /* bytes of evidence kept per ban; default 4096 */
    bool sync_full;            /* synchronous=FULL (default) or NORMAL */
};

void store_config_defaults(struct store_config *c);

struct store;

/*
 * Opens (creating if needed) the database at cfg->path, switches it to WAL, and migrates the
 * schema to STORE_SCHEMA_VERSION. Returns 0, -EINVAL (no path), -ENOMEM, -EIO (SQLite error,
 * logged), -EPROTO (database from a newer pbxguard: user_version above ours).
 */
PBX_WUR int store_open(const struct store_config *cfg, struct store **out);
/* Commits what is queued, then closes. NULL is a no-op. */
void store_close(struct store *s);

/*
 * Queues the current state of a ban (insert or update by scope; count of bans of that scope
 * is incremented). evidence: the triggering messages (bytes, capped at evidence_max; may be
 * NULL). Returns the record's sequence number (> 0) or -ENOMEM / -EIO (forced commit failed).
 */
PBX_WUR int64_t store_ban_put(struct store *s, const struct ban_entry *e, const void *evidence,
                              size_t evidence_len, int64_t now_ms);
/* Queues the end of a ban (operator unban): it will not be restored. Same returns. */
PBX_WUR int64_t store_ban_lift(struct store *s, const struct ban_entry *e, int64_t now_ms);
/* Queues one formatted event line (JSON, newline optional). Same returns. */
PBX_WUR int64_t store_event_put(struct store *s, int64_t ts_ms, const char *line, size_t len);
/* Queues one call record for the fraud engine. Strings NUL-terminated, borrowed. */
struct store_call {
    int64_t start_ms;
    int64_t duration_ms; /* answered time; 0 when never answered */
    const char *call_id;
    const char *account;
    const char *src;
    const char *dest;
    const char *dest_class;
    int status;          /* final status the caller saw (200, 403, 487...) */
    int64_t answer_ms;   /* 0 when never answered */
    int64_t end_ms;      /* 0 when unknown */
    int64_t cost_milli;  /* cost estimate in thousandths of the rate table's currency */
    const char *verdict; /* the fraud policy's action: allow, alert, reject, lock... */
    const char *rule;    /* the deciding rule, or NULL */
};
PBX_WUR int64_t store_call_put(struct store *s, const struct store_call *c);

/* Commits if due (see above). Returns records committed (>= 0) or -EIO. */
PBX_WUR int store_tick(struct store *s, int64_t now_ms);
/* Commits everything queued now. Returns records committed or -EIO (queue kept). */
PBX_WUR int store_commit(struct store *s);
/* Highest sequence number known committed. */
int64_t store_committed_seq(const struct store *s);

/* Calls fn for every ban whose expiry is after now and that was not lifted. 0 or -EIO. */
typedef void (*store_ban_fn)(const struct ban_entry *e, void *ctx);
PBX_WUR int store_bans_load(struct store *s, int64_t now_ms, store_ban_fn fn, void *ctx);

/* Reads the evidence of a scope ("203.0.113.7" / "2001:db8::/64") into buf (NUL-terminated).
 * Returns its length, -ENOENT, -EIO. */
PBX_WUR int store_ban_evidence(struct store *s, const char *scope, char *buf, size_t cap);

/* Deletes events beyond events_max / older than events_max_age_ms. Returns rows deleted. */
PBX_WUR int store_prune(struct store *s, int64_t now_ms);

/* Row counts, for status and tests. -EIO on error. */
PBX_WUR int64_t store_count(struct store *s, const char *table);

struct store_stats {
    uint64_t commits;
    uint64_t records;
    uint64_t forced; /* commits forced by a full queue */
    uint64_t errors;
    int64_t last_commit_us; /* duration of the last commit */
};
void store_stats_get(const struct store *s, struct store_stats *out);

/* An event-stream subscriber (ev_subscribe(store_ev_subscriber, store)) that queues every
 * event line into the events table. Subscribers run in the emitting thread and the store is
 * single-owner: use it only while every emitter runs on the store's thread (the gateway's
 * loop); a multi-threaded daemon must forward lines to the store's thread instead. */
struct ev_record;
void store_ev_subscriber(const struct ev_record *r, const char *line, size_t len, void *ctx);

/* cfg_section_load_fn for "store"; *out is a struct store_config (path NULL = default
 * <general.data_dir>/pbxguard.db, resolved by the daemon). */
struct cfg_node;
struct cfg_diag;
PBX_WUR int store_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void store_config_free(void *obj);

#endif
