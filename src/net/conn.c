/*
 * TCP and TLS connections: a bounded table, per-source counts, the read buffer fed to the
 * SIP stream framer, a capped write queue, and one timer per connection for the connect,
 * handshake and idle deadlines.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_internal.h"

/* Reads per readiness event on a plain TCP connection (level-triggered: the rest waits). */
#define READ_ROUNDS 8

static const uint8_t crlf_pong[2] = {'\r', '\n'};

/* ---- tables ---- */

static size_t bucket_of(const struct net *n, const struct pbx_addr *a, bool with_port)
{
    return (size_t)(net_hash_addr(n, a, with_port) & (n->n_buckets - 1));
}

int net_conns_init(struct net *n)
{
    size_t max = n->cfg.max_conns;
    n->slot_cap = n->cfg.max_conns;
    size_t b = 64;
    while (b < max)
        b *= 2;
    n->n_buckets = b;
    n->slots = calloc(max, sizeof(*n->slots));
    n->free_slots = calloc(max, sizeof(*n->free_slots));
    n->by_addr = calloc(b, sizeof(*n->by_addr));
    n->by_src = calloc(b, sizeof(*n->by_src));
    if (!n->slots || !n->free_slots || !n->by_addr || !n->by_src)
        return -ENOMEM;
    /* Lowest slots first, so ids are handed out in a predictable order. */
    for (size_t i = 0; i < max; i++)
        n->free_slots[i] = (uint32_t)(max - 1 - i);
    n->n_free = max;
    return 0;
}

