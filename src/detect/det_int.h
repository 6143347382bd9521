/* Private to src/detect: state records, the bounded table and the detector interface. */
#ifndef PBXGUARD_DETECT_DET_INT_H
#define PBXGUARD_DETECT_DET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/event.h"
#include "pbxguard/core/siphash.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/sip/auth.h"

/* ---- bounded table: fixed pool, seeded SipHash index, CLOCK eviction ---- */

typedef bool (*det_pinned_fn)(const void *rec, int64_t now_ms);

struct det_table {
    uint8_t key[PBX_SIPHASH_KEY_LEN];
    size_t key_len;  /* bytes at the start of each record that form its key */
    size_t rec_size; /* payload bytes */
    size_t stride;   /* header + payload, aligned */
    size_t cap;
    uint32_t mask;
    uint32_t *buckets;
    unsigned char *pool;
    size_t used;
    size_t hand;
    uint64_t evictions;
    det_pinned_fn pinned;
    uint32_t last; /* slot of the last record returned (a hint, checked on the full key) */
};

/* Sizes the table to fit in bytes (pool + index). -EINVAL if not even 16 records fit. */
PBX_WUR int det_table_init(struct det_table *t, size_t rec_size, size_t key_len, size_t bytes,
                           det_pinned_fn pinned);
void det_table_fini(struct det_table *t);
size_t det_table_mem(const struct det_table *t);
/* Record for key (key_len bytes), created zeroed (key filled) if absent and create is set;
 * may evict. NULL only when !create and absent. */
void *det_table_get(struct det_table *t, const void *key, int64_t now_ms, bool create,
                    bool *created);
/* i-th slot's record if used (for ctl listings), else NULL. */
void *det_table_slot(struct det_table *t, size_t i);

/* ---- rate primitives ---- */

struct det_window {
    int64_t start;
    uint32_t n;
};

/* Adds k to a fixed window of length win; returns the count in the current window. */
static inline uint32_t det_window_add(struct det_window *w, int64_t now, int64_t win, uint32_t k)
{
    if (now - w->start >= win || now < w->start) {
        w->start = now;
        w->n = 0;
    }
    w->n += k;
    return w->n;
}

struct det_bucket {
    int64_t last;
    int64_t milli; /* tokens x 1000 */
    uint8_t init;
};

/* Token bucket: true if one token was available (rate/s, burst tokens, scaled by factor). */
bool det_bucket_take(struct det_bucket *b, int64_t now, unsigned rate, unsigned burst,
                     unsigned factor);

/* ---- records ---- */

#define DET_SRC_KEY 20u
#define DET_ACCT_KEY 48u
#define DET_MAX_TARGETS 32u
#define DET_PENDING 2u
#define DET_USER_MAX 32u
#define DET_ACCT_SRCS 8u
#define DET_ACCT_CC 4u

enum det_mclass { MC_TOTAL, MC_REGISTER, MC_INVITE, MC_OPTIONS, MC_OTHER, MC_COUNT };

struct det_pending {
    uint64_t txn; /* hash of Call-ID + CSeq number; 0 = free */
    int64_t ms;
    char user[DET_USER_MAX]; /* credentials' username, NUL-terminated, cut */
};

struct det_src {
    uint8_t key[DET_SRC_KEY]; /* family byte + masked address */
    struct pbx_addr addr;     /* masked */
    uint64_t packets;
    int64_t last_ms;
    int64_t trusted_until; /* learned from a successful login */
    struct det_bucket admit;
    struct det_bucket flood[MC_COUNT];
    struct det_window flood_excess;
    struct det_window auth_fail;
    struct det_window malformed;
    struct det_window enum_win;
    struct det_window sweep_win;
    uint32_t enum_users[DET_MAX_TARGETS];
    uint8_t n_enum_users;
    uint32_t sweep_users[DET_MAX_TARGETS];
    uint8_t n_sweep_users;
    int16_t score; /* last scanner score */
    uint8_t geo_checked;
    uint8_t geo_denied;
    struct det_pending pend[DET_PENDING];
};

struct det_acct {
    uint8_t key[DET_ACCT_KEY]; /* user name (cut + hash when longer) */
    char name[DET_USER_MAX];
    struct det_window fail;
    uint32_t fail_srcs[DET_ACCT_SRCS];
    uint8_t n_fail_srcs;
    int64_t protected_until;
    int64_t alerted_ms;
    char cc[DET_ACCT_CC][3];
    int64_t cc_ms[DET_ACCT_CC];
    char last_cc[3];
    bool has_loc;
    double lat, lon;
    int64_t loc_ms;
};

/* ---- engine ---- */

#define DET_EVIDENCE_RING 256u    /* excerpts kept engine-wide */
#define DET_EVIDENCE_EXCERPT 384u /* bytes per excerpt */
#define DET_EVIDENCE_MAX 4096u    /* evidence handed to the ban hook */

struct det_sigs; /* scanner signatures (sigs.c) */

