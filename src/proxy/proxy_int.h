/* Helpers shared by the proxy's request, response and reply builders. Private to proxy. */
#ifndef PBXGUARD_PROXY_INT_H
#define PBXGUARD_PROXY_INT_H

#include "pbxguard/proxy/proxy.h"
#include "pbxguard/sip/headers.h"
#include "wbuf.h"

/* Via parameter carrying the flow token of the previous hop, and the health-check marker. */
#define PX_VIA_FLOW_PARAM "fl"
#define PX_VIA_HEALTH_PARAM "hc"
#define PX_MAGIC_COOKIE "z9hG4bK"
/* Our branches: cookie, 16 hex digits of transaction hash, 8 of loop hash (§16.6 item 8). */
#define PX_BRANCH_LEN (7 + 16 + 8)

bool px_addr_is_wildcard(const struct pbx_addr *a);
const char *px_tp_upper(enum pbx_transport tp);
const char *px_tp_lower(enum pbx_transport tp);
uint16_t px_default_port(enum pbx_transport tp);

const struct proxy_iface *px_iface_by_listener(const struct proxy *p, unsigned listener_id);
/* First interface serving side with transport tp; NULL if none. */
/* The interface serving side for transport tp, of the given address family when there is
 * one; for UDP only that family will do (NULL otherwise). */
const struct proxy_iface *px_iface_for(const struct proxy *p, unsigned side, enum pbx_transport tp,
                                       sa_family_t family);
/* The address written into headers for ifc (see docs/internals/proxy.md). up may be NULL. */
struct pbx_addr px_iface_adv(const struct proxy *p, const struct proxy_iface *ifc,
                             const struct net_msg *in, const struct proxy_upstream *up);

/* "192.0.2.1:5060" or "[2001:db8::1]:5060" (as pbx_addr_fmt()). */
void px_wb_hostport(struct wbuf *w, const struct pbx_addr *a);
/* "192.0.2.1" or "2001:db8::1" (as pbx_addr_fmt_ip()). */
void px_wb_ip(struct wbuf *w, const struct pbx_addr *a);

/* Copies header h as it was received ("Name: value"), followed by CRLF. */
void px_emit_raw(struct wbuf *w, const struct sip_msg *m, const struct sip_hdr *h);

/*
 * Emits the first Via header line with its first value completed per RFC 3261 §18.2.1 and
 * RFC 3581 §4 (received, rport) for a message from in; the other values of the line follow
 * unchanged. first is the parsed first Via value.
 */
void px_emit_top_via(const struct proxy *p, struct wbuf *w, const struct sip_msg *m,
                     const struct net_msg *in, const struct sip_via *first);

/* Where responses to in go back to (RFC 3261 §18.2.2, RFC 3581 §4). */
struct pbx_addr px_back_addr(const struct proxy *p, const struct net_msg *in,
                             const struct sip_via *top);

/* Emits header h of a message leaving towards the outside, applying the exposure rules. */
void px_emit_outside(const struct proxy *p, struct wbuf *w, const struct sip_msg *m,
                     const struct sip_hdr *h);

/* True when h is a header the exposure rules may change. */
bool px_is_exposure_hdr(const struct sip_hdr *h);

/*
 * Builds a local response to request m (RFC 3261 §8.2.6): Via (with received/rport), From,
 * To (with a tag unless 100), Call-ID, CSeq, extra (complete header lines, may be NULL),
 * Content-Length: 0. Fills act as a REPLY back to the sender. ACK is never answered: the
 * action becomes a DROP with the same reason.
 */
void px_reply(struct proxy *p, const struct net_msg *in, const struct sip_msg *m, int status,
              const char *reason, const char *extra, struct proxy_action *act);

void px_drop(struct proxy_action *act, const char *reason);

/* Stateless branch (RFC 3261 §16.11), without the magic cookie. from_tag: the parsed From
 * tag, NULL when the From did not parse. */
uint64_t px_branch_hash(const struct proxy *p, const struct sip_msg *m, const struct sip_via *top,
                        const struct slice *from_tag);

/* True when the URI's host and port are one of ours. *flow_rc tells about its user part:
 * -ENOENT none, 0 a valid flow token (*f filled), -EPERM a token that does not verify,
 * -EBADMSG something else (not a token). */
bool px_uri_is_ours(struct proxy *p, const struct net_msg *in, const struct sip_uri *u,
                    struct flow *f, int *flow_rc);

/* Converts a URI's IP-literal host and port into an address; -ENOENT for a host name. */
int px_uri_addr(const struct sip_uri *u, enum pbx_transport tp, struct pbx_addr *out);
/* Transport named by the URI (transport= param, sips). */
enum pbx_transport px_uri_transport(const struct sip_uri *u);

/*
 * flow_encode()/flow_decode() with p's keys through p's memo (flowmemo.c): same results,
 * same error codes; dst as for flow_encode().
 */
int px_flow_encode(struct proxy *p, const struct flow *f, char *dst, size_t cap);
int px_flow_decode(struct proxy *p, struct slice token, struct flow *f);
/* Forgets every memorised token (new keys). */
void px_flow_memo_reset(struct proxy *p);

int px_request(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
               struct proxy_action *act);
int px_response(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                struct proxy_action *act);

#endif