static void conn_free(struct conn *c)
{
    SSL_free(c->ssl);
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

void net_conns_fini(struct net *n)
{
    if (n->slots) {
        for (size_t i = 0; i < n->slot_cap; i++) {
            struct conn *c = n->slots[i];
            if (!c)
                continue;
            net_timer_cancel(n->loop, &c->timer);
            net_loop_del_fd(n->loop, c->fd);
            close(c->fd);
            conn_free(c);
        }
    }
    if (n->by_src) {
        for (size_t i = 0; i < n->n_buckets; i++) {
            struct src_count *s = n->by_src[i];
            while (s) {
                struct src_count *next = s->next;
                free(s);
                s = next;
            }
        }
    }
    free(n->slots);
    free(n->free_slots);
    free(n->by_addr);
    free(n->by_src);
    n->slots = NULL;
    n->free_slots = NULL;
    n->by_addr = NULL;
    n->by_src = NULL;
}

/*
 * The source of a connection for the per-source cap: the IPv4 address, or the IPv6 /64,
 * since one IPv6 host usually holds a whole /64 and could otherwise open cap connections
 * from each of its addresses.
 */
static struct pbx_addr source_key(const struct pbx_addr *remote)
{
    struct pbx_addr k = remote->family == AF_INET6 ? pbx_addr_mask(remote, 64) : *remote;
    k.port = 0;
    return k;
}

static struct src_count **src_find(struct net *n, const struct pbx_addr *remote)
{
    struct pbx_addr key = source_key(remote);
    struct src_count **pp = &n->by_src[bucket_of(n, &key, false)];
    while (*pp && !pbx_addr_eq(&(*pp)->ip, &key, false))
        pp = &(*pp)->next;
    return pp;
}

static unsigned src_get(struct net *n, const struct pbx_addr *ip)
{
    struct src_count *s = *src_find(n, ip);
    return s ? s->count : 0;
}

static int src_inc(struct net *n, const struct pbx_addr *ip)
{
    struct src_count **pp = src_find(n, ip);
    if (!*pp) {
        struct src_count *s = calloc(1, sizeof(*s));
        if (!s)
            return -ENOMEM;
        s->ip = source_key(ip);
        *pp = s;
    }
    (*pp)->count++;
    return 0;
}

static void src_dec(struct net *n, const struct pbx_addr *ip)
{
    struct src_count **pp = src_find(n, ip);
    struct src_count *s = *pp;
    if (!s)
        return;
    if (--s->count == 0) {
        *pp = s->next;
        free(s);
    }
}

struct conn *net_conn_by_id(const struct net *n, uint64_t id)
{
    uint64_t slot = (id & 0xffffffffu);
    if (slot == 0 || slot > n->slot_cap)
        return NULL;
    struct conn *c = n->slots[slot - 1];
    if (!c || c->id != id || c->state == CONN_CLOSED)
        return NULL;
    return c;
}

struct conn *net_conn_by_addr(const struct net *n, enum pbx_transport tp,
                              const struct pbx_addr *remote)
{
    struct conn *found = NULL;
    for (struct conn *c = n->by_addr[bucket_of(n, remote, true)]; c; c = c->next_addr) {
        if (c->tp != tp || c->state == CONN_CLOSED || !pbx_addr_eq(&c->remote, remote, true))
            continue;
        /* An established connection beats one still being set up. */
        if (c->state == CONN_OPEN)
            return c;
        if (!found)
            found = c;
    }
    return found;
}

static void link_addr(struct conn *c)
{
    struct conn **head = &c->n->by_addr[bucket_of(c->n, &c->remote, true)];
    c->next_addr = *head;
    *head = c;
}

static void unlink_addr(struct conn *c)
{
    struct conn **pp = &c->n->by_addr[bucket_of(c->n, &c->remote, true)];
    while (*pp && *pp != c)
        pp = &(*pp)->next_addr;
    if (*pp)
        *pp = c->next_addr;
}

/* ---- lifecycle ---- */

static void on_conn_event(void *ctx, int fd, uint32_t events);
static void on_conn_timer(void *ctx, struct net_timer *t);

static void release(struct conn *c)
{
    if (--c->busy == 0 && c->state == CONN_CLOSED)
        conn_free(c);
}

void net_conn_close(struct conn *c, int reason)
{
    struct net *n = c->n;
    if (c->state == CONN_CLOSED)
        return;
    c->state = CONN_CLOSED;
    net_timer_cancel(n->loop, &c->timer);
    net_loop_del_fd(n->loop, c->fd);
    if (c->ssl && reason == 0)
        (void)SSL_shutdown(c->ssl); /* best effort close_notify; never waits */
    ERR_clear_error();
    close(c->fd);
    c->fd = -1;
    unlink_addr(c);
    n->slots[c->slot] = NULL;
    n->free_slots[n->n_free++] = c->slot;
    if (c->counted_source)
        src_dec(n, &c->remote);
    n->n_conns--;
    n->stats.conns_closed++;
    uint64_t id = c->id;
    struct pbx_addr remote = c->remote;
    c->busy++;
    if (n->h.on_close)
        n->h.on_close(n->h.ctx, id, &remote, reason);
    release(c);
    if (n->draining)
        net_drain_progress(n);
}

static int conn_new(struct net *n, int fd, enum pbx_transport tp, const struct pbx_addr *remote,
                    struct conn **out)
{
    if (n->n_conns >= n->cfg.max_conns || n->n_free == 0) {
        n->stats.conns_over_cap++;
        return -EMFILE;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->n = n;
    c->fd = fd;
    c->tp = tp;
    c->remote = *remote;
    c->slot = n->free_slots[--n->n_free];
    n->id_gen++;
    if (n->id_gen == 0)
        n->id_gen = 1;
    c->id = ((uint64_t)n->id_gen << 32) | (c->slot + 1u);
    c->listener_id = NET_ANY_LISTENER;
    c->last_active_ms = net_loop_now_ms(n->loop);
    sip_framer_init(&c->framer);
    net_timer_init(&c->timer, on_conn_timer, c);
    n->slots[c->slot] = c;
    n->n_conns++;
    link_addr(c);
    *out = c;
    return 0;
}

/* Undoes conn_new() for a connection that never went live (no on_close callback). */
static void conn_abort(struct conn *c)
{
    struct net *n = c->n;
    net_timer_cancel(n->loop, &c->timer);
    net_loop_del_fd(n->loop, c->fd);
    close(c->fd);
    unlink_addr(c);
    n->slots[c->slot] = NULL;
    n->free_slots[n->n_free++] = c->slot;
    if (c->counted_source)
        src_dec(n, &c->remote);
    n->n_conns--;
    conn_free(c);
}

static uint32_t wanted_events(const struct conn *c)
{
    if (c->state == CONN_CONNECTING)
        return EPOLLOUT;
    uint32_t ev = EPOLLIN | EPOLLRDHUP;
    if (c->tls_want_write || (c->state == CONN_OPEN && c->wlen > c->woff))
        ev |= EPOLLOUT;
    return ev;
}

static void update_events(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    uint32_t ev = wanted_events(c);
    if (ev == c->events)
        return;
    if (net_loop_mod_fd(c->n->loop, c->fd, ev) < 0) {
        net_conn_close(c, -EIO);
        return;
    }
    c->events = ev;
}

static int arm_deadline(struct conn *c, unsigned ms)
{
    return net_timer_add(c->n->loop, &c->timer, ms, 0);
}

static void tune_socket(int fd)
{
    int one = 1;
    /* SIP messages are written whole; Nagle would only add latency. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int net_conn_accept(struct net *n, struct listener *li, int fd, const struct pbx_addr *remote)
{
    struct conn *c = NULL;
    int rc;
    if (n->draining) {
        close(fd);
        return -ESHUTDOWN;
    }
    if (src_get(n, remote) >= n->cfg.max_conns_per_source) {
        n->stats.conns_over_source_cap++;
        close(fd);
        return -EMFILE;
    }
    rc = conn_new(n, fd, li->ep.transport, remote, &c);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    c->listener_id = li->id;
    if ((rc = src_inc(n, remote)) < 0)
        goto out;
    c->counted_source = true;
    tune_socket(fd);
    if ((rc = net_sock_local(fd, &c->local)) < 0)
        goto out;
    if (c->tp == PBX_TP_TLS) {
        c->ssl = SSL_new(li->ssl_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
            rc = -ENOMEM;
            goto out;
        }
        SSL_set_accept_state(c->ssl);
        c->state = CONN_HANDSHAKE;
        rc = arm_deadline(c, n->cfg.handshake_timeout_ms);
    } else {
        c->state = CONN_OPEN;
        rc = arm_deadline(c, n->cfg.idle_timeout_ms);
    }
    if (rc < 0)
        goto out;
    c->events = wanted_events(c);
    if ((rc = net_loop_add_fd(n->loop, fd, c->events, on_conn_event, c)) < 0)
        goto out;
    n->stats.conns_accepted++;
    return 0;
out:
    conn_abort(c);
    return rc;
}

int net_conn_connect(struct net *n, enum pbx_transport tp, const struct pbx_addr *remote,
                     struct conn **out)
{
    struct conn *c = NULL;
    int rc;
    if (tp == PBX_TP_TLS && !n->client_ctx)
        return -ENOTCONN;
    if (remote->family != AF_INET && remote->family != AF_INET6)
        return -EINVAL;
    if (n->n_conns >= n->cfg.max_conns) {
        n->stats.conns_over_cap++;
        return -EMFILE;
    }
    int fd = socket(remote->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if ((rc = conn_new(n, fd, tp, remote, &c)) < 0) {
        close(fd);
        return rc;
    }
    c->outbound = true;
    tune_socket(fd);
    if (tp == PBX_TP_TLS) {
        char ip[PBX_ADDR_STRLEN];
        c->ssl = SSL_new(n->client_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
            rc = -ENOMEM;
            goto out;
        }
        /* The upstream's certificate must name the address we dialled. */
        pbx_addr_fmt_ip(remote, ip, sizeof(ip));
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip) != 1) {
            rc = -EINVAL;
            goto out;
        }
        SSL_set_connect_state(c->ssl);
    }
    struct sockaddr_storage ss;
    socklen_t sl = pbx_addr_to_sockaddr(remote, &ss);
    c->state = CONN_CONNECTING;
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        rc = -errno;
        goto out;
    }
    /* Even an immediate success goes through the writable path, which finishes set-up. */
    if ((rc = arm_deadline(c, n->cfg.connect_timeout_ms)) < 0)
        goto out;
    c->events = wanted_events(c);
    if ((rc = net_loop_add_fd(n->loop, fd, c->events, on_conn_event, c)) < 0)
        goto out;
    n->stats.conns_outbound++;
    *out = c;
    return 0;
