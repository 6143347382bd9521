/* struct net: configuration, sending, running and draining. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_internal.h"

static void apply_defaults(struct net_config *c)
{
    if (!c->max_conns)
        c->max_conns = NET_DEFAULT_MAX_CONNS;
    if (!c->max_conns_per_source)
        c->max_conns_per_source = NET_DEFAULT_MAX_CONNS_PER_SOURCE;
    if (!c->idle_timeout_ms)
        c->idle_timeout_ms = NET_DEFAULT_IDLE_TIMEOUT_MS;
    if (!c->handshake_timeout_ms)
        c->handshake_timeout_ms = NET_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!c->connect_timeout_ms)
        c->connect_timeout_ms = NET_DEFAULT_CONNECT_TIMEOUT_MS;
    if (!c->write_queue_cap)
        c->write_queue_cap = NET_DEFAULT_WRITE_QUEUE_CAP;
    if (!c->udp_buffer)
        c->udp_buffer = NET_DEFAULT_UDP_BUFFER;
}

static int seed_key(uint8_t key[16])
{
    size_t got = 0;
    while (got < 16) {
        ssize_t r = getrandom(key + got, 16 - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)r;
    }
    return 0;
}

int net_new(const struct net_config *cfg, const struct net_handlers *h, struct net **out)
{
    int rc;
    if (!cfg || !h || !h->on_msg || !out)
        return -EINVAL;
    if (cfg->max_conns > (1u << 24))
        return -EINVAL;
    struct net *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->h = *h;
    n->cfg = *cfg;
    n->cfg.listeners = NULL;
    n->cfg.n_listeners = 0;
    n->cfg.client_tls = (struct net_tls_config){0};
    apply_defaults(&n->cfg);
    if ((rc = seed_key(n->hash_key)) < 0)
        goto out;
    /* OpenSSL writes to sockets with write(), which raises SIGPIPE on a connection the peer
     * has reset; the error must come back as EPIPE instead of killing the daemon. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    if ((rc = net_loop_new(&n->loop)) < 0)
        goto out;
    net_timer_init(&n->drain_timer, NULL, n);
    net_timer_init(&n->drain_check, NULL, n);
    n->udp_bufs = malloc((size_t)NET_UDP_BATCH * NET_UDP_MAX);
    if (!n->udp_bufs) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = net_conns_init(n)) < 0)
        goto out;
    /* Listeners + connections + loop/epoll/signalfd + a margin for the rest of the daemon. */
    net_raise_nofile(n->cfg.max_conns + (unsigned)cfg->n_listeners + 64);
    if ((rc = net_listeners_open(n, cfg)) < 0)
        goto out;
    /* Outbound TLS only when configured: otherwise TLS goes out only over a connection the
     * peer opened (RFC 5626 flows), never to an address picked from a message. */
    if (cfg->client_tls.ca_file && (rc = net_tls_client_ctx(&cfg->client_tls, &n->client_ctx)) < 0)
        goto out;
    if ((rc = net_listeners_watch(n)) < 0)
        goto out;
    *out = n;
    return 0;
out:
    net_free(n);
    return rc;
}

void net_free(struct net *n)
{
    if (!n)
        return;
    if (n->loop) {
        net_timer_cancel(n->loop, &n->drain_timer);
        net_timer_cancel(n->loop, &n->drain_check);
        net_conns_fini(n);
        net_listeners_close(n);
    }
    SSL_CTX_free(n->client_ctx);
    net_loop_free(n->loop);
    free(n->udp_bufs);
    free(n);
}

struct net_loop *net_get_loop(struct net *n)
{
    return n->loop;
}

size_t net_listener_count(const struct net *n)
{
    return n->n_listeners;
}

int net_listener_endpoint(const struct net *n, unsigned id, struct pbx_endpoint *out)
{
    if (id >= n->n_listeners || n->listeners[id].removed)
        return -ENOENT;
    *out = n->listeners[id].ep;
    return 0;
}

static const struct listener *udp_listener(const struct net *n, unsigned id, sa_family_t family)
{
    if (id != NET_ANY_LISTENER) {
        if (id >= n->n_listeners || n->listeners[id].ep.transport != PBX_TP_UDP ||
            n->listeners[id].ep.addr.family != family || n->listeners[id].fd < 0)
            return NULL;
        return &n->listeners[id];
    }
    for (size_t i = 0; i < n->n_listeners; i++) {
        const struct listener *li = &n->listeners[i];
        if (li->ep.transport == PBX_TP_UDP && li->ep.addr.family == family && li->fd >= 0)
            return li;
    }
    return NULL;
}