struct det_engine {
    struct det_config cfg;
    struct ban_table *bans;
    const struct geo *geo;
    struct det_sigs *sigs;
    struct det_table srcs;
    struct det_table accts;
    struct det_bucket global;
    bool lockdown;
    uint64_t overload_n;              /* requests answered 503 by global overload protection */
    uint8_t key[PBX_SIPHASH_KEY_LEN]; /* nonces, fingerprints */
    det_ban_hook_fn ban_hook;
    void *ban_hook_ctx;
    det_unban_hook_fn unban_hook;
    void *unban_hook_ctx;
    struct store *store;
    struct ban_nft *nft;
    /* Enumeration shielding: the PBX's challenge shape, learned from its 401/407. */
    struct {
        bool learned;
        char realm[128];
        char algorithm[32];
        char qop[32];
        bool opaque;
        size_t nonce_len;
        int nonce_kind; /* 0 hex, 1 base64-ish, 2 other */
    } chal[2];          /* [0] WWW-Authenticate (401), [1] Proxy-Authenticate (407) */
    struct det_stats st;
    /* Evidence ring: excerpts of recent messages that triggered a hit, so a ban can carry
     * the messages that led to it, not only the last one. Fixed size, global. */
    struct {
        uint64_t src; /* keyed hash of the source key */
        uint16_t len;
        char text[DET_EVIDENCE_EXCERPT];
    } ring[DET_EVIDENCE_RING];
    unsigned ring_next;
    char evidence[DET_EVIDENCE_MAX]; /* scratch for the ban hook */
};

/* One decision candidate while detectors vote. */
struct det_hit {
    const char *rule;
    const char *type; /* event type */
    enum det_action action;
    int status;
    const char *reason;
    int score;
    enum ev_severity sev;
    struct ev_kv ev[6];
    size_t nev;
    struct slice target;
    int64_t ban_ms;      /* 0 = escalate */
    unsigned ban_prefix; /* 0 = source scope */
};

/* Per-message context handed to the detectors. */
struct det_msgctx {
    struct det_engine *e;
    const struct det_ctx *ctx;
    const struct sip_msg *m;
    struct det_src *src; /* never NULL for requests/responses from clients */
    int64_t now;
    bool learned_trust;
    struct det_verdict *v;
    bool has_ban;
    char target_buf[DET_USER_MAX]; /* a hit's target that must outlive a detector's frame */
    int cred_state;                /* 0 not parsed yet, 1 present, -1 absent */
    bool ring_done;                /* this message's excerpt is in the evidence ring */
    bool auth_answer;              /* response: it answers a request that carried credentials */
    /* Not cleared per message (pipeline.c ctx_init): keep these two last, written before read
     * (cred when cred_state becomes 1, ban_hit when has_ban becomes true). */
    struct sip_digest cred;
    struct det_hit ban_hit; /* the strongest ban hit, applied once in det_verdict_finish() */
};

/* Remembers this message as evidence for a later ban of its source (once per message). Every
 * hit does it; detectors call it for messages that count towards a threshold. */
void det_note(struct det_msgctx *mc);
/* Records a hit: emits its event and folds it into the verdict (most severe wins). */
void det_hit(struct det_msgctx *mc, const struct det_hit *h);
void det_hit_init(struct det_hit *h, const char *rule, const char *type,
                  const struct det_rule_cfg *rc, int score);

/* Helpers */
uint32_t det_hash32(const struct det_engine *e, struct slice s);
struct det_acct *det_acct_get(struct det_engine *e, struct slice user, int64_t now, bool create);
/* The request's digest credentials (Authorization, else Proxy-Authorization), parsed once
 * per message; NULL when absent or malformed. */
const struct sip_digest *det_credentials(struct det_msgctx *mc);
/* User targeted by a request: To user, else Request-URI user. */
struct slice det_target_user(const struct sip_msg *m);
/* Adds h to a small distinct set; returns the number of distinct values (saturating). */
unsigned det_set_add(uint32_t *set, uint8_t *n, unsigned cap, uint32_t h);
bool det_user_numeric(struct slice u);
unsigned det_factor(const struct det_msgctx *mc);

/* records.c: the source key is the family byte and the address masked to the configured IPv6
 * prefix, port cleared; *masked receives that address. */
void det_src_key(const struct det_engine *e, const struct pbx_addr *in, uint8_t key[DET_SRC_KEY],
                 struct pbx_addr *masked);
/* The source's record, created (and possibly evicting) when absent; never NULL. */
struct det_src *det_src_get(struct det_engine *e, const struct pbx_addr *a, int64_t now);

/* evidence.c: writes up to DET_EVIDENCE_MAX bytes to out, the source's remembered excerpts,
 * oldest first, each ended by a separator line; returns the length. */
size_t det_evidence_collect(const struct det_engine *e, const struct pbx_addr *a, char *out);

/* verdict.c: applies the pending ban, shadow mode and the counters once detectors are done. */
void det_verdict_finish(struct det_msgctx *mc);

/* Detectors: each file has one; called in this order by pipeline.c. */
void det_canary_request(struct det_msgctx *mc);
void det_scanner_request(struct det_msgctx *mc);
void det_account_request(struct det_msgctx *mc);
void det_flood_request(struct det_msgctx *mc);
void det_spoof_request(struct det_msgctx *mc);
void det_malformed_request(struct det_msgctx *mc);
void det_bruteforce_request(struct det_msgctx *mc);

void det_bruteforce_response(struct det_msgctx *mc);
void det_enum_response(struct det_msgctx *mc);
void det_regan_response(struct det_msgctx *mc);
void det_shield_learn(struct det_engine *e, const struct sip_msg *resp);
void det_shield_response(struct det_msgctx *mc);

void det_malformed_parse_error(struct det_msgctx *mc, int err);

/* Signatures */
PBX_WUR int det_sigs_load(const char *path, struct det_sigs **out, char *err, size_t errcap);
void det_sigs_free(struct det_sigs *s);
/* Score of a User-Agent / Server value (0 if none matches); *tool names the match. */
int det_sigs_ua(const struct det_sigs *s, struct slice ua, const char **tool);
/* Score of an SDP session name / origin username. */
int det_sigs_sdp(const struct det_sigs *s, struct slice sname, struct slice ouser,
                 const char **tool);

#endif
