/* Listeners: UDP receive in recvmmsg() batches, TCP/TLS accept. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_internal.h"

/* Accepts per readiness event, so one busy listener cannot starve the loop. */
#define ACCEPT_BATCH 64
/* recvmmsg() calls per readiness event. */
#define UDP_ROUNDS 8
/* Pause after accept() failed for lack of descriptors or memory. */
#define ACCEPT_RETRY_MS 100

static void on_accept(void *ctx, int fd, uint32_t events);

static bool is_keepalive(const uint8_t *p, size_t len)
{
    /* CRLF (or bare whitespace) datagrams are NAT keep-alives, not SIP messages. */
    for (size_t i = 0; i < len; i++)
        if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\t' && p[i] != '\0')
            return false;
    return true;
}

static void local_from_pktinfo(struct msghdr *mh, const struct listener *li, struct pbx_addr *out)
{
    *out = li->ep.addr;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
            out->family = AF_INET;
            out->ip.v4 = pi.ipi_addr;
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
            out->family = AF_INET6;
            out->ip.v6 = pi.ipi6_addr;
        }
    }
}

static void read_udp(struct listener *li, int fd)
{
    struct net *n = li->n;
    struct mmsghdr msgs[NET_UDP_BATCH];
    struct iovec iov[NET_UDP_BATCH];
    struct sockaddr_storage from[NET_UDP_BATCH];

    for (int round = 0; round < UDP_ROUNDS && li->watching; round++) {
        for (size_t i = 0; i < NET_UDP_BATCH; i++) {
            iov[i].iov_base = n->udp_bufs + i * NET_UDP_MAX;
            iov[i].iov_len = NET_UDP_MAX;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = n->udp_ctrl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof(n->udp_ctrl[i]);
        }
        int got = recvmmsg(fd, msgs, NET_UDP_BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0)
            return;
        for (int i = 0; i < got; i++) {
            struct msghdr *mh = &msgs[i].msg_hdr;
            const uint8_t *buf = iov[i].iov_base;
            size_t len = msgs[i].msg_len;
            struct net_msg m = {
                .buf = buf, .len = len, .transport = PBX_TP_UDP, .listener_id = li->id};
            if (pbx_addr_from_sockaddr((struct sockaddr *)&from[i], mh->msg_namelen, &m.remote) < 0)
                continue;
            m.remote = pbx_addr_unmap(&m.remote);
            if (n->h.admit && !n->h.admit(n->h.ctx, &m.remote, PBX_TP_UDP)) {
                n->stats.udp_rx_denied++;
                continue;
            }
            /* A truncated datagram would be parsed as a different message than was sent. */
            if ((mh->msg_flags & MSG_TRUNC) || len == 0 || is_keepalive(buf, len))
                continue;
            local_from_pktinfo(mh, li, &m.local);
            n->stats.udp_rx++;
            n->h.on_msg(n->h.ctx, &m);
            if (!li->watching)
                return;
        }
        if (got < NET_UDP_BATCH)
            return;
    }
}

static void on_udp(void *ctx, int fd, uint32_t events)
{
    struct listener *li = ctx;
    (void)events;
    /* What the batch makes (forwards, answers) leaves together at its end. */
    net_udp_tx_begin(li->n);
    read_udp(li, fd);
    net_udp_tx_end(li->n);
}

static void on_accept_retry(void *ctx, struct net_timer *t)
{
    struct listener *li = ctx;
    if (li->n->draining || li->fd < 0 || li->watching)
        return;
    if (net_loop_add_fd(li->n->loop, li->fd, EPOLLIN, on_accept, li) == 0)
        li->watching = true;
    else if (net_timer_add(li->n->loop, &li->retry, ACCEPT_RETRY_MS, 0) < 0)
        li->watching = false; /* nothing more to try; the listener stays paused */
}

/*
 * Out of descriptors: the pending connection stays in the backlog and the listening socket
 * stays readable, so a level-triggered loop would spin. Stop watching it for a moment.
 */
static void pause_accept(struct listener *li)
{
    struct net *n = li->n;
    n->stats.conns_over_cap++;
    net_loop_del_fd(n->loop, li->fd);
    li->watching = false;
    if (net_timer_add(n->loop, &li->retry, ACCEPT_RETRY_MS, 0) < 0)
        on_accept_retry(li, &li->retry);
}

