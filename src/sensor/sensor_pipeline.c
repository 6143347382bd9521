/*
 * The sensor pipeline (include/pbxguard/sensor/sensor.h): one captured frame in, engine
 * verdicts out. TCP streams go through the same framer as a gateway connection, so a message
 * split across segments is judged once, when its last byte arrives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sensor/defrag.h"
#include "pbxguard/sensor/flow.h"
#include "pbxguard/sensor/sensor.h"
#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/limits.h"

/* Bytes needed before a TCP stream's first line is judged SIP or not. */
#define DECIDE_BYTES 64u
#define TICK_US 1000000
/* Ban expiry by capture time: bans are checked against their expiry on every lookup, so
 * this only times the "unban" events; the scan is O(ban table), too costly every second of
 * a capture replayed at 100x real time. Live, the daemon also ticks on the wall clock. */
#define DET_TICK_US 10000000

enum dir {
    DIR_NONE,     /* touches no PBX address */
    DIR_TO_PBX,   /* client -> PBX */
    DIR_FROM_PBX, /* PBX -> client */
    DIR_GUESS,    /* no PBX configured: decided by the message kind */
};

/* Per TCP direction, zeroed by the flow table on creation and on every reset. */
struct tcp_state {
    bool init;
    bool decided;
    bool not_sip;
    bool broken; /* a framing error: the rest of this stream cannot be delimited */
    struct sip_framer fr;
};

struct sensor {
    struct sensor_opts o;
    struct pbx_addr pbx[SENSOR_MAX_PBX];
    struct det_engine *e;
    struct ip_defrag *defrag;
    struct flow_table *flows;
    sensor_event_fn cb;
    void *cb_ctx;
    int64_t next_tick_us;
    int64_t next_det_tick_us;
    uint64_t frame;
    int64_t ts_us;
    struct sensor_stats st;
    struct det_verdict v;
    struct sip_msg m; /* large: one per sensor, reused for every message */
};

void sensor_opts_defaults(struct sensor_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_flows = 4096;
    o->max_flow_buffer = 2 * (size_t)SIP_MAX_MSG_SIZE;
    o->max_fragments = 256;
    o->stage = SENSOR_STAGE_DETECT;
}

int sensor_new(const struct sensor_opts *o, struct det_engine *e, struct sensor **out)
{
    struct sensor_opts def;
    struct sensor *s;
    int rc;

    if (!o) {
        sensor_opts_defaults(&def);
        o = &def;
    }
    if (o->npbx > SENSOR_MAX_PBX || (o->npbx && !o->pbx) || (!e && o->stage == SENSOR_STAGE_DETECT))
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->o = *o;
    if (o->npbx)
        memcpy(s->pbx, o->pbx, o->npbx * sizeof(*o->pbx));
    s->o.pbx = s->pbx;
    s->e = e;
    struct ip_defrag_limits dl = {.max_datagrams = o->max_fragments};
    struct flow_limits fl = {.max_flows = o->max_flows,
                             .max_buffer = o->max_flow_buffer,
                             .user_size = sizeof(struct tcp_state)};
    rc = ip_defrag_new(&dl, &s->defrag);
    if (rc == 0)
        rc = flow_table_new(&fl, &s->flows);
    if (rc != 0)
        goto out;
    *out = s;
    return 0;
out:
    sensor_free(s);
    return rc;
}

void sensor_free(struct sensor *s)
{
    if (!s)
        return;
    flow_table_free(s->flows);
    ip_defrag_free(s->defrag);
    free(s);
}

void sensor_set_event_cb(struct sensor *s, sensor_event_fn fn, void *ctx)
{
    s->cb = fn;
    s->cb_ctx = ctx;
}

const struct sensor_stats *sensor_stats(const struct sensor *s)
{
    return &s->st;
}

static bool starts_ci(const uint8_t *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && slice_eq_ci(slice_make(p, k), slice_make(lit, k));
}

