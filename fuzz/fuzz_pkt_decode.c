/*
 * Capture decoding: link layer -> IP -> UDP/TCP, then fragment reassembly and TCP stream
 * rebuilding, with small table caps so eviction paths run too.
 * Input: one byte choosing the link type, then frames as [len hi][len lo][len bytes].
 * fuzz-requires: pbx_sensor
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pbxguard/sensor/defrag.h"
#include "pbxguard/sensor/flow.h"
#include "pbxguard/sensor/pkt_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum pkt_link links[] = {
    PKT_LINK_ETHERNET, PKT_LINK_SLL,  PKT_LINK_SLL2, PKT_LINK_RAW,
    PKT_LINK_IPV4,     PKT_LINK_IPV6, PKT_LINK_NULL, PKT_LINK_LOOP,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_defrag *d = NULL;
    struct flow_table *t = NULL;
    struct ip_defrag_limits dl = {.max_datagrams = 4, .timeout_us = 1000};
    struct flow_limits fl = {.max_flows = 4, .max_buffer = 4096, .user_size = 8};
    if (size < 1)
        return 0;
    if (ip_defrag_new(&dl, &d) < 0 || flow_table_new(&fl, &t) < 0)
        goto out;
    enum pkt_link link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
    size_t i = 1;
    int64_t ts = 0;
    while (i + 2 <= size) {
        size_t len = ((size_t)data[i] << 8) | data[i + 1];
        i += 2;
        if (len > size - i)
            len = size - i;
        struct pkt_info pi = {.ts_us = ts};
        ts += 100;
        int rc = pkt_decode(link, data + i, len, &pi);
        i += len;
        if (rc < 0)
            continue;
        struct pkt_info whole;
        if (pi.kind == PKT_FRAGMENT) {
            if (ip_defrag_add(d, &pi, &whole) < 0)
                continue;
            pi = whole;
        }
        if (pi.kind == PKT_UDP && pi.payload_len) {
            /* Touch every payload byte so ASan checks the bounds we report. */
            volatile uint8_t sink = 0;
            for (size_t k = 0; k < pi.payload_len; k++)
                sink ^= pi.payload[k];
            (void)sink;
        }
        if (pi.kind == PKT_TCP) {
            struct flow *f;
            if (flow_tcp_input(t, &pi, &f) == -ENOMEM || !f)
                continue;
            size_t n;
            const uint8_t *p = flow_data(f, &n);
            if (n && p && (p[0] & 1))
                flow_consume(f, n / 2 + 1);
        }
    }
    flow_table_expire(t, ts + 1000000000LL);
    ip_defrag_expire(d, ts + 1000000000LL);
out:
    flow_table_free(t);
    ip_defrag_free(d);
    return 0;
}
