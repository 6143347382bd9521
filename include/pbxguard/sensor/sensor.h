/*
 * The passive sensor pipeline: captured frames -> link/IP/transport decoding -> IP fragment
 * reassembly -> (TCP) per-direction stream rebuilding + SIP stream framing -> SIP parsing ->
 * the detection engine, with both directions of the PBX's traffic fed to the same engine.
 *
 * Direction (docs/sensor.md): a packet whose destination is a configured PBX address comes
 * from a client: det_admit() on its source, then det_on_request() for a request or
 * det_on_malformed() when the parser refuses it (a client's response to a request of the PBX
 * is counted only). A packet whose source is a PBX address goes the other way: a response is
 * fed to det_on_response() with the packet's destination (the client) as det_ctx.src; a
 * request of the PBX is fed with from_upstream set (never scored). Without any PBX address
 * the sensor guesses per message: requests travel towards the PBX, responses away from it.
 * Packets that touch no PBX address are counted and skipped.
 *
 * Time: every engine call gets the capture timestamp of the frame that completed the
 * message (now_ms = ts_us / 1000), so replaying a capture gives the verdicts a live sensor
 * gave. Expiry of fragments, flows and bans follows capture time too (sensor_frame() runs
 * sensor_tick() once per capture second).
 *
 * TLS (port 5061) cannot be inspected passively: its segments are rebuilt like any TCP
 * stream, judged not SIP, and counted in sensor_stats.non_sip.
 *
 * Ownership: the engine is borrowed and must outlive the sensor. Pointers handed to the
 * verdict callback are valid for the call only. Not thread-safe: one sensor per capture
 * thread, and the engine is called from that thread only.
 */
#ifndef PBXGUARD_SENSOR_SENSOR_H
#define PBXGUARD_SENSOR_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/sensor/pkt_decode.h"
#include "pbxguard/sip/msg.h"

#define SENSOR_MAX_PBX 16u

/* Where the pipeline stops: the benchmark measures each stage by running it up to there. */
enum sensor_stage {
    SENSOR_STAGE_DETECT = 0, /* everything (the default) */
    SENSOR_STAGE_DECODE,     /* decode, reassemble and frame; no SIP parsing */
    SENSOR_STAGE_PARSE,      /* ... and parse; no detection */
};

struct sensor_opts {
    /* PBX addresses; port 0 matches any port. Copied. At most SENSOR_MAX_PBX. */
    const struct pbx_addr *pbx;
    size_t npbx;
    unsigned max_flows;     /* TCP directions tracked; default 4096 */
    size_t max_flow_buffer; /* unconsumed bytes per TCP direction; default 2 x 64 KiB */
    unsigned max_fragments; /* pending IP datagrams being reassembled; default 256 */
    enum sensor_stage stage;
};

enum sensor_call {
    SENSOR_CALL_REQUEST,   /* det_on_request */
    SENSOR_CALL_RESPONSE,  /* det_on_response */
    SENSOR_CALL_MALFORMED, /* det_on_malformed */
};

/* One engine decision other than a plain pass, for reports. */
struct sensor_event {
    enum sensor_call call;
    int64_t ts_us;              /* capture time of the frame that completed the message */
    uint64_t frame;             /* that frame's index (1-based, as given to sensor_frame) */
    enum pbx_transport tp;      /* PBX_TP_UDP or PBX_TP_TCP */
    const struct pbx_addr *src; /* packet source (with port) */
    const struct pbx_addr *dst; /* packet destination (with port) */
    const struct pbx_addr *client;
    const struct sip_msg *m; /* the parsed message; for MALFORMED the partial parse */
    int err;                 /* MALFORMED: the parser's negative errno */
    const struct det_verdict *v;
};

typedef void (*sensor_event_fn)(const struct sensor_event *ev, void *ctx);

struct sensor_stats {
    uint64_t frames;
    uint64_t bytes;      /* captured bytes */
    uint64_t bad_frames; /* truncated or inconsistent headers */
    uint64_t not_ip;     /* ARP, LLDP, other IP protocols */
    uint64_t fragments;  /* IP fragments fed to reassembly */
    uint64_t reassembled;
    uint64_t frag_dropped; /* overlap, oversize, out of memory */
    uint64_t udp;          /* UDP datagrams (after reassembly) */
    uint64_t tcp;          /* TCP segments */
    uint64_t not_pbx;      /* datagrams / streams touching no PBX address */
    uint64_t non_sip;      /* payloads that are not SIP (TLS included) */
    uint64_t keepalives;   /* CRLF keep-alives */
    uint64_t framing_errors;
    uint64_t messages;         /* SIP messages handed to the parser */
    uint64_t requests;         /* parsed requests */
    uint64_t responses;        /* parsed responses */
    uint64_t malformed;        /* refused by the parser */
    uint64_t refused;          /* packets det_admit refused (banned, budget, geo, lockdown) */
    uint64_t client_responses; /* responses sent to the PBX: counted, not judged */
    uint64_t events;           /* decisions other than pass */
    int64_t first_us, last_us; /* capture time span */
};

struct sensor;

/* Fills defaults (no PBX, stage DETECT). */
void sensor_opts_defaults(struct sensor_opts *o);

/*
 * Creates a sensor feeding e (borrowed; may be NULL only with stage DECODE or PARSE).
 * Returns 0, -EINVAL (too many PBX addresses, no engine), -ENOMEM.
 */
PBX_WUR int sensor_new(const struct sensor_opts *o, struct det_engine *e, struct sensor **out);
void sensor_free(struct sensor *s);

/* Called for every decision other than a plain pass (NULL: none). */
void sensor_set_event_cb(struct sensor *s, sensor_event_fn fn, void *ctx);

/*
 * Processes one captured frame of caplen bytes (link layer link) captured at ts_us, index
 * its 1-based number. Returns 0 (whatever the frame held; problems are counted in the
 * stats) or -ENOMEM when the TCP flow table could not allocate (the frame is lost).
 */
PBX_WUR int sensor_frame(struct sensor *s, enum pkt_link link, const uint8_t *frame, size_t caplen,
                         int64_t ts_us, uint64_t index);

/* Periodic work at capture time now_us: fragment/flow expiry, and det_tick (ban expiry
 * events) when 10 s of capture time passed since the last one. */
void sensor_tick(struct sensor *s, int64_t now_us);

/* End of a capture: TCP streams cut inside a message are counted as framing errors. */
void sensor_finish(struct sensor *s);

const struct sensor_stats *sensor_stats(const struct sensor *s);

/* Does a payload start like a SIP message (status line or request line)? Pure. */
bool sensor_looks_like_sip(const uint8_t *p, size_t n);

/* Parses "ADDR" or "ADDR:PORT" ("[v6]:port") for --pbx. 0 or -EINVAL. */
PBX_WUR int sensor_pbx_parse(const char *s, struct pbx_addr *out);

#endif
