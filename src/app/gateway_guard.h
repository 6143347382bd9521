/*
 * The gateway's guard: the detection runtime (engine, ban table, allow-list, SQLite store,
 * optional nftables) built from the configuration snapshot, the control socket embedded in
 * the gateway's event loop, the timer that drives ban expiry and store commits, and the
 * application of verdicts to messages (gateway_hooks.c calls in here).
 *
 * There is one guard per process, owned by the event-loop thread (the gateway is
 * single-threaded): gw_guard_open() installs it, the pipeline hooks find it with
 * gw_guard_get(), gw_guard_close() removes it. Without a guard every hook passes.
 *
 * Time: every detection call uses clock_wall_ms(), because ban expiries are persisted and
 * restored after a restart (det_restore) and must mean the same instant then.
 */
#ifndef PBXGUARD_APP_GATEWAY_GUARD_H
#define PBXGUARD_APP_GATEWAY_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/net/net.h"
#include "pbxguard/proxy/proxy.h"
#include "pbxguard/sip/msg.h"

struct cfg_snapshot;
struct gw_guard;

/* Called by the control command "reload": the gateway's own SIGHUP path. */
typedef void (*gw_guard_reload_fn)(void *ctx);

struct gw_guard_stats {
    uint64_t admit_refused;   /* datagrams / connections refused before parsing */
    uint64_t req_dropped;     /* requests discarded silently (drop, ban) */
    uint64_t req_rejected;    /* requests answered locally by a verdict */
    uint64_t resp_dropped;    /* PBX responses not forwarded */
    uint64_t resp_rewritten;  /* PBX responses replaced (enumeration shielding) */
    uint64_t identity_strips; /* requests forwarded without their identity headers */
    uint64_t malformed;       /* parse failures reported to the engine */
};

/*
 * Builds the guard from snapshot s (sections general, detect, ban, store, geo), with the
 * store and the control socket under data_dir (NULL: no store, no control socket), and
 * installs it. net and px are borrowed and must outlive the guard; px's upstreams are added
 * to the allow-list (never banned). nftables enforcement is used when the ban section enables
 * it and the process holds CAP_NET_ADMIN; if the kernel refuses, the guard goes on without it
 * (logged). An unusable store (-EIO) or control socket is logged and the guard runs without
 * it: bans then live in memory only. reload (may be NULL) backs the control command "reload".
 * Takes a reference on s (the engine borrows its strings). Returns 0, -EEXIST (a guard is
 * already installed), -ENOMEM, or the det_runtime_open error (-EINVAL configuration,
 * -ENOENT geo database or signatures) with a one-line reason in err.
 */
PBX_WUR int gw_guard_open(struct cfg_snapshot *s, const char *data_dir, struct net *net,
                          struct proxy *px, gw_guard_reload_fn reload, void *reload_ctx, char *err,
                          size_t errcap);

/*
 * SIGHUP: applies the detect section of the new snapshot (state kept), the shadow mode and
 * the upstreams of px again. On error the running configuration stays; returns 0 or the
 * det_engine_reconfigure error.
 */
PBX_WUR int gw_guard_reload(struct cfg_snapshot *s);

/* Commits the store, closes the control socket, removes nftables rules. No guard: no-op. */
void gw_guard_close(void);

/* The installed guard, or NULL. */
struct gw_guard *gw_guard_get(void);
struct det_engine *gw_guard_engine(struct gw_guard *g);

/* ---- used by the pipeline hooks (gateway_hooks.c) ---- */

/* Pre-parse admission of one datagram / new connection. */
bool gw_guard_admit(struct gw_guard *g, const struct pbx_addr *remote, enum pbx_transport tp);

/*
 * A parsed request. Returns true when the guard has fully handled the message (dropped it,
 * or answered it itself: 503 with Retry-After); false when the caller goes on, with
 * *reject_status set to a status to answer locally (0 = forward) and *reason its phrase.
 * When the verdict strips identity headers, *stripped is set (else NULL): the request
 * without them, parsed, with *stripped_in describing it (buffer owned by the guard, valid
 * until the next guard call). The caller must then run its remaining stages on that copy and
 * hand it to gw_guard_send() instead of processing m: the original is never forwarded.
 */
bool gw_guard_request(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m,
                      bool from_upstream, int *reject_status, const char **reason,
                      struct net_msg *stripped_in, const struct sip_msg **stripped);

/*
 * Sends a message the guard built (gw_guard_request's stripped copy): answered locally with
 * reject_status / reason (plus the header lines in extra, or NULL) when reject_status is
 * not 0, otherwise through the proxy.
 */
void gw_guard_send(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m,
                   int reject_status, const char *reason, const char *extra);

/* A parsed response from the PBX. true = handled (dropped, or the rewrite was sent). */
bool gw_guard_response(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m);

/* A message the parser refused (err: its negative errno; m: partially parsed, or NULL). */
void gw_guard_malformed(struct gw_guard *g, const struct net_msg *in, int err,
                        const struct sip_msg *m);

void gw_guard_stats_get(const struct gw_guard *g, struct gw_guard_stats *out);

#endif
