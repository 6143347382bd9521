/*
 * Ban table: the sources pbxguard refuses before parsing, with escalation for repeat
 * offenders, IPv6 widening from single addresses to their /64, and an allow-list that is
 * never banned.
 *
 * Storage is one fixed pool of entries allocated at creation (ban_config.capacity) with a
 * seeded SipHash index, so a flood of spoofed sources cannot grow it. An entry is either an
 * active ban or "history" (an expired ban remembered for escalation, or a /64 tracker that
 * counts banned addresses of that /64). When the pool is full only history is recycled: an
 * active ban is never evicted; ban_add then fails with -ENOSPC and the caller reports it.
 *
 * Scopes: an IPv4 address (/32), an IPv6 address (/128) or an IPv6 /64. ban_check() looks up
 * at most two keys: O(1), no allocation.
 *
 * Times are wall-clock milliseconds passed by the caller (tests inject them).
 * Not thread-safe: one owner (the event loop) calls everything.
 */
#ifndef PBXGUARD_BAN_BAN_H
#define PBXGUARD_BAN_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"

#define BAN_MAX_STEPS 8u
#define BAN_PERMANENT INT64_MAX /* expires_ms of a permanent ban */
#define BAN_RULE_MAX 40u
#define BAN_REASON_MAX 96u
#define BAN_MAX_ALLOW 256u

struct ban_config {
    /* Escalation: duration of the 1st, 2nd ... ban of one scope; -1 = permanent. The last step
     * repeats. Default 10m, 1h, 1d, permanent. */
    int64_t steps_ms[BAN_MAX_STEPS];
    unsigned nsteps;
    /* How long an expired ban still counts for escalation. Default 7 days. */
    int64_t history_ms;
    /* IPv6: ban the whole /64 once this many of its addresses are banned. 0 = never.
     * Default 3. */
    unsigned v6_widen_after;
    /* Pool size in entries (active bans + history). Default 65536. */
    size_t capacity;
};

/* Fills the defaults listed above. */
void ban_config_defaults(struct ban_config *c);

struct ban_entry {
    struct pbx_addr addr; /* masked to prefix; port 0 */
    uint8_t prefix;       /* 32, 128 or 64 */
    uint32_t level;       /* 1 for a first ban, 2 for the second... */
    uint32_t hits;        /* packets refused while active */
    int64_t first_ms;     /* first ban of this scope (within history) */
    int64_t since_ms;     /* start of the current ban */
    int64_t expires_ms;   /* BAN_PERMANENT for a permanent ban */
    char rule[BAN_RULE_MAX];
    char reason[BAN_REASON_MAX];
};

struct ban_table;

/* Allocates the table (every byte up front). -EINVAL (capacity 0 or > 2^24), -ENOMEM. */
PBX_WUR int ban_table_new(const struct ban_config *cfg, struct ban_table **out);
void ban_table_free(struct ban_table *t);

/* Reload: the escalation steps, history and IPv6 widening of cfg apply from now on (bans in
 * force keep their expiry). The capacity is fixed at creation: -EBUSY when cfg asks for
 * another one (everything else is applied all the same). */
PBX_WUR int ban_table_set_policy(struct ban_table *t, const struct ban_config *cfg);

/* Bytes allocated by the table (fixed after ban_table_new). */
size_t ban_table_mem(const struct ban_table *t);
/* Active bans at now. O(capacity). */
size_t ban_table_active(const struct ban_table *t, int64_t now_ms);

/*
 * Is a refused by an active ban at now (its address, or for IPv6 its /64)? Counts a hit on
 * the matching entry. IPv4-mapped IPv6 is treated as IPv4. O(1).
 * If e is non-NULL it receives a copy of the matching entry.
 */
bool ban_check(struct ban_table *t, const struct pbx_addr *a, int64_t now_ms, struct ban_entry *e);

/*
 * Bans a (prefix 0 = the address itself: /32 or /128; 64 = the IPv6 /64).
 * duration_ms > 0 fixes the duration, -1 makes it permanent, 0 uses the escalation steps
 * (level = previous level within history + 1). rule and reason are copied (cut at their caps).
 * Banning an already banned scope escalates and extends it. When an IPv6 /128 ban makes
 * v6_widen_after addresses of one /64 banned, the /64 is banned too (out->prefix tells which
 * scope the caller must enforce; *widened is set when that happened, may be NULL).
 * Allow-listed addresses are refused with -EPERM. -EINVAL bad address/prefix, -ENOSPC pool
 * full of active bans. out (may be NULL) receives the resulting entry.
 */
PBX_WUR int ban_add(struct ban_table *t, const struct pbx_addr *a, unsigned prefix,
                    int64_t duration_ms, const char *rule, const char *reason, int64_t now_ms,
                    struct ban_entry *out, bool *widened);

/*
 * Restores a ban as it was recorded (persistence): same level, first/since/expiry.
 * Skips expired ones (returns -ESTALE). Same errors as ban_add otherwise.
 */
PBX_WUR int ban_restore(struct ban_table *t, const struct ban_entry *e, int64_t now_ms);

/* Lifts an active ban on exactly this scope (it stays as history). 0 or -ENOENT. */
PBX_WUR int ban_del(struct ban_table *t, const struct pbx_addr *a, unsigned prefix, int64_t now_ms);

/* Copies up to max active bans into out (any order). Returns the number copied. */
size_t ban_list(const struct ban_table *t, struct ban_entry *out, size_t max, int64_t now_ms);

/*
 * Calls fn for every ban that expired since the last call (each once), so the owner can
 * emit "unban" events and remove kernel entries early. Bounded by capacity.
 */
typedef void (*ban_expired_fn)(const struct ban_entry *e, void *ctx);
void ban_expire(struct ban_table *t, int64_t now_ms, ban_expired_fn fn, void *ctx);

/* ---- allow-list: trusted CIDRs, trunks, upstreams. Linear, at most BAN_MAX_ALLOW. ---- */

/* Adds a range (duplicates ignored). 0, -ENOSPC. */
PBX_WUR int ban_allow_add(struct ban_table *t, const struct pbx_cidr *c);
/* Removes an exact range. 0, -ENOENT. */
PBX_WUR int ban_allow_del(struct ban_table *t, const struct pbx_cidr *c);
bool ban_allowed(const struct ban_table *t, const struct pbx_addr *a);
/* Copies up to max ranges; returns the number copied. */
size_t ban_allow_list(const struct ban_table *t, struct pbx_cidr *out, size_t max);

/* "203.0.113.7", "2001:db8::1" or "2001:db8:1:2::/64"; always NUL-terminates. */
const char *ban_scope_fmt(const struct ban_entry *e, char *buf, size_t cap);

/* ---- the "ban" configuration section (docs/detection.md) ---- */

struct ban_section {
    struct ban_config cfg;
    const struct pbx_cidr *allow; /* trusted networks, trunks, upstreams: never banned */
    size_t nallow;
    bool nft;          /* kernel enforcement; default true */
    const char *table; /* nftables table name; default "pbxguard" */
};

struct cfg_node;
struct cfg_diag;
/* cfg_section_load_fn for "ban"; *out is a struct ban_section. */
PBX_WUR int ban_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void ban_config_free(void *obj);

#endif
