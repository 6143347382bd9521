/*
 * UDP and TCP over loopback v4 and v6: echo through net_send, byte-split framing,
 * keep-alive pong, caps (oversize header, per-source, idle, write queue), admission,
 * outbound connections with reuse, and drain.
 */
#include <stdio.h>

#include "net_test.h"
#include "test.h"

static const size_t msg_len = sizeof(test_msg) - 1;

/* Starts the echo server with one listener on listen and the caps of cfg (whose listener
 * fields are set here), checking that it starts; *la gets the listener's bound address.
 * Returns false when there is no server to go on with. */
static bool start_one(struct srv *s, const char *listen, struct net_config cfg, struct pbx_addr *la)
{
    struct net_listener_config lc[] = {{.ep = ep_of(listen)}};
    cfg.listeners = lc;
    cfg.n_listeners = 1;
    CHECK_INT(srv_start(s, &cfg), 0);
    if (!s->n)
        return false;
    *la = listener_addr(s->n, 0);
    return true;
}

/* A socket of the test bound to an ephemeral port of addr (listening when backlog >= 0);
 * *bound gets the address with its port. */
static int bound_socket(const char *addr, int backlog, struct pbx_addr *bound)
{
    struct pbx_addr a = addr_of(addr);
    struct sockaddr_storage ss;
    socklen_t sl = pbx_addr_to_sockaddr(&a, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_INT(bind(fd, (struct sockaddr *)&ss, sl), 0);
    if (backlog >= 0)
        CHECK_INT(listen(fd, backlog), 0);
    sl = sizeof(ss);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    CHECK_INT(pbx_addr_from_sockaddr((struct sockaddr *)&ss, sl, bound), 0);
    return fd;
}

static void test_udp_echo(const char *listen, const char *client_src)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, listen, (struct net_config){0}, &la))
        return;
    CHECK(la.port != 0);
    struct pbx_addr src = addr_of(client_src);
    int fd = client_socket(SOCK_DGRAM, &src, &la);
    CHECK(fd >= 0);
    /* A bare CRLF keep-alive datagram is not a message. */
    CHECK(send_all(fd, "\r\n\r\n", 4));
    CHECK(send_all(fd, test_msg, msg_len));
    CHECK(pump_until(s.n, &s.msgs, 1, 2000));
    CHECK_INT(s.msgs, 1);
    CHECK_INT(s.last.transport, PBX_TP_UDP);
    CHECK_INT(s.last.conn_id, 0);
    CHECK_INT(s.last.listener_id, 0);
    CHECK_INT(s.last.len, msg_len);
    CHECK(memcmp(s.last.buf, test_msg, msg_len) == 0);
    CHECK(pbx_addr_eq(&s.last.local, &la, true));
    CHECK(pbx_addr_eq(&s.last.remote, &src, false));
    uint8_t buf[2048];
    size_t got = client_recv(s.n, fd, buf, msg_len, 2000, NULL);
    CHECK_INT(got, msg_len);
    CHECK(memcmp(buf, test_msg, msg_len) == 0);
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.udp_rx, 1);
    CHECK_INT(st.udp_tx, 1);
    close(fd);
    net_free(s.n);
}

