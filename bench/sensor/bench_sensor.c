/*
 * Offline sensor throughput: a large generated capture (legitimate REGISTER / INVITE / 200
 * traffic of many phones mixed with scanner sweeps) replayed through the sensor pipeline on
 * one core, stage by stage, so the cost splits into pcap read, decode (+ reassembly and
 * framing), SIP parse and detection.
 *
 *   bench_sensor [--messages N] [--file PATH] [--keep] [--runs R]
 *
 * The capture is written to PATH (default /tmp/pbx-bench-sensor.pcap) unless it exists
 * with --keep. Each of R runs (default 3) replays the whole file once per stage; the best
 * run of each stage counts (the file is in the page cache after the first). Prints messages/s per
 * stage and the breakdown; docs/benchmarks.md ("Sensor") records the figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/sensor/capture_file.h"
#include "pbxguard/sensor/report.h"
#include "pbxguard/sensor/sensor.h"
#include "pcapgen.h"
#include "sipscen.h"

#define PBX "10.0.0.1"
#define NPHONES 4000u
#define NSCANNERS 64u

static char txt[8192];

/* CPU time of this thread: on a machine shared with other work, wall time measures the
 * neighbours as much as the code; the figure wanted is the cost on one core. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct gen {
    struct pg_writer w;
    int64_t ts;
    uint64_t msgs;
};

static void put(struct gen *g, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                size_t n)
{
    if (n == 0 || sc_udp(&g->w, g->ts, src, sport, dst, dport, txt, n) != 0) {
        fprintf(stderr, "bench_sensor: write failed\n");
        exit(2);
    }
    g->ts += 250; /* 4,000 messages per second of capture time, under detect.global_rate */
    g->msgs++;
}

static void req(struct gen *g, const char *ip, const struct sc_req *r)
{
    put(g, ip, 5060, PBX, 5060, sc_request(txt, sizeof(txt), r));
}

static void resp(struct gen *g, const char *ip, const struct sc_req *r, int st, const char *why)
{
    put(g, PBX, 5060, ip, 5060, sc_response(txt, sizeof(txt), r, st, why));
}

/*
 * One round per phone: REGISTER -> 401, REGISTER with credentials -> 200, INVITE with
 * credentials -> 100, 200, ACK, BYE -> 200 (12 messages), and every 4th round one scanner
 * message (OPTIONS sweep with a scanner User-Agent, or a REGISTER sweep answered 404).
 */
static int generate(const char *path, uint64_t target)
{
    struct gen g = {.ts = 1700000000000000LL};
    char ip[32], user[16], cid[48], ext[16];

    if (pg_open(&g.w, path, false, false, 1) != 0) {
        fprintf(stderr, "bench_sensor: cannot write %s\n", path);
        return -1;
    }
    for (uint64_t round = 0; g.msgs < target; round++) {
        unsigned p = (unsigned)(round % NPHONES);
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", 20 + p / 65536, (p / 256) % 256, p % 256 + 1);
        snprintf(user, sizeof(user), "%u", 1000 + p);
        snprintf(ext, sizeof(ext), "%u", 1000 + (p + 1) % NPHONES);
        snprintf(cid, sizeof(cid), "reg-%llu", (unsigned long long)round);
        struct sc_req r = {.method = "REGISTER",
                           .user = user,
                           .callid = cid,
                           .cseq = 1,
                           .ua = "Yealink SIP-T46S 66.86.0.15"};
        req(&g, ip, &r);
        resp(&g, ip, &r, 401, "Unauthorized");
        r.cseq = 2;
        r.auth_user = user;
        req(&g, ip, &r);
        resp(&g, ip, &r, 200, "OK");
        snprintf(cid, sizeof(cid), "call-%llu", (unsigned long long)round);
        struct sc_req c = {.method = "INVITE",
                           .user = ext,
                           .callid = cid,
                           .cseq = 1,
                           .ua = "Yealink SIP-T46S 66.86.0.15",
                           .auth_user = user};
        req(&g, ip, &c);
        resp(&g, ip, &c, 100, "Trying");
        resp(&g, ip, &c, 200, "OK");
        c.method = "ACK";
        req(&g, ip, &c);
        c.method = "BYE";
        c.cseq = 2;
        req(&g, ip, &c);
        resp(&g, ip, &c, 200, "OK");
        if (round % 4 == 0) {
            unsigned s = (unsigned)((round / 4) % NSCANNERS);
            snprintf(ip, sizeof(ip), "45.%u.%u.%u", 10 + s / 256, s % 256, 7);
            snprintf(user, sizeof(user), "%llu", (unsigned long long)(100 + round / 4 % 900));
            snprintf(cid, sizeof(cid), "scan-%llu", (unsigned long long)round);
            struct sc_req a = {.method = s % 2 ? "OPTIONS" : "REGISTER",
                               .user = user,
                               .callid = cid,
                               .cseq = 1,
                               .ua = s % 2 ? "friendly-scanner" : NULL};
            req(&g, ip, &a);
            if (!(s % 2))
                resp(&g, ip, &a, 404, "Not Found");
        }
    }
    if (pg_close(&g.w) != 0)
        return -1;
    fprintf(stderr, "bench_sensor: wrote %llu SIP messages to %s\n", (unsigned long long)g.msgs,
            path);
    return 0;
}

struct result {
    double secs;
    struct sensor_stats st;
    uint64_t bans;
    uint64_t decisions;
};

