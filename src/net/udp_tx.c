/*
 * UDP send batching: while one recvmmsg() batch is being handled, the datagrams it makes
 * are queued and leave in one sendmmsg() at the end of the batch, one system call instead
 * of one per datagram. Outside a batch (timers, TCP input) datagrams leave at once.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "net_internal.h"

void net_udp_tx_begin(struct net *n)
{
    n->txq.active = true;
}

void net_udp_tx_flush(struct net *n)
{
    struct net_udp_txq *q = &n->txq;
    unsigned sent = 0;

    while (sent < q->n) {
        int r = sendmmsg(q->fd, q->msgs + sent, q->n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        n->stats.udp_tx_calls++;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* The first datagram left failed: count it lost and go on with the rest. */
            n->stats.udp_tx_errors++;
            sent++;
            continue;
        }
        n->stats.udp_tx += (unsigned)r;
        sent += (unsigned)r;
    }
    q->n = 0;
    q->used = 0;
}

void net_udp_tx_end(struct net *n)
{
    net_udp_tx_flush(n);
    n->txq.active = false;
}

int net_udp_tx_queue(struct net *n, int fd, const struct sockaddr_storage *to, socklen_t tolen,
                     const uint8_t *buf, size_t len)
{
    struct net_udp_txq *q = &n->txq;

    if (!q->active || len > sizeof(q->bytes))
        return -EAGAIN; /* not batching, or too large to copy: the caller sends it now */
    if (q->n == NET_UDP_BATCH || q->used + len > sizeof(q->bytes) || (q->n > 0 && q->fd != fd))
        net_udp_tx_flush(n);
    unsigned i = q->n++;
    q->fd = fd;
    memcpy(q->bytes + q->used, buf, len);
    memcpy(&q->to[i], to, tolen);
    q->iov[i].iov_base = q->bytes + q->used;
    q->iov[i].iov_len = len;
    memset(&q->msgs[i], 0, sizeof(q->msgs[i]));
    q->msgs[i].msg_hdr.msg_name = &q->to[i];
    q->msgs[i].msg_hdr.msg_namelen = tolen;
    q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
    q->msgs[i].msg_hdr.msg_iovlen = 1;
    q->used += len;
    return 0;
}
