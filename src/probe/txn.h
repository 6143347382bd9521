/* SIP requests and client transactions for the probe (RFC 3261 §17.1, simplified). */
#ifndef PBXGUARD_PROBE_TXN_H
#define PBXGUARD_PROBE_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/probe/probe.h"

#include "conn.h"

struct probe_resp {
    int status; /* 0: none */
    char reason[96];
    char server[256]; /* Server header, unfolded, escaped (esc_untrusted) */
    char to_tag[80];
    char contact[256]; /* Contact URI */
    char rr[4][256];   /* Record-Route values as written */
    int nrr;
    char challenge[768]; /* WWW-/Proxy-Authenticate value */
    bool proxy_auth;
    int64_t rtt_ms; /* from the first send to this response */
};

struct probe_req {
    const char *method;
    char ruri[400];
    char from_user[64];
    char to_user[64];
    char call_id[80];
    char from_tag[40];
    char branch[64];
    unsigned cseq;
    char extra[1024]; /* extra header lines, each ending in CRLF */
    bool with_sdp;
};

struct probe_ctx {
    const struct probe_opts *o;
    struct probe_target target;
    struct probe_conn *conn;
    unsigned timeout_ms;
    unsigned rate;
    struct probe_resp last_any; /* most recent response seen (for version leaks) */
};

/* Fills req for method; user NULL addresses the domain itself (OPTIONS/REGISTER). */
void probe_req_init(struct probe_ctx *pc, struct probe_req *req, const char *method,
                    const char *user);

/*
 * Sends req and waits for its final response (retransmitting over UDP with T1 = 500 ms
 * doubling, within ctx->timeout_ms). Returns 0 with *resp filled, -ETIMEDOUT when nothing
 * final came back, or a transport errno.
 */
PBX_WUR int probe_transact(struct probe_ctx *pc, struct probe_req *req, struct probe_resp *resp,
                           bool unpaced);

/*
 * INVITE with immediate cleanup: a provisional response above 100 is answered with
 * CANCEL at once; a 2xx gets ACK and BYE; a non-2xx final gets its ACK. *ringing gets the
 * first provisional status above 100 (0 if none). Same returns as probe_transact().
 */
PBX_WUR int probe_invite(struct probe_ctx *pc, struct probe_req *req, struct probe_resp *resp,
                         int *ringing);

/* Sends req once, unpaced, without waiting for an answer (flood test). */
PBX_WUR int probe_send_request(struct probe_ctx *pc, const struct probe_req *req);

/* Random lowercase hex of n chars (n < cap). */
void probe_random_hex(char *out, size_t cap, size_t n);

#endif