static void test_tcp_echo(const char *listen, const char *client_src)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, listen, (struct net_config){0}, &la))
        return;
    struct pbx_addr src = addr_of(client_src);
    int fd = client_socket(SOCK_STREAM, &src, &la);
    CHECK(fd >= 0);
    CHECK(send_all(fd, test_msg, msg_len));
    uint8_t buf[2048];
    size_t got = client_recv(s.n, fd, buf, msg_len, 2000, NULL);
    CHECK_INT(got, msg_len);
    CHECK(memcmp(buf, test_msg, msg_len) == 0);
    CHECK_INT(s.msgs, 1);
    CHECK_INT(s.last.transport, PBX_TP_TCP);
    CHECK(s.last.conn_id != 0);
    CHECK(pbx_addr_eq(&s.last.local, &la, true));
    CHECK(net_conn_alive(s.n, s.last.conn_id, NULL));

    /* Keep-alive: RFC 5626 §4.4.1 double-CRLF ping gets a single CRLF pong. */
    CHECK(send_all(fd, "\r\n\r\n", 4));
    got = client_recv(s.n, fd, buf, 2, 2000, NULL);
    CHECK_INT(got, 2);
    CHECK(memcmp(buf, "\r\n", 2) == 0);
    CHECK_INT(s.msgs, 1);

    /* Two pipelined messages in one write arrive as two messages. */
    char two[4096];
    memcpy(two, test_msg, msg_len);
    memcpy(two + msg_len, test_msg, msg_len);
    CHECK(send_all(fd, two, 2 * msg_len));
    got = client_recv(s.n, fd, buf, 2 * msg_len, 2000, NULL);
    CHECK_INT(got, 2 * msg_len);
    CHECK_INT(s.msgs, 3);

    /* net_close drops the connection; the client sees EOF. */
    CHECK_INT(net_close(s.n, s.last.conn_id), 0);
    CHECK(!net_conn_alive(s.n, s.last.conn_id, NULL));
    CHECK_INT(net_close(s.n, s.last.conn_id), -ENOENT);
    CHECK(client_wait_eof(s.n, fd, 2000));
    CHECK_INT(s.closes, 1);
    close(fd);
    net_free(s.n);
}

/* Every split point of one message, on one connection: each arrives whole, once. */
static void test_tcp_split(void)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){0}, &la))
        return;
    s.echo = false;
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    CHECK(fd >= 0);
    unsigned bad = 0;
    for (size_t k = 1; k < msg_len; k++) {
        unsigned before = s.msgs;
        CHECK(send_all(fd, test_msg, k));
        /* Let the server read the first part on its own before the rest arrives. */
        for (int i = 0; i < 3; i++)
            pump(s.n, 1);
        if (s.msgs != before)
            bad++;
        CHECK(send_all(fd, test_msg + k, msg_len - k));
        if (!pump_until(s.n, &s.msgs, before + 1, 2000))
            bad++;
        if (s.last.len != msg_len || memcmp(s.last.buf, test_msg, msg_len) != 0)
            bad++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(s.msgs, msg_len - 1);
    /* One byte per write. */
    unsigned before = s.msgs;
    for (size_t i = 0; i < msg_len; i++) {
        CHECK(send_all(fd, test_msg + i, 1));
        pump(s.n, 0);
    }
    CHECK(pump_until(s.n, &s.msgs, before + 1, 2000));
    CHECK_INT(s.last.len, msg_len);
    CHECK(memcmp(s.last.buf, test_msg, msg_len) == 0);
    close(fd);
    net_free(s.n);
}

static void test_oversize_header(void)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){0}, &la))
        return;
    static char big[40000];

    /* Control: a header section just under the cap passes. */
    int ok = client_socket(SOCK_STREAM, NULL, &la);
    int hdr = snprintf(big, sizeof(big), "OPTIONS sip:a@b SIP/2.0\r\nX-Pad: ");
    memset(big + hdr, 'a', 15000);
    size_t len = (size_t)hdr + 15000;
    memcpy(big + len, "\r\nContent-Length: 0\r\n\r\n", 23);
    len += 23;
    CHECK(send_all(ok, big, len));
    CHECK(pump_until(s.n, &s.msgs, 1, 2000));
    CHECK_INT(s.last.len, len);

    /* Over the cap with no blank line in sight: disconnected, nothing delivered. */
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    memset(big + hdr, 'a', sizeof(big) - (size_t)hdr);
    CHECK(send_all(fd, big, 20000));
    CHECK(client_wait_eof(s.n, fd, 3000));
    CHECK_INT(s.msgs, 1);
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.framing_errors, 1);
    CHECK_INT(st.conns_open, 1);
    close(fd);
    close(ok);
    net_free(s.n);
}

