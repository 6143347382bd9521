/* Socket creation with the options every pbxguard socket gets. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_internal.h"

static int set_int(int fd, int level, int name, int value)
{
    if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
        return -errno;
    return 0;
}

static void set_udp_buffers(int fd, unsigned want)
{
    /* Bursts of SIP over UDP must not be dropped by a small default buffer. Try the
     * privileged variant first (ignores rmem_max), then the capped one. Best effort. */
    int v = want > INT32_MAX ? INT32_MAX : (int)want;
    if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, v) < 0)
        (void)set_int(fd, SOL_SOCKET, SO_RCVBUF, v);
    if (set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, v) < 0)
        (void)set_int(fd, SOL_SOCKET, SO_SNDBUF, v);
}

int net_sock_local(int fd, struct pbx_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    struct pbx_addr a;
    int rc = pbx_addr_from_sockaddr((struct sockaddr *)&ss, sl, &a);
    if (rc < 0)
        return rc;
    *out = pbx_addr_unmap(&a);
    return 0;
}

int net_socket_bind(const struct pbx_endpoint *ep, unsigned udp_buffer, int *fd_out)
{
    int type = ep->transport == PBX_TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int family = ep->addr.family;
    int rc;
    if (family != AF_INET && family != AF_INET6)
        return -EINVAL;
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* TCP: rebind at once across restarts despite TIME_WAIT. Not on UDP, where Linux
     * would let a second socket share the port and silently split the traffic. */
    if (type == SOCK_STREAM && (rc = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0)
        goto out;
    /* A v6 listener takes only v6: a v4 listener on the same port stays possible and
     * peers never show up as v4-mapped addresses. */
    if (family == AF_INET6 && (rc = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) < 0)
        goto out;
    if (type == SOCK_DGRAM) {
        set_udp_buffers(fd, udp_buffer);
        /* The local address of each datagram, for listeners bound to a wildcard. */
        if (family == AF_INET)
            rc = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
        else
            rc = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        if (rc < 0)
            goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = pbx_addr_to_sockaddr(&ep->addr, &ss);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
        rc = -errno;
        goto out;
    }
    if (type == SOCK_STREAM && listen(fd, 1024) < 0) {
        rc = -errno;
        goto out;
    }
    *fd_out = fd;
    return 0;
out:
    close(fd);
    return rc;
}

void net_raise_nofile(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t target = want;
        if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
            target = rl.rlim_max;
        rl.rlim_cur = target;
        /* Best effort: without CAP_SYS_RESOURCE the hard limit caps us; the connection
         * cap still holds and accept failures are counted. */
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}
