/*
 * Captures: every frame is decoded (link, IP, UDP/TCP), IP fragments are reassembled,
 * UDP payloads are parsed as datagrams and TCP payloads go through per-direction stream
 * rebuilding and the SIP stream framer, exactly like a TCP connection of the gateway.
 * Payloads that do not look like SIP are counted and skipped without a report.
 */
#include <errno.h>
#include <stdio.h>

#include "inspect.h"
#include "pbxguard/sensor/capture_file.h"
#include "pbxguard/sensor/defrag.h"
#include "pbxguard/sensor/flow.h"
#include "pbxguard/sensor/sensor.h"
#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/msg.h"

/* Bytes needed before a TCP stream's first line is judged SIP or not. */
#define DECIDE_BYTES 64u

/* Per-flow consumer state, zeroed by the flow table on creation and on every reset. */
struct tcp_state {
    bool init;
    bool decided;
    bool not_sip;
    bool broken; /* a framing error: the rest of this stream cannot be delimited */
    uint64_t first_frame;
    uint64_t last_frame;
    uint64_t stream_off;
    struct sip_framer fr;
};

struct cap_run {
    struct inspect_ctx *c;
    const char *path;
    const char *format;
    uint64_t frame;
    int64_t ts_us;
};

static bool has_lf(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n')
            return true;
    return false;
}

static void tcp_src(const struct cap_run *r, const struct flow *f, const struct tcp_state *st,
                    bool reassembled, struct inspect_src *s)
{
    *s = (struct inspect_src){
        .file = r->path,
        .format = r->format,
        .tp = INSPECT_TP_TCP,
        .frame = r->frame,
        .first_frame = st->first_frame ? st->first_frame : r->frame,
        .offset = st->stream_off,
        .flow = f->id,
        .reassembled = reassembled,
        .src = &f->src,
        .dst = &f->dst,
        .ts_us = r->ts_us,
    };
}

/* Takes every complete frame out of the flow's buffer. */
static void drain_flow(struct cap_run *r, struct flow *f, bool reassembled)
{
    struct tcp_state *st = flow_user(f);
    st->last_frame = r->frame;
    if (!st->init) {
        sip_framer_init(&st->fr);
        st->init = true;
    }
    for (;;) {
        size_t len;
        const uint8_t *data = flow_data(f, &len);
        if (len == 0) {
            st->first_frame = 0;
            return;
        }
        if (!st->first_frame)
            st->first_frame = r->frame;
        if (st->not_sip || st->broken) {
            flow_consume(f, len);
            return;
        }
        if (!st->decided && !inspect_is_keepalive(data, len)) {
            if (len < DECIDE_BYTES && !has_lf(data, len))
                return;
            st->decided = true;
            if (!sensor_looks_like_sip(data, len)) {
                st->not_sip = true;
                r->c->non_sip++;
                flow_consume(f, len);
                return;
            }
        }
        struct sip_frame fr;
        int rc = sip_framer_next(&st->fr, data, len, &fr);
        if (rc == -EAGAIN)
            return;
        struct inspect_src s;
        tcp_src(r, f, st, reassembled, &s);
        if (rc < 0) {
            inspect_framing_error(r->c, &s, data, len, st->fr.err_off,
                                  st->fr.err_reason ? st->fr.err_reason : "stream framing");
            st->broken = true;
            flow_consume(f, len);
            return;
        }
        if (fr.kind == SIP_FRAME_MESSAGE)
            inspect_message(r->c, &s, data, fr.len, SIP_PARSE_STREAM);
        else
            r->c->keepalives++;
        flow_consume(f, fr.len);
        st->stream_off += fr.len;
        st->first_frame = 0;
    }
}