bool sensor_looks_like_sip(const uint8_t *p, size_t n)
{
    /* Leading CRLFs are keep-alives in front of a message (RFC 5626 §3.5.1). */
    while (n && (*p == '\r' || *p == '\n')) {
        p++;
        n--;
    }
    if (starts_ci(p, n, "SIP/2.0 "))
        return true;
    /* A request line: method token (RFC 3261 §25.1 allows more, scanners use upper case),
     * one space, then a SIP-ish URI, or "SIP/" further on the line. */
    size_t i = 0;
    while (i < n && i <= SIP_MAX_METHOD_LEN && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    if (i < 3 || i > SIP_MAX_METHOD_LEN || i >= n || p[i] != ' ')
        return false;
    const uint8_t *u = p + i + 1;
    size_t un = n - i - 1;
    if (starts_ci(u, un, "sip:") || starts_ci(u, un, "sips:") || starts_ci(u, un, "tel:"))
        return true;
    for (size_t k = 0; k + 4 <= un && k < SIP_MAX_URI_LEN && u[k] != '\n'; k++)
        if (starts_ci(u + k, un - k, "SIP/"))
            return true;
    return false;
}

static bool is_keepalive(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n')
            return false;
    return n > 0;
}

int sensor_pbx_parse(const char *str, struct pbx_addr *out)
{
    if (!str || !out)
        return -EINVAL;
    return pbx_addr_parse(str, strlen(str), out) == 0 ? 0 : -EINVAL;
}

static bool is_pbx(const struct sensor *s, const struct pbx_addr *a)
{
    for (size_t i = 0; i < s->o.npbx; i++) {
        const struct pbx_addr *p = &s->pbx[i];
        if (pbx_addr_eq(p, a, p->port != 0))
            return true;
    }
    return false;
}

static enum dir direction(const struct sensor *s, const struct pbx_addr *src,
                          const struct pbx_addr *dst)
{
    if (s->o.npbx == 0)
        return DIR_GUESS;
    /* PBX to PBX (a trunk between two monitored boxes) is trusted traffic, like the PBX's. */
    if (is_pbx(s, src))
        return DIR_FROM_PBX;
    if (is_pbx(s, dst))
        return DIR_TO_PBX;
    return DIR_NONE;
}

static int64_t now_ms(const struct sensor *s)
{
    return s->ts_us / 1000;
}

static void report(struct sensor *s, enum sensor_call call, enum pbx_transport tp,
                   const struct pbx_addr *src, const struct pbx_addr *dst,
                   const struct pbx_addr *client, int err, bool partial)
{
    if (s->v.action == DET_PASS && !(s->v.flags & (DET_F_SHADOW | DET_F_ALERT)))
        return;
    s->st.events++;
    if (!s->cb)
        return;
    struct sensor_event ev = {
        .call = call,
        .ts_us = s->ts_us,
        .frame = s->frame,
        .tp = tp,
        .src = src,
        .dst = dst,
        .client = client,
        .m = partial || err == 0 ? &s->m : NULL,
        .err = err,
        .v = &s->v,
    };
    s->cb(&ev, s->cb_ctx);
}

static bool admit(struct sensor *s, const struct pbx_addr *src, enum pbx_transport tp)
{
    if (det_admit(s->e, src, tp, now_ms(s)))
        return true;
    s->st.refused++;
    return false;
}

/* One SIP message (a datagram or a framed stream message) between src and dst. */
static void on_message(struct sensor *s, enum dir d, enum pbx_transport tp,
                       const struct pbx_addr *src, const struct pbx_addr *dst, const uint8_t *p,
                       size_t n, unsigned flags)
{
    struct det_ctx ctx = {.src = *src, .tp = tp};

    s->st.messages++;
    if (s->o.stage == SENSOR_STAGE_DECODE)
        return;
    /* Admission comes before parsing, as in the gateway: a banned or flooding client costs
     * no parse. Direction is unknown before parsing only in guess mode. */
    if (d == DIR_TO_PBX && s->o.stage == SENSOR_STAGE_DETECT && !admit(s, src, tp))
        return;
    int rc = sip_msg_parse(&s->m, p, n, flags);
    if (rc < 0) {
        s->st.malformed++;
        if (s->o.stage != SENSOR_STAGE_DETECT)
            return;
        if (d == DIR_GUESS && !admit(s, src, tp))
            return;
        ctx.from_upstream = d == DIR_FROM_PBX;
        det_on_malformed(s->e, &ctx, rc, &s->m, now_ms(s), &s->v);
        report(s, SENSOR_CALL_MALFORMED, tp, src, dst, src, rc, true);
        return;
    }
    if (s->m.is_request)
        s->st.requests++;
    else
        s->st.responses++;
    if (s->o.stage != SENSOR_STAGE_DETECT)
        return;
    if (d == DIR_GUESS)
        d = s->m.is_request ? DIR_TO_PBX : DIR_FROM_PBX;
    if (s->m.is_request) {
        if (d == DIR_TO_PBX && (s->o.npbx == 0) && !admit(s, src, tp))
            return;
        ctx.from_upstream = d == DIR_FROM_PBX;
        det_on_request(s->e, &ctx, &s->m, now_ms(s), &s->v);
        report(s, SENSOR_CALL_REQUEST, tp, src, dst, src, 0, false);
    } else if (d == DIR_FROM_PBX) {
        /* The PBX's answer is attributed to the client it goes to. An answer to a banned
         * client is not judged again: once enforced, its requests would not have reached the
         * PBX, and judging it would re-ban (and escalate) the same scope per answer. */
        ctx.src = *dst;
        if (ban_check(det_bans(s->e), dst, now_ms(s), NULL)) {
            s->st.refused++;
            return;
        }
        det_on_response(s->e, &ctx, &s->m, now_ms(s), &s->v);
        report(s, SENSOR_CALL_RESPONSE, tp, src, dst, dst, 0, false);
    } else {
        s->st.client_responses++;
    }
}

static void on_udp(struct sensor *s, const struct pkt_info *pi)
{
    s->st.udp++;
    if (pi->payload_len == 0)
        return;
    enum dir d = direction(s, &pi->src, &pi->dst);
    if (d == DIR_NONE) {
        s->st.not_pbx++;
        return;
    }
    if (is_keepalive(pi->payload, pi->payload_len)) {
        s->st.keepalives++;
        return;
    }
    if (!sensor_looks_like_sip(pi->payload, pi->payload_len)) {
        s->st.non_sip++;
        return;
    }
    on_message(s, d, PBX_TP_UDP, &pi->src, &pi->dst, pi->payload, pi->payload_len,
               SIP_PARSE_DATAGRAM);
}

/* Takes every complete message out of the flow's buffer. */
static void drain_flow(struct sensor *s, struct flow *f, enum dir d)
{
    struct tcp_state *st = flow_user(f);

    if (!st->init) {
        sip_framer_init(&st->fr);
        st->init = true;
    }
    for (;;) {
        size_t len;
        const uint8_t *data = flow_data(f, &len);
        if (len == 0)
            return;
        if (st->not_sip || st->broken) {
            flow_consume(f, len);
            return;
        }
        if (!st->decided && !is_keepalive(data, len)) {
            if (len < DECIDE_BYTES && !memchr(data, '\n', len))
                return;
            st->decided = true;
            if (!sensor_looks_like_sip(data, len)) {
                /* TLS records, or another protocol on a SIP port. */
                st->not_sip = true;
                s->st.non_sip++;
                flow_consume(f, len);
                return;
            }
        }
        struct sip_frame fr;
        int rc = sip_framer_next(&st->fr, data, len, &fr);
        if (rc == -EAGAIN)
            return;
        if (rc < 0) {
            /* The stream can no longer be delimited: judge what is there as one malformed
             * message (the engine counts it against the client), then skip the rest. */
            s->st.framing_errors++;
            st->broken = true;
            on_message(s, d, PBX_TP_TCP, &f->src, &f->dst, data, len, SIP_PARSE_STREAM);
            flow_consume(f, len);
            return;
        }
        if (fr.kind == SIP_FRAME_MESSAGE)
            on_message(s, d, PBX_TP_TCP, &f->src, &f->dst, data, fr.len, SIP_PARSE_STREAM);
        else
            s->st.keepalives++;
        flow_consume(f, fr.len);
    }
}

static int on_tcp(struct sensor *s, const struct pkt_info *pi)
{
    struct flow *f = NULL;

    s->st.tcp++;
    enum dir d = direction(s, &pi->src, &pi->dst);
    if (d == DIR_NONE) {
        s->st.not_pbx++;
        return 0;
    }
    int rc = flow_tcp_input(s->flows, pi, &f);
    if (rc == -ENOMEM)
        return rc;
    if (f)
        drain_flow(s, f, d);
    return 0;
}

void sensor_tick(struct sensor *s, int64_t now_us)
{
    ip_defrag_expire(s->defrag, now_us);
    flow_table_expire(s->flows, now_us);
    if (s->e && s->o.stage == SENSOR_STAGE_DETECT && now_us >= s->next_det_tick_us) {
        det_tick(s->e, now_us / 1000);
        s->next_det_tick_us = now_us + DET_TICK_US;
    }
}

int sensor_frame(struct sensor *s, enum pkt_link link, const uint8_t *frame, size_t caplen,
                 int64_t ts_us, uint64_t index)
{
    struct pkt_info pi = {.ts_us = ts_us}, whole;

    s->st.frames++;
    s->st.bytes += caplen;
    s->frame = index;
    s->ts_us = ts_us;
    if (s->st.frames == 1) {
        s->st.first_us = ts_us;
        s->next_tick_us = ts_us + TICK_US;
    }
    if (ts_us > s->st.last_us)
        s->st.last_us = ts_us;
    if (ts_us >= s->next_tick_us) {
        sensor_tick(s, ts_us);
        s->next_tick_us = ts_us + TICK_US;
    }
    if (pkt_decode(link, frame, caplen, &pi) < 0) {
        s->st.bad_frames++;
        return 0;
    }
    if (pi.kind == PKT_FRAGMENT) {
        s->st.fragments++;
        int d = ip_defrag_add(s->defrag, &pi, &whole);
        if (d == -EAGAIN)
            return 0;
        if (d < 0) {
            s->st.frag_dropped++;
            return 0;
        }
        s->st.reassembled++;
        pi = whole;
    }
    switch (pi.kind) {
    case PKT_UDP:
        on_udp(s, &pi);
        return 0;
    case PKT_TCP:
        return on_tcp(s, &pi);
    case PKT_NOT_IP:
    case PKT_OTHER_IP:
    case PKT_FRAGMENT:
    default:
        s->st.not_ip++;
        return 0;
    }
}

static void finish_flow(struct flow *f, void *ctx)
{
    struct sensor *s = ctx;
    struct tcp_state *st = flow_user(f);
    size_t len;
    const uint8_t *data = flow_data(f, &len);

    if (len == 0 || st->not_sip || st->broken || is_keepalive(data, len))
        return;
    if (!st->decided && !sensor_looks_like_sip(data, len)) {
        s->st.non_sip++;
        return;
    }
    /* The capture ended inside a message: nothing to judge, but worth counting. */
    s->st.framing_errors++;
}

void sensor_finish(struct sensor *s)
{
    flow_table_foreach(s->flows, finish_flow, s);
}
