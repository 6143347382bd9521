/*
 * Helpers for the net tests: a recording/echoing handler, loop pumping with a deadline,
 * and loopback client sockets. Everything runs on one thread: the test drives the
 * server's loop between client steps, so no sleeps are needed for synchronisation.
 */
#ifndef PBXGUARD_TEST_NET_H
#define PBXGUARD_TEST_NET_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/net/net.h"

#define SRV_KEEP 70000

struct srv {
    struct net *n;
    bool echo;
    unsigned msgs;
    unsigned closes;
    int last_close_reason;
    struct net_msg last; /* buf points at last_buf */
    uint8_t last_buf[SRV_KEEP];
    bool deny_enabled;
    struct pbx_addr deny; /* admit() refuses this IP when deny_enabled */
    unsigned denied;
};

static void srv_on_msg(void *ctx, const struct net_msg *m)
{
    struct srv *s = ctx;
    s->msgs++;
    s->last = *m;
    size_t len = m->len < SRV_KEEP ? m->len : SRV_KEEP;
    memcpy(s->last_buf, m->buf, len);
    s->last.buf = s->last_buf;
    s->last.len = len;
    if (s->echo) {
        struct net_dest d = {.transport = m->transport,
                             .addr = m->remote,
                             .conn_id = m->conn_id,
                             .listener_id = m->listener_id};
        /* The test checks what the client receives, not the return code. */
        int rc = net_send(s->n, &d, m->buf, m->len);
        (void)rc;
    }
}

static bool srv_admit(void *ctx, const struct pbx_addr *remote, enum pbx_transport tp)
{
    struct srv *s = ctx;
    if (s->deny_enabled && pbx_addr_eq(remote, &s->deny, false)) {
        s->denied++;
        return false;
    }
    return true;
}

static void srv_on_close(void *ctx, uint64_t id, const struct pbx_addr *remote, int reason)
{
    struct srv *s = ctx;
    s->closes++;
    s->last_close_reason = reason;
}

static inline int srv_start(struct srv *s, const struct net_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->echo = true;
    struct net_handlers h = {srv_on_msg, srv_admit, srv_on_close, s};
    return net_new(cfg, &h, &s->n);
}

static inline void pump(struct net *n, int ms)
{
    int rc = net_loop_run_once(net_get_loop(n), ms);
    (void)rc;
}

/* Text with a ":0" port (an ephemeral port) is parsed with port 9 and then cleared, since
 * the address syntax itself refuses port 0. */
static inline bool strip_zero_port(const char *s, char *buf, size_t cap)
{
    size_t len = strlen(s);
    if (len + 1 > cap)
        abort();
    memcpy(buf, s, len + 1);
    if (len >= 2 && s[len - 2] == ':' && s[len - 1] == '0' && (len < 3 || s[len - 3] != ':')) {
        buf[len - 1] = '9';
        return true;
    }
    return false;
}

static inline struct pbx_addr addr_of(const char *s)
{
    char buf[128];
    struct pbx_addr a = {0};
    bool zero = strip_zero_port(s, buf, sizeof(buf));
    if (pbx_addr_parse(buf, strlen(buf), &a) < 0)
        abort();
    if (zero)
        a.port = 0;
    return a;
}

static inline struct pbx_endpoint ep_of(const char *s)
{
    char buf[128];
    struct pbx_endpoint e;
    bool zero = strip_zero_port(s, buf, sizeof(buf));
    if (pbx_endpoint_parse(buf, strlen(buf), &e) < 0)
        abort();
    if (zero)
        e.addr.port = 0;
    return e;
}

static inline struct pbx_addr listener_addr(struct net *n, unsigned id)
{
    struct pbx_endpoint e = {0};
    if (net_listener_endpoint(n, id, &e) < 0)
        abort();
    return e.addr;
}

/* A client socket bound to src (port 0 when src is NULL's family default) and connected. */
static inline int client_socket(int type, const struct pbx_addr *src, const struct pbx_addr *dst)
{
    int fd = socket(dst->family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_storage ss;
    socklen_t sl;
    if (src) {
        sl = pbx_addr_to_sockaddr(src, &ss);
        if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
            goto fail;
    }
    sl = pbx_addr_to_sockaddr(dst, &ss);
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
        goto fail;
    if (type == SOCK_STREAM) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
fail:
    close(fd);
    return -errno;
}

static inline bool send_all(int fd, const void *p, size_t len)
{
    return send(fd, p, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/*
 * Pumps the server loop until the client fd has `want` bytes (returns how many were read),
 * or it hits EOF/error (returns the count so far, *eof set), or max_ms passes.
 */
static inline size_t client_recv(struct net *n, int fd, uint8_t *buf, size_t want, int max_ms,
                                 bool *eof)
{
    size_t got = 0;
    int64_t end = clock_mono_ms() + max_ms;
    if (eof)
        *eof = false;
    while (got < want && clock_mono_ms() < end) {
        pump(n, 0);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 2) <= 0)
            continue;
        ssize_t r = recv(fd, buf + got, want - got, MSG_DONTWAIT);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (eof)
                *eof = true;
            break;
        }
    }
    return got;
}

/* Pumps until the client sees EOF/reset on fd (true) or max_ms passes (false). */
static inline bool client_wait_eof(struct net *n, int fd, int max_ms)
{
    uint8_t buf[4096];
    bool eof = false;
    int64_t end = clock_mono_ms() + max_ms;
    while (!eof && clock_mono_ms() < end)
        (void)client_recv(n, fd, buf, sizeof(buf), 20, &eof);
    return eof;
}

/* Pumps until *counter reaches want or max_ms passes. */
static inline bool pump_until(struct net *n, const unsigned *counter, unsigned want, int max_ms)
{
    int64_t end = clock_mono_ms() + max_ms;
    while (*counter < want && clock_mono_ms() < end)
        pump(n, 5);
    return *counter >= want;
}

static const char test_msg[] = "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\n"
                               "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-1\r\n"
                               "From: <sip:a@127.0.0.1>;tag=1\r\n"
                               "To: <sip:100@127.0.0.1>\r\n"
                               "Call-ID: abc@127.0.0.1\r\n"
                               "CSeq: 1 OPTIONS\r\n"
                               "Max-Forwards: 70\r\n"
                               "Content-Length: 5\r\n"
                               "\r\n"
                               "hello";

#endif
