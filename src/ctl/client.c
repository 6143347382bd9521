/* Control socket client (see include/pbxguard/ctl/ctl.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_int.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t left = deadline - mono_ms();
    int n;

    if (left <= 0)
        return -ETIMEDOUT;
    n = poll(&p, 1, (int)left);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    return n == 0 ? -ETIMEDOUT : 0;
}

static int build_line(int argc, const char *const *argv, bool json, char *line, size_t cap,
                      size_t *len)
{
    size_t n = 0;
    int w = snprintf(line, cap, "%s", json ? "json" : "text");

    if (w < 0)
        return -EINVAL;
    n = (size_t)w;
    for (int i = 0; i < argc; i++) {
        size_t al = strlen(argv[i]);
        if (strpbrk(argv[i], "\r\n") || al == 0 || n + 1 + al + 1 >= cap)
            return -EINVAL;
        line[n++] = ' ';
        memcpy(line + n, argv[i], al);
        n += al;
    }
    line[n++] = '\n';
    *len = n;
    return 0;
}

int ctl_call(const char *data_dir, int argc, const char *const *argv, bool json, int timeout_ms,
             char **body, size_t *len, bool *ok)
{
    struct sockaddr_un sa;
    char line[CTL_LINE_MAX + 1], head[64];
    size_t ll, hl = 0, off = 0, blen = 0;
    int64_t deadline = mono_ms() + timeout_ms;
    int fd = -1, rc, n;
    char *buf = NULL;

    *body = NULL;
    if ((rc = build_line(argc, argv, json, line, sizeof(line), &ll)) != 0)
        return rc;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", data_dir, CTL_SOCKET_NAME);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        rc = -errno;
        goto out;
    }
    while (off < ll) {
        if ((rc = wait_fd(fd, POLLOUT, deadline)) != 0)
            goto out;
        ssize_t w = send(fd, line + off, ll - off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            rc = -errno;
            goto out;
        }
        if (w > 0)
            off += (size_t)w;
    }
    /* Header: "<ok|err> <len>\n", byte by byte so no body byte is consumed early. */
    while (hl == 0 || head[hl - 1] != '\n') {
        if (hl + 1 >= sizeof(head)) {
            rc = -EPROTO;
            goto out;
        }
        if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
            goto out;
        ssize_t r = recv(fd, head + hl, 1, 0);
        if (r == 0) {
            rc = -EPROTO;
            goto out;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        hl++;
    }
    head[hl - 1] = '\0';
    const char *sp = strchr(head, ' ');
    if (!sp || (strncmp(head, "ok ", 3) != 0 && strncmp(head, "err ", 4) != 0)) {
        rc = -EPROTO;
        goto out;
    }
    for (const char *p = sp + 1; *p; p++) {
        if (*p < '0' || *p > '9' || blen > CTL_REPLY_MAX) {
            rc = -EPROTO;
            goto out;
        }
        blen = blen * 10 + (size_t)(*p - '0');
    }
    if (blen > CTL_REPLY_MAX) {
        rc = -EPROTO;
        goto out;
    }
    buf = malloc(blen + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    off = 0;
    while (off < blen) {
        if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
            goto out;
        ssize_t r = recv(fd, buf + off, blen - off, 0);
        if (r == 0) {
            rc = -EPROTO;
            goto out;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        off += (size_t)r;
    }
    buf[blen] = '\0';
    *ok = head[0] == 'o';
    *body = buf;
    if (len)
        *len = blen;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
