/*
 * The edge proxy's message logic (RFC 3261 §16 as a stateless edge proxy), with no I/O.
 *
 * proxy_process() takes one received message (the struct net_msg the transport delivered and
 * the struct sip_msg parsed from it) and decides one action:
 *   PROXY_ACT_FORWARD  rewritten bytes and a struct net_dest to send them to;
 *   PROXY_ACT_REPLY    a locally generated response (400, 416, 420, 482, 483, 503, 513...)
 *                      to send back to the sender;
 *   PROXY_ACT_DROP     nothing is sent; act->reason says why (static string);
 *   PROXY_ACT_HEALTH   the message was the answer to one of our own OPTIONS health checks
 *                      (act->upstream, act->status); the caller reports it with
 *                      proxy_health_result().
 * The bytes of FORWARD and REPLY live in a buffer inside struct proxy and stay valid until
 * the next call that writes output (proxy_process, proxy_health_request).
 *
 * Topology: "inside" is the PBX side (the configured upstreams), "outside" is everything
 * else (phones, trunks). A message is from inside when it comes from an upstream (see
 * proxy_side_of()).
 * Outside requests only ever go to an upstream; inside requests go to the flow named in a
 * Route (Path / Record-Route flow token) or to the IP literal of the next Route or the
 * Request-URI; responses go back where our Via says the request came from.
 *
 * Thread-safety: none; a struct proxy belongs to one event-loop thread.
 */
#ifndef PBXGUARD_PROXY_PROXY_H
#define PBXGUARD_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/net/net.h"
#include "pbxguard/proxy/flow.h"
#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/msg.h"

#define PROXY_MAX_IFACES 32u
#define PROXY_MAX_UPSTREAMS 16u
/* Output buffer: the largest message plus what the proxy adds (Via, Record-Route, Path). */
#define PROXY_OUT_CAP (SIP_MAX_MSG_SIZE + 4096u)
#define PROXY_EXPOSE_TEXT_MAX 64u
/* RFC 3261 §18.1.1: without a known path MTU, messages above 1300 bytes go over TCP. */
#define PROXY_DEFAULT_UDP_MAX 1300u
#define PROXY_DEFAULT_MAX_FORWARDS 70

enum proxy_side {
    PROXY_SIDE_OUTSIDE = 1u,
    PROXY_SIDE_INSIDE = 2u,
    PROXY_SIDE_BOTH = 3u,
};

/* One listening socket as the proxy sees it. */
struct proxy_iface {
    unsigned listener_id; /* net listener index */
    enum pbx_transport transport;
    struct pbx_addr addr;      /* bound address and port (may be a wildcard address) */
    struct pbx_addr advertise; /* address written in headers; family 0 = derive (see docs) */
    unsigned sides;            /* PROXY_SIDE_* bits this socket serves */
};

/* Version-revealing headers in messages leaving towards the outside. */
enum proxy_expose_hdr {
    PROXY_EXPOSE_USER_AGENT,
    PROXY_EXPOSE_SERVER,
    PROXY_EXPOSE_ORGANIZATION,
    PROXY_EXPOSE_WARNING, /* REPLACE rewrites the warn-agent only */
    PROXY_EXPOSE_COUNT
};

enum proxy_expose_mode {
    PROXY_EXPOSE_STRIP,
    PROXY_EXPOSE_REPLACE,
    PROXY_EXPOSE_KEEP,
};

struct proxy_expose_rule {
    enum proxy_expose_mode mode;
    char text[PROXY_EXPOSE_TEXT_MAX]; /* REPLACE: the fixed value (printable ASCII) */
};

struct proxy_upstream {
    struct pbx_endpoint ep;
    int priority;          /* lower is preferred; equal priorities share load by Call-ID */
    bool tcp_fallback;     /* UDP upstream also accepts TCP (used for oversized messages) */
    struct pbx_addr local; /* our address as this upstream sees us; family 0 = unknown */
    /* Health (RFC 3261 §11 OPTIONS), driven by proxy_health_*(). */
    bool up;
    unsigned fails;     /* consecutive failures */
    unsigned oks;       /* consecutive successes */
    uint32_t probe_seq; /* sequence of the outstanding check; 0 = none */
};

struct proxy_settings {
    unsigned udp_max;       /* largest message sent to an upstream over UDP */
    unsigned retry_after_s; /* Retry-After of the 503 sent when every upstream is down */
    bool force_rport;       /* answer to the source port even without rport (NAT) */
    bool record_route;      /* add Record-Route to dialog-creating requests */
    bool add_path;          /* add Path to REGISTER from outside */
    unsigned fails_to_down; /* consecutive failed checks that mark an upstream down */
    unsigned oks_to_up;     /* consecutive good checks that mark it up again */
    struct proxy_expose_rule expose[PROXY_EXPOSE_COUNT];
};

/*
 * Flow-token memo: the HMAC-SHA256 behind a token costs more than the rest of a REGISTER's
 * rewriting, and phones keep one flow for their whole registration. Tokens are
 * deterministic, so a memo hit yields exactly what flow_encode()/flow_decode() would.
 * Direct-mapped by a keyed hash; only tokens we encoded or that verified are stored.
 */
#define PROXY_FLOW_MEMO 256u

struct proxy_flow_memo {
    struct flow f;
    uint8_t len; /* token length; 0 = empty slot */
    char tok[FLOW_TOKEN_MAX];
};