out:
    conn_abort(c);
    return rc;
}

/* ---- writing ---- */

/* Writes what the socket takes now. Returns bytes written (>= 0) or -errno (fatal). */
static ssize_t raw_write(struct conn *c, const uint8_t *p, size_t len)
{
    if (len == 0)
        return 0;
    if (c->ssl) {
        int chunk = len > INT32_MAX ? INT32_MAX : (int)len;
        ERR_clear_error();
        int w = SSL_write(c->ssl, p, chunk);
        if (w > 0) {
            c->tls_want_write = false;
            return w;
        }
        switch (SSL_get_error(c->ssl, w)) {
        case SSL_ERROR_WANT_WRITE:
            c->tls_want_write = true;
            return 0;
        case SSL_ERROR_WANT_READ:
            return 0;
        default:
            return -EPROTO;
        }
    }
    ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w >= 0)
        return w;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -errno;
}

/* Flushes the queue. Returns 0 (possibly with bytes left) or -errno (connection closed). */
static int flush(struct conn *c)
{
    while (c->wlen > c->woff) {
        ssize_t w = raw_write(c, c->wbuf + c->woff, c->wlen - c->woff);
        if (w < 0) {
            net_conn_close(c, (int)w);
            return (int)w;
        }
        if (w == 0)
            break;
        c->woff += (size_t)w;
        c->last_active_ms = net_loop_now_ms(c->n->loop);
    }
    if (c->woff == c->wlen) {
        c->woff = c->wlen = 0;
        /* Give back a queue that grew for a burst; idle connections stay small. */
        if (c->wcap > 16384) {
            free(c->wbuf);
            c->wbuf = NULL;
            c->wcap = 0;
        }
        if (c->n->draining)
            net_drain_progress(c->n);
    }
    update_events(c);
    return 0;
}

