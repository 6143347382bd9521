/*
 * UDP send batching: datagrams made while one receive batch is handled leave together at
 * its end; every one arrives, in order, nothing is sent twice, and a datagram too large
 * for the queue still goes out. Outside a batch a send leaves at once.
 */
#include <stdio.h>

#include "net_test.h"
#include "test.h"

#define N_DGRAMS 40 /* more than one receive batch, so the queue fills and flushes */

/* Pumps the server loop until one datagram arrives on fd; its length, or -1 after max_ms. */
static ssize_t recv_dgram(struct net *n, int fd, void *buf, size_t cap, int max_ms)
{
    int64_t end = clock_mono_ms() + max_ms;
    while (clock_mono_ms() < end) {
        pump(n, 0);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 2) > 0)
            return recv(fd, buf, cap, MSG_DONTWAIT);
    }
    return -1;
}

static void test_batched_echo(void)
{
    struct srv s;
    struct net_config cfg = {0};
    struct net_listener_config lc[] = {{.ep = ep_of("udp:127.0.0.1:0")}};
    cfg.listeners = lc;
    cfg.n_listeners = 1;
    CHECK_INT(srv_start(&s, &cfg), 0);
    struct pbx_addr la = listener_addr(s.n, 0);
    int fd = client_socket(SOCK_DGRAM, NULL, &la);
    CHECK(fd >= 0);
    int rcv = 4 * 1024 * 1024;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));

    /* All sent before the server reads: its first recvmmsg() returns a full batch. */
    char msg[64];
    for (int i = 0; i < N_DGRAMS; i++) {
        int len = snprintf(msg, sizeof(msg), "OPTIONS %d", i);
        CHECK(send_all(fd, msg, (size_t)len));
    }
    for (int i = 0; i < N_DGRAMS; i++) {
        char got[64];
        char want[64];
        ssize_t n = recv_dgram(s.n, fd, got, sizeof(got) - 1, 2000);
        got[n > 0 ? n : 0] = 0;
        snprintf(want, sizeof(want), "OPTIONS %d", i);
        CHECK_STR(got, want);
    }
    /* Two large datagrams: the second does not fit in the queue beside the first. */
    static uint8_t big[40000];
    static uint8_t back[65536];
    CHECK(send_all(fd, "small", 5));
    for (int k = 0; k < 2; k++) {
        memset(big, 'a' + k, sizeof(big));
        CHECK(send_all(fd, big, sizeof(big)));
    }
    CHECK_INT(recv_dgram(s.n, fd, back, sizeof(back), 2000), 5);
    for (int k = 0; k < 2; k++) {
        memset(big, 'a' + k, sizeof(big));
        CHECK_INT(recv_dgram(s.n, fd, back, sizeof(back), 2000), sizeof(big));
        CHECK(memcmp(back, big, sizeof(big)) == 0);
    }

    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.udp_rx, N_DGRAMS + 3);
    CHECK_INT(st.udp_tx, N_DGRAMS + 3);
    CHECK_INT(st.udp_tx_errors, 0);
    /* 40 echoes in batches of at most 16, then "small" + one large, then the other. */
    CHECK(st.udp_tx_calls <= 6);

    /* Outside a receive batch (here: the test itself, as a timer would) a send is immediate. */
    struct net_dest d = {.transport = PBX_TP_UDP, .listener_id = 0};
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    CHECK_INT(pbx_addr_from_sockaddr((struct sockaddr *)&ss, sl, &d.addr), 0);
    CHECK_INT(net_send(s.n, &d, (const uint8_t *)"now", 3), 0);
    char now[8];
    CHECK_INT(recv(fd, now, sizeof(now), MSG_DONTWAIT), 3);
    close(fd);
    net_free(s.n);
}

int main(void)
{
    test_batched_echo();
    return test_finish();
}
