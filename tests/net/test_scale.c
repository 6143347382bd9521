/*
 * Thousands of concurrent connections on one loop: 2000 TCP and 1000 TLS loopback
 * clients, all open at once, each getting its echo. Bounded in count and time.
 */
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "net_test.h"
#include "test.h"

#define N_TCP 2000
#define N_TLS 1000
#define BATCH 200

static const size_t msg_len = sizeof(test_msg) - 1;
static char dir[64];

static bool make_cert(void)
{
    char cmd[1024];
    snprintf(dir, sizeof(dir), "/tmp/pbxguard-net-scale-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl req -x509 -new -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.crt -days 2 "
             "-subj /CN=127.0.0.1 >/dev/null 2>&1",
             dir);
    return system(cmd) == 0;
}

static void raise_nofile(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want; /* allowed as root; otherwise the next line caps it */
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int connect_nb(const struct pbx_addr *dst)
{
    int fd = socket(dst->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_storage ss;
    socklen_t sl = pbx_addr_to_sockaddr(dst, &ss);
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Opens n connections in batches, letting the server accept each batch. */
static int open_many(struct srv *s, const struct pbx_addr *la, int *fds, int n, uint64_t base)
{
    int opened = 0;
    for (int i = 0; i < n; i += BATCH) {
        for (int k = i; k < n && k < i + BATCH; k++) {
            fds[k] = connect_nb(la);
            if (fds[k] < 0)
                return opened;
            opened++;
        }
        int64_t end = clock_mono_ms() + 5000;
        struct net_stats st;
        do {
            pump(s->n, 1);
            net_stats_get(s->n, &st);
        } while (st.conns_accepted < base + (uint64_t)opened && clock_mono_ms() < end);
    }
    return opened;
}

int main(void)
{
    raise_nofile(2 * (N_TCP + N_TLS) + 256);
    if (!make_cert()) {
        fprintf(stderr, "cannot create a test certificate with the openssl command\n");
        return 1;
    }
    char crt[128], key[128];
    snprintf(crt, sizeof(crt), "%s/srv.crt", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    struct srv s;
    struct net_listener_config lc[] = {
        {.ep = ep_of("tcp:127.0.0.1:0")},
        {.ep = ep_of("tls:127.0.0.1:0"), .tls = {.cert_file = crt, .key_file = key}},
    };
    struct net_config cfg = {.listeners = lc,
                             .n_listeners = 2,
                             .max_conns = N_TCP + N_TLS + 16,
                             .max_conns_per_source = N_TCP + N_TLS + 16,
                             .handshake_timeout_ms = 60000};
    CHECK_INT(srv_start(&s, &cfg), 0);
    if (!s.n)
        return test_finish();
    struct pbx_addr tcp_addr = listener_addr(s.n, 0), tls_addr = listener_addr(s.n, 1);
    static int fds[N_TCP], tfds[N_TLS];
    static SSL *ssl[N_TLS];

    /* TCP: open all, send on all, then every echo must come back. */
    int64_t t0 = clock_mono_ms();
    int opened = open_many(&s, &tcp_addr, fds, N_TCP, 0);
    CHECK_INT(opened, N_TCP);
    for (int i = 0; i < opened; i++)
        CHECK(send_all(fds[i], test_msg, msg_len));
    CHECK(pump_until(s.n, &s.msgs, N_TCP, 30000));
    int echoed = 0;
    for (int i = 0; i < opened; i++) {
        uint8_t buf[1024];
        if (client_recv(s.n, fds[i], buf, msg_len, 5000, NULL) == msg_len)
            echoed++;
    }
    CHECK_INT(echoed, N_TCP);
    int64_t t_tcp = clock_mono_ms() - t0;
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.conns_open, N_TCP);

    /* TLS: handshakes driven concurrently, all kept open alongside the TCP ones. */
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    t0 = clock_mono_ms();
    int topened = open_many(&s, &tls_addr, tfds, N_TLS, (uint64_t)N_TCP);
    CHECK_INT(topened, N_TLS);
    for (int i = 0; i < topened; i++) {
        ssl[i] = SSL_new(ctx);
        SSL_set_fd(ssl[i], tfds[i]);
        SSL_set_connect_state(ssl[i]);
    }
    int done = 0;
    static bool hs[N_TLS];
    int64_t end = clock_mono_ms() + 60000;
    while (done < topened && clock_mono_ms() < end) {
        for (int i = 0; i < topened; i++) {
            if (hs[i])
                continue;
            int r = SSL_do_handshake(ssl[i]);
            if (r == 1) {
                hs[i] = true;
                done++;
                if (SSL_write(ssl[i], test_msg, (int)msg_len) != (int)msg_len)
                    TEST_FAIL_AT("SSL_write on connection %d", i);
            } else {
                ERR_clear_error();
            }
        }
        for (int k = 0; k < 4; k++)
            pump(s.n, 0);
    }
    CHECK_INT(done, N_TLS);
    CHECK(pump_until(s.n, &s.msgs, N_TCP + N_TLS, 30000));
    int techoed = 0;
    for (int i = 0; i < topened; i++) {
        uint8_t buf[1024];
        size_t got = 0;
        int64_t stop = clock_mono_ms() + 5000;
        while (got < msg_len && clock_mono_ms() < stop) {
            int r = SSL_read(ssl[i], buf + got, (int)(msg_len - got));
            if (r > 0)
                got += (size_t)r;
            else if (SSL_get_error(ssl[i], r) == SSL_ERROR_WANT_READ)
                pump(s.n, 1);
            else
                break;
        }
        if (got == msg_len)
            techoed++;
    }
    CHECK_INT(techoed, N_TLS);
    int64_t t_tls = clock_mono_ms() - t0;
    net_stats_get(s.n, &st);
    CHECK_INT(st.conns_open, N_TCP + N_TLS);
    printf("%d TCP connections opened and echoed in %lld ms; %d TLS in %lld ms; %u open at once\n",
           N_TCP, (long long)t_tcp, N_TLS, (long long)t_tls, st.conns_open);

    for (int i = 0; i < topened; i++) {
        SSL_free(ssl[i]);
        close(tfds[i]);
    }
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    /* Every close is noticed and every slot returned. */
    end = clock_mono_ms() + 10000;
    do {
        pump(s.n, 5);
        net_stats_get(s.n, &st);
    } while (st.conns_open > 0 && clock_mono_ms() < end);
    CHECK_INT(st.conns_open, 0);
    SSL_CTX_free(ctx);
    net_free(s.n);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_finish();
}
