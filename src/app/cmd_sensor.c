/*
 * `pbxguard sensor`: the detection engine on mirrored (live) or recorded (offline) traffic.
 *
 *   pbxguard sensor [-c FILE] (-i IFACE | -r FILE.pcap[ng]) [--pbx ADDR[:PORT]]...
 *                   [--data-dir DIR] [--json] [--no-enforce] [-q]
 *
 * Live (-i): libpcap capture; bans are persisted (store) and enforced through nftables
 * unless --no-enforce (or sensor.enforce: false); runs until SIGTERM/SIGINT; SIGHUP reloads
 * the detect section and the log/event destinations. Offline (-r):
 * reads the capture as fast as it can with the capture timestamps as the engine's clock, and
 * reports decisions and bans (text, or JSON lines with --json); nothing is enforced.
 *
 * Exit codes (docs/sensor.md): 0 ran (offline: no decision other than pass), 1 offline run
 * that found threats (at least one decision other than pass), 2 usage, configuration or I/O
 * error (capture cannot be opened or read, engine or nftables set-up failed).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config_sections.h"
#include "daemon_common.h"
#include "daemon_options.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/general.h"
#include "pbxguard/core/log.h"
#include "pbxguard/detect/runtime.h"
#include "pbxguard/sensor/capture_file.h"
#include "pbxguard/sensor/capture_live.h"
#include "pbxguard/sensor/config.h"
#include "pbxguard/sensor/report.h"
#include "pbxguard/sensor/sensor.h"

#define EXIT_OK 0
#define EXIT_THREATS 1
#define EXIT_USAGE 2

struct sn_opts {
    const char *config;
    const char *iface;
    const char *file;
    struct pbx_addr pbx[SENSOR_MAX_PBX];
    size_t npbx;
    const char *data_dir;
    bool json;
    bool no_enforce;
    bool quiet;
};

struct sn_run {
    const char *config;        /* for SIGHUP */
    struct cfg_snapshot *snap; /* the configuration in force (engine strings borrow from it) */
    struct sensor *s;
    struct sensor_report *rep;
    struct det_runtime *rt;
    enum pkt_link link;
    int err; /* first -ENOMEM from the pipeline */
    uint64_t hook_errors;
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t hup_signal;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: pbxguard sensor [-c FILE] (-i IFACE | -r FILE.pcap[ng]) [--pbx ADDR[:PORT]]...\n"
        "                       [--data-dir DIR] [--json] [--no-enforce] [-q]\n"
        "\n"
        "  -c, --config FILE  configuration file (default: built-in defaults)\n"
        "  -i, --interface IF live capture on IF (replaces sensor.interface)\n"
        "  -r, --read FILE    read a pcap/pcapng capture as fast as possible\n"
        "  --pbx ADDR[:PORT]  a PBX address (repeatable; replaces sensor.pbx); traffic to it\n"
        "                     is from clients, traffic from it is the PBX's answers\n"
        "  --data-dir DIR     state directory (SQLite store of bans and events)\n"
        "  --json             one JSON object per line (verdicts, bans, summary)\n"
        "  --no-enforce       live: report bans, do not push them to nftables\n"
        "  -q, --quiet        text mode: summary only\n"
        "\n"
        "Exit: 0 ran (offline: no threat found), 1 offline: threats found, 2 usage/I/O error.\n");
}

enum { O_PBX = DAEMON_OPT_OWN, O_JSON, O_NO_ENFORCE };

static int sensor_opt(int val, const char *arg, void *ctx)
{
    struct sn_opts *o = ctx;
    switch (val) {
    case 'i':
        o->iface = arg;
        return 0;
    case 'r':
        o->file = arg;
        return 0;
    case O_PBX:
        if (o->npbx >= SENSOR_MAX_PBX || sensor_pbx_parse(arg, &o->pbx[o->npbx]) != 0) {
            fprintf(stderr, "pbxguard sensor: bad or too many --pbx '%s'\n", arg);
            return -EINVAL;
        }
        o->npbx++;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    case O_NO_ENFORCE:
        o->no_enforce = true;
        return 0;
    case 'q':
        o->quiet = true;
        return 0;
    default:
        return -EINVAL; /* not in the table */
    }
}

