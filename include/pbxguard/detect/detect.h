/*
 * Detection engine: bounded per-source / per-account state, detectors, verdicts.
 * The gateway and the sensor call it at four points (docs/internals/detect.md):
 *
 *   det_admit        per datagram / connection, before parsing: ban table (IPv6 /64 too),
 *                    allow-list, lockdown, geo policy, per-source packet budget. O(1).
 *   det_on_request   each parsed request (from clients or, flagged, from upstreams)
 *   det_on_response  each response from the PBX, with the client address of the original
 *                    request (the proxy recovers it from its Via): learns auth failures and
 *                    successes, counts enumeration, may REWRITE the response (shielding)
 *   det_on_malformed each message the parser refused
 *
 * Every decision other than a plain pass is emitted as one event (core/event.h), and bans go
 * to the ban table, then to the ban hook (persistence, nftables). In shadow mode the verdict
 * is computed and emitted with shadow=true, but the returned action is PASS and nothing is
 * banned.
 *
 * Memory: every table is allocated at det_engine_new from detect.memory_max and never grows;
 * eviction (CLOCK) recycles the least recently used source/account records. Bans live in the
 * ban table, which never evicts an active ban.
 *
 * Thread-safety: one engine per thread (the event loop). Nothing here blocks except the ban
 * hook the owner installs.
 */
#ifndef PBXGUARD_DETECT_DETECT_H
#define PBXGUARD_DETECT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/geo/geo.h"
#include "pbxguard/sip/msg.h"

enum det_action {
    DET_PASS = 0,
    DET_ALERT,  /* operator alerted, traffic unaffected */
    DET_DROP,   /* discard silently */
    DET_REJECT, /* answer status + reason */
    DET_BAN,    /* discard silently and ban the scope */
};

const char *det_action_name(enum det_action a);
/* Parses "pass", "alert", "drop", "reject", "ban". -EINVAL otherwise. */
PBX_WUR int det_action_parse(const char *s, enum det_action *out);

/* Verdict flags the proxy applies on top of the action. */
#define DET_F_STRIP_IDENTITY                                                                       \
    0x1u                   /* remove P-Asserted-Identity, P-Preferred-Identity and                 \
                              Remote-Party-ID before forwarding */
#define DET_F_REWRITE 0x2u /* forward verdict.rewrite instead of the PBX's response */
#define DET_F_SHADOW 0x4u  /* shadow mode: would_action was not enforced */
#define DET_F_ALERT 0x8u   /* an alert event was raised */

#define DET_REWRITE_MAX 4096u

struct det_verdict {
    enum det_action action;
    enum det_action would_action; /* shadow mode: what would have been done */
    unsigned flags;
    int status;           /* DET_REJECT: 400..699 */
    const char *reason;   /* static reason phrase for a reject, and event text */
    int retry_after_s;    /* > 0: add Retry-After to the reject (overload 503) */
    const char *rule;     /* static rule id of the deciding detector ("det.scanner") */
    int score;            /* deciding detector's score (0..100+) */
    struct ban_entry ban; /* DET_BAN: the resulting ban (scope, expiry, level) */
    size_t rewrite_len;   /* DET_F_REWRITE: bytes of rewrite */
    char rewrite[DET_REWRITE_MAX];
};

struct det_ctx {
    struct pbx_addr src; /* client address (for responses: of the original request) */
    enum pbx_transport tp;
    bool from_upstream; /* the message came from a configured upstream (PBX side) */
    bool trusted;       /* allow-listed source (the proxy may set it; det checks too) */
};

/* ---- configuration: the "detect" section (docs/detection.md lists every key) ---- */

#define DET_MAX_CANARIES 64u
#define DET_NAME_MAX 64u

struct det_rule_cfg {
    bool enabled;
    enum det_action action;
    int reject_status; /* for DET_REJECT */
};

struct det_config {
    bool shadow;            /* detect.shadow (general.shadow_mode also sets it) */
    uint64_t memory_max;    /* bytes for source + account tables; default 64 MiB */
    unsigned v6_prefix;     /* IPv6 sources counted per /N; default 64 */
    int64_t trust_ms;       /* learned trust after a successful login; default 1 h */
    unsigned trust_factor;  /* budgets multiplied by this while trusted; default 4 */
    const char *signatures; /* scanner signature file; NULL = shipped, "" = none */