static void test_source_cap_and_admit(void)
{
    struct srv s;
    struct net_listener_config lc[] = {{.ep = ep_of("tcp:127.0.0.1:0")},
                                       {.ep = ep_of("udp:127.0.0.1:0")}};
    struct net_config cfg = {.listeners = lc, .n_listeners = 2, .max_conns_per_source = 3};
    CHECK_INT(srv_start(&s, &cfg), 0);
    if (!s.n)
        return;
    struct pbx_addr la = listener_addr(s.n, 0);
    struct pbx_addr src1 = addr_of("127.0.0.1"), src2 = addr_of("127.0.0.2");
    int fds[4];
    uint8_t buf[2048];
    for (int i = 0; i < 4; i++) {
        fds[i] = client_socket(SOCK_STREAM, &src1, &la);
        CHECK(fds[i] >= 0);
        pump(s.n, 5);
    }
    for (int i = 0; i < 3; i++) {
        CHECK(send_all(fds[i], test_msg, msg_len));
        CHECK_INT(client_recv(s.n, fds[i], buf, msg_len, 2000, NULL), msg_len);
    }
    /* The fourth from the same address is over the cap and closed unread. */
    CHECK(client_wait_eof(s.n, fds[3], 2000));
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.conns_over_source_cap, 1);
    CHECK_INT(st.conns_open, 3);
    /* Another source is not affected. */
    int other = client_socket(SOCK_STREAM, &src2, &la);
    CHECK(send_all(other, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, other, buf, msg_len, 2000, NULL), msg_len);
    /* Closing one frees a place for the first source. */
    close(fds[0]);
    int again = -1;
    for (int tries = 0; tries < 50; tries++) {
        pump(s.n, 10);
        net_stats_get(s.n, &st);
        if (st.conns_open == 3)
            break;
    }
    again = client_socket(SOCK_STREAM, &src1, &la);
    CHECK(send_all(again, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, again, buf, msg_len, 2000, NULL), msg_len);

    /* Admission: a denied source gets neither a connection nor a datagram through. */
    s.deny_enabled = true;
    s.deny = src2;
    unsigned msgs = s.msgs;
    int denied = client_socket(SOCK_STREAM, &src2, &la);
    CHECK(client_wait_eof(s.n, denied, 2000));
    struct pbx_addr ua = listener_addr(s.n, 1);
    int u2 = client_socket(SOCK_DGRAM, &src2, &ua);
    int u1 = client_socket(SOCK_DGRAM, &src1, &ua);
    CHECK(send_all(u2, test_msg, msg_len));
    CHECK(send_all(u1, test_msg, msg_len)); /* control: admitted */
    CHECK(pump_until(s.n, &s.msgs, msgs + 1, 2000));
    for (int i = 0; i < 10; i++)
        pump(s.n, 2);
    CHECK_INT(s.msgs, msgs + 1);
    CHECK(pbx_addr_eq(&s.last.remote, &src1, false));
    CHECK_INT(s.denied, 2);
    for (int i = 1; i < 4; i++)
        close(fds[i]);
    close(other);
    close(again);
    close(denied);
    close(u1);
    close(u2);
    net_free(s.n);
}