static int enqueue(struct conn *c, const uint8_t *p, size_t len)
{
    if (c->woff > 0 && c->wlen + len > c->wcap) {
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
        c->wlen -= c->woff;
        c->woff = 0;
    }
    if (c->wlen + len > c->wcap) {
        size_t cap = c->wcap ? c->wcap : 4096;
        while (cap < c->wlen + len)
            cap *= 2;
        uint8_t *nb = realloc(c->wbuf, cap);
        if (!nb)
            return -ENOMEM;
        c->wbuf = nb;
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->wlen, p, len);
    c->wlen += len;
    return 0;
}

int net_conn_write(struct conn *c, const uint8_t *buf, size_t len)
{
    struct net *n = c->n;
    if (c->state == CONN_CLOSED)
        return -ENOTCONN;
    size_t pending = c->wlen - c->woff;
    if (pending + len > n->cfg.write_queue_cap) {
        /* A peer that does not read its messages is dropped rather than buffered for. */
        n->stats.write_queue_overflows++;
        net_conn_close(c, -EMSGSIZE);
        return -EMSGSIZE;
    }
    size_t done = 0;
    if (pending == 0 && c->state == CONN_OPEN && !c->tls_want_write) {
        ssize_t w = raw_write(c, buf, len);
        if (w < 0) {
            net_conn_close(c, (int)w);
            return (int)w;
        }
        done = (size_t)w;
        c->last_active_ms = net_loop_now_ms(n->loop);
    }
    if (done < len) {
        int rc = enqueue(c, buf + done, len - done);
        if (rc < 0) {
            net_conn_close(c, rc);
            return rc;
        }
    }
    update_events(c);
    return 0;
}

/* ---- reading ---- */

static void deliver(struct conn *c, const uint8_t *p, size_t len)
{
    struct net *n = c->n;
    struct net_msg m = {
        .buf = p,
        .len = len,
        .transport = c->tp,
        .remote = c->remote,
        .local = c->local,
        .listener_id = c->listener_id,
        .conn_id = c->id,
        .tls_peer_verified = c->tls_verified,
    };
    n->stats.stream_rx++;
    n->h.on_msg(n->h.ctx, &m);
}