static int send_udp(struct net *n, const struct net_dest *dst, const uint8_t *buf, size_t len)
{
    const struct listener *li = udp_listener(n, dst->listener_id, dst->addr.family);
    if (!li)
        return -ENETUNREACH;
    struct sockaddr_storage ss;
    socklen_t sl = pbx_addr_to_sockaddr(&dst->addr, &ss);
    if (net_udp_tx_queue(n, li->fd, &ss, sl, buf, len) == 0)
        return 0;
    ssize_t w = sendto(li->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
    n->stats.udp_tx_calls++;
    if (w < 0) {
        n->stats.udp_tx_errors++;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    n->stats.udp_tx++;
    return 0;
}

int net_send(struct net *n, const struct net_dest *dst, const uint8_t *buf, size_t len)
{
    if (!n || !dst || (!buf && len))
        return -EINVAL;
    if (dst->addr.family != AF_INET && dst->addr.family != AF_INET6)
        return -EINVAL;
    if (dst->transport == PBX_TP_UDP)
        return send_udp(n, dst, buf, len);
    if (dst->transport != PBX_TP_TCP && dst->transport != PBX_TP_TLS)
        return -EINVAL;

    struct conn *c = NULL;
    if (dst->conn_id) {
        c = net_conn_by_id(n, dst->conn_id);
        if (c && c->tp != dst->transport)
            c = NULL;
    }
    if (!c)
        c = net_conn_by_addr(n, dst->transport, &dst->addr);
    if (!c) {
        /* TLS towards a phone exists only as the phone's own connection. */
        if (dst->transport == PBX_TP_TLS && !n->client_ctx)
            return -ENOTCONN;
        if (n->draining)
            return -ESHUTDOWN;
        int rc = net_conn_connect(n, dst->transport, &dst->addr, &c);
        if (rc < 0)
            return rc;
    }
    int rc = net_conn_write(c, buf, len);
    if (rc == 0)
        n->stats.stream_tx++;
    return rc;
}

int net_close(struct net *n, uint64_t conn_id)
{
    struct conn *c = net_conn_by_id(n, conn_id);
    if (!c)
        return -ENOENT;
    net_conn_close(c, -ECANCELED);
    return 0;
}

bool net_conn_alive(const struct net *n, uint64_t conn_id, struct pbx_addr *remote)
{
    const struct conn *c = net_conn_by_id(n, conn_id);
    if (!c)
        return false;
    if (remote)
        *remote = c->remote;
    return true;
}

int net_run(struct net *n)
{
    return net_loop_run(n->loop);
}

void net_stop(struct net *n)
{
    net_loop_stop(n->loop);
}

static void on_drain_deadline(void *ctx, struct net_timer *t)
{
    struct net *n = ctx;
    net_loop_stop(n->loop);
}

static void on_drain_check(void *ctx, struct net_timer *t)
{
    struct net *n = ctx;
    if (net_conns_flushed(n))
        net_loop_stop(n->loop);
}

void net_drain_progress(struct net *n)
{
    /* Checked from a timer, not inline: the caller may be deep inside a connection. */
    if (!net_timer_armed(&n->drain_check) && net_timer_add(n->loop, &n->drain_check, 0, 0) < 0)
        net_loop_stop(n->loop); /* no memory for the check: end the drain now */
}

void net_drain(struct net *n, unsigned max_ms)
{
    if (n->draining)
        return;
    n->draining = true;
    net_listeners_unwatch(n);
    /* Close stream listeners so new connections are refused rather than left in the
     * backlog; UDP sockets stay open for sending replies. */
    for (size_t i = 0; i < n->n_listeners; i++) {
        struct listener *li = &n->listeners[i];
        if (li->ep.transport != PBX_TP_UDP && li->fd >= 0) {
            close(li->fd);
            li->fd = -1;
        }
    }
    n->drain_timer.fn = on_drain_deadline;
    n->drain_check.fn = on_drain_check;
    if (net_timer_add(n->loop, &n->drain_timer, max_ms ? max_ms : NET_DEFAULT_DRAIN_MS, 0) < 0) {
        net_loop_stop(n->loop);
        return;
    }
    net_drain_progress(n);
}

int net_update_limits(struct net *n, const struct net_config *cfg)
{
    struct net_config c = *cfg;
    apply_defaults(&c);
    if (c.max_conns > n->slot_cap)
        return -EINVAL;
    n->cfg.max_conns = c.max_conns;
    n->cfg.max_conns_per_source = c.max_conns_per_source;
    n->cfg.idle_timeout_ms = c.idle_timeout_ms;
    n->cfg.handshake_timeout_ms = c.handshake_timeout_ms;
    n->cfg.connect_timeout_ms = c.connect_timeout_ms;
    n->cfg.write_queue_cap = c.write_queue_cap;
    return 0;
}

int net_listener_set_tls(struct net *n, unsigned id, const struct net_tls_config *tls)
{
    if (id >= n->n_listeners || n->listeners[id].ep.transport != PBX_TP_TLS ||
        n->listeners[id].removed)
        return -ENOENT;
    SSL_CTX *ctx = NULL;
    int rc = net_tls_server_ctx(tls, &ctx);
    if (rc < 0)
        return rc;
    /* Live SSL objects hold their own reference to the old context. */
    SSL_CTX_free(n->listeners[id].ssl_ctx);
    n->listeners[id].ssl_ctx = ctx;
    return 0;
}

void net_stats_get(const struct net *n, struct net_stats *out)
{
    *out = n->stats;
    out->conns_open = n->n_conns;
}