    struct det_rule_cfg scanner; /* default on, ban */
    int scanner_threshold;       /* score to act; default 100 */
    unsigned sweep_targets;      /* distinct users probed by OPTIONS/REGISTER/INVITE in
                                    window_ms that count as a sweep; default 8 */

    struct det_rule_cfg bruteforce; /* per source; default on, ban */
    unsigned bf_src_failures;       /* failed authentications per source; default 8 */
    int64_t bf_window_ms;           /* default 5 min */
    struct det_rule_cfg account;    /* per account across sources; default on, reject 403 */
    unsigned bf_acct_failures;      /* failures on one account (all sources); default 20 */
    unsigned bf_acct_sources;       /* or distinct failing sources; default 4 */
    int64_t bf_protect_ms;          /* protection time; default 15 min */

    struct det_rule_cfg enumeration;        /* default on, ban */
    unsigned enum_users;                    /* distinct users answered 404/403/484; default 10 */
    int64_t enum_window_ms;                 /* default 10 min */
    struct det_rule_cfg canary;             /* default on, ban (permanent escalation applies) */
    const char *canaries[DET_MAX_CANARIES]; /* user parts / numbers, exact */
    size_t ncanaries;
    bool shield;              /* enumeration shielding; default on */
    const char *shield_realm; /* realm before one was learned; default: To host */

    struct det_rule_cfg flood;          /* per source; default on, drop */
    unsigned flood_rate[5];             /* per second: total, REGISTER, INVITE, OPTIONS, other;
                                           default 50, 20, 10, 20, 30 */
    unsigned flood_burst[5];            /* default 200, 100, 40, 100, 100 */
    unsigned flood_ban_after;           /* excess messages per window before a ban; default 400 */
    int64_t flood_window_ms;            /* default 60 s */
    unsigned admit_rate, admit_burst;   /* raw packets per source before parsing; 300/s, 600 */
    unsigned global_rate, global_burst; /* requests/s before 503; default 5000, 10000 */
    int retry_after_s;                  /* default 5 */

    struct det_rule_cfg malformed; /* default on, ban */
    unsigned malformed_reject;     /* parse failures in window answered 400; default 3 */
    unsigned malformed_ban;        /* parse failures in window -> action; default 20 */
    int64_t malformed_window_ms;   /* default 60 s */
    uint64_t anomaly_mask;         /* anomalies counted as half a failure */

    struct det_rule_cfg spoof;    /* default on, reject 403 */
    bool strip_identity;          /* default true */
    struct pbx_cidr pbx_nets[16]; /* addresses of the PBX side (Via of spoofed origin) */
    size_t npbx_nets;

    struct det_rule_cfg regan; /* registration anomalies; default on, alert */
    double max_kmh;            /* geo-velocity; default 1000 km/h */
    int64_t new_country_ms;    /* a country unseen this long is "new"; default 30 d */

    struct geo_policy geo; /* country allow/deny at admit */
};

/* Fills every default above. */
void det_config_defaults(struct det_config *c);

/* Section loader for "detect" (cfg_section_load_fn); *out is a struct det_config. */
struct cfg_node;
struct cfg_diag;
PBX_WUR int det_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void det_config_free(void *obj);

/* ---- engine ---- */

struct det_engine;
struct store;
struct ban_nft;

/*
 * Creates an engine with its tables (sized from cfg->memory_max) and loads the signature
 * file. bans is borrowed (the owner keeps it alive longer than the engine); geo may be NULL.
 * cfg is copied; its strings must outlive the engine (they come from the config snapshot).
 * Returns 0, -EINVAL (bad config: why written to errbuf), -ENOMEM, -ENOENT (signatures).
 */
PBX_WUR int det_engine_new(const struct det_config *cfg, struct ban_table *bans,
                           const struct geo *geo, char *errbuf, size_t errcap,
                           struct det_engine **out);
void det_engine_free(struct det_engine *e);

/*
 * Swaps in a new configuration (SIGHUP) keeping all state. Tables are not resized (a new
 * memory_max applies at restart). Same errors as det_engine_new; on error nothing changes.
 */
PBX_WUR int det_engine_reconfigure(struct det_engine *e, const struct det_config *cfg, char *errbuf,
                                   size_t errcap);

/*
 * Called after the engine banned something (not in shadow mode), with the message excerpt
 * that triggered it (may be empty). The owner persists it (store) and enforces it
 * (nftables). det_attach_default_hook does exactly that for a store and/or nft (may be NULL).
 */
typedef void (*det_ban_hook_fn)(const struct ban_entry *b, const char *evidence, size_t len,
                                void *ctx);