static void test_idle_timeout(void)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, "tcp:[::1]:0", (struct net_config){.idle_timeout_ms = 500}, &la))
        return;
    int idle = client_socket(SOCK_STREAM, NULL, &la);
    int busy = client_socket(SOCK_STREAM, NULL, &la);
    uint8_t buf[16];
    int64_t t0 = clock_mono_ms();
    /* The busy one pings every 100 ms and must outlive the idle one's 500 ms timeout. */
    bool idle_gone = false;
    while (clock_mono_ms() - t0 < 1500) {
        CHECK(send_all(busy, "\r\n\r\n", 4));
        CHECK_INT(client_recv(s.n, busy, buf, 2, 1000, NULL), 2);
        int64_t step = clock_mono_ms();
        while (clock_mono_ms() - step < 100) {
            pump(s.n, 10);
            if (!idle_gone) {
                ssize_t r = recv(idle, buf, sizeof(buf), MSG_DONTWAIT);
                if (r == 0) {
                    idle_gone = true;
                    int64_t dt = clock_mono_ms() - t0;
                    CHECK(dt >= 490 && dt < 1500);
                }
            }
        }
    }
    CHECK(idle_gone);
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.idle_timeouts, 1);
    CHECK_INT(st.conns_open, 1);
    close(idle);
    close(busy);
    net_free(s.n);
}

static void test_write_queue_cap(void)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){.write_queue_cap = 65536}, &la))
        return;
    s.echo = false;
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    int small = 4096;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    CHECK(send_all(fd, test_msg, msg_len));
    CHECK(pump_until(s.n, &s.msgs, 1, 2000));
    uint64_t id = s.last.conn_id;
    static uint8_t chunk[16384];
    memset(chunk, 'x', sizeof(chunk));
    struct net_dest d = {.transport = PBX_TP_TCP, .addr = s.last.remote, .conn_id = id};
    int rc = 0, sends = 0;
    /* The client never reads: kernel buffers fill, then the queue, then the cap trips. */
    for (sends = 0; sends < 4000 && rc == 0; sends++) {
        rc = net_send(s.n, &d, chunk, sizeof(chunk));
        pump(s.n, 0);
    }
    CHECK_INT(rc, -EMSGSIZE);
    CHECK(sends > 1);
    CHECK(!net_conn_alive(s.n, id, NULL));
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.write_queue_overflows, 1);
    CHECK_INT(s.closes, 1);
    CHECK_INT(s.last_close_reason, -EMSGSIZE);
    close(fd);
    net_free(s.n);
}

/* net_send over TCP to an address without a connection dials out, then reuses it. */
static void test_outbound_tcp(void)
{
    struct srv s;
    struct pbx_addr la, ua;
    if (!start_one(&s, "udp:127.0.0.1:0", (struct net_config){0}, &la))
        return;
    s.echo = false;
    /* The "upstream": a plain listening socket of the test. */
    int up = bound_socket("[::1]:0", 8, &ua);

    struct net_dest d = {.transport = PBX_TP_TCP, .addr = ua, .listener_id = NET_ANY_LISTENER};
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), 0);
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), 0);
    int afd = -1;
    for (int i = 0; i < 200 && afd < 0; i++) {
        pump(s.n, 5);
        afd = accept4(up, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    CHECK(afd >= 0);
    uint8_t buf[4096];
    CHECK_INT(client_recv(s.n, afd, buf, 2 * msg_len, 2000, NULL), 2 * msg_len);
    CHECK(memcmp(buf, test_msg, msg_len) == 0);
    /* The upstream answers over the same connection. */
    CHECK(send_all(afd, test_msg, msg_len));
    CHECK(pump_until(s.n, &s.msgs, 1, 2000));
    CHECK_INT(s.last.transport, PBX_TP_TCP);
    CHECK_INT(s.last.listener_id, NET_ANY_LISTENER);
    CHECK(pbx_addr_eq(&s.last.remote, &ua, true));
    /* Reuse: a third send goes over the same connection, no second connect. */
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), 0);
    CHECK_INT(client_recv(s.n, afd, buf, msg_len, 2000, NULL), msg_len);
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.conns_outbound, 1);
    /* TLS without client TLS configured: only over an existing connection. */
    d.transport = PBX_TP_TLS;
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), -ENOTCONN);
    /* UDP towards v6 with only a v4 UDP listener: no socket to send from. */
    d.transport = PBX_TP_UDP;
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), -ENETUNREACH);
    close(afd);
    close(up);
    net_free(s.n);
}

