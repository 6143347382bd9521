/*
 * Per-direction TCP byte streams rebuilt from captured segments, for framing SIP over TCP.
 *
 * A flow is one direction of a connection, keyed by (source, destination) address and
 * port. Segments are taken in order: a SYN (or, mid-stream, the first segment seen) sets
 * the expected sequence number; a segment at the expected number is appended; a
 * retransmission or the already-seen part of an overlap is skipped. A segment beyond the
 * expected number (reordering) is held, copied, until the missing bytes arrive: at most
 * FLOW_MAX_HELD segments per flow, counted against max_buffer. When it cannot be held, the
 * gap is taken as loss: what is buffered can no longer be completed, so it is discarded
 * (with the held segments), flow.resets is bumped and the stream restarts at that segment.
 *
 * Bounds: at most max_flows flows (the least recently used one is evicted when a new flow
 * needs a slot) and max_buffer unconsumed bytes per flow (appending beyond it resets the
 * flow and reports -EMSGSIZE). Idle flows are evicted by flow_table_expire(). Lookups go
 * through a hash table keyed with SipHash under a random per-table key.
 *
 * The consumer reads the buffered bytes with flow_data(), takes every complete message
 * and calls flow_consume(). Each flow carries user_size bytes of zeroed consumer state
 * (e.g. a stream framer), zeroed again whenever the flow resets, so that state never mixes
 * bytes from both sides of a gap.
 *
 * Pointers returned (flows, data) are valid until the next flow_tcp_input() or
 * flow_table_expire() on the same table. Not thread-safe: one table per capture thread.
 */
#ifndef PBXGUARD_SENSOR_FLOW_H
#define PBXGUARD_SENSOR_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/sensor/pkt_decode.h"

/* Out-of-order segments held per flow while waiting for the bytes before them. */
#define FLOW_MAX_HELD 8u

struct flow_held; /* private */

struct flow_limits {
    unsigned max_flows; /* default 1024, at most 2^24 */
    size_t max_buffer;  /* unconsumed bytes per flow, default 131072 */
    int64_t idle_us;    /* idle time before expiry, default 300 s */
    size_t user_size;   /* consumer state bytes per flow, default 0 */
};

struct flow {
    struct pbx_addr src; /* with port */
    struct pbx_addr dst;
    uint64_t id; /* 1, 2, ... in order of creation within the table */
    int64_t first_us;
    int64_t last_us;
    uint32_t next_seq;
    bool closed;     /* FIN or RST seen */
    unsigned resets; /* gaps and overflows so far */
    uint64_t bytes;  /* payload bytes appended */
    /* private */
    uint8_t *buf;
    size_t off;
    size_t len;
    size_t cap;
    void *user;
    struct flow_held *held;
    unsigned nheld;
    size_t held_bytes;
};

struct flow_stats {
    uint64_t segments;
    uint64_t flows;       /* created */
    uint64_t evicted;     /* LRU evictions on a full table */
    uint64_t expired;     /* idle expiries */
    uint64_t held;        /* out-of-order segments held until the gap before them filled */
    uint64_t gaps;        /* streams restarted after missing bytes */
    uint64_t overflows;   /* streams reset for exceeding max_buffer */
    uint64_t retransmits; /* segments or parts of segments already seen */
};

struct flow_table;

/* lim may be NULL for defaults; zero fields take defaults. 0, -ENOMEM, -EINVAL. */
PBX_WUR int flow_table_new(const struct flow_limits *lim, struct flow_table **out);
void flow_table_free(struct flow_table *t);

/*
 * Feeds one decoded TCP segment (pi->kind == PKT_TCP). Returns 0 with *out set to its flow
 * (whose buffer may have grown; it may also have been reset, see flow.resets), -EMSGSIZE
 * when the flow's buffer overflowed (the flow was reset and *out is still set), -EINVAL if
 * pi is not TCP, -ENOMEM (*out is NULL).
 */
PBX_WUR int flow_tcp_input(struct flow_table *t, const struct pkt_info *pi, struct flow **out);

/* Unconsumed bytes of f; *len gets their count. */
const uint8_t *flow_data(const struct flow *f, size_t *len);
/* Marks the first n unconsumed bytes as used (n is clamped to what is buffered). */
void flow_consume(struct flow *f, size_t n);
/* Consumer state of user_size bytes (NULL when user_size is 0). */
void *flow_user(const struct flow *f);

/* Calls fn on every flow (e.g. to drain leftovers at the end of a capture). */
typedef void (*flow_visit_fn)(struct flow *f, void *ctx);
void flow_table_foreach(struct flow_table *t, flow_visit_fn fn, void *ctx);

/* Evicts flows idle for longer than idle_us before now_us (capture time). */
void flow_table_expire(struct flow_table *t, int64_t now_us);

const struct flow_stats *flow_table_stats(const struct flow_table *t);
unsigned flow_table_count(const struct flow_table *t);

#endif
