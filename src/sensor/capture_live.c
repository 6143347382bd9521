/* Live capture with libpcap (include/pbxguard/sensor/capture_live.h). */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sensor/capture_live.h"

struct cap_live {
    pcap_t *p;
    int fd;
    enum pkt_link link;
    uint64_t index;
    cap_live_fn fn;
    void *ctx;
};

static int fail(pcap_t *p, int rc, const char *what, char *err, size_t errcap)
{
    snprintf(err, errcap, "%s: %s", what, p ? pcap_geterr(p) : "error");
    return rc;
}

static int activate_errno(int st)
{
    switch (st) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return -ENODEV;
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return -EPERM;
    default:
        return -EIO;
    }
}

int cap_live_open(const struct cap_live_opts *o, struct cap_live **out, char *err, size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct bpf_program prog;
    struct cap_live *c;
    int rc, st;

    err[0] = '\0';
    if (!o || !o->iface || !o->iface[0]) {
        snprintf(err, errcap, "no interface");
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->p = pcap_create(o->iface, ebuf);
    if (!c->p) {
        snprintf(err, errcap, "%s", ebuf);
        rc = -EIO;
        goto out;
    }
    (void)pcap_set_snaplen(c->p, o->snaplen > 0 ? o->snaplen : 65535);
    (void)pcap_set_promisc(c->p, o->promisc ? 1 : 0);
    /* Immediate mode: each packet is delivered as it arrives, so a ban follows the attack by
     * microseconds rather than by a buffer timeout. */
    (void)pcap_set_immediate_mode(c->p, 1);
    (void)pcap_set_timeout(c->p, 100);
    if (o->buffer_size)
        (void)pcap_set_buffer_size(
            c->p, (int)(o->buffer_size > (1u << 30) ? (1u << 30) : o->buffer_size));
    st = pcap_activate(c->p);
    if (st < 0) {
        rc = fail(c->p, activate_errno(st), o->iface, err, errcap);
        goto out;
    }
    if (pkt_link_from_dlt(pcap_datalink(c->p), &c->link) != 0) {
        snprintf(err, errcap, "%s: link type %s not supported", o->iface,
                 pcap_datalink_val_to_name(pcap_datalink(c->p)));
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    if (o->filter && o->filter[0]) {
        if (pcap_compile(c->p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            rc = fail(c->p, -EINVAL, "filter", err, errcap);
            goto out;
        }
        st = pcap_setfilter(c->p, &prog);
        pcap_freecode(&prog);
        if (st != 0) {
            rc = fail(c->p, -EIO, "filter", err, errcap);
            goto out;
        }
    }
    if (pcap_setnonblock(c->p, 1, ebuf) != 0) {
        snprintf(err, errcap, "%s", ebuf);
        rc = -EIO;
        goto out;
    }
    c->fd = pcap_get_selectable_fd(c->p);
    if (c->fd < 0) {
        snprintf(err, errcap, "%s: no selectable descriptor", o->iface);
        rc = -EIO;
        goto out;
    }
    *out = c;
    return 0;
out:
    cap_live_close(c);
    return rc;
}

static void on_pkt(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct cap_live *c = (struct cap_live *)user;
    struct cap_frame f = {
        .data = bytes,
        .caplen = h->caplen,
        .wirelen = h->len,
        .ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec,
        .index = ++c->index,
    };
    c->fn(&f, c->ctx);
}

int cap_live_poll(struct cap_live *c, int timeout_ms, int max, cap_live_fn fn, void *ctx, char *err,
                  size_t errcap)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int n = poll(&pfd, 1, timeout_ms);

    if (n < 0)
        return errno == EINTR ? -EINTR : -EIO;
    if (n == 0)
        return 0;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        snprintf(err, errcap, "capture descriptor failed (interface down or removed)");
        return -EIO;
    }
    c->fn = fn;
    c->ctx = ctx;
    n = pcap_dispatch(c->p, max > 0 ? max : -1, on_pkt, (u_char *)c);
    if (n == PCAP_ERROR) {
        snprintf(err, errcap, "%s", pcap_geterr(c->p));
        return -EIO;
    }
    return n < 0 ? 0 : n;
}

enum pkt_link cap_live_link(const struct cap_live *c)
{
    return c->link;
}

void cap_live_stats(struct cap_live *c, uint64_t *received, uint64_t *dropped)
{
    struct pcap_stat ps;

    *received = 0;
    *dropped = 0;
    if (pcap_stats(c->p, &ps) == 0) {
        *received = ps.ps_recv;
        *dropped = ps.ps_drop;
    }
}

void cap_live_close(struct cap_live *c)
{
    if (!c)
        return;
    if (c->p)
        pcap_close(c->p);
    free(c);
}
