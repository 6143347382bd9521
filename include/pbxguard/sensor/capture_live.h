/*
 * Live capture from a network interface through libpcap: pcap_create + pcap_activate with
 * the full snap length, immediate delivery (no batching delay before a verdict), a kernel
 * buffer of the configured size, an optional BPF filter, non-blocking reads and poll(2), so
 * the caller's loop stays responsive to signals and timers.
 *
 * Ownership: frames passed to the callback point into libpcap's ring and are valid for the
 * call only. Needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode). Not thread-safe.
 */
#ifndef PBXGUARD_SENSOR_CAPTURE_LIVE_H
#define PBXGUARD_SENSOR_CAPTURE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/sensor/capture_file.h"
#include "pbxguard/sensor/pkt_decode.h"

struct cap_live_opts {
    const char *iface;    /* required */
    const char *filter;   /* BPF expression; NULL or "" = everything */
    int snaplen;          /* 0 = 65535 */
    uint64_t buffer_size; /* kernel buffer bytes; 0 = libpcap's default */
    bool promisc;
};

struct cap_live;

/*
 * Opens and activates the capture. Returns 0, or -ENODEV (no such interface), -EPERM (no
 * capture privilege), -EINVAL (filter does not compile), -EPROTONOSUPPORT (link type
 * pkt_decode() does not handle), -EIO (other libpcap failure), -ENOMEM; the reason is
 * written NUL-terminated into err (errcap bytes).
 */
PBX_WUR int cap_live_open(const struct cap_live_opts *o, struct cap_live **out, char *err,
                          size_t errcap);

typedef void (*cap_live_fn)(const struct cap_frame *f, void *ctx);

/*
 * Waits at most timeout_ms for traffic, then hands every frame available (at most max) to
 * fn. Returns the number of frames (0 on timeout), -EINTR when a signal interrupted the
 * wait, or -EIO (the interface went away; reason in err).
 */
PBX_WUR int cap_live_poll(struct cap_live *c, int timeout_ms, int max, cap_live_fn fn, void *ctx,
                          char *err, size_t errcap);

enum pkt_link cap_live_link(const struct cap_live *c);

/* Kernel counters: frames received by the filter and dropped for lack of buffer space. */
void cap_live_stats(struct cap_live *c, uint64_t *received, uint64_t *dropped);

void cap_live_close(struct cap_live *c);

#endif
