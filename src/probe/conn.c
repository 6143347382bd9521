/* Probe transport: UDP/TCP sockets and OpenSSL 3 TLS; see conn.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "pbxguard/sip/msg.h"

#include "conn.h"

int64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int probe_target_parse(const char *spec, enum probe_transport t, struct probe_target *out)
{
    char host[256];
    unsigned port = t == PROBE_TLS ? 5061 : 5060;
    const char *p = spec;

    memset(out, 0, sizeof(*out));
    if (!spec || !*spec)
        return -EINVAL;
    if (strncmp(p, "sips:", 5) == 0)
        p += 5;
    else if (strncmp(p, "sip:", 4) == 0)
        p += 4;
    const char *at = strchr(p, '@');
    if (at)
        p = at + 1;
    const char *port_s = NULL;
    size_t hl;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close)
            return -EINVAL;
        hl = (size_t)(close - p - 1);
        p++;
        if (close[1] == ':')
            port_s = close + 2;
        else if (close[1] != '\0' && close[1] != ';')
            return -EINVAL;
    } else {
        const char *colon = strchr(p, ':');
        hl = colon ? (size_t)(colon - p) : strcspn(p, ";");
        if (colon)
            port_s = colon + 1;
    }
    if (hl == 0 || hl >= sizeof(host))
        return -EINVAL;
    memcpy(host, p, hl);
    host[hl] = '\0';
    if (port_s) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(port_s, &end, 10);
        if (errno || end == port_s || (*end && *end != ';') || v == 0 || v > 65535)
            return -EINVAL;
        port = (unsigned)v;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = t == PROBE_UDP ? SOCK_DGRAM : SOCK_STREAM;
    char portbuf[8];
    snprintf(portbuf, sizeof(portbuf), "%u", port);
    if (getaddrinfo(host, portbuf, &hints, &res) != 0 || !res)
        return -EINVAL;
    memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
    out->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(out->host, sizeof(out->host), "%s", host);
    out->port = port;
    return 0;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int rc;
    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return -errno;
    return rc == 0 ? -ETIMEDOUT : 0;
}

static int tcp_connect(int fd, const struct probe_target *t, unsigned timeout_ms)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int rc = connect(fd, (const struct sockaddr *)&t->addr, t->addrlen);
    if (rc < 0 && errno != EINPROGRESS)
        return -errno;
    if (rc < 0) {
        rc = wait_fd(fd, POLLOUT, (int)timeout_ms);
        if (rc)
            return rc;
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err)
            return -err;
    }
    fcntl(fd, F_SETFL, fl);
    return 0;
}

int probe_conn_open(struct probe_conn *c, const struct probe_target *t, enum probe_transport tr,
                    unsigned rate, int min_ver, int max_ver, unsigned timeout_ms)
{
    int rc;
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->transport = tr;
    c->gap_ms = rate ? 1000 / rate : 0;
    c->fd = socket(t->addr.ss_family, tr == PROBE_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (c->fd < 0)
        return -errno;
    if (tr == PROBE_UDP) {
        if (connect(c->fd, (const struct sockaddr *)&t->addr, t->addrlen) < 0) {
            rc = -errno;
            goto fail;
        }
    } else {
        rc = tcp_connect(c->fd, t, timeout_ms);
        if (rc)
            goto fail;
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (tr == PROBE_TLS) {
        c->ssl_ctx = SSL_CTX_new(TLS_client_method());
        if (!c->ssl_ctx) {
            rc = -ENOMEM;
            goto fail;
        }
        /* The probe inspects whatever the server offers, including what no client should
         * accept; verification results are reported, not enforced. */
        SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_NONE, NULL);
        if (min_ver || max_ver) {
            SSL_CTX_set_security_level(c->ssl_ctx, 0);
            SSL_CTX_set_cipher_list(c->ssl_ctx, "ALL:@SECLEVEL=0");
        }
        if (min_ver)
            SSL_CTX_set_min_proto_version(c->ssl_ctx, min_ver);
        if (max_ver)
            SSL_CTX_set_max_proto_version(c->ssl_ctx, max_ver);
        c->ssl = SSL_new(c->ssl_ctx);
        if (!c->ssl) {
            rc = -ENOMEM;
            goto fail;
        }
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_tlsext_host_name(c->ssl, t->host);
        if (SSL_connect(c->ssl) != 1) {
            ERR_clear_error();
            rc = -EPROTO;
            goto fail;
        }
    }
    struct sockaddr_storage la;
    socklen_t ll = sizeof(la);
    if (getsockname(c->fd, (struct sockaddr *)&la, &ll) == 0) {
        if (la.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&la;
            inet_ntop(AF_INET6, &s6->sin6_addr, c->local_ip, sizeof(c->local_ip));
            c->local_port = ntohs(s6->sin6_port);
        } else {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)&la;
            inet_ntop(AF_INET, &s4->sin_addr, c->local_ip, sizeof(c->local_ip));
            c->local_port = ntohs(s4->sin_port);
        }
    }
    return 0;