struct proxy {
    struct proxy_settings set;
    struct proxy_iface ifaces[PROXY_MAX_IFACES];
    unsigned n_ifaces;
    struct proxy_upstream ups[PROXY_MAX_UPSTREAMS];
    unsigned n_ups;
    uint8_t hash_key[16]; /* SipHash key (core pbx_siphash13) for branches and tags */
    struct flow_key fkey;
    uint32_t probe_counter;
    struct proxy_flow_memo enc_memo[PROXY_FLOW_MEMO]; /* by flow */
    struct proxy_flow_memo dec_memo[PROXY_FLOW_MEMO]; /* by token text */
    uint8_t out[PROXY_OUT_CAP];
};

enum proxy_act_kind {
    PROXY_ACT_DROP,
    PROXY_ACT_FORWARD,
    PROXY_ACT_REPLY,
    PROXY_ACT_HEALTH,
};

struct proxy_action {
    enum proxy_act_kind kind;
    struct net_dest dest; /* FORWARD, REPLY */
    const uint8_t *buf;   /* FORWARD, REPLY: borrowed from struct proxy */
    size_t len;
    int status;           /* REPLY: status sent; HEALTH: status received */
    const char *reason;   /* static text: why dropped / replied, "forward" otherwise */
    enum proxy_side from; /* side the message came from */
    enum proxy_side to;   /* FORWARD: side it goes to */
    int upstream;         /* FORWARD to an upstream, HEALTH: index; -1 otherwise */
};

/*
 * Fills *set with the safe defaults: udp_max 1300, retry_after 30 s, force_rport on,
 * record_route and add_path on, 3 failures to down, 2 successes to up, User-Agent, Server
 * and Organization stripped, Warning agent replaced; replacement text "pbxguard".
 */
void proxy_settings_default(struct proxy_settings *set);

/*
 * A UDP upstream is reached from an inside UDP interface of its own address family (the
 * socket the request leaves from, and the address its Via gives for the answer). Returns the
 * index of the first UDP upstream without one, or -1 when every upstream can be reached.
 */
int proxy_unreachable_upstream(const struct proxy_iface *ifaces, unsigned n_ifaces,
                               const struct proxy_upstream *ups, unsigned n_ups);

/*
 * Initialises p (caller storage, large: keep it static or on the heap) with copies of the
 * settings, interfaces and upstreams, and the keys. Upstreams start up.
 * hash_key: 16 bytes; fkey: flow-token keys (keep the same ones across reloads).
 * Returns 0 or -EINVAL (too many interfaces/upstreams, none at all).
 */
PBX_WUR int proxy_init(struct proxy *p, const struct proxy_settings *set,
                       const struct proxy_iface *ifaces, unsigned n_ifaces,
                       const struct proxy_upstream *ups, unsigned n_ups, const uint8_t hash_key[16],
                       const struct flow_key *fkey);

/*
 * Decides what to do with one message. in and m are borrowed for the call; m must have been
 * parsed successfully from in->buf. Fills *act and returns 0; -EINVAL on NULL arguments.
 */
PBX_WUR int proxy_process(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                          struct proxy_action *act);

/*
 * Builds a local response (status, reason: static or longer-lived text) to request m into
 * *act, as a REPLY back to the sender (RFC 3261 §8.2.6: Via with received/rport, From, To
 * with a tag, Call-ID, CSeq). For the detection and fraud hooks' "reject" verdicts.
 * An ACK is never answered (DROP).
 */
void proxy_reply(struct proxy *p, const struct net_msg *in, const struct sip_msg *m, int status,
                 const char *reason, struct proxy_action *act);
/* The same with extra header lines (each ending in CRLF, e.g. a challenge), or NULL. */
void proxy_reply_hdrs(struct proxy *p, const struct net_msg *in, const struct sip_msg *m,
                      int status, const char *reason, const char *extra, struct proxy_action *act);

/*
 * Side a message comes from: inside when its source is an upstream's address and port.
 * From an upstream's IP with another port, inside when it arrived on a PBX-facing-only
 * listener (any transport), on a TCP/TLS connection the gateway opened (listener_id
 * NET_ANY_LISTENER), or on a TCP/TLS connection accepted by a listener serving the inside
 * when the IP is not a loopback one or that upstream is configured TCP/TLS (not merely
 * tcp_fallback). Everything else is outside (notably UDP from another port on a shared
 * listener, and loopback phones sharing a UDP-only PBX's address).
 */
enum proxy_side proxy_side_of(const struct proxy *p, const struct net_msg *in);

/*
 * Index of the upstream a new request goes to: the lowest priority among those up, load
 * shared by a hash of key (Call-ID) among equals. -ENOENT if all are down.
 */
int proxy_upstream_pick(const struct proxy *p, struct slice key);

/*
 * Builds an OPTIONS health check for upstream idx into p's output buffer (act->buf/len/dest)
 * and records it as outstanding. Returns 0, -EINVAL (bad idx), -ENETUNREACH (no interface
 * can reach it), -EMSGSIZE.
 */
PBX_WUR int proxy_health_request(struct proxy *p, unsigned idx, int64_t now_ms,
                                 struct proxy_action *act);

/*
 * Reports the outcome of the outstanding check of upstream idx: ok true for a response
 * (any final status below 500), false for a timeout or a 5xx/6xx. Updates up/down with the
 * configured hysteresis. Returns 1 if the up/down state changed, 0 otherwise.
 */
int proxy_health_result(struct proxy *p, unsigned idx, bool ok);

#endif