/* -c, --data-dir and --help are parsed by daemon_opts_parse. */
static int parse_args(int argc, char **argv, struct sn_opts *o)
{
    static const struct option longopts[] = {
        {"interface", required_argument, NULL, 'i'},
        {"read", required_argument, NULL, 'r'},
        {"pbx", required_argument, NULL, O_PBX},
        {"json", no_argument, NULL, O_JSON},
        {"no-enforce", no_argument, NULL, O_NO_ENFORCE},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const struct daemon_cmdline cl = {"sensor", "i:r:q", longopts, sensor_opt, usage, o};
    struct daemon_opts common;
    int rc = daemon_opts_parse(&cl, argc, argv, &common);

    if (rc)
        return rc;
    o->config = common.config;
    o->data_dir = common.data_dir;
    return 0;
}

/* NULL when the configuration is rejected (already reported). */
static struct cfg_snapshot *load_snapshot(const char *path)
{
    struct cfg_snapshot *s = NULL;

    if (daemon_config_load("sensor", path, &s) < 0)
        return NULL;
    return s;
}

/* Offline and live share this: the engine's ban goes to the report, and live also to the
 * store and nftables (what det_attach_default_hook would do, plus the report). */
static void ban_hook(const struct ban_entry *b, const char *evidence, size_t len, void *ctx)
{
    struct sn_run *r = ctx;
    int64_t now = r->rt->nft ? clock_wall_ms() : b->since_ms;

    sensor_report_ban(b, evidence, len, r->rep);
    if (r->rt->store && store_ban_put(r->rt->store, b, evidence, len, now) < 0)
        r->hook_errors++;
    if (r->rt->nft) {
        int rc = ban_nft_add(r->rt->nft, b, now);
        if (rc != 0 && rc != -ESTALE) {
            r->hook_errors++;
            log_error("sensor: nftables refused a ban: %s", ban_nft_error(r->rt->nft));
        }
    }
}

static void on_frame(const struct cap_frame *f, void *ctx)
{
    struct sn_run *r = ctx;
    int rc = sensor_frame(r->s, r->link, f->data, f->caplen, f->ts_us, f->index);

    if (rc < 0 && !r->err)
        r->err = rc;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_offline(struct sn_run *r, const char *path)
{
    char err[512] = "";
    struct cap_file *cf = NULL;
    int rc = cap_file_open(path, &cf, err, sizeof(err));

    if (rc < 0) {
        fprintf(stderr, "pbxguard sensor: %s: %s\n", path, err);
        return rc;
    }
    r->link = cap_file_link(cf);
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (;;) {
        struct cap_frame f;
        rc = cap_file_next(cf, &f, err, sizeof(err));
        if (rc == -ENOENT) {
            rc = 0;
            break;
        }
        if (rc < 0) {
            fprintf(stderr, "pbxguard sensor: %s: %s\n", path, err);
            break;
        }
        on_frame(&f, r);
        if (r->err) {
            fprintf(stderr, "pbxguard sensor: out of memory\n");
            rc = r->err;
            break;
        }
    }
    sensor_finish(r->s);
    double el = clock_s(CLOCK_MONOTONIC) - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    const struct sensor_stats *st = sensor_stats(r->s);
    sensor_report_summary(r->rep, st, el);
    fprintf(stderr,
            "pbxguard sensor: %llu frames, %llu SIP messages in %.3f s (%.0f messages/s; "
            "CPU %.3f s, %.0f messages/s per core)\n",
            (unsigned long long)st->frames, (unsigned long long)st->messages, el,
            el > 0 ? (double)st->messages / el : 0.0, cpu,
            cpu > 0 ? (double)st->messages / cpu : 0.0);
    cap_file_close(cf);
    return rc;
}

static void on_signal(int signo)
{
    if (signo == SIGHUP)
        hup_signal = 1;
    else
        stop_signal = signo;
}

/*
 * SIGHUP: re-read the configuration; the detect section is swapped into the running engine
 * (state kept), log and event destinations are reopened (log rotation). Capture settings
 * (interface, filter, PBX addresses) need a restart. A rejected file changes nothing.
 */
static void reload(struct sn_run *r)
{
    struct cfg_snapshot *s;
    char err[256] = "";

    if (!r->config) {
        log_info("sensor: SIGHUP without a configuration file: nothing to reload");
        return;
    }
    s = load_snapshot(r->config);
    if (!s) {
        log_error("sensor: reload of %s refused; the running configuration stays", r->config);
        return;
    }
    struct det_config dc;
    const struct det_config *dcp = cfg_snapshot_section(s, "detect");
    const struct general_config *gen = general_config_get(s);
    if (dcp)
        dc = *dcp;
    else
        det_config_defaults(&dc);
    if (gen && gen->shadow_mode)
        dc.shadow = true;
    if (det_engine_reconfigure(r->rt->engine, &dc, err, sizeof(err)) != 0) {
        log_error("sensor: reload refused: %s", err);
        cfg_snapshot_unref(s);
        return;
    }
    reload_bans(r->rt, cfg_snapshot_section(r->snap, "ban"), cfg_snapshot_section(s, "ban"),
                "sensor");
    if (app_config_apply_core(s) != 0)
        log_warn("sensor: reload: keeping the previous log or event destination");
    if (r->snap)
        cfg_snapshot_unref(r->snap);
    r->snap = s;
    log_info("sensor: configuration reloaded (capture settings need a restart)");
}

static void log_counters(const struct sn_run *r, struct cap_live *cl)
{
    const struct sensor_stats *st = sensor_stats(r->s);
    uint64_t recv, drop;

    cap_live_stats(cl, &recv, &drop);
    log_info("sensor: %llu frames (kernel: %llu received, %llu dropped), %llu SIP messages, "
             "%llu malformed, %llu refused, %llu decisions, %llu bans",
             (unsigned long long)st->frames, (unsigned long long)recv, (unsigned long long)drop,
             (unsigned long long)st->messages, (unsigned long long)st->malformed,
             (unsigned long long)st->refused, (unsigned long long)sensor_report_decisions(r->rep),
             (unsigned long long)sensor_report_nbans(r->rep));
}

static int run_live(struct sn_run *r, const struct sensor_config *sc, const char *iface)
{
    char err[512] = "";
    struct cap_live *cl = NULL;
    struct cap_live_opts lo = {.iface = iface,
                               .filter = sc->filter,
                               .snaplen = SENSOR_SNAPLEN,
                               .buffer_size = sc->buffer_size,
                               .promisc = sc->promiscuous};
    struct sigaction sa;
    int rc = cap_live_open(&lo, &cl, err, sizeof(err));

    if (rc < 0) {
        fprintf(stderr, "pbxguard sensor: cannot capture on %s: %s\n", iface, err);
        return rc;
    }
    r->link = cap_live_link(cl);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    /* Readiness: the capture is active and filtered from here on (tests wait for this). */
    fprintf(stderr, "pbxguard sensor: capturing on %s (filter: %s), enforcement %s\n", iface,
            sc->filter && sc->filter[0] ? sc->filter : "none", r->rt->nft ? "nftables" : "off");
    log_info("sensor: capturing on %s", iface);
    int64_t next_tick = clock_mono_ms() + 1000;
    int64_t next_stats = sc->stats_interval_ms ? clock_mono_ms() + sc->stats_interval_ms : 0;
    rc = 0;
    while (!stop_signal) {
        int n = cap_live_poll(cl, 200, 4096, on_frame, r, err, sizeof(err));
        if (n == -EIO) {
            log_error("sensor: capture failed: %s", err);
            fprintf(stderr, "pbxguard sensor: capture failed: %s\n", err);
            rc = n;
            break;
        }
        if (hup_signal) {
            hup_signal = 0;
            reload(r);
        }
        if (r->err) {
            log_error("sensor: out of memory in the TCP flow table; frames lost");
            r->err = 0;
        }
        int64_t now = clock_mono_ms();
        if (now >= next_tick) {
            det_runtime_tick(r->rt, clock_wall_ms());
            (void)ev_flush();
            fflush(stdout);
            next_tick = now + 1000;
        }
        if (next_stats && now >= next_stats) {
            log_counters(r, cl);
            next_stats = now + sc->stats_interval_ms;
        }
    }
    if (stop_signal)
        log_info("sensor: signal %d: stopping", (int)stop_signal);
    sensor_finish(r->s);
    log_counters(r, cl);
    cap_live_close(cl);
    return rc;
}

int cmd_sensor(int argc, char **argv)
{
    struct sn_opts o;
    struct sn_run r;
    struct cfg_snapshot *snap = NULL;
    int rc, exit_code = EXIT_USAGE;
    char err[512] = "";

    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    stop_signal = 0;
    hup_signal = 0;
    rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    r.config = o.config;
    snap = load_snapshot(o.config);
    if (!snap)
        return EXIT_USAGE;
    const struct sensor_config *sc = cfg_snapshot_section(snap, "sensor");
    const struct general_config *gen = general_config_get(snap);
    const char *iface = o.iface ? o.iface : o.file ? NULL : sc ? sc->interface : NULL;
    if (!sc || (!iface && !o.file) || (o.iface && o.file)) {
        fprintf(stderr, "pbxguard sensor: give exactly one of -i IFACE (or sensor.interface) "
                        "and -r FILE\n");
        goto out;
    }
    bool live = o.file == NULL;

    /* Offline: the report is the output; the configured event sink (the production log) is
     * left alone. Live: log and event sinks as configured, like the gateway. */
    if (live && app_config_apply_core(snap) != 0)
        log_warn("sensor: continuing with the default log and event destinations");

    struct det_config dc;
    const struct det_config *dcp = cfg_snapshot_section(snap, "detect");
    if (dcp)
        dc = *dcp;
    else
        det_config_defaults(&dc);
    if (gen && gen->shadow_mode)
        dc.shadow = true;
    const char *data_dir = o.data_dir ? o.data_dir : live && gen ? gen->data_dir : NULL;
    if (data_dir && !o.data_dir && access(data_dir, W_OK) != 0) {
        /* The configured default directory is not set up on this host: detect and enforce
         * anyway (a sensor that refuses to start protects nothing), without persistence. */
        log_warn("sensor: data directory %s unusable (%s); bans are not persisted", data_dir,
                 strerror(errno));
        data_dir = NULL;
    }
    bool kernel = live && sc->enforce && !o.no_enforce;
    rc = det_runtime_open(&dc, cfg_snapshot_section(snap, "ban"),
                          data_dir ? cfg_snapshot_section(snap, "store") : NULL,
                          cfg_snapshot_section(snap, "geo"), data_dir, kernel, clock_wall_ms(), err,
                          sizeof(err), &r.rt);
    if (rc < 0) {
        fprintf(stderr, "pbxguard sensor: %s\n", err[0] ? err : strerror(-rc));
        goto out;
    }
    if (sensor_report_new(stdout, o.json ? SENSOR_REPORT_JSON : SENSOR_REPORT_TEXT, o.quiet,
                          &r.rep) < 0)
        goto out;
    det_set_ban_hook(r.rt->engine, ban_hook, &r);
    r.snap = cfg_snapshot_ref(snap); /* the configuration in force, for the next reload */

    struct sensor_opts so;
    sensor_opts_defaults(&so);
    so.pbx = o.npbx ? o.pbx : sc->pbx;
    so.npbx = o.npbx ? o.npbx : sc->npbx;
    so.max_flows = sc->max_flows;
    so.max_flow_buffer = sc->flow_buffer;
    so.max_fragments = sc->max_fragments;
    if (so.npbx == 0)
        fprintf(stderr, "pbxguard sensor: no PBX address (--pbx or sensor.pbx): guessing "
                        "direction per message (requests go to the PBX)\n");
    if (sensor_new(&so, r.rt->engine, &r.s) < 0) {
        fprintf(stderr, "pbxguard sensor: out of memory\n");
        goto out;
    }
    sensor_set_event_cb(r.s, sensor_report_event, r.rep);
    if (live) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        rc = run_live(&r, sc, iface);
        exit_code = rc < 0 ? EXIT_USAGE : EXIT_OK;
    } else {
        rc = run_offline(&r, o.file);
        if (rc < 0)
            exit_code = EXIT_USAGE;
        else
            exit_code = sensor_report_decisions(r.rep) ? EXIT_THREATS : EXIT_OK;
    }
    if (r.hook_errors)
        fprintf(stderr, "pbxguard sensor: %llu bans could not be persisted or enforced\n",
                (unsigned long long)r.hook_errors);
out:
    fflush(stdout);
    sensor_free(r.s);
    det_runtime_close(r.rt);
    if (r.snap)
        cfg_snapshot_unref(r.snap);
    sensor_report_free(r.rep);
    if (!o.file)
        ev_close();
    cfg_snapshot_unref(snap);
    return exit_code;
}