fail:
    probe_conn_close(c);
    return rc;
}

void probe_conn_close(struct probe_conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ssl_ctx);
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->ssl_ctx = NULL;
    c->fd = -1;
}

int probe_conn_send(struct probe_conn *c, const char *buf, size_t len, bool unpaced)
{
    if (!unpaced && c->gap_ms) {
        int64_t wait = c->last_send_ms + c->gap_ms - probe_now_ms();
        if (wait > 0) {
            struct timespec ts = {wait / 1000, (wait % 1000) * 1000000};
            /* Pacing, not synchronisation: this is the documented request rate. */
            nanosleep(&ts, NULL);
        }
    }
    c->last_send_ms = probe_now_ms();
    if (c->ssl) {
        int n = SSL_write(c->ssl, buf, (int)len);
        return n == (int)len ? 0 : -EIO;
    }
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

/* For streams: a complete message at the start of rbuf? Returns its length or 0. */
static size_t framed(struct probe_conn *c)
{
    struct sip_msg *m = malloc(sizeof(*m));
    size_t n = 0;
    if (!m)
        return 0;
    int rc = sip_msg_parse(m, c->rbuf, c->rlen, SIP_PARSE_STREAM);
    if (rc == 0)
        n = m->msg_len;
    else if (rc != -EAGAIN)
        n = c->rlen; /* unparsable: hand it over whole so the caller sees the failure */
    free(m);
    return n;
}

int probe_conn_recv(struct probe_conn *c, char *out, size_t cap, int timeout_ms)
{
    int64_t deadline = probe_now_ms() + timeout_ms;
    if (c->transport == PROBE_UDP) {
        int rc = wait_fd(c->fd, POLLIN, timeout_ms);
        if (rc == -ETIMEDOUT)
            return 0;
        if (rc)
            return rc;
        ssize_t n = recv(c->fd, out, cap - 1, 0);
        if (n < 0)
            return errno == ECONNREFUSED ? -ECONNREFUSED : -errno;
        out[n] = '\0';
        return (int)n;
    }
    for (;;) {
        size_t n = c->rlen ? framed(c) : 0;
        if (n) {
            size_t copy = n < cap - 1 ? n : cap - 1;
            memcpy(out, c->rbuf, copy);
            out[copy] = '\0';
            memmove(c->rbuf, c->rbuf + n, c->rlen - n);
            c->rlen -= n;
            return (int)copy;
        }
        if (c->rlen == sizeof(c->rbuf))
            return -EMSGSIZE;
        int64_t left = deadline - probe_now_ms();
        if (left <= 0)
            return 0;
        if (!(c->ssl && SSL_pending(c->ssl))) {
            int rc = wait_fd(c->fd, POLLIN, (int)left);
            if (rc == -ETIMEDOUT)
                return 0;
            if (rc)
                return rc;
        }
        ssize_t got;
        if (c->ssl) {
            int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof(c->rbuf) - c->rlen));
            got = r > 0 ? r : -1;
            if (r <= 0)
                ERR_clear_error();
        } else {
            got = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
        }
        if (got <= 0)
            return -EPIPE;
        c->rlen += (size_t)got;
    }
}
