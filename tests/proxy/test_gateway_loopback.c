/*
 * The real `pbxguard gateway` binary on loopback: an OPTIONS from a UDP client socket is
 * forwarded to a UDP "upstream" socket of this test and the response comes back; a malformed
 * message never reaches the upstream (control: the well-formed message sent right after it
 * does); SIGHUP reloads the configuration file (a broken file is refused and the running
 * configuration stays); SIGTERM drains and exits 0. argv[1] is the pbxguard binary.
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

#include "test.h"

static int udp_socket(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("udp socket");
        exit(1);
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void send_to(int fd, uint16_t port, const char *msg)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        perror("sendto");
}

/* Receives one datagram within timeout_ms into buf (NUL-terminated); returns its length,
 * 0 on timeout. The source port goes to *from_port. */
static size_t recv_within(int fd, char *buf, size_t cap, int timeout_ms, uint16_t *from_port)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return 0;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    ssize_t n = recvfrom(fd, buf, cap - 1, 0, (struct sockaddr *)&sa, &sl);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (from_port)
        *from_port = ntohs(sa.sin_port);
    return (size_t)n;
}

static const char *header(const char *msg, const char *name, unsigned n, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = strstr(msg, "\r\n");
    while (p && p[2] != '\r') {
        p += 2;
        const char *e = strstr(p, "\r\n");
        if (!e)
            break;
        if (strncmp(p, name, nl) == 0 && p[nl] == ':' && n-- == 0) { /* banned-ok */
            const char *s = p + nl + 1;
            while (*s == ' ')
                s++;
            snprintf(out, cap, "%.*s", (int)(e - s), s);
            return out;
        }
        p = e;
    }
    return NULL;
}

/* The upstream answers a request with 200 OK, copying its Vias, From, To, Call-ID, CSeq
 * and adding a version-revealing Server header. */
static void answer(int up, uint16_t gw_port, const char *req)
{
    char resp[8192], v[2048], f[512], t[512], c[512], s[128];
    size_t n = (size_t)snprintf(resp, sizeof(resp), "SIP/2.0 200 OK\r\n");
    for (unsigned i = 0; header(req, "Via", i, v, sizeof(v)); i++)
        n += (size_t)snprintf(resp + n, sizeof(resp) - n, "Via: %s\r\n", v);
    snprintf(resp + n, sizeof(resp) - n,
             "From: %s\r\nTo: %s;tag=up1\r\nCall-ID: %s\r\nCSeq: %s\r\n"
             "Server: Asterisk PBX 20.5.0\r\nContent-Length: 0\r\n\r\n",
             header(req, "From", 0, f, sizeof(f)) ? f : "",
             header(req, "To", 0, t, sizeof(t)) ? t : "",
             header(req, "Call-ID", 0, c, sizeof(c)) ? c : "",
             header(req, "CSeq", 0, s, sizeof(s)) ? s : "");
    send_to(up, gw_port, resp);
}

static void options(char *buf, size_t cap, uint16_t client_port, const char *call_id)
{
    snprintf(buf, cap,
             "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%s;rport\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:100@example.com>;tag=t1\r\n"
             "To: <sip:100@example.com>\r\n"
             "Call-ID: %s\r\n"
             "CSeq: 1 OPTIONS\r\n"
             "User-Agent: loopback-test\r\n"
             "Content-Length: 0\r\n\r\n",
             client_port, call_id, call_id);
}

/* Waits (bounded) for the forwarded request carrying call_id at the upstream, answering
 * health checks meanwhile. Counts messages containing poison into *poisoned. */
static bool upstream_wait(int up, uint16_t gw_port, const char *call_id, char *got, size_t cap,
                          int attempts, const char *poison, unsigned *poisoned)
{
    for (int i = 0; i < attempts; i++) {
        uint16_t from;
        if (!recv_within(up, got, cap, 100, &from))
            return false;
        if (poison && strstr(got, poison))
            (*poisoned)++;
        if (strstr(got, ";hc=")) {
            answer(up, from, got);
            continue;
        }
        if (strstr(got, call_id))
            return true;
        (void)gw_port;
    }
    return false;
}

static void write_config(const char *path, uint16_t up_port, const char *server)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror("config");
        exit(1);
    }
    fprintf(f,
            "events:\n  destination: \"off\"\n"
            "gateway:\n  upstreams: [udp:127.0.0.1:%u]\n  expose: {server: %s}\n",
            up_port, server);
    fclose(f);
}

