/*
 * The real `pbxguard gateway` binary on loopback: an OPTIONS from a UDP client socket is
 * forwarded to a UDP "upstream" socket of this test and the response comes back; a malformed
 * message never reaches the upstream (control: the well-formed message sent right after it
 * does); SIGHUP reloads the configuration file (a broken file is refused and the running
 * configuration stays); a TCP phone's OPTIONS and REGISTER reach the UDP upstream and
 * the PBX's INVITE routed by the Path header comes back over the phone's own TCP
 * connection (its Contact names an unreachable address); SIGTERM drains and exits 0.
 * argv[1] is the pbxguard binary.
 * Every wait is bounded (poll timeouts and attempt counts); no sleeps.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "gw_fixture.h"
#include "gw_util.h"
#include "test.h"

static int tcp_connect(uint16_t port, uint16_t *local_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t sl = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        *local_port = ntohs(sa.sin_port);
    return fd;
}

/* Reads one SIP message (headers + Content-Length body) from a stream within timeout_ms. */
static size_t tcp_recv_msg(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    for (int i = 0; i < timeout_ms / 50; i++) {
        const char *end = memmem(buf, n, "\r\n\r\n", 4);
        if (end) {
            const char *cl = strstr(buf, "\r\nContent-Length: ");
            size_t body = cl ? strtoul(cl + 18, NULL, 10) : 0;
            size_t total = (size_t)(end - buf) + 4 + body;
            if (n >= total) {
                buf[total] = '\0';
                return total;
            }
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            return 0;
        n += (size_t)r;
        buf[n] = '\0';
    }
    return 0;
}

static int write_config(const struct gw_fixture *gw, uint16_t up_port, const char *server)
{
    return gw_fixture_write_config(gw,
                                   "events:\n  destination: \"off\"\n"
                                   "gateway:\n  upstreams: [udp:127.0.0.1:%u]\n"
                                   "  expose: {server: %s}\n",
                                   up_port, server);
}

int main(int argc, char **argv)
{
    static char buf[16384], got[16384], tmp[2048];
    uint16_t up_port, cl_port, gw_port;
    struct gw_fixture gw;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PBXGUARD\n", argv[0]);
        return 2;
    }
    int up = udp_socket(&up_port);
    int cl = udp_socket(&cl_port);
    CHECK_INT(gw_free_port(SOCK_DGRAM, &gw_port), 0);
    if (gw_fixture_init(&gw, "gw-test") != 0)
        return 1;

    /* The upstream comes from the file, the listener from the command line. */
    char listen[64], listen_tcp[64];
    uint16_t gw_tcp_port = 0;
    CHECK_INT(gw_free_port(SOCK_STREAM, &gw_tcp_port), 0);
    snprintf(listen, sizeof(listen), "udp:127.0.0.1:%u", gw_port);
    snprintf(listen_tcp, sizeof(listen_tcp), "tcp:127.0.0.1:%u", gw_tcp_port);
    CHECK_INT(write_config(&gw, up_port, "strip"), 0);
    pid_t pid = gw_fixture_start(
        &gw, argv[1],
        (const char *const[]){"--listen", listen, "--listen", listen_tcp, "--foreground", NULL});
    CHECK(pid > 0);

    /* Readiness: resend an OPTIONS until the upstream sees it (at most ~10 s). */
    CHECK(gw_fixture_wait_ready(cl, cl_port, up, gw_port));

    /* 1. OPTIONS through the gateway and back. */
    options(buf, sizeof(buf), cl_port, "opt-main");
    send_to(cl, gw_port, buf);
    CHECK(upstream_wait(up, gw_port, "opt-main", got, sizeof(got), 20, NULL, NULL));
    char want[128];
    snprintf(want, sizeof(want), "SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK", gw_port);
    CHECK(header(got, "Via", 0, tmp, sizeof(tmp)) &&
          strncmp(tmp, want, strlen(want)) == 0); /* banned-ok */
    snprintf(want, sizeof(want), ";received=127.0.0.1;rport=%u", cl_port);
    CHECK(header(got, "Via", 1, tmp, sizeof(tmp)) && strstr(tmp, want));
    CHECK(header(got, "Max-Forwards", 0, tmp, sizeof(tmp)) && strcmp(tmp, "69") == 0);
    answer(up, gw_port, got);
    size_t n = 0;
    for (int i = 0; i < 20 && !n; i++) {
        n = recv_within(cl, got, sizeof(got), 250, NULL);
        if (n && !strstr(got, "opt-main"))
            n = 0;
    }
    CHECK(n > 0);
    CHECK(strncmp(got, "SIP/2.0 200 OK\r\n", 16) == 0); /* banned-ok */
    CHECK(header(got, "Via", 0, tmp, sizeof(tmp)) && strstr(tmp, "branch=z9hG4bKopt-main"));
    CHECK(header(got, "Via", 1, tmp, sizeof(tmp)) == NULL);
    CHECK(header(got, "Server", 0, tmp, sizeof(tmp)) == NULL);

    /* 2. Malformed messages never reach the upstream; the valid one after them does. */
    snprintf(buf, sizeof(buf),
             "INVITE sip:200@127.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKmal1\r\n"
             "From: <sip:1@x>;tag=1\r\nTo: <sip:2@x>\r\nCall-ID: malformed-1\r\n"
             "CSeq: 1 INVITE\r\nContent-Length: 5000\r\n\r\nshort",
             cl_port);
    send_to(cl, gw_port, buf);
    send_to(cl, gw_port, "INVITE malformed-2\r\n\x01\x02 garbage\r\n\r\n");
    snprintf(buf, sizeof(buf),
             "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKmal3\r\n"
             "From: <sip:1@x>;tag=1\r\nTo: <sip:2@x>\r\nCall-ID: malformed-3\r\n"
             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
             cl_port); /* CSeq method mismatch: answered 400, not forwarded */
    send_to(cl, gw_port, buf);
    options(buf, sizeof(buf), cl_port, "after-malformed");
    send_to(cl, gw_port, buf);
    unsigned poisoned = 0;
    CHECK(upstream_wait(up, gw_port, "after-malformed", got, sizeof(got), 20, "malformed-",
                        &poisoned));
    CHECK_INT(poisoned, 0);
    bool saw400 = false;
    for (int i = 0; i < 10 && !saw400; i++)
        if (recv_within(cl, got, sizeof(got), 200, NULL) && strstr(got, "malformed-3"))
            saw400 = strncmp(got, "SIP/2.0 400 ", 12) == 0; /* banned-ok */
    CHECK(saw400);

    /* 3. SIGHUP: Server headers are kept after the reload (bounded retries while the
     * signal is handled). */
    CHECK(!round_trip(cl, up, cl_port, gw_port, "before-reload", 20, "Server:"));
    CHECK_INT(write_config(&gw, up_port, "keep"), 0);
    kill(pid, SIGHUP);
    bool reloaded = false;
    for (int i = 0; i < 20 && !reloaded; i++) {
        char cid[32];
        snprintf(cid, sizeof(cid), "reload-%d", i);
        reloaded = round_trip(cl, up, cl_port, gw_port, cid, 20, "Server: Asterisk");
    }
    CHECK(reloaded);
    /* A broken file is refused: the gateway keeps forwarding with the last good one. */
    CHECK_INT(
        gw_fixture_write_config(&gw, "gateway:\n  upstreams: [not-an-endpoint]\n  bogus: 1\n"), 0);
    kill(pid, SIGHUP);
    CHECK(round_trip(cl, up, cl_port, gw_port, "after-bad-reload", 20, "Server: Asterisk"));

    /* 4. A TCP phone: OPTIONS to the UDP upstream and back over the connection. */
    uint16_t ph_port = 0;
    int ph = tcp_connect(gw_tcp_port, &ph_port);
    CHECK(ph >= 0);
    snprintf(buf, sizeof(buf),
             "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/TCP 127.0.0.1:%u;branch=z9hG4bKtcp1\r\n"
             "Max-Forwards: 70\r\nFrom: <sip:300@example.com>;tag=tp\r\n"
             "To: <sip:100@example.com>\r\nCall-ID: tcp-opt\r\nCSeq: 1 OPTIONS\r\n"
             "Content-Length: 0\r\n\r\n",
             ph_port);
    CHECK(write(ph, buf, strlen(buf)) == (ssize_t)strlen(buf));
    CHECK(upstream_wait(up, gw_port, "tcp-opt", got, sizeof(got), 20, NULL, NULL));
    snprintf(want, sizeof(want), "SIP/2.0/UDP 127.0.0.1:%u;", gw_port);
    CHECK(header(got, "Via", 0, tmp, sizeof(tmp)) &&
          strncmp(tmp, want, strlen(want)) == 0); /* banned-ok */
    answer(up, gw_port, got);
    CHECK(tcp_recv_msg(ph, got, sizeof(got), 3000) > 0);
    CHECK(strncmp(got, "SIP/2.0 200 OK\r\n", 16) == 0 && strstr(got, "tcp-opt")); /* banned-ok */

    /* 5. REGISTER over TCP gets a Path; the PBX's INVITE with a Route to it comes back over
     * the same connection, although the Contact (10.9.9.9) is unreachable. */
    snprintf(buf, sizeof(buf),
             "REGISTER sip:example.com SIP/2.0\r\n"
             "Via: SIP/2.0/TCP 127.0.0.1:%u;branch=z9hG4bKreg1\r\n"
             "Max-Forwards: 70\r\nFrom: <sip:300@example.com>;tag=rg\r\n"
             "To: <sip:300@example.com>\r\nCall-ID: tcp-reg\r\nCSeq: 1 REGISTER\r\n"
             "Supported: path\r\nContact: <sip:300@10.9.9.9:5060;transport=tcp>\r\n"
             "Expires: 60\r\nContent-Length: 0\r\n\r\n",
             ph_port);
    CHECK(write(ph, buf, strlen(buf)) == (ssize_t)strlen(buf));
    CHECK(upstream_wait(up, gw_port, "tcp-reg", got, sizeof(got), 20, NULL, NULL));
    char path[512];
    CHECK(header(got, "Path", 0, path, sizeof(path)) != NULL);
    snprintf(want, sizeof(want), "@127.0.0.1:%u;transport=udp;lr>", gw_port);
    CHECK(strstr(path, want) != NULL);
    snprintf(buf, sizeof(buf),
             "INVITE sip:300@10.9.9.9:5060;transport=tcp SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKpbxinv\r\n"
             "Max-Forwards: 70\r\nRoute: %s\r\n"
             "From: <sip:100@example.com>;tag=pbx\r\nTo: <sip:300@example.com>\r\n"
             "Call-ID: path-invite\r\nCSeq: 1 INVITE\r\nUser-Agent: Asterisk PBX 20\r\n"
             "Contact: <sip:100@127.0.0.1:%u>\r\nContent-Length: 0\r\n\r\n",
             up_port, path, up_port);
    send_to(up, gw_port, buf);
    CHECK(tcp_recv_msg(ph, got, sizeof(got), 3000) > 0);
    CHECK(strncmp(got, "INVITE sip:300@10.9.9.9:5060;transport=tcp SIP/2.0\r\n", 51) ==
          0); /* banned-ok */
    snprintf(want, sizeof(want), "SIP/2.0/TCP 127.0.0.1:%u;", gw_tcp_port);
    CHECK(header(got, "Via", 0, tmp, sizeof(tmp)) &&
          strncmp(tmp, want, strlen(want)) == 0); /* banned-ok */
    CHECK(header(got, "Route", 0, tmp, sizeof(tmp)) == NULL);
    CHECK(header(got, "User-Agent", 0, tmp, sizeof(tmp)) == NULL);
    CHECK(header(got, "Record-Route", 0, tmp, sizeof(tmp)) != NULL);
    /* The phone answers over its connection; the answer reaches the PBX. */
    {
        char resp[8192], v[2048];
        size_t rn = (size_t)snprintf(resp, sizeof(resp), "SIP/2.0 180 Ringing\r\n");
        for (unsigned i = 0; header(got, "Via", i, v, sizeof(v)); i++)
            rn += (size_t)snprintf(resp + rn, sizeof(resp) - rn, "Via: %s\r\n", v);
        snprintf(resp + rn, sizeof(resp) - rn,
                 "From: <sip:100@example.com>;tag=pbx\r\nTo: <sip:300@example.com>;tag=ph\r\n"
                 "Call-ID: path-invite\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
        CHECK(write(ph, resp, strlen(resp)) == (ssize_t)strlen(resp));
    }
    bool ringing = false;
    for (int i = 0; i < 20 && !ringing; i++) {
        if (!recv_within(up, got, sizeof(got), 150, NULL))
            continue;
        ringing =
            strncmp(got, "SIP/2.0 180 ", 12) == 0 && strstr(got, "path-invite"); /* banned-ok */
    }
    CHECK(ringing);
    if (ph >= 0)
        close(ph);

    /* 6. SIGTERM: drain and exit 0 within the drain bound (5 s) plus margin. */
    int status;
    CHECK(gw_fixture_stop(&gw, 8000, &status)); /* else killed: no exit after SIGTERM */
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    snprintf(tmp, sizeof(tmp), "%s/flow.key", gw.dir);
    CHECK(access(tmp, F_OK) == 0); /* the key persisted in --data-dir */
    gw_fixture_remove(&gw);

    /* 7. A UDP upstream with no UDP listener to reach it from is a configuration error
     * (exit 2 at start-up), not a gateway that runs and cannot forward anything. */
    struct gw_fixture bad;
    CHECK_INT(gw_fixture_init(&bad, "gw-nounp"), 0);
    CHECK_INT(write_config(&bad, up_port, "strip"), 0);
    pid = gw_fixture_start(&bad, argv[1],
                           (const char *const[]){"--listen", listen_tcp, "--foreground", NULL});
    CHECK(pid > 0);
    int bad_status = 0;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd pp = {.fd = pfd, .events = POLLIN};
    bool exited = pfd >= 0 && poll(&pp, 1, 5000) == 1 && waitpid(pid, &bad_status, 0) == pid;
    if (pfd >= 0)
        close(pfd);
    CHECK(exited && WIFEXITED(bad_status) && WEXITSTATUS(bad_status) == 2);
    if (exited)
        bad.pid = 0;
    else
        gw_fixture_stop(&bad, 2000, &bad_status);
    gw_fixture_remove(&bad);
    close(up);
    close(cl);
    return test_finish();
}