void det_set_ban_hook(struct det_engine *e, det_ban_hook_fn fn, void *ctx);
void det_attach_default_hook(struct det_engine *e, struct store *s, struct ban_nft *nft);

/*
 * Start-up after a restart (or kill -9): loads every unexpired, not lifted ban from the store
 * into the ban table and, when an nft handle was attached with det_attach_default_hook, into
 * nftables with its remaining time. Returns the number restored, or -EIO (store error).
 */
PBX_WUR int det_restore(struct det_engine *e, struct store *s, int64_t now_ms);

void det_set_shadow(struct det_engine *e, bool on);
bool det_shadow(const struct det_engine *e);
/* Lockdown: only allow-listed and learned-trusted sources pass det_admit. */
void det_set_lockdown(struct det_engine *e, bool on);
bool det_lockdown(const struct det_engine *e);

/* Pre-parse admission: true = go on, false = drop silently (reason counted). O(1). */
bool det_admit(struct det_engine *e, const struct pbx_addr *src, enum pbx_transport tp,
               int64_t now_ms);

/* v is fully written on every call. m must be a successfully parsed request / response. */
void det_on_request(struct det_engine *e, const struct det_ctx *ctx, const struct sip_msg *m,
                    int64_t now_ms, struct det_verdict *v);
void det_on_response(struct det_engine *e, const struct det_ctx *ctx, const struct sip_msg *resp,
                     int64_t now_ms, struct det_verdict *v);
/* err: the parser's negative errno; m: the partially parsed message (for err_reason) or NULL. */
void det_on_malformed(struct det_engine *e, const struct det_ctx *ctx, int err,
                      const struct sip_msg *m, int64_t now_ms, struct det_verdict *v);

/*
 * Operator ban through the engine (ctl): bans, emits, calls the hook. duration 0 = escalate.
 * Same returns as ban_add.
 */
PBX_WUR int det_ban(struct det_engine *e, const struct pbx_addr *a, unsigned prefix,
                    int64_t duration_ms, const char *rule, const char *reason, int64_t now_ms,
                    struct ban_entry *out);
/* Operator unban: lifts, emits "unban", calls the unban hook. 0, -ENOENT, -EINVAL. */
typedef void (*det_unban_hook_fn)(const struct ban_entry *b, void *ctx);
void det_set_unban_hook(struct det_engine *e, det_unban_hook_fn fn, void *ctx);
PBX_WUR int det_unban(struct det_engine *e, const struct pbx_addr *a, unsigned prefix,
                      int64_t now_ms);

/* Periodic work (call every second or so): expired bans -> "unban" events and hook. */
void det_tick(struct det_engine *e, int64_t now_ms);

struct ban_table *det_bans(struct det_engine *e);

struct det_stats {
    uint64_t admitted, refused_ban, refused_budget, refused_geo, refused_lockdown;
    uint64_t requests, responses, malformed;
    uint64_t passes, alerts, drops, rejects, bans, rewrites;
    uint64_t src_evictions, acct_evictions;
    uint64_t errors_hook; /* store/nftables failures in the default ban hook */
    size_t src_used, src_cap, acct_used, acct_cap;
    size_t mem_bytes; /* bytes allocated by the engine's tables (fixed) */
};
void det_stats_get(const struct det_engine *e, struct det_stats *out);

/* Top talkers by packets seen since their record was created. */
struct det_talker {
    struct pbx_addr addr; /* masked source key */
    uint64_t packets;
    int64_t last_ms;
    int score;
    bool trusted;
};
size_t det_top(const struct det_engine *e, struct det_talker *out, size_t max);

/*
 * A digest challenge header line ("Proxy-Authenticate: Digest ...\r\n" when proxy, else
 * "WWW-Authenticate: ...") in the shape of the PBX's last real challenge (realm, algorithm,
 * qop, opaque, nonce length and alphabet) with a random nonce pbxguard never accepts, for a
 * refusal that must look like "authenticate first" (the fraud policy's answer to an INVITE
 * without credentials). to_host is the realm of last resort. Returns the line's length, or
 * -EMSGSIZE when cap is too small, -EAGAIN when no random bytes could be had.
 */
PBX_WUR int det_challenge_line(const struct det_engine *e, bool proxy, struct slice to_host,
                               char *out, size_t cap);

/* Account protection (per-account brute force), for ctl and tests. */
bool det_account_protected(struct det_engine *e, const char *user, int64_t now_ms);

#endif
