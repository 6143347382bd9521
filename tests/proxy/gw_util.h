/*
 * Helpers shared by the gateway loopback tests: UDP sockets on 127.0.0.1, bounded receives
 * (poll timeouts, never sleeps), header lookup, and a minimal "upstream" that answers
 * requests with 200 OK. Header-only: each test program includes it once.
 */
#ifndef PBXGUARD_TESTS_PROXY_GW_UTIL_H
#define PBXGUARD_TESTS_PROXY_GW_UTIL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

static inline int udp_socket(uint16_t *port)
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

static inline void send_to(int fd, uint16_t port, const char *msg)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        perror("sendto");
}

/* Receives one datagram within timeout_ms into buf (NUL-terminated); returns its length,
 * 0 on timeout. The source port goes to *from_port. */
static inline size_t recv_within(int fd, char *buf, size_t cap, int timeout_ms, uint16_t *from_port)
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

static inline const char *header(const char *msg, const char *name, unsigned n, char *out,
                                 size_t cap)
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
static inline void answer(int up, uint16_t gw_port, const char *req)
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

static inline void options(char *buf, size_t cap, uint16_t client_port, const char *call_id)
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
static inline bool upstream_wait(int up, uint16_t gw_port, const char *call_id, char *got,
                                 size_t cap, int attempts, const char *poison, unsigned *poisoned)
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

/* Sends OPTIONS call_id through the gateway on gw_port, answers it at the upstream (waiting
 * at most attempts messages there) and returns true when the client's answer comes back and
 * contains needle (NULL: any answer). */
static inline bool round_trip(int cl, int up, uint16_t cl_port, uint16_t gw_port,
                              const char *call_id, int attempts, const char *needle)
{
    static char buf[16384], got[16384];
    options(buf, sizeof(buf), cl_port, call_id);
    send_to(cl, gw_port, buf);
    if (!upstream_wait(up, gw_port, call_id, got, sizeof(got), attempts, NULL, NULL))
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

#endif
