/*
 * Security event stream: one JSON line per decision (pass, drop, reject, ban, alert...).
 * The schema is in docs/events.md; its design in docs/internals/events.md.
 *
 * Producers fill a struct ev_record (all pointers borrowed for the call) and call ev_emit().
 * The record is formatted into one JSON line (at most EV_LINE_MAX bytes; oversized optional
 * parts are cut, the line is never split) and then:
 *   - handed to every subscriber (store, metrics, alerting), synchronously, in the caller's
 *     thread; subscribers must be quick and must not call ev_emit themselves;
 *   - appended to the sink's in-memory buffer (EV_BUFFER_SIZE). The buffer is written with
 *     one write(2) when it passes half full, when ev_flush() is called (the daemon calls it
 *     from a timer every events.flush_interval), and at ev_close(). A packet thread therefore
 *     only ever pays for a memcpy, plus now and then one write(2) of at most EV_BUFFER_SIZE
 *     bytes to a regular file; it never waits on fsync (fsync happens in ev_flush when
 *     events.fsync is on, and on rotation and close). If the sink cannot keep up and the
 *     buffer is full, the event is counted in ev_stats.dropped instead of blocking.
 *
 * Untrusted fields (src, target, user_agent, evidence string values, raw) go through
 * esc_untrusted(ESC_JSON) with per-field caps, so attacker bytes cannot forge a line.
 *
 * Thread-safety: ev_emit, ev_flush, ev_stats_get may be called from any thread (one mutex
 * around the buffer and the subscriber list). ev_open/ev_close/ev_subscribe are for start-up,
 * reload and shutdown. Before ev_open, events go to subscribers only.
 */
#ifndef PBXGUARD_CORE_EVENT_H
#define PBXGUARD_CORE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

#define EV_LINE_MAX 16384u     /* one formatted event, newline included */
#define EV_BUFFER_SIZE 262144u /* sink buffer */
#define EV_MAX_EVIDENCE 16u    /* evidence pairs kept per event; more are counted */
#define EV_FIELD_MAX 256u      /* input bytes shown of src/target/user_agent/evidence values */
#define EV_RAW_MAX 2048u       /* input bytes shown of the raw excerpt (config may lower it) */
#define EV_MAX_SUBSCRIBERS 8u

enum ev_action {
    EV_ACT_LOG,    /* recorded only (informational) */
    EV_ACT_PASS,   /* inspected and allowed */
    EV_ACT_DROP,   /* discarded silently */
    EV_ACT_REJECT, /* answered with an error status */
    EV_ACT_BAN,    /* source banned */
    EV_ACT_UNBAN,  /* ban lifted (expiry or operator) */
    EV_ACT_ALERT,  /* operator alerted, traffic unaffected */
    EV_ACT_LOCK,   /* account locked */
    EV_ACT_UNLOCK, /* account unlocked */
    EV_ACT_COUNT_
};

enum ev_severity {
    EV_SEV_INFO,
    EV_SEV_LOW,
    EV_SEV_MEDIUM,
    EV_SEV_HIGH,
    EV_SEV_CRITICAL,
};

enum ev_kv_kind {
    EV_KV_STR, /* str: untrusted bytes, escaped and capped */
    EV_KV_INT,
    EV_KV_BOOL,
};

struct ev_kv {
    const char *key; /* trusted: a fixed identifier such as "failures" or "window_s" */
    enum ev_kv_kind kind;
    struct slice str;
    int64_t num; /* EV_KV_INT, and EV_KV_BOOL (0/1) */
};

#define EV_KV_S(k, s) ((struct ev_kv){.key = (k), .kind = EV_KV_STR, .str = (s)})
#define EV_KV_I(k, v) ((struct ev_kv){.key = (k), .kind = EV_KV_INT, .num = (int64_t)(v)})
#define EV_KV_B(k, v) ((struct ev_kv){.key = (k), .kind = EV_KV_BOOL, .num = (v) ? 1 : 0})

/*
 * One security decision. Only type and action are required; absent slices (p == NULL) and
 * NULL strings are left out of the JSON line. Trusted strings are program constants.
 */
