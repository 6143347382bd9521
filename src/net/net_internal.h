/* Private state shared by the files of src/net/. */
#ifndef PBXGUARD_NET_INTERNAL_H
#define PBXGUARD_NET_INTERNAL_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pbxguard/net/net.h"
#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/limits.h"

/* UDP receive batch: one recvmmsg() returns up to this many datagrams. */
#define NET_UDP_BATCH 16
/* Largest datagram read; anything longer is truncated by the kernel and dropped here. */
#define NET_UDP_MAX 65536
/* Read buffer per connection: one header section plus one body, the framer's caps. */
#define NET_RBUF_CAP (SIP_MAX_HDR_SECTION + SIP_MAX_BODY_SIZE + 4096u)
#define NET_RBUF_MIN 4096u

/* Bytes of queued datagrams (see udp_tx.c); a larger datagram is sent on its own. */
#define NET_UDP_TXQ_BYTES (64u * 1024u)

/* Datagrams made while one receive batch is handled, sent together at its end. */
struct net_udp_txq {
    bool active;
    int fd; /* all queued datagrams leave through one socket */
    unsigned n;
    size_t used;
    struct mmsghdr msgs[NET_UDP_BATCH];
    struct iovec iov[NET_UDP_BATCH];
    struct sockaddr_storage to[NET_UDP_BATCH];
    uint8_t bytes[NET_UDP_TXQ_BYTES];
};

struct listener {
    struct net *n;
    unsigned id;
    int fd;
    struct pbx_endpoint ep; /* bound address (real port) */
    SSL_CTX *ssl_ctx;       /* TLS listeners */
    bool watching;          /* registered with the loop (false while draining) */
    bool removed;           /* closed by net_listener_remove(); the id is never reused */
    struct net_timer retry; /* re-watch after accept() ran out of descriptors */
};

enum conn_state {
    CONN_CONNECTING, /* outbound TCP connect in progress */
    CONN_HANDSHAKE,  /* TLS handshake in progress */
    CONN_OPEN,
    CONN_CLOSED, /* unlinked and fd closed; freed when no longer in use */
};

struct conn {
    struct net *n;
    uint64_t id;
    uint32_t slot;
    int fd;
    enum pbx_transport tp;
    enum conn_state state;
    bool outbound;
    bool tls_verified;
    bool tls_want_write; /* OpenSSL asked to wait for writability */
    bool counted_source; /* contributes to the per-source count */
    unsigned busy;       /* > 0 while a callback that may close it runs */
    unsigned listener_id;
    uint32_t events; /* current epoll interest */
    struct pbx_addr remote, local;
    SSL *ssl;
    struct net_timer timer; /* connect / handshake deadline, then idle check */
    int64_t last_active_ms;

    struct sip_framer framer;
    uint8_t *rbuf;
    size_t rlen, rcap;

    uint8_t *wbuf; /* pending bytes are wbuf[woff..wlen) */
    size_t woff, wlen, wcap;

    struct conn *next_addr; /* chain in the by-address table */
};

/* Count of inbound connections per source (IPv4 address or IPv6 /64). */
struct src_count {
    struct pbx_addr ip; /* the masked source key */
    unsigned count;
    struct src_count *next;
};

struct net {
    struct net_loop *loop;
    struct net_handlers h;
    struct net_config cfg; /* defaults applied; listener pointer cleared */
    uint8_t hash_key[16];

    struct listener listeners[NET_MAX_LISTENERS];
    size_t n_listeners;
    SSL_CTX *client_ctx; /* outbound TLS; NULL if not usable */

    /* Connections: slot array (id encodes the slot) + hash by remote address. */
    struct conn **slots;
    uint32_t *free_slots;
    size_t n_free;
    uint32_t id_gen;
    struct conn **by_addr;
    struct src_count **by_src;
    size_t n_buckets; /* power of two, shared by both hashes */
    size_t slot_cap;  /* slots allocated: max_conns at creation (a reload may only lower it) */
    unsigned n_conns;

    /* UDP receive batch, allocated once. */
    uint8_t *udp_bufs;
    uint8_t udp_ctrl[NET_UDP_BATCH][128];
    struct net_udp_txq txq;

    bool draining;
    struct net_timer drain_timer;
    struct net_timer drain_check;
    struct net_stats stats;
};

/* hash.c: SipHash-1-3 with the instance's random key. */
uint64_t net_hash_addr(const struct net *n, const struct pbx_addr *a, bool with_port);

/* udp_tx.c: between begin and end, net_udp_tx_queue() holds datagrams (-EAGAIN: send it
 * yourself); end sends what is queued. */
void net_udp_tx_begin(struct net *n);
PBX_WUR int net_udp_tx_queue(struct net *n, int fd, const struct sockaddr_storage *to,
                             socklen_t tolen, const uint8_t *buf, size_t len);
void net_udp_tx_flush(struct net *n);
void net_udp_tx_end(struct net *n);

/* sock.c */
PBX_WUR int net_socket_bind(const struct pbx_endpoint *ep, unsigned udp_buffer, int *fd_out);
void net_raise_nofile(unsigned want);
PBX_WUR int net_sock_local(int fd, struct pbx_addr *out);

/* listen.c */
PBX_WUR int net_listeners_open(struct net *n, const struct net_config *cfg);
void net_listeners_close(struct net *n);
PBX_WUR int net_listeners_watch(struct net *n);
void net_listeners_unwatch(struct net *n);

/* tls.c */
PBX_WUR int net_tls_server_ctx(const struct net_tls_config *cfg, SSL_CTX **out);
PBX_WUR int net_tls_client_ctx(const struct net_tls_config *cfg, SSL_CTX **out);
void net_tls_log_errors(const char *what);

/* conn.c */
PBX_WUR int net_conns_init(struct net *n);
void net_conns_fini(struct net *n);
PBX_WUR int net_conn_accept(struct net *n, struct listener *li, int fd,
                            const struct pbx_addr *remote);
PBX_WUR int net_conn_connect(struct net *n, enum pbx_transport tp, const struct pbx_addr *remote,
                             struct conn **out);
struct conn *net_conn_by_id(const struct net *n, uint64_t id);
struct conn *net_conn_by_addr(const struct net *n, enum pbx_transport tp,
                              const struct pbx_addr *remote);
PBX_WUR int net_conn_write(struct conn *c, const uint8_t *buf, size_t len);
void net_conn_close(struct conn *c, int reason);
bool net_conns_flushed(const struct net *n);
void net_drain_progress(struct net *n);

#endif
