/*
 * SIP transport layer: UDP, TCP and TLS listeners and connections on one event loop.
 *
 * A struct net owns its sockets, connections and TLS contexts and runs on a struct net_loop
 * (include "pbxguard/net/loop.h"), which it creates. Everything is single-threaded: every
 * function and callback here runs on the loop's thread; nothing is thread-safe.
 *
 * Receive path: for each UDP datagram and each new TCP/TLS connection the admit callback runs
 * first, before any byte is parsed (ban table and allow-list prefilter). Admitted datagrams
 * and each SIP message framed from a stream are handed to the msg callback as a struct net_msg
 * whose buffer is borrowed for the duration of the callback only.
 *
 * Send path: net_send() never blocks. UDP goes out of a listener's socket; datagrams made
 * while a received batch is handled leave together, in order, when the batch is done. TCP/TLS
 * bytes are queued on the connection (with a cap: a peer that does not read is disconnected).
 */
#ifndef PBXGUARD_NET_NET_H
#define PBXGUARD_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/net/loop.h"

struct net;

/* listener_id of outbound connections, and "pick any" in struct net_dest. */
#define NET_ANY_LISTENER UINT32_MAX
#define NET_MAX_LISTENERS 32

/* Defaults used when a struct net_config field is 0. */
#define NET_DEFAULT_MAX_CONNS 4096u
#define NET_DEFAULT_MAX_CONNS_PER_SOURCE 64u
#define NET_DEFAULT_IDLE_TIMEOUT_MS 600000u /* 10 min; phones send keep-alives well within */
#define NET_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u
#define NET_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define NET_DEFAULT_WRITE_QUEUE_CAP (256u * 1024u)
#define NET_DEFAULT_UDP_BUFFER (4u * 1024u * 1024u)
#define NET_DEFAULT_DRAIN_MS 5000u

/* One complete SIP message received. Every pointer is borrowed for the callback's duration. */
struct net_msg {
    const uint8_t *buf; /* the datagram, or one message framed from a stream; not NUL-terminated */
    size_t len;
    enum pbx_transport transport;
    struct pbx_addr remote; /* peer address and port (IPv4-mapped v6 is unmapped) */
    struct pbx_addr local;  /* the local address the message arrived on, port included */
    unsigned listener_id;   /* index into net_config.listeners; NET_ANY_LISTENER if outbound */
    uint64_t conn_id;       /* connection id for TCP/TLS (never 0); 0 for UDP */
    bool tls_peer_verified; /* TLS peer presented a certificate that verified against the CA */
};

/* Called for each received message (see struct net_msg). May call net_send() and net_close(). */
typedef void (*net_msg_fn)(void *ctx, const struct net_msg *msg);
/*
 * Called before any parsing for each datagram and each accepted connection; return false to
 * drop the datagram or close the connection at once. NULL admits everything.
 */
typedef bool (*net_admit_fn)(void *ctx, const struct pbx_addr *remote, enum pbx_transport tp);
/* net_close_fn reason for an orderly close by the peer (others are negative errnos). */
#define NET_CLOSE_PEER 0
/*
 * Called once when a live TCP/TLS connection goes away; conn_id is dead from then on.
 * reason: NET_CLOSE_PEER (orderly close by the peer) or a negative errno: -ETIMEDOUT (idle,
 * handshake or connect deadline), -EMSGSIZE (write queue or framing cap), -EBADMSG
 * (unframeable stream), -EPROTO (TLS failure), -ECANCELED (net_close), or a socket error
 * such as -ECONNRESET or -ECONNREFUSED. May call net_send().
 */
typedef void (*net_close_fn)(void *ctx, uint64_t conn_id, const struct pbx_addr *remote,
                             int reason);

struct net_handlers {
    net_msg_fn on_msg;     /* required */
    net_admit_fn admit;    /* optional */
    net_close_fn on_close; /* optional */
    void *ctx;             /* passed to every callback */
};

/* TLS material (paths borrowed during net_new() only; files are read then). */
struct net_tls_config {
    const char *cert_file; /* PEM certificate chain; required for a TLS listener */
    const char *key_file;  /* PEM private key; required for a TLS listener */
    const char *ca_file;   /* PEM CA bundle for verifying peers; NULL = none */
    bool verify_client;    /* listener: require and verify a client certificate (trunks) */
};

struct net_listener_config {
    struct pbx_endpoint ep;    /* transport + address; port 0 picks an ephemeral port */
    struct net_tls_config tls; /* used when ep.transport == PBX_TP_TLS */
};

struct net_config {
    const struct net_listener_config *listeners; /* borrowed during net_new() */
    size_t n_listeners;                          /* <= NET_MAX_LISTENERS */
    /* Outbound TLS (to upstreams), enabled only when client_tls.ca_file is set: the server
     * certificate must verify against that CA and name the dialled IP address; cert_file and
     * key_file optionally present a client certificate. verify_client is ignored. */
    struct net_tls_config client_tls;
    unsigned max_conns;            /* total TCP/TLS connections, in and out */
    unsigned max_conns_per_source; /* inbound connections per remote IP */
    unsigned idle_timeout_ms;      /* close a connection with no traffic in either way */
    unsigned handshake_timeout_ms; /* TLS handshake must finish within */
    unsigned connect_timeout_ms;   /* outbound connect (+ TLS handshake) must finish within */
    size_t write_queue_cap;        /* bytes queued per connection before it is dropped */
    unsigned udp_buffer;           /* SO_RCVBUF/SO_SNDBUF wish for UDP sockets */
};

/* Where to send. */
struct net_dest {
    enum pbx_transport transport;
    struct pbx_addr addr; /* remote address and port */
    uint64_t conn_id;     /* prefer this live connection; 0 = any live one, or a new one */
    unsigned listener_id; /* UDP: which listener's socket to send from; NET_ANY_LISTENER */
};

