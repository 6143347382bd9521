/*
 * What the parts of the gateway's fraud policy share: the one instance (gateway_fraud.c
 * opens and closes it), the table of tracked calls with what ending each one by BYE needs
 * (gateway_fraud_calls.c), the decisions on initial INVITEs (gateway_fraud_invite.c) and the
 * control commands (gateway_fraud_ctl.c). Event-loop thread only, like gateway_fraud.h.
 */
#ifndef PBXGUARD_APP_GATEWAY_FRAUD_INT_H
#define PBXGUARD_APP_GATEWAY_FRAUD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway_fraud.h"
#include "pbxguard/core/addr.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/core/siphash.h"
#include "pbxguard/fraud/engine.h"
#include "pbxguard/net/loop.h"

/* UDP BYEs towards the PBX are retransmitted until answered (RFC 3261 §17.1.2.2, Timer E:
 * 500 ms doubling up to 4 s, at most GF_RETX_TRIES resends): a lost BYE would leave the paid
 * leg running. Towards the phone a BYE is sent once: its answer does not come back through
 * the fraud hooks, and the phone leg costs nothing. */
#define GF_RETX_MAX 64u
#define GF_RETX_TRIES 6u
#define GF_RETX_LEN 2048u
#define GF_RETX_TICK_MS 250u
/* The CANCEL of a tracked INVITE, prepared from it as the caller would send it (RFC 3261
 * §9.1); a longer one leaves that call to ring out if the policy ends it unanswered. */
#define GF_CANCEL_MAX 1536u

/* What the gateway keeps of one tracked call to be able to end it (RFC 3261 §12). */
struct gf_dialog {
    bool used, answered, cancelled;
    /* We cancelled it (policy end while ringing): kept until the PBX's final answer or the
     * setup timeout, so that the answer to our CANCEL is not passed to the caller. */
    bool cancel_sent;
    int64_t cancel_since_ms;
    const char *end_why; /* static rule name of the policy end, for a late 2xx's BYE */
    /* An INVITE without credentials the policy let through: the engine tracks it only if the
     * PBX answers it with a 2xx (no challenge), as a call of the pseudo-account. */
    bool anonymous;
    int64_t anon_since_ms;
    char anon_account[FRAUD_ACCOUNT_MAX];
    char anon_source[PBX_ENDPOINT_STRLEN];
    char anon_dialled[FRAUD_DIALLED_MAX + 1];
    int32_t next; /* hash chain */
    char call_id[FRAUD_CALL_ID_MAX];
    size_t call_id_len;
    uint32_t invite_cseq;                  /* CSeq of the INVITE being tracked */
    uint32_t caller_cseq;                  /* highest CSeq seen from the caller */
    uint32_t callee_cseq;                  /* highest CSeq seen from the callee side */
    char from[GW_FRAUD_HDR_MAX];           /* caller's From value, tag included */
    char to[GW_FRAUD_HDR_MAX];             /* To value of the 2xx, callee tag included */
    char caller_uri[GW_FRAUD_HDR_MAX];     /* remote target towards the caller (its Contact) */
    char callee_uri[GW_FRAUD_HDR_MAX];     /* remote target towards the callee (2xx Contact) */
    char route_callee[GW_FRAUD_ROUTE_MAX]; /* Record-Route entries beyond us, PBX side */
    char route_caller[GW_FRAUD_ROUTE_MAX]; /* Record-Route entries beyond us, phone side */
    struct net_dest caller_dest, pbx_dest;
    struct pbx_addr caller_local, pbx_local; /* our address on each side, for Via */
    uint16_t cancel_len;
    char cancel[GF_CANCEL_MAX]; /* the caller's CANCEL of the INVITE, not NUL-terminated */
};

struct gf_retx {
    bool used;
    uint8_t tries;
    uint16_t len;
    uint64_t seq; /* the branch suffix of a BYE; 0 for a CANCEL */
    int32_t dlg;  /* the dialog a CANCEL belongs to; -1 for a BYE */
    int64_t next_ms, interval_ms;
    struct net_dest dest;
    uint8_t buf[GF_RETX_LEN];
};

struct gw_fraud {
    struct fraud_engine *eng;
    struct store *store;
    struct net *net;
    struct net_loop *loop;
    struct proxy *px;
    struct net_timer tick;
    int64_t clock_offset_ms;
    uint8_t key[PBX_SIPHASH_KEY_LEN];
    struct gf_dialog *dlg;
    int32_t *buckets;
    uint32_t n_buckets; /* power of two */
    uint32_t n_dlg;
    uint32_t n_anon;      /* dialogs still flagged anonymous */
    uint32_t n_cancel;    /* dialogs flagged cancel_sent */
    uint64_t own_answers; /* answers to our BYEs and CANCELs, absorbed */
    uint64_t bye_seq;
    struct net_timer retx_timer;
    struct gf_retx retx[GF_RETX_MAX];
    unsigned n_retx;
};

/* The open instance, NULL while the policy is off (gateway_fraud.c). */
extern struct gw_fraud *gf_active;

/* The policy's clock: the wall clock plus the test offset. */
static inline int64_t gf_now(const struct gw_fraud *f)
{
    return clock_wall_ms() + f->clock_offset_ms;
}

/* Engine hook (ctx is the instance): stores the call record and emits "fraud.call.end". */
void gf_call_record(void *ctx, const struct fraud_call_record *r);

/*
 * Dialog table: bounded (GW_FRAUD_DIALOGS_MAX), keyed by a seeded hash of the Call-ID
 * confirmed by comparison. id is borrowed and copied on add. find and add return NULL for an
 * empty or too long Call-ID; add also when the table is full.
 */
struct gf_dialog *gf_dlg_find(struct gw_fraud *f, struct slice id);
struct gf_dialog *gf_dlg_add(struct gw_fraud *f, struct slice id);
void gf_dlg_del(struct gw_fraud *f, struct gf_dialog *d);

/* What a BYE towards the caller needs from its INVITE m received as in. */
void gf_remember_caller(struct gf_dialog *g, const struct net_msg *in, const struct sip_msg *m);

/* Tells the engine a call ended; -ENOENT (a call it ended itself) is not an error. */
void gf_track_end(struct fraud_engine *e, struct slice id, int64_t now, enum fraud_end_cause cause);

/* Ends the calls the engine wants ended at now: BYE both ways for answered ones, a CANCEL
 * towards the PBX for ringing ones (the PBX's 487 then reaches the caller). */
void gf_end_calls(struct gw_fraud *f, int64_t now);

/* Frees the slots of unauthenticated INVITEs, and of INVITEs we cancelled, never answered
 * finally within the setup timeout. */
void gf_purge_pending(struct gw_fraud *f, int64_t now);

/* Timer callback (ctx is the instance): retransmits unanswered BYEs and CANCELs towards the
 * PBX. */
void gf_on_retx(void *ctx, struct net_timer *t);

#endif
