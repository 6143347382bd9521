/*
 * The toll-fraud policy in the gateway: the fraud engine built from the `fraud:` section,
 * the decision on each authenticated initial INVITE from outside, call tracking from the
 * INVITE to its end (2xx, BYE, CANCEL, failure, setup timeout), a minimal dialog record per
 * tracked call so that a call the policy ends (max duration, spend, quarantine) gets a BYE
 * sent both ways while it runs or a CANCEL towards the PBX while it rings, call records to
 * the SQLite store, and the control commands `account lock|unlock|list` and
 * `lockdown on|off` (docs/fraud.md, "In the gateway").
 *
 * One instance per process, owned by the event-loop thread (nothing here is thread-safe):
 * gw_fraud_open() installs it, the pipeline hooks call in, gw_fraud_close() removes it.
 * Without an open instance, or with a policy that is not enabled, every call passes.
 *
 * Time: decisions use the wall clock plus a fixed offset taken at open from the test-only
 * environment variable PBXGUARD_TEST_FRAUD_TIME (seconds since the epoch the gateway should
 * believe it is at start), so tests of schedules never wait for real time.
 */
#ifndef PBXGUARD_APP_GATEWAY_FRAUD_H
#define PBXGUARD_APP_GATEWAY_FRAUD_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway_hooks.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/net/net.h"
#include "pbxguard/proxy/proxy.h"
#include "pbxguard/sip/msg.h"

struct cfg_snapshot;
struct ctl_server;

/* Dialogs tracked for enforcement; calls beyond it are decided but cannot be ended. */
#define GW_FRAUD_DIALOGS_MAX 4096u
/* Caps of the copied dialog fields (longer values make the call untracked for BYE). */
#define GW_FRAUD_HDR_MAX 384u
#define GW_FRAUD_ROUTE_MAX 768u

/*
 * Builds the engine from snapshot s (the `fraud:` and `store:` sections) and installs it.
 * The store (call records) is store.path, else <data_dir>/pbxguard.db, else none. net and
 * px are borrowed and must outlive the instance. A policy that is not enabled installs
 * nothing and returns 0. Returns 0, -EEXIST (already open), or the fraud_engine_new /
 * store_open error with a one-line reason in err.
 */
PBX_WUR int gw_fraud_open(const struct cfg_snapshot *s, const char *data_dir, struct net *net,
                          struct proxy *px, char *err, size_t errcap);

/*
 * SIGHUP: a new engine from the new snapshot's policy. Locks and the lockdown switch are
 * carried over; counters and tracked calls start afresh (calls already running are no longer
 * enforced). A policy enabled by the reload is opened with what gw_fraud_open was given
 * (data directory, net, proxy); one disabled by it is closed (locks are forgotten). On error
 * the running engine stays. Returns 0 or the fraud_engine_new / gw_fraud_open error.
 */
PBX_WUR int gw_fraud_reload(const struct cfg_snapshot *s);

/* Ends tracking, commits and closes the store. No instance: no-op. */
void gw_fraud_close(void);

/* True while an enabled policy is installed. */
bool gw_fraud_active(void);

/* An initial INVITE from outside (gw_hook_initial_invite): fills d (PASS or REJECT). */
void gw_fraud_initial_invite(const struct net_msg *in, const struct sip_msg *m,
                             struct gw_decision *d);

/* Any request the pipeline let through (BYE, CANCEL, in-dialog CSeq tracking). */
void gw_fraud_request(const struct net_msg *in, const struct sip_msg *m, bool from_inside);

/*
 * A response from the PBX. Returns true when it answers a request the gateway generated
 * itself (a BYE ending a call): the caller must not forward it.
 */
bool gw_fraud_response(const struct net_msg *in, const struct sip_msg *m);

/*
 * A response from outside. Returns true when it answers a BYE the gateway sent itself (a
 * call the policy ended): it is counted and the caller must neither forward nor report it.
 */
bool gw_fraud_response_outside(const struct net_msg *in, const struct sip_msg *m);

/*
 * Registers `account` (lock NAME [REASON] | unlock NAME | list), `lockdown` (on|off: the
 * fraud lockdown, replacing detection's command of that name) and `admission` (on|off:
 * detection's admission lockdown) with the control server. Handlers work whether or
 * not an instance is open (they report that the policy is off). 0, -EINVAL, -ENOSPC.
 */
PBX_WUR int gw_fraud_ctl_register(struct ctl_server *s);

#endif