struct ev_record {
    int64_t ts_ms;    /* wall clock ms; 0 = now (clock_wall_ms) */
    const char *type; /* trusted, dotted: "auth.bruteforce", "scan.ua", "fraud.dest" */
    const char *rule; /* trusted: detector / rule id, e.g. "det.auth_fail_rate" */
    enum ev_action action;
    enum ev_severity severity;
    bool shadow;             /* shadow mode: the action was NOT enforced, only recorded */
    const char *component;   /* trusted: "gateway", "sensor", "cdr", "ctl" ... */
    struct slice src;        /* untrusted-format source "203.0.113.7:5060" / "[2001:db8::1]:5060" */
    const char *transport;   /* trusted: "udp", "tcp", "tls" */
    struct slice target;     /* untrusted: account, user or dialled number */
    struct slice call_id;    /* untrusted */
    struct slice method;     /* untrusted */
    struct slice user_agent; /* untrusted */
    const char *reason;      /* trusted text; still escaped */
    int64_t ban_s;           /* EV_ACT_BAN: duration in seconds (0 = not given, -1 = permanent) */
    const struct ev_kv *evidence;
    size_t n_evidence;
    struct slice raw; /* untrusted: excerpt of the triggering message */
};

/* JSON name of an action ("pass", "drop", ...) and of a severity ("info" ... "critical"). */
const char *ev_action_name(enum ev_action a);
const char *ev_severity_name(enum ev_severity s);

/*
 * Formats r as one JSON line (with trailing '\n') into buf[cap] (cap >= 256, normally
 * EV_LINE_MAX); seq is the event's sequence number. raw_max caps the raw excerpt input bytes.
 * Returns the length, or -EINVAL (missing type), -EMSGSIZE (cannot fit even without optional
 * parts; never happens with EV_LINE_MAX). Pure, thread-safe.
 */
PBX_WUR int ev_format(const struct ev_record *r, uint64_t seq, size_t raw_max, char *buf,
                      size_t cap);

/* Subscriber: receives the record and its formatted line (line[len], '\n' included). */
typedef void (*ev_subscriber_fn)(const struct ev_record *r, const char *line, size_t len,
                                 void *ctx);

/* Adds / removes a subscriber. -ENOSPC past EV_MAX_SUBSCRIBERS; -ENOENT on unknown remove. */
PBX_WUR int ev_subscribe(ev_subscriber_fn fn, void *ctx);
PBX_WUR int ev_unsubscribe(ev_subscriber_fn fn, void *ctx);

enum ev_dest {
    EV_DEST_OFF,
    EV_DEST_STDOUT,
    EV_DEST_FILE,
};

/* The "events" configuration section (see docs/configuration.md). */
struct ev_config {
    enum ev_dest dest;         /* default file */
    const char *path;          /* EV_DEST_FILE; default /var/log/pbxguard/events.jsonl */
    uint64_t rotate_size;      /* rotate when the file would pass this; 0 = never; default 64M */
    int64_t rotate_keep;       /* rotated files kept (path.1 .. path.N); default 5 */
    int64_t flush_interval_ms; /* how often the daemon calls ev_flush; default 1000 */
    bool fsync;                /* fsync after each flush; default false */
    uint64_t raw_max;          /* raw excerpt input cap, <= EV_RAW_MAX; default 1024 */
};

struct cfg_node;
struct cfg_diag;
PBX_WUR int ev_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void ev_config_free(void *obj);

/*
 * Opens the sink described by cfg (copied). For a file: open(O_WRONLY|O_APPEND|O_CREAT,
 * 0640) first, then flush and close the previous sink, so a failure keeps the old sink.
 * Returns 0 or -errno.
 */
PBX_WUR int ev_open(const struct ev_config *cfg);
/* Flushes and closes the sink (fsync for files); subscribers stay. */
void ev_close(void);

/*
 * Emits one event. Returns 0, -EINVAL (no type), or -ENOBUFS if the sink buffer was full and
 * the line was dropped (subscribers still got it). Thread-safe. Not PBX_WUR on purpose: a
 * lost line is already counted in ev_stats, and the packet path has nothing better to do.
 */
int ev_emit(const struct ev_record *r);

/* Writes buffered lines to the sink (and fsyncs if configured). Returns 0 or -errno (the
 * lines that could not be written are counted as dropped). Thread-safe. */
int ev_flush(void);

struct ev_stats {
    uint64_t emitted; /* ev_emit calls that formatted a line */
    uint64_t written; /* lines handed to the sink */
    uint64_t dropped; /* lines lost: buffer full or write error */
    uint64_t rotations;
    int last_errno; /* last sink write/open error, 0 if none */
};

void ev_stats_get(struct ev_stats *out);

#endif