static void finish_flow(struct flow *f, void *ctx)
{
    struct cap_run *r = ctx;
    struct tcp_state *st = flow_user(f);
    size_t len;
    const uint8_t *data = flow_data(f, &len);
    if (len == 0 || st->not_sip || st->broken || inspect_is_keepalive(data, len))
        return;
    if (!st->decided && !sensor_looks_like_sip(data, len)) {
        r->c->non_sip++;
        return;
    }
    struct inspect_src s;
    tcp_src(r, f, st, false, &s);
    s.frame = st->last_frame;
    s.ts_us = f->last_us;
    inspect_framing_error(r->c, &s, data, len, len, "capture ended inside the message");
}

static void handle_udp(struct cap_run *r, const struct pkt_info *pi, bool reassembled)
{
    if (pi->payload_len == 0)
        return;
    if (inspect_is_keepalive(pi->payload, pi->payload_len)) {
        r->c->keepalives++;
        return;
    }
    if (!sensor_looks_like_sip(pi->payload, pi->payload_len)) {
        r->c->non_sip++;
        return;
    }
    struct inspect_src s = {
        .file = r->path,
        .format = r->format,
        .tp = INSPECT_TP_UDP,
        .frame = r->frame,
        .first_frame = r->frame,
        .reassembled = reassembled,
        .src = &pi->src,
        .dst = &pi->dst,
        .ts_us = pi->ts_us,
    };
    inspect_message(r->c, &s, pi->payload, pi->payload_len, SIP_PARSE_DATAGRAM);
}

int inspect_capture(struct inspect_ctx *c, const char *path)
{
    int rc;
    char err[512] = "";
    struct cap_file *cf = NULL;
    struct ip_defrag *defrag = NULL;
    struct flow_table *flows = NULL;
    struct flow_limits fl = {.max_flows = 4096,
                             .max_buffer = 2 * (size_t)SIP_MAX_MSG_SIZE,
                             .user_size = sizeof(struct tcp_state)};

    rc = cap_file_open(path, &cf, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "inspect: %s: %s\n", path, err);
        goto out;
    }
    rc = ip_defrag_new(NULL, &defrag);
    if (rc == 0)
        rc = flow_table_new(&fl, &flows);
    if (rc < 0) {
        fprintf(stderr, "inspect: %s: out of memory\n", path);
        goto out;
    }
    struct cap_run r = {.c = c, .path = path, .format = cap_format_name(cap_file_format(cf))};
    for (;;) {
        struct cap_frame frame;
        rc = cap_file_next(cf, &frame, err, sizeof(err));
        if (rc == -ENOENT) {
            rc = 0;
            break;
        }
        if (rc < 0) {
            fprintf(stderr, "inspect: %s: frame %llu: %s\n", path,
                    (unsigned long long)frame.index + 1, err);
            break;
        }
        r.frame = frame.index;
        r.ts_us = frame.ts_us;
        struct pkt_info pi = {.ts_us = frame.ts_us}, whole;
        if (pkt_decode(cap_file_link(cf), frame.data, frame.caplen, &pi) < 0) {
            c->bad_frames++;
            continue;
        }
        bool reassembled = false;
        if (pi.kind == PKT_FRAGMENT) {
            int d = ip_defrag_add(defrag, &pi, &whole);
            if (d == -EAGAIN)
                continue;
            if (d < 0) {
                c->bad_frames++;
                continue;
            }
            pi = whole;
            reassembled = true;
        }
        if (pi.kind == PKT_UDP) {
            handle_udp(&r, &pi, reassembled);
        } else if (pi.kind == PKT_TCP) {
            struct flow *f;
            int t = flow_tcp_input(flows, &pi, &f);
            if (t == -ENOMEM) {
                rc = t;
                fprintf(stderr, "inspect: %s: out of memory\n", path);
                break;
            }
            if (f)
                drain_flow(&r, f, reassembled);
        }
    }
    if (rc == 0)
        flow_table_foreach(flows, finish_flow, &r);
out:
    flow_table_free(flows);
    ip_defrag_free(defrag);
    cap_file_close(cf);
    return rc;
}