/* Sends OPTIONS call_id through the gateway, answers it at the upstream and returns true
 * when the client's response contains needle (NULL: any response). */
static bool round_trip(int cl, int up, uint16_t cl_port, uint16_t gw_port, const char *call_id,
                       const char *needle)
{
    static char buf[16384], got[16384];
    options(buf, sizeof(buf), cl_port, call_id);
    send_to(cl, gw_port, buf);
    if (!upstream_wait(up, gw_port, call_id, got, sizeof(got), 20, NULL, NULL))
        return false;
    answer(up, gw_port, got);
    for (int i = 0; i < 10; i++) {
        if (!recv_within(cl, got, sizeof(got), 250, NULL))
            return false;
        if (strstr(got, call_id))
            return needle == NULL || strstr(got, needle) != NULL;
    }
    return false;
}

int main(int argc, char **argv)
{
    static char buf[16384], got[16384], tmp[2048];
    uint16_t up_port, cl_port, gw_port;
    char dir[] = "/tmp/pbxguard-gw-test-XXXXXX";

    if (argc < 2) {
        fprintf(stderr, "usage: %s PBXGUARD\n", argv[0]);
        return 2;
    }
    int up = udp_socket(&up_port);
    int cl = udp_socket(&cl_port);
    int probe = udp_socket(&gw_port); /* a free port for the gateway */
    close(probe);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    /* The upstream comes from the file, the listener from the command line. */
    char listen[64], conf[128];
    snprintf(listen, sizeof(listen), "udp:127.0.0.1:%u", gw_port);
    snprintf(conf, sizeof(conf), "%s/pbxguard.yaml", dir);
    write_config(conf, up_port, "strip");
    pid_t pid = fork();
    if (pid == 0) {
        execl(argv[1], argv[1], "gateway", "-c", conf, "--listen", listen, "--data-dir", dir,
              "--foreground", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);

    /* Readiness: resend an OPTIONS until the upstream sees it (at most ~10 s). */
    bool ready = false;
    for (int i = 0; i < 50 && !ready; i++) {
        char cid[32];
        snprintf(cid, sizeof(cid), "ready-%d", i);
        options(buf, sizeof(buf), cl_port, cid);
        send_to(cl, gw_port, buf);
        ready = upstream_wait(up, gw_port, "ready-", got, sizeof(got), 5, NULL, NULL);
    }
    CHECK(ready);
    /* Drain answers to the readiness probes that may still arrive. */
    while (recv_within(cl, got, sizeof(got), 0, NULL))
        ;

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
    CHECK(!round_trip(cl, up, cl_port, gw_port, "before-reload", "Server:"));
    write_config(conf, up_port, "keep");
    kill(pid, SIGHUP);
    bool reloaded = false;
    for (int i = 0; i < 20 && !reloaded; i++) {
        char cid[32];
        snprintf(cid, sizeof(cid), "reload-%d", i);
        reloaded = round_trip(cl, up, cl_port, gw_port, cid, "Server: Asterisk");
    }
    CHECK(reloaded);
    /* A broken file is refused: the gateway keeps forwarding with the last good one. */
    FILE *bad = fopen(conf, "w");
    if (bad) {
        fputs("gateway:\n  upstreams: [not-an-endpoint]\n  bogus: 1\n", bad);
        fclose(bad);
    }
    kill(pid, SIGHUP);
    CHECK(round_trip(cl, up, cl_port, gw_port, "after-bad-reload", "Server: Asterisk"));

    /* 4. SIGTERM: drain and exit 0 within the drain bound (5 s) plus margin. */
    kill(pid, SIGTERM);
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        CHECK(poll(&p, 1, 8000) == 1);
        close(pfd);
    }
    int status = 0;
    if (waitpid(pid, &status, pfd >= 0 ? WNOHANG : 0) != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(!"gateway did not exit after SIGTERM");
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    snprintf(tmp, sizeof(tmp), "%s/flow.key", dir);
    CHECK(access(tmp, F_OK) == 0); /* the key persisted in --data-dir */
    unlink(tmp);
    unlink(conf);
    rmdir(dir);
    close(up);
    close(cl);
    return test_finish();
}
