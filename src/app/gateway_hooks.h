/*
 * The gateway's message pipeline hooks: one call site per stage where the detection
 * engine and the fraud policy plug in (see docs/internals/proxy.md).
 *
 *   gw_hook_admit            before any parsing, per datagram / new connection (net admit)
 *   gw_hook_request          each parsed request, from either side
 *   gw_hook_response_inside  each parsed response from the PBX (401/403/200 learning)
 *   gw_hook_response_outside each parsed response from outside (answers to our own BYEs)
 *   gw_hook_initial_invite   initial INVITEs from outside (fraud: destination, limits)
 *   gw_hook_malformed        each message the parser refused (never answered)
 *
 * The detection engine is wired in through gateway_guard.h: while a guard is installed,
 * admit, request, response and malformed consult it; a request the guard forwards itself
 * in rewritten form (identity headers stripped) or a response it replaces (enumeration
 * shielding) is reported as GW_DROP, so the caller sends nothing more.
 * All run on the event-loop thread; pointers are borrowed for the call.
 */
#ifndef PBXGUARD_APP_GATEWAY_HOOKS_H
#define PBXGUARD_APP_GATEWAY_HOOKS_H

#include <stdbool.h>

#include "pbxguard/net/net.h"
#include "pbxguard/proxy/proxy.h"
#include "pbxguard/sip/msg.h"

enum gw_verdict {
    GW_PASS,
    GW_DROP,   /* silently discarded */
    GW_REJECT, /* answered locally with status/reason */
};

struct gw_decision {
    enum gw_verdict verdict;
    int status;         /* GW_REJECT */
    const char *reason; /* static text, for the reply and the event */
    const char *extra;  /* GW_REJECT: header lines added to the reply (static), or NULL */
};

bool gw_hook_admit(void *ctx, const struct pbx_addr *remote, enum pbx_transport tp);
void gw_hook_request(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                     enum proxy_side from, struct gw_decision *d);
void gw_hook_response_inside(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                             struct gw_decision *d);
void gw_hook_response_outside(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                              struct gw_decision *d);
void gw_hook_initial_invite(void *ctx, const struct net_msg *in, const struct sip_msg *m,
                            struct gw_decision *d);
/* err: the parser's negative errno; m: the partially parsed message (err_reason) or NULL. */
void gw_hook_malformed(void *ctx, const struct net_msg *in, int err, const struct sip_msg *m);

#endif