static void test_connect_refused_and_timeout(void)
{
    struct srv s;
    struct net_config cfg = {.connect_timeout_ms = 200};
    CHECK_INT(srv_start(&s, &cfg), 0);
    if (!s.n)
        return;
    /* Nothing listens on this port: the connection fails and is reported closed. */
    struct pbx_addr a;
    int tmp = bound_socket("127.0.0.1:0", -1, &a);
    struct net_dest d = {.transport = PBX_TP_TCP, .addr = a};
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), 0);
    CHECK(pump_until(s.n, &s.closes, 1, 2000));
    CHECK_INT(s.last_close_reason, -ECONNREFUSED);
    close(tmp);

    /* Connect deadline: a listener whose accept queue is full drops further SYNs, so a
     * connect to it hangs until the deadline closes it. */
    int full = bound_socket("127.0.0.1:0", 0, &a);
    struct sockaddr_storage ss;
    socklen_t sl = pbx_addr_to_sockaddr(&a, &ss);
    int fillers[8];
    int n_fill = 0;
    bool hanging = false;
    while (n_fill < 8 && !hanging) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        fillers[n_fill++] = fd;
        if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
            continue;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        hanging = poll(&pfd, 1, 100) == 0;
    }
    CHECK(hanging);
    unsigned closes = s.closes;
    struct net_stats st;
    d.addr = a;
    int64_t t0 = clock_mono_ms();
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)test_msg, msg_len), 0);
    CHECK(pump_until(s.n, &s.closes, closes + 1, 3000));
    int64_t dt = clock_mono_ms() - t0;
    if (!(dt >= 190 && dt < 1500))
        TEST_FAIL_AT("connect deadline after %lld ms", (long long)dt);
    else
        test_passed_count++;
    CHECK_INT(s.last_close_reason, -ETIMEDOUT);
    net_stats_get(s.n, &st);
    CHECK_INT(st.connect_timeouts, 1);
    for (int i = 0; i < n_fill; i++)
        close(fillers[i]);
    close(full);
    net_free(s.n);
}

static void test_drain(void)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){0}, &la))
        return;
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    CHECK(send_all(fd, test_msg, msg_len));
    CHECK(pump_until(s.n, &s.msgs, 1, 2000));
    net_drain(s.n, 3000);
    int64_t t0 = clock_mono_ms();
    CHECK_INT(net_run(s.n), 0);
    /* Nothing was queued, so the drain ends at once rather than at its deadline. */
    CHECK(clock_mono_ms() - t0 < 1000);
    /* The echo written before the drain reached the client. */
    uint8_t buf[2048];
    CHECK_INT(client_recv(s.n, fd, buf, msg_len, 1000, NULL), msg_len);
    /* New connections are refused. */
    int late = client_socket(SOCK_STREAM, NULL, &la);
    CHECK_INT(late, -ECONNREFUSED);
    if (late >= 0)
        close(late);
    close(fd);
    net_free(s.n);
}

/* Drain with bytes queued: it ends when the client has read them all, or at the deadline
 * when the client never reads. 8 MiB is more than loopback kernel buffers absorb. */