/* Frames and dispatches everything complete in rbuf. Returns 0 or -errno (closed). */
static int process(struct conn *c)
{
    size_t off = 0;
    int rc = 0;
    while (c->state == CONN_OPEN && off < c->rlen) {
        struct sip_frame fr;
        rc = sip_framer_next(&c->framer, c->rbuf + off, c->rlen - off, &fr);
        if (rc == -EAGAIN) {
            rc = 0;
            break;
        }
        if (rc < 0) {
            /* Oversized header section, bad Content-Length or garbage: the stream can no
             * longer be framed, so the connection goes. */
            c->n->stats.framing_errors++;
            net_conn_close(c, rc);
            return rc;
        }
        if (fr.len == 0 || fr.len > c->rlen - off) {
            net_conn_close(c, -EBADMSG);
            return -EBADMSG;
        }
        size_t at = off;
        off += fr.len;
        switch (fr.kind) {
        case SIP_FRAME_MESSAGE:
            deliver(c, c->rbuf + at, fr.len);
            break;
        case SIP_FRAME_PING:
            /* RFC 5626 §4.4.1: a double-CRLF ping is answered with a single CRLF pong. */
            c->n->stats.keepalive_pongs++;
            if (net_conn_write(c, crlf_pong, sizeof(crlf_pong)) < 0)
                return -EPIPE;
            break;
        default:
            break;
        }
    }
    if (c->state == CONN_CLOSED)
        return -ECONNABORTED;
    if (off > 0) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    if (c->rlen == 0 && c->rcap > NET_RBUF_MIN) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = 0;
    }
    return 0;
}

static int grow_rbuf(struct conn *c)
{
    if (c->rcap - c->rlen >= 1024 || c->rcap >= NET_RBUF_CAP)
        return c->rcap > c->rlen ? 0 : -EMSGSIZE;
    size_t cap = c->rcap ? c->rcap * 2 : NET_RBUF_MIN;
    if (cap > NET_RBUF_CAP)
        cap = NET_RBUF_CAP;
    uint8_t *nb = realloc(c->rbuf, cap);
    if (!nb)
        return -ENOMEM;
    c->rbuf = nb;
    c->rcap = cap;
    return 0;
}

/* One read into rbuf. Returns bytes (> 0), 0 for "nothing now", or -errno / -EPIPE (EOF). */
static ssize_t raw_read(struct conn *c)
{
    int rc = grow_rbuf(c);
    if (rc < 0)
        return rc;
    size_t room = c->rcap - c->rlen;
    if (c->ssl) {
        ERR_clear_error();
        int r = SSL_read(c->ssl, c->rbuf + c->rlen, room > INT32_MAX ? INT32_MAX : (int)room);
        if (r > 0)
            return r;
        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_READ:
            return 0;
        case SSL_ERROR_WANT_WRITE:
            c->tls_want_write = true;
            return 0;
        case SSL_ERROR_ZERO_RETURN:
            return -EPIPE;
        default:
            return -EPROTO;
        }
    }
    ssize_t r = recv(c->fd, c->rbuf + c->rlen, room, MSG_DONTWAIT);
    if (r > 0)
        return r;
    if (r == 0)
        return -EPIPE;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -errno;
}

static void do_read(struct conn *c)
{
    /* TLS reads continue until OpenSSL has nothing buffered: epoll cannot see its buffer. */
    for (int round = 0; c->state == CONN_OPEN && (c->ssl || round < READ_ROUNDS); round++) {
        ssize_t r = raw_read(c);
        if (r == 0)
            return;
        if (r < 0) {
            if (r == -EMSGSIZE)
                c->n->stats.framing_errors++;
            net_conn_close(c, r == -EPIPE ? NET_CLOSE_PEER : (int)r);
            return;
        }
        c->rlen += (size_t)r;
        c->last_active_ms = net_loop_now_ms(c->n->loop);
        if (process(c) < 0)
            return;
    }
}