static void on_accept(void *ctx, int fd, uint32_t events)
{
    struct listener *li = ctx;
    struct net *n = li->n;
    for (int i = 0; i < ACCEPT_BATCH && li->watching; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accept(li);
            return;
        }
        struct pbx_addr remote;
        if (pbx_addr_from_sockaddr((struct sockaddr *)&ss, sl, &remote) < 0) {
            close(cfd);
            continue;
        }
        remote = pbx_addr_unmap(&remote);
        /* The prefilter runs before a single byte of the connection is read. */
        if (n->h.admit && !n->h.admit(n->h.ctx, &remote, li->ep.transport)) {
            n->stats.conns_denied++;
            close(cfd);
            continue;
        }
        if (net_conn_accept(n, li, cfd, &remote) < 0)
            continue; /* the fd is closed and the reason counted */
    }
}

int net_listeners_watch(struct net *n)
{
    for (size_t i = 0; i < n->n_listeners; i++) {
        struct listener *li = &n->listeners[i];
        if (li->watching || li->fd < 0)
            continue;
        net_fd_fn fn = li->ep.transport == PBX_TP_UDP ? on_udp : on_accept;
        int rc = net_loop_add_fd(n->loop, li->fd, EPOLLIN, fn, li);
        if (rc < 0)
            return rc;
        li->watching = true;
    }
    return 0;
}

void net_listeners_unwatch(struct net *n)
{
    for (size_t i = 0; i < n->n_listeners; i++) {
        struct listener *li = &n->listeners[i];
        if (li->watching)
            net_loop_del_fd(n->loop, li->fd);
        li->watching = false;
        net_timer_cancel(n->loop, &li->retry);
    }
}

/* Binds lc into the free slot li (id already set). */
static int listener_bind(struct net *n, struct listener *li, const struct net_listener_config *lc)
{
    int rc;
    li->n = n;
    li->fd = -1;
    li->removed = false;
    li->watching = false;
    net_timer_init(&li->retry, on_accept_retry, li);
    if (lc->ep.transport == PBX_TP_TLS) {
        rc = net_tls_server_ctx(&lc->tls, &li->ssl_ctx);
        if (rc < 0)
            return rc;
    }
    rc = net_socket_bind(&lc->ep, n->cfg.udp_buffer, &li->fd);
    if (rc < 0)
        return rc;
    li->ep.transport = lc->ep.transport;
    return net_sock_local(li->fd, &li->ep.addr);
}

static void listener_close(struct net *n, struct listener *li)
{
    if (li->watching)
        net_loop_del_fd(n->loop, li->fd);
    li->watching = false;
    net_timer_cancel(n->loop, &li->retry);
    if (li->fd >= 0)
        close(li->fd);
    li->fd = -1;
    SSL_CTX_free(li->ssl_ctx);
    li->ssl_ctx = NULL;
}

int net_listener_add(struct net *n, const struct net_listener_config *lc, unsigned *id_out)
{
    if (!n || !lc || !id_out)
        return -EINVAL;
    if (lc->ep.transport == PBX_TP_TLS && (!lc->tls.cert_file || !lc->tls.key_file))
        return -EINVAL;
    if (n->n_listeners >= NET_MAX_LISTENERS)
        return -ENOSPC;
    struct listener *li = &n->listeners[n->n_listeners];
    memset(li, 0, sizeof(*li));
    li->id = (unsigned)n->n_listeners;
    int rc = listener_bind(n, li, lc);
    if (rc < 0) {
        listener_close(n, li);
        return rc;
    }
    n->n_listeners++;
    /* Watched at once, like the listeners of net_new(); a draining instance accepts
     * nothing new, so the socket then only waits for the end. */
    if (!n->draining && (rc = net_listeners_watch(n)) < 0) {
        n->n_listeners--;
        listener_close(n, li);
        return rc;
    }
    *id_out = li->id;
    return 0;
}

int net_listener_remove(struct net *n, unsigned id)
{
    if (!n || id >= n->n_listeners || n->listeners[id].removed)
        return -ENOENT;
    /* Only the socket goes: connections it accepted keep their listener_id and live on
     * until they close, so calls on them are not cut by a reload. */
    listener_close(n, &n->listeners[id]);
    n->listeners[id].removed = true;
    return 0;
}

int net_listeners_open(struct net *n, const struct net_config *cfg)
{
    int rc = 0;
    if (cfg->n_listeners > NET_MAX_LISTENERS || (cfg->n_listeners && !cfg->listeners))
        return -EINVAL;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        struct listener *li = &n->listeners[i];
        li->id = (unsigned)i;
        n->n_listeners = i + 1;
        rc = listener_bind(n, li, &cfg->listeners[i]);
        if (rc < 0)
            goto out;
    }
    return 0;
out:
    net_listeners_close(n);
    return rc;
}

void net_listeners_close(struct net *n)
{
    for (size_t i = 0; i < n->n_listeners; i++)
        listener_close(n, &n->listeners[i]);
    n->n_listeners = 0;
}