static void test_drain_queued(void)
{
    for (int reader = 1; reader >= 0; reader--) {
        struct srv s;
        struct pbx_addr la;
        if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){.write_queue_cap = 1 << 24}, &la))
            return;
        s.echo = false;
        int fd = client_socket(SOCK_STREAM, NULL, &la);
        if (!reader) {
            int small = 4096;
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        }
        CHECK(send_all(fd, test_msg, msg_len));
        CHECK(pump_until(s.n, &s.msgs, 1, 2000));
        static uint8_t chunk[65536];
        memset(chunk, 'q', sizeof(chunk));
        struct net_dest d = {
            .transport = PBX_TP_TCP, .addr = s.last.remote, .conn_id = s.last.conn_id};
        size_t total = 0;
        for (int i = 0; i < 128; i++) {
            CHECK_INT(net_send(s.n, &d, chunk, sizeof(chunk)), 0);
            total += sizeof(chunk);
        }
        net_drain(s.n, 600);
        int64_t t0 = clock_mono_ms();
        size_t got = 0;
        static uint8_t buf[262144];
        while (!net_loop_stopped(net_get_loop(s.n)) && clock_mono_ms() - t0 < 5000) {
            pump(s.n, 0);
            ssize_t r = reader ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT) : 0;
            if (r > 0)
                got += (size_t)r;
        }
        int64_t dt = clock_mono_ms() - t0;
        CHECK(net_loop_stopped(net_get_loop(s.n)));
        if (reader) {
            /* Every queued byte left before the drain ended (the tail may still sit in
             * kernel buffers, which need no pumping); a drain that gave up early would
             * leave megabytes in the write queue. */
            while (got < total && clock_mono_ms() - t0 < 5000) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                if (poll(&pfd, 1, 100) <= 0)
                    break;
                ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (r <= 0)
                    break;
                got += (size_t)r;
            }
            CHECK_INT(got, total);
        } else {
            CHECK(dt >= 550 && dt < 3000);
        }
        close(fd);
        net_free(s.n);
    }
}

/* Reload: a lowered per-source cap applies to the next connection; raising max_conns past
 * the creation value is refused. */
static void test_update_limits(void)
{
    struct srv s;
    struct pbx_addr la;
    if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){.max_conns = 100}, &la))
        return;
    uint8_t buf[2048];
    int a = client_socket(SOCK_STREAM, NULL, &la);
    CHECK(send_all(a, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, a, buf, msg_len, 2000, NULL), msg_len);
    struct net_config lower = {.max_conns = 100, .max_conns_per_source = 1};
    CHECK_INT(net_update_limits(s.n, &lower), 0);
    int b = client_socket(SOCK_STREAM, NULL, &la);
    CHECK(client_wait_eof(s.n, b, 2000));
    /* The existing connection is kept. */
    CHECK(send_all(a, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, a, buf, msg_len, 2000, NULL), msg_len);
    struct net_config higher = {.max_conns = 101};
    CHECK_INT(net_update_limits(s.n, &higher), -EINVAL);
    close(a);
    close(b);
    net_free(s.n);
}

static void test_bad_config(void)
{
    struct srv s;
    struct net_listener_config lc[] = {{.ep = ep_of("tls:127.0.0.1:0")}};
    struct net_config cfg = {.listeners = lc, .n_listeners = 1};
    /* TLS without certificate and key. */
    CHECK_INT(srv_start(&s, &cfg), -EINVAL);
    CHECK(s.n == NULL);
    /* Two listeners on the same port and transport. */
    struct net_listener_config a[] = {{.ep = ep_of("tcp:127.0.0.1:0")}};
    struct net_config c1 = {.listeners = a, .n_listeners = 1};
    CHECK_INT(srv_start(&s, &c1), 0);
    struct srv s2;
    struct net_listener_config b[] = {{.ep = {PBX_TP_TCP, listener_addr(s.n, 0)}}};
    struct net_config c2 = {.listeners = b, .n_listeners = 1};
    CHECK_INT(srv_start(&s2, &c2), -EADDRINUSE);
    net_free(s.n);
}

/*
 * Reload: a listener added to a running instance serves at once; removing one closes its
 * socket but keeps the connections it accepted, and its id is never handed out again.
 */