/* ---- state machine ---- */

static void became_open(struct conn *c)
{
    struct net *n = c->n;
    c->state = CONN_OPEN;
    c->last_active_ms = net_loop_now_ms(n->loop);
    if (c->ssl) {
        X509 *peer = SSL_get0_peer_certificate(c->ssl);
        c->tls_verified = peer && SSL_get_verify_result(c->ssl) == X509_V_OK;
    }
    if (arm_deadline(c, n->cfg.idle_timeout_ms) < 0) {
        net_conn_close(c, -ENOMEM);
        return;
    }
    if (flush(c) < 0)
        return;
    /* The handshake's last flight may have carried application data already. */
    if (c->ssl && SSL_pending(c->ssl) > 0)
        do_read(c);
}

static void do_handshake(struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->tls_want_write = false;
        became_open(c);
        return;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        c->tls_want_write = false;
        break;
    case SSL_ERROR_WANT_WRITE:
        c->tls_want_write = true;
        break;
    default:
        c->n->stats.tls_handshake_failures++;
        net_conn_close(c, -EPROTO);
        return;
    }
    update_events(c);
}

static void finish_connect(struct conn *c)
{
    int err = 0;
    socklen_t sl = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
        err = errno;
    if (err != 0) {
        net_conn_close(c, -err);
        return;
    }
    if (net_sock_local(c->fd, &c->local) < 0) {
        net_conn_close(c, -EIO);
        return;
    }
    if (c->ssl) {
        /* The connect deadline covers the handshake too. */
        c->state = CONN_HANDSHAKE;
        do_handshake(c);
        return;
    }
    became_open(c);
}

static void on_conn_event(void *ctx, int fd, uint32_t events)
{
    struct conn *c = ctx;
    c->busy++;
    switch (c->state) {
    case CONN_CONNECTING:
        finish_connect(c);
        break;
    case CONN_HANDSHAKE:
        if (events & (EPOLLERR | EPOLLHUP))
            net_conn_close(c, -ECONNRESET);
        else
            do_handshake(c);
        break;
    case CONN_OPEN: {
        /* An SSL_read() that wanted writability is retried once the socket is writable. */
        bool retry_read = c->ssl && c->tls_want_write && (events & EPOLLOUT);
        if ((events & EPOLLOUT) && (c->wlen > c->woff || c->tls_want_write)) {
            c->tls_want_write = false;
            if (flush(c) < 0)
                break;
        }
        if (retry_read || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            do_read(c);
        update_events(c);
        break;
    }
    case CONN_CLOSED:
        break;
    }
    release(c);
}

static void on_conn_timer(void *ctx, struct net_timer *t)
{
    struct conn *c = ctx;
    struct net *n = c->n;
    c->busy++;
    switch (c->state) {
    case CONN_CONNECTING:
        n->stats.connect_timeouts++;
        net_conn_close(c, -ETIMEDOUT);
        break;
    case CONN_HANDSHAKE:
        if (c->outbound)
            n->stats.connect_timeouts++;
        else
            n->stats.handshake_timeouts++;
        net_conn_close(c, -ETIMEDOUT);
        break;
    case CONN_OPEN: {
        /* Activity does not touch the heap; the deadline is re-checked lazily here. */
        int64_t idle = net_loop_now_ms(n->loop) - c->last_active_ms;
        if (idle >= (int64_t)n->cfg.idle_timeout_ms) {
            n->stats.idle_timeouts++;
            net_conn_close(c, -ETIMEDOUT);
        } else if (arm_deadline(c, n->cfg.idle_timeout_ms - (unsigned)idle) < 0) {
            net_conn_close(c, -ENOMEM);
        }
        break;
    }
    case CONN_CLOSED:
        break;
    }
    release(c);
}

bool net_conns_flushed(const struct net *n)
{
    for (size_t i = 0; i < n->slot_cap; i++) {
        const struct conn *c = n->slots[i];
        if (c && c->state != CONN_CLOSED && c->wlen > c->woff)
            return false;
    }
    return true;
}