struct net_stats {
    uint64_t udp_rx, udp_tx, udp_rx_denied, udp_tx_errors;
    uint64_t udp_tx_calls; /* sendto()/sendmmsg() calls: below udp_tx when batching works */
    uint64_t stream_rx, stream_tx;
    uint64_t conns_accepted, conns_denied, conns_outbound, conns_closed;
    uint64_t conns_over_cap, conns_over_source_cap;
    uint64_t idle_timeouts, handshake_timeouts, connect_timeouts;
    uint64_t framing_errors, write_queue_overflows, tls_handshake_failures;
    uint64_t keepalive_pongs;
    unsigned conns_open;
};

/*
 * Creates the loop, binds every listener (SO_REUSEADDR on TCP/TLS, IPV6_V6ONLY on v6,
 * non-blocking, large UDP buffers), loads TLS material, raises RLIMIT_NOFILE towards
 * max_conns where allowed, and ignores SIGPIPE if it is at its default. Listening starts
 * when the loop runs. cfg and h are copied (paths are read during the call).
 * Returns 0, -EINVAL (bad config, TLS listener without cert/key, too many listeners),
 * -EADDRINUSE and other -errno from socket calls, -EPROTO (TLS material rejected), -ENOMEM.
 */
PBX_WUR int net_new(const struct net_config *cfg, const struct net_handlers *h, struct net **out);
/* Closes every socket and connection immediately (no on_close callbacks) and frees the loop.
 * NULL is a no-op. */
void net_free(struct net *n);

/* The loop, for timers, signals and other fds (borrowed; lives as long as n). */
struct net_loop *net_get_loop(struct net *n);

/* The bound endpoint of listener id (the real port when 0 was asked). -ENOENT if no such id
 * or the listener was removed. */
PBX_WUR int net_listener_endpoint(const struct net *n, unsigned id, struct pbx_endpoint *out);
/* Listener ids in use so far (removed ones included): valid ids are below this. */
size_t net_listener_count(const struct net *n);

/*
 * Sends one message (buf borrowed; copied or written before return). Never blocks.
 *   UDP: sendto from the chosen listener (NET_ANY_LISTENER: the first UDP listener of the
 *        address family). -ENETUNREACH if there is none; -EAGAIN if the socket buffer is full.
 *   TCP: the connection dst->conn_id if live, else any live connection to dst->addr, else a new
 *        outbound connection (bytes queued until it connects).
 *   TLS: the connection dst->conn_id if live, else any live connection to dst->addr; else a new
 *        outbound connection only if client_tls.ca_file was configured, -ENOTCONN otherwise.
 * Returns 0, -EINVAL, -ENOTCONN, -EMSGSIZE (over the write queue cap; the connection is
 * closed), -EMFILE (connection cap), -ENOMEM, or another -errno.
 */
PBX_WUR int net_send(struct net *n, const struct net_dest *dst, const uint8_t *buf, size_t len);

/*
 * Reload support (SIGHUP): applies the numeric limits of cfg (listeners and TLS ignored) to
 * new and existing connections. Zero fields take their defaults. max_conns may be lowered,
 * never raised past the value given to net_new() (then -EINVAL and nothing changes);
 * connections already over a lowered cap are kept.
 */
PBX_WUR int net_update_limits(struct net *n, const struct net_config *cfg);
/*
 * Reload support: replaces the certificate, key and CA of TLS listener id (files read now).
 * New handshakes use the new material; live connections keep theirs.
 * Returns 0, -ENOENT (no such TLS listener), or the errors of net_new() for TLS material;
 * on error the old material stays in use.
 */
PBX_WUR int net_listener_set_tls(struct net *n, unsigned id, const struct net_tls_config *tls);

/*
 * Reload support: binds one more listener (lc borrowed; TLS files read now) and starts
 * accepting on it at once (not while draining). *id_out gets its id: ids are never reused,
 * so at most NET_MAX_LISTENERS listeners over the life of n.
 * Returns 0, -EINVAL (TLS without cert/key), -ENOSPC (no id left), or the errors of
 * net_new() for binding and TLS material; on error nothing changes.
 * Add new listeners before removing old ones, so that an address that moves between the
 * two lists never goes unserved.
 */
PBX_WUR int net_listener_add(struct net *n, const struct net_listener_config *lc, unsigned *id_out);
/*
 * Reload support: closes the socket of listener id. Connections it accepted stay open with
 * their listener_id (their messages still arrive; replies go out on them); UDP sends that
 * name this listener fail with -ENETUNREACH (NET_ANY_LISTENER picks another one).
 * net_listener_endpoint() and net_listener_set_tls() then return -ENOENT for id.
 * Returns 0 or -ENOENT (no such listener, or already removed).
 */
PBX_WUR int net_listener_remove(struct net *n, unsigned id);

/* Closes a connection now (queued bytes are dropped). -ENOENT if it is not live. */
PBX_WUR int net_close(struct net *n, uint64_t conn_id);
/* True if conn_id is a live connection; fills *remote when non-NULL. */
bool net_conn_alive(const struct net *n, uint64_t conn_id, struct pbx_addr *remote);

/* Runs the loop until net_stop() or the end of a drain. Returns 0 or -errno. */
PBX_WUR int net_run(struct net *n);
/* Makes net_run() return after the current iteration. */
void net_stop(struct net *n);
/*
 * Drain: stop accepting connections and reading UDP, keep flushing queued writes, and make
 * net_run() return when every write queue is empty or after max_ms (0 = default), whichever
 * comes first.
 */
void net_drain(struct net *n, unsigned max_ms);

void net_stats_get(const struct net *n, struct net_stats *out);

#endif