static void test_listener_add_remove(void)
{
    struct srv s;
    struct pbx_addr l0;
    uint8_t buf[2048];
    unsigned id_tcp = 99, id_udp = 99;
    if (!start_one(&s, "tcp:127.0.0.1:0", (struct net_config){0}, &l0))
        return;
    int keep = client_socket(SOCK_STREAM, NULL, &l0);
    CHECK(keep >= 0);
    CHECK(send_all(keep, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, keep, buf, msg_len, 2000, NULL), msg_len);

    struct net_listener_config add_tcp = {.ep = ep_of("tcp:127.0.0.1:0")};
    struct net_listener_config add_udp = {.ep = ep_of("udp:127.0.0.1:0")};
    CHECK_INT(net_listener_add(s.n, &add_tcp, &id_tcp), 0);
    CHECK_INT(net_listener_add(s.n, &add_udp, &id_udp), 0);
    CHECK_INT(id_tcp, 1);
    CHECK_INT(id_udp, 2);
    CHECK_INT(net_listener_count(s.n), 3);
    /* Binding an address in use fails and changes nothing. */
    struct net_listener_config dup = {
        .ep = {.transport = PBX_TP_UDP, .addr = listener_addr(s.n, 2)}};
    unsigned id_dup = 99;
    CHECK_INT(net_listener_add(s.n, &dup, &id_dup), -EADDRINUSE);
    CHECK_INT(id_dup, 99);
    CHECK_INT(net_listener_count(s.n), 3);
    /* A TLS listener needs its material. */
    struct net_listener_config bad_tls = {.ep = ep_of("tls:127.0.0.1:0")};
    CHECK_INT(net_listener_add(s.n, &bad_tls, &id_dup), -EINVAL);

    /* The new ones serve (TCP and UDP echo). */
    struct pbx_addr l1 = listener_addr(s.n, 1), l2 = listener_addr(s.n, 2);
    int t1 = client_socket(SOCK_STREAM, NULL, &l1);
    CHECK(t1 >= 0);
    CHECK(send_all(t1, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, t1, buf, msg_len, 2000, NULL), msg_len);
    CHECK_INT(s.last.listener_id, 1);
    int u2 = client_socket(SOCK_DGRAM, NULL, &l2);
    CHECK(u2 >= 0);
    CHECK(send_all(u2, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, u2, buf, msg_len, 2000, NULL), msg_len);
    CHECK_INT(s.last.listener_id, 2);

    /* Remove listener 0: new connections to it are refused, the accepted one lives on. */
    CHECK_INT(net_listener_remove(s.n, 0), 0);
    CHECK_INT(net_listener_remove(s.n, 0), -ENOENT);
    CHECK_INT(net_listener_remove(s.n, 7), -ENOENT);
    struct pbx_endpoint ep;
    CHECK_INT(net_listener_endpoint(s.n, 0, &ep), -ENOENT);
    int refused = client_socket(SOCK_STREAM, NULL, &l0);
    CHECK(refused < 0);
    if (refused >= 0)
        close(refused);
    unsigned before = s.msgs;
    CHECK(send_all(keep, test_msg, msg_len));
    CHECK_INT(client_recv(s.n, keep, buf, msg_len, 2000, NULL), msg_len);
    CHECK_INT(s.msgs, before + 1);
    CHECK_INT(s.last.listener_id, 0);
    /* Ids are not reused. */
    CHECK_INT(net_listener_add(s.n, &add_tcp, &id_tcp), 0);
    CHECK_INT(id_tcp, 3);
    close(keep);
    close(t1);
    close(u2);
    net_free(s.n);
}

int main(void)
{
    test_udp_echo("udp:127.0.0.1:0", "127.0.0.1");
    test_udp_echo("udp:[::1]:0", "::1");
    test_tcp_echo("tcp:127.0.0.1:0", "127.0.0.1");
    test_tcp_echo("tcp:[::1]:0", "::1");
    test_tcp_split();
    test_oversize_header();
    test_source_cap_and_admit();
    test_idle_timeout();
    test_write_queue_cap();
    test_outbound_tcp();
    test_connect_refused_and_timeout();
    test_drain();
    test_drain_queued();
    test_update_limits();
    test_bad_config();
    test_listener_add_remove();
    return test_finish();
}