/* stage < 0: read the file only. */
static int replay(const char *path, int stage, struct result *res)
{
    struct ban_table *bans = NULL;
    struct det_engine *e = NULL;
    struct sensor *s = NULL;
    struct sensor_report *rep = NULL;
    struct cap_file *cf = NULL;
    struct cap_frame f;
    struct det_config dc;
    struct ban_config bc;
    struct pbx_addr pbx;
    struct sensor_opts so;
    char err[256];
    int rc = -1;
    uint64_t sum = 0;
    FILE *devnull = fopen("/dev/null", "w");

    det_config_defaults(&dc);
    ban_config_defaults(&bc);
    sensor_opts_defaults(&so);
    if (!devnull || sensor_pbx_parse(PBX ":5060", &pbx) != 0)
        goto out;
    so.pbx = &pbx;
    so.npbx = 1;
    so.stage = stage < 0 ? SENSOR_STAGE_DECODE : (enum sensor_stage)stage;
    if (ban_table_new(&bc, &bans) != 0 ||
        det_engine_new(&dc, bans, NULL, err, sizeof(err), &e) != 0 || sensor_new(&so, e, &s) != 0 ||
        sensor_report_new(devnull, SENSOR_REPORT_TEXT, true, &rep) != 0)
        goto out;
    sensor_set_event_cb(s, sensor_report_event, rep);
    det_set_ban_hook(e, sensor_report_ban, rep);
    double t0 = now_s(); /* opening counts: a mapped file may be populated there */
    if (cap_file_open(path, &cf, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_sensor: %s\n", err);
        goto out;
    }
    enum pkt_link link = cap_file_link(cf);
    while (cap_file_next(cf, &f, err, sizeof(err)) == 0) {
        if (stage < 0) {
            sum += f.caplen;
            continue;
        }
        if (sensor_frame(s, link, f.data, f.caplen, f.ts_us, f.index) != 0)
            goto out;
    }
    sensor_finish(s);
    res->secs = now_s() - t0;
    res->st = *sensor_stats(s);
    res->bans = sensor_report_nbans(rep);
    res->decisions = sensor_report_decisions(rep);
    if (stage < 0)
        res->st.bytes = sum;
    rc = 0;
out:
    cap_file_close(cf);
    sensor_report_free(rep);
    sensor_free(s);
    det_engine_free(e);
    ban_table_free(bans);
    if (devnull)
        fclose(devnull);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = "/tmp/pbx-bench-sensor.pcap";
    uint64_t target = 1200000;
    unsigned runs = 3;
    bool keep = false;
    struct stat sb;

    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
            target = strtoull(argv[++i], &end, 10);
            if (*end || target > 100000000)
                target = 0;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            unsigned long v = strtoul(argv[++i], &end, 10);
            runs = *end || v > 100 ? 0 : (unsigned)v;
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = true;
        } else {
            fprintf(stderr,
                    "usage: bench_sensor [--messages N] [--file PATH] [--keep] [--runs R]\n");
            return 2;
        }
    }
    if (target == 0 || runs == 0) {
        fprintf(stderr, "bench_sensor: --messages 1..100000000, --runs 1..100\n");
        return 2;
    }
    if (!(keep && stat(path, &sb) == 0) && generate(path, target) != 0)
        return 2;

    static const char *const names[] = {"read", "decode", "parse", "detect"};
    static const int stages[] = {-1, SENSOR_STAGE_DECODE, SENSOR_STAGE_PARSE, SENSOR_STAGE_DETECT};
    struct result best[4];
    for (unsigned k = 0; k < 4; k++)
        best[k].secs = 0;
    /* Stages alternate within each run, so that on a shared machine every stage sees the
     * same spread of load; the best run of each stage counts. */
    for (unsigned r = 0; r < runs; r++) {
        for (unsigned k = 0; k < 4; k++) {
            struct result res;
            if (replay(path, stages[k], &res) != 0) {
                fprintf(stderr, "bench_sensor: replay failed\n");
                return 2;
            }
            if (best[k].secs == 0 || res.secs < best[k].secs)
                best[k] = res;
        }
    }
    const struct sensor_stats *st = &best[3].st;
    double msgs = (double)st->messages;
    printf("capture: %s, %llu frames, %llu SIP messages (%llu requests, %llu responses), "
           "%.1f MB\n",
           path, (unsigned long long)st->frames, (unsigned long long)st->messages,
           (unsigned long long)st->requests, (unsigned long long)st->responses,
           (double)st->bytes / 1e6);
    printf("detect: %llu decisions, %llu bans, %llu messages refused at admission (banned "
           "sources: not parsed)\n",
           (unsigned long long)best[3].decisions, (unsigned long long)best[3].bans,
           (unsigned long long)st->refused);
    printf("%-8s %10s %14s %12s\n", "stage", "CPU s", "cumul. msg/s", "ns/msg (own)");
    double prev = 0;
    for (unsigned k = 0; k < 4; k++) {
        double s = best[k].secs;
        printf("%-8s %10.3f %14.0f %12.1f\n", names[k], s, msgs / s, (s - prev) * 1e9 / msgs);
        prev = s;
    }
    printf("full pipeline: %.0f SIP messages/s on one core (target 1,000,000: %s)\n",
           msgs / best[3].secs, msgs / best[3].secs >= 1e6 ? "met" : "NOT met");
    return 0;
}
