/*
 * pbx_bench_relay: the physical floor of a UDP SIP edge proxy, for the gateway benchmark.
 *
 *   pbx_bench_relay LISTEN_IP:PORT UPSTREAM_IP:PORT
 *
 * Every datagram received on the listening socket from a client is sent unchanged to the
 * upstream from a socket dedicated to that client (created on its first datagram), and
 * every datagram the upstream sends to that socket goes back unchanged to the client. No
 * byte is parsed: the cost measured is epoll + recvfrom + sendto per message, which is
 * what any UDP proxy in the same position pays at least. Responses find their way back
 * because the upstream answers to the source address and port of the request (RFC 3581
 * rport, which the benchmark's SIPp scenarios request).
 *
 * IPv4 only; at most RELAY_MAX_FLOWS clients, later ones are dropped and counted. SIGINT or
 * SIGTERM stops it; the counters go to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pbxguard/core/compiler.h"

#define RELAY_MAX_FLOWS 4096u
#define RELAY_BUF 65536u
#define RELAY_EVENTS 64

/* One client and the socket that speaks for it to the upstream. */
struct relay_flow {
    struct sockaddr_in client;
    int fd;
};

struct relay {
    int front_fd;
    int epoll_fd;
    struct sockaddr_in upstream;
    struct relay_flow *flows; /* open addressing on (client address, port) */
    size_t n_flows;
    uint64_t to_upstream, to_client, dropped;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Parses "a.b.c.d:port" without the banned conversion functions. */
static PBX_WUR int parse_endpoint(const char *s, struct sockaddr_in *out)
{
    const char *colon = strrchr(s, ':');
    char host[INET_ADDRSTRLEN];
    unsigned long port = 0;
    size_t len;

    if (!colon || colon == s)
        return -EINVAL;
    len = (size_t)(colon - s);
    if (len >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, len);
    host[len] = '\0';
    if (colon[1] == '\0')
        return -EINVAL;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
        return -EINVAL;
    return 0;
}

/* A non-blocking UDP socket with large buffers: the relay must not be the one dropping. */
static PBX_WUR int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int size = 4 << 20;

    if (fd < 0)
        return -errno;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    return fd;
}

static size_t flow_slot(const struct sockaddr_in *a)
{
    /* Not attacker-facing (benchmark tool on loopback): a plain multiplicative hash. */
    uint64_t k = ((uint64_t)a->sin_addr.s_addr << 16) | a->sin_port;

    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 40) % RELAY_MAX_FLOWS;
}

/* The flow of client a, created on first use. NULL when the table is full or on error. */
static struct relay_flow *flow_get(struct relay *r, const struct sockaddr_in *a)
{
    size_t i = flow_slot(a);
    struct epoll_event ev = {.events = EPOLLIN};
    struct relay_flow *f;
    int fd;

    for (size_t n = 0; n < RELAY_MAX_FLOWS; n++, i = (i + 1) % RELAY_MAX_FLOWS) {
        f = &r->flows[i];
        if (f->fd < 0)
            break;
        if (f->client.sin_addr.s_addr == a->sin_addr.s_addr && f->client.sin_port == a->sin_port)
            return f;
    }
    if (r->n_flows + 1 >= RELAY_MAX_FLOWS || r->flows[i].fd >= 0)
        return NULL;
    fd = udp_socket();
    if (fd < 0)
        return NULL;
    if (connect(fd, (const struct sockaddr *)&r->upstream, sizeof(r->upstream)) < 0) {
        close(fd);
        return NULL;
    }
    f = &r->flows[i];
    f->client = *a;
    f->fd = fd;
    ev.data.ptr = f;
    if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        f->fd = -1;
        return NULL;
    }
    r->n_flows++;
    return f;
}

static void drain_front(struct relay *r, char *buf)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(r->front_fd, buf, RELAY_BUF, 0, (struct sockaddr *)&from, &flen);
        struct relay_flow *f;

        if (n < 0)
            return;
        f = flow_get(r, &from);
        if (!f || send(f->fd, buf, (size_t)n, 0) < 0) {
            r->dropped++;
            continue;
        }
        r->to_upstream++;
    }
}

static void drain_flow(struct relay *r, struct relay_flow *f, char *buf)
{
    for (;;) {
        ssize_t n = recv(f->fd, buf, RELAY_BUF, 0);

        if (n < 0)
            return;
        if (sendto(r->front_fd, buf, (size_t)n, 0, (const struct sockaddr *)&f->client,
                   sizeof(f->client)) < 0) {
            r->dropped++;
            continue;
        }
        r->to_client++;
    }
}

static PBX_WUR int relay_run(struct relay *r)
{
    struct epoll_event events[RELAY_EVENTS];
    char *buf = malloc(RELAY_BUF);

    if (!buf)
        return -ENOMEM;
    while (!stop_requested) {
        int n = epoll_wait(r->epoll_fd, events, RELAY_EVENTS, 500);

        if (n < 0 && errno != EINTR) {
            free(buf);
            return -errno;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                drain_front(r, buf);
            else
                drain_flow(r, events[i].data.ptr, buf);
        }
    }
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    struct relay r = {.front_fd = -1, .epoll_fd = -1};
    struct sockaddr_in listen_addr;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    struct sigaction sa = {.sa_handler = on_signal};
    int rc = 1;

    if (argc != 3 || parse_endpoint(argv[1], &listen_addr) < 0 ||
        parse_endpoint(argv[2], &r.upstream) < 0) {
        fprintf(stderr, "usage: pbx_bench_relay LISTEN_IP:PORT UPSTREAM_IP:PORT\n");
        return 2;
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    r.flows = calloc(RELAY_MAX_FLOWS, sizeof(*r.flows));
    if (!r.flows)
        goto out;
    for (size_t i = 0; i < RELAY_MAX_FLOWS; i++)
        r.flows[i].fd = -1;
    r.front_fd = udp_socket();
    r.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (r.front_fd < 0 || r.epoll_fd < 0 ||
        bind(r.front_fd, (const struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0 ||
        epoll_ctl(r.epoll_fd, EPOLL_CTL_ADD, r.front_fd, &ev) < 0) {
        perror("pbx_bench_relay: setup");
        goto out;
    }
    fprintf(stderr, "pbx_bench_relay: relaying %s -> %s\n", argv[1], argv[2]);
    if (relay_run(&r) < 0) {
        perror("pbx_bench_relay: epoll_wait");
        goto out;
    }
    fprintf(stderr, "pbx_bench_relay: to_upstream=%llu to_client=%llu dropped=%llu flows=%zu\n",
            (unsigned long long)r.to_upstream, (unsigned long long)r.to_client,
            (unsigned long long)r.dropped, r.n_flows);
    rc = 0;
out:
    if (r.flows)
        for (size_t i = 0; i < RELAY_MAX_FLOWS; i++)
            if (r.flows[i].fd >= 0)
                close(r.flows[i].fd);
    free(r.flows);
    if (r.front_fd >= 0)
        close(r.front_fd);
    if (r.epoll_fd >= 0)
        close(r.epoll_fd);
    return rc;
}
