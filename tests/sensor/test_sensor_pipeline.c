/*
 * The passive sensor end to end on generated captures: decoding, reassembly, framing,
 * parsing and the detection engine, both directions of the PBX's traffic. Each attack must
 * be banned by the expected rule; the legitimate phone (the control) must get nothing.
 *
 * Usage: test_sensor_pipeline [PATH-TO-pbxguard]  (with the path, the CLI is tested too)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/sensor/capture_file.h"
#include "pbxguard/sensor/config.h"
#include "pbxguard/sensor/report.h"
#include "pbxguard/sensor/sensor.h"
#include "pcapgen.h"
#include "sipscen.h"
#include "test.h"

#define PBX4 "10.0.0.1"
#define PBX6 "2001:db8::1"
#define T0 1700000000000000LL

#define SWEEPER "203.0.113.10"     /* svwar-style REGISTER sweep, answered 404 */
#define BRUTER "198.51.100.20"     /* password guessing on one account */
#define SCANNER "192.0.2.66"       /* friendly-scanner OPTIONS */
#define PHONE "10.1.1.50"          /* legitimate REGISTER + 200: must never be flagged */
#define GARBLER "203.0.113.99"     /* malformed messages */
#define TCPSCAN "192.0.2.77"       /* scanner OPTIONS over TCP, split over 3 segments */
#define FRAGSCAN "192.0.2.88"      /* scanner OPTIONS in a fragmented UDP datagram */
#define V6SCAN "2001:db8:bad::1"   /* scanner OPTIONS over IPv6 */
#define V6FRAG "2001:db8:bad:1::2" /* scanner OPTIONS in two IPv6 fragments */

static char txt[8192];
static int64_t ts = T0;

static void tick(void)
{
    ts += 10000; /* 10 ms between messages */
}

/* Request from a client and (if status) the PBX's answer. */
static void exchange(struct pg_writer *w, const char *client, uint16_t port, const char *pbx,
                     const struct sc_req *r, int status, const char *reason)
{
    size_t n = sc_request(txt, sizeof(txt), r);
    CHECK(n > 0);
    CHECK_INT(sc_udp(w, ts, client, port, pbx, 5060, txt, n), 0);
    tick();
    if (!status)
        return;
    n = sc_response(txt, sizeof(txt), r, status, reason);
    CHECK(n > 0);
    CHECK_INT(sc_udp(w, ts, pbx, 5060, client, port, txt, n), 0);
    tick();
}

static void write_capture(const char *path)
{
    struct pg_writer w;
    char user[32], cid[64];

    CHECK_INT(pg_open(&w, path, false, false, 1), 0);

    /* The control: a phone registers (401 challenge, then 200 with credentials), twice. */
    for (unsigned k = 0; k < 2; k++) {
        snprintf(cid, sizeof(cid), "phone-%u", k);
        struct sc_req r = {.method = "REGISTER",
                           .user = "301",
                           .callid = cid,
                           .cseq = 1,
                           .ua = "Yealink SIP-T46S 66.86.0.15"};
        exchange(&w, PHONE, 5060, PBX4, &r, 401, "Unauthorized");
        r.cseq = 2;
        r.auth_user = "301";
        exchange(&w, PHONE, 5060, PBX4, &r, 200, "OK");
    }

    /* svwar-style sweep: REGISTER for 100..129, the PBX says 404 to each. */
    for (unsigned u = 100; u < 130; u++) {
        snprintf(user, sizeof(user), "%u", u);
        snprintf(cid, sizeof(cid), "sweep-%u", u);
        struct sc_req r = {.method = "REGISTER", .user = user, .callid = cid, .cseq = 1};
        exchange(&w, SWEEPER, 5070, PBX4, &r, 404, "Not Found");
    }

    /* Brute force on 200: every guess is answered 403. */
    for (unsigned k = 0; k < 12; k++) {
        snprintf(cid, sizeof(cid), "guess-%u", k);
        struct sc_req r = {
            .method = "REGISTER", .user = "200", .callid = cid, .cseq = k + 1, .auth_user = "200"};
        exchange(&w, BRUTER, 5062, PBX4, &r, 403, "Forbidden");
    }

    /* friendly-scanner OPTIONS (sipvicious svmap). */
    struct sc_req scan = {.method = "OPTIONS",
                          .user = "100",
                          .callid = "scan-1",
                          .cseq = 1,
                          .ua = "friendly-scanner"};
    exchange(&w, SCANNER, 5060, PBX4, &scan, 0, NULL);

    /* Malformed: 25 messages that look like SIP but are refused by the parser. */
    for (unsigned k = 0; k < 25; k++) {
        int n = snprintf(txt, sizeof(txt),
                         "OPTIONS sip:%u@pbx.example SIP/2.0\r\nVia: garbage\r\n"
                         "Content-Length: 0\r\n\r\n",
                         k);
        CHECK_INT(sc_udp(&w, ts, GARBLER, 5099, PBX4, 5060, txt, (size_t)n), 0);
        tick();
    }

    /* TCP: the scanner OPTIONS cut in three segments. */
    struct sc_req tscan = {.method = "OPTIONS",
                           .user = "100",
                           .callid = "tcp-scan",
                           .cseq = 1,
                           .ua = "friendly-scanner"};
    size_t n = sc_request(txt, sizeof(txt), &tscan);
    CHECK_INT(sc_tcp4_split(&w, ts, TCPSCAN, 40000, PBX4, 5060, 1000, txt, n, 3), 0);
    tick();

    /* Fragmented UDP: a 2 KB OPTIONS in two IPv4 fragments. */
    struct sc_req fscan = {.method = "OPTIONS",
                           .user = "100",
                           .callid = "frag-scan",
                           .cseq = 1,
                           .ua = "friendly-scanner",
                           .pad = 1800};
    n = sc_request(txt, sizeof(txt), &fscan);
    CHECK(n > 1500);
    CHECK_INT(sc_udp4_frag(&w, ts, FRAGSCAN, 5060, PBX4, 5060, txt, n, 77), 0);
    tick();

    /* IPv6. */
    struct sc_req vscan = {.method = "OPTIONS",
                           .user = "100",
                           .callid = "v6-scan",
                           .cseq = 1,
                           .ua = "friendly-scanner"};
    exchange(&w, V6SCAN, 5060, PBX6, &vscan, 0, NULL);

    /* IPv6 fragments. */
    struct sc_req v6f = {.method = "OPTIONS",
                         .user = "100",
                         .callid = "v6-frag",
                         .cseq = 1,
                         .ua = "friendly-scanner",
                         .pad = 1800};
    n = sc_request(txt, sizeof(txt), &v6f);
    CHECK_INT(sc_udp6_frag(&w, ts, V6FRAG, 5060, PBX6, 5060, txt, n, 0x5eed), 0);
    tick();

    /* The phone again after every attack: still nothing for it. */
    struct sc_req again = {.method = "REGISTER",
                           .user = "301",
                           .callid = "phone-9",
                           .cseq = 3,
                           .auth_user = "301",
                           .ua = "Yealink SIP-T46S 66.86.0.15"};
    exchange(&w, PHONE, 5060, PBX4, &again, 200, "OK");
    CHECK_INT(pg_close(&w), 0);
}

static const struct sensor_report_ban *ban_of(const struct sensor_report *rep, const char *ip)
{
    struct pbx_addr a;
    if (pbx_addr_parse(ip, strlen(ip), &a) != 0)
        return NULL;
    for (size_t i = 0; sensor_report_ban_at(rep, i); i++) {
        const struct sensor_report_ban *b = sensor_report_ban_at(rep, i);
        if (pbx_addr_eq(&b->b.addr, &a, false))
            return b;
    }
    return NULL;
}

static void check_ban(const struct sensor_report *rep, const char *ip, const char *rule)
{
    const struct sensor_report_ban *b = ban_of(rep, ip);
    if (!b) {
        TEST_FAIL_AT("no ban for %s (expected %s)", ip, rule);
        return;
    }
    CHECK_STR(b->b.rule, rule);
    CHECK(b->evidence_len > 0);
}

struct run {
    struct ban_table *bans;
    struct det_engine *e;
    struct sensor *s;
    struct sensor_report *rep;
    FILE *out;
};

static int run_open(struct run *r, bool shadow)
{
    struct det_config dc;
    struct ban_config bc;
    struct pbx_addr pbx[2];
    struct sensor_opts so;
    char err[256];

    memset(r, 0, sizeof(*r));
    det_config_defaults(&dc);
    dc.memory_max = 4u << 20;
    dc.shadow = shadow;
    ban_config_defaults(&bc);
    bc.capacity = 1024;
    if (ban_table_new(&bc, &r->bans) != 0 ||
        det_engine_new(&dc, r->bans, NULL, err, sizeof(err), &r->e) != 0) {
        fprintf(stderr, "engine: %s\n", err);
        return -1;
    }
    CHECK_INT(sensor_pbx_parse(PBX4 ":5060", &pbx[0]), 0);
    CHECK_INT(sensor_pbx_parse(PBX6, &pbx[1]), 0);
    sensor_opts_defaults(&so);
    so.pbx = pbx;
    so.npbx = 2;
    r->out = tmpfile();
    if (!r->out || sensor_new(&so, r->e, &r->s) != 0 ||
        sensor_report_new(r->out, SENSOR_REPORT_JSON, false, &r->rep) != 0)
        return -1;
    sensor_set_event_cb(r->s, sensor_report_event, r->rep);
    det_set_ban_hook(r->e, sensor_report_ban, r->rep);
    return 0;
}

static void run_close(struct run *r)
{
    sensor_free(r->s);
    sensor_report_free(r->rep);
    det_engine_free(r->e);
    ban_table_free(r->bans);
    if (r->out)
        fclose(r->out);
}

static int replay(struct run *r, const char *path)
{
    struct cap_file *cf;
    struct cap_frame f;
    char err[256];
    int rc = cap_file_open(path, &cf, err, sizeof(err));

    if (rc != 0)
        return rc;
    while ((rc = cap_file_next(cf, &f, err, sizeof(err))) == 0)
        CHECK_INT(sensor_frame(r->s, cap_file_link(cf), f.data, f.caplen, f.ts_us, f.index), 0);
    sensor_finish(r->s);
    cap_file_close(cf);
    return rc == -ENOENT ? 0 : rc;
}

static void test_pipeline(const char *path)
{
    struct run r;
    struct pbx_addr phone;

    if (run_open(&r, false) != 0) {
        TEST_FAIL_AT("set-up failed");
        run_close(&r);
        return;
    }
    CHECK_INT(replay(&r, path), 0);
    const struct sensor_stats *st = sensor_stats(r.s);

    /* Every path was exercised. */
    CHECK(st->fragments == 4 && st->reassembled == 2);
    CHECK(st->tcp >= 4);
    CHECK(st->malformed >= 20);
    CHECK_INT(st->framing_errors, 0);
    CHECK(st->refused >= 5); /* the garbler's packets after its ban stop at admission */

    check_ban(r.rep, SWEEPER, "det.enumeration");
    check_ban(r.rep, BRUTER, "det.bruteforce");
    check_ban(r.rep, SCANNER, "det.scanner");
    check_ban(r.rep, GARBLER, "det.malformed");
    check_ban(r.rep, TCPSCAN, "det.scanner");
    check_ban(r.rep, FRAGSCAN, "det.scanner");
    check_ban(r.rep, V6SCAN, "det.scanner");
    check_ban(r.rep, V6FRAG, "det.scanner");
    CHECK_INT(sensor_report_nbans(r.rep), 8);
    CHECK(sensor_report_count(r.rep, "det.enumeration", DET_BAN) == 1);
    CHECK(sensor_report_count(r.rep, "det.malformed", DET_REJECT) >= 1);

    /* The control: the legitimate phone was never flagged, and neither was the PBX. */
    CHECK_INT(pbx_addr_parse(PHONE, strlen(PHONE), &phone), 0);
    CHECK(!sensor_report_flagged(r.rep, &phone));
    CHECK(ban_of(r.rep, PHONE) == NULL);
    CHECK(ban_of(r.rep, PBX4) == NULL);

    /* The JSON lines carry the same facts. */
    char line[70000];
    unsigned bans = 0, verdicts = 0;
    rewind(r.out);
    while (fgets(line, sizeof(line), r.out)) {
        if (strstr(line, "\"type\":\"ban\"")) {
            bans++;
            if (strstr(line, "\"scope\":\"" TCPSCAN "\""))
                CHECK(strstr(line, "\"rule\":\"det.scanner\"") != NULL);
        }
        if (strstr(line, "\"type\":\"verdict\"")) {
            verdicts++;
            CHECK(strstr(line, "\"client\":\"" PHONE "\"") == NULL);
        }
    }
    CHECK_INT(bans, 8);
    CHECK(verdicts >= 8);
    run_close(&r);
}

/* The same capture in shadow mode: the same decisions, recorded as would-be, no ban. */
static void test_shadow(const char *path)
{
    struct run r;

    if (run_open(&r, true) != 0) {
        TEST_FAIL_AT("set-up failed");
        run_close(&r);
        return;
    }
    CHECK_INT(replay(&r, path), 0);
    CHECK_INT(sensor_report_nbans(r.rep), 0);
    CHECK(sensor_report_count(r.rep, "det.scanner", DET_BAN) >= 5);
    CHECK(sensor_report_count(r.rep, "det.enumeration", DET_BAN) >= 1);
    run_close(&r);
}

/* Without TCP reassembly there would be nothing to judge: no segment parses on its own. */
static void test_tcp_segments_alone(void)
{
    static struct sip_msg m;
    struct sc_req tscan = {.method = "OPTIONS",
                           .user = "100",
                           .callid = "tcp-scan",
                           .cseq = 1,
                           .ua = "friendly-scanner"};
    size_t n = sc_request(txt, sizeof(txt), &tscan);
    size_t step = (n + 2) / 3;
    for (size_t off = 0; off < n; off += step) {
        size_t k = n - off < step ? n - off : step;
        CHECK(sip_msg_parse(&m, (const uint8_t *)txt + off, k, SIP_PARSE_STREAM) != 0);
    }
}

/* The mapped classic-pcap reader gives exactly what libpcap's reader gives. */
static void test_reader_equivalence(const char *path)
{
    struct cap_file *a, *b;
    struct cap_frame fa, fb;
    char err[256];
    uint64_t n = 0;

    CHECK_INT(cap_file_open(path, &a, err, sizeof(err)), 0);
    CHECK_INT(cap_file_open_stream(fopen(path, "rb"), &b, err, sizeof(err)), 0);
    for (;;) {
        int ra = cap_file_next(a, &fa, err, sizeof(err));
        int rb = cap_file_next(b, &fb, err, sizeof(err));
        CHECK_INT(ra, rb);
        if (ra != 0 || rb != 0)
            break;
        n++;
        if (fa.caplen != fb.caplen || fa.wirelen != fb.wirelen || fa.ts_us != fb.ts_us ||
            fa.index != fb.index || memcmp(fa.data, fb.data, fa.caplen) != 0) {
            TEST_FAIL_AT("frame %llu differs", (unsigned long long)n);
            break;
        }
    }
    CHECK(n > 100);
    cap_file_close(a);
    cap_file_close(b);
}

/* Big-endian nanosecond pcap, then the same file cut inside its second record. */
static void test_reader_damaged(void)
{
    static const uint8_t hdr[24] = {0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0,   4,   0, 0, 0, 0,
                                    0,    0,    0,    0,    0, 0, 255, 255, 0, 0, 0, 101};
    uint8_t rec[16 + 28];
    char path[] = "/tmp/pbx-sensor-be-XXXXXX";
    char err[256];
    struct cap_file *c;
    struct cap_frame f;
    int fd = mkstemp(path);

    memset(rec, 0, sizeof(rec));
    rec[3] = 100;  /* 100 s */
    rec[5] = 0x07; /* 0x0007a120 ns = 500 us */
    rec[6] = 0xa1;
    rec[7] = 0x20;
    rec[8 + 3] = 28;  /* incl_len */
    rec[12 + 3] = 28; /* orig_len */
    rec[16] = 0x45;   /* raw IPv4 header start */
    CHECK(fd >= 0);
    CHECK(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
    CHECK(write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
    CHECK(write(fd, rec, 20) == 20); /* second record cut after 4 data bytes */
    close(fd);
    CHECK_INT(cap_file_open(path, &c, err, sizeof(err)), 0);
    CHECK_INT(cap_file_link(c), PKT_LINK_RAW);
    CHECK_INT(cap_file_next(c, &f, err, sizeof(err)), 0);
    CHECK_INT(f.ts_us, 100000500);
    CHECK_INT(f.caplen, 28);
    CHECK_INT(cap_file_next(c, &f, err, sizeof(err)), -EBADMSG);
    CHECK(strstr(err, "truncated") != NULL);
    cap_file_close(c);
    unlink(path);
}

static const struct sensor_config *load_cfg(const char *yaml, struct cfg_snapshot **snap,
                                            unsigned *errors)
{
    static const struct cfg_section table[] = {{"sensor", sensor_config_load, sensor_config_free}};
    struct cfg_diag d;

    cfg_diag_init(&d);
    *snap = NULL;
    int rc = cfg_snapshot_load_buf("t.yaml", yaml, strlen(yaml), table, 1, &d, snap);
    *errors = cfg_diag_errors(&d);
    cfg_diag_fini(&d);
    return rc == 0 ? cfg_snapshot_section(*snap, "sensor") : NULL;
}

/* The sensor: section: defaults, values, and refusals with a position. */
static void test_config(void)
{
    struct cfg_snapshot *snap;
    unsigned errors;
    const struct sensor_config *c = load_cfg("", &snap, &errors);

    CHECK(c != NULL);
    if (c) {
        CHECK_STR(c->filter, SENSOR_DEFAULT_FILTER);
        CHECK(c->enforce && c->promiscuous);
        CHECK_INT(c->npbx, 0);
        CHECK_INT(c->max_flows, 4096);
    }
    cfg_snapshot_unref(snap);
    c = load_cfg("sensor:\n  interface: eth1\n  pbx: [\"192.0.2.10:5060\", \"2001:db8::10\"]\n"
                 "  buffer_size: 32M\n  enforce: false\n  filter: \"udp\"\n",
                 &snap, &errors);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(c->interface, "eth1");
        CHECK_INT(c->npbx, 2);
        CHECK_INT(c->pbx[0].port, 5060);
        CHECK_INT(c->pbx[1].family, AF_INET6);
        CHECK_INT(c->buffer_size, 32u << 20);
        CHECK(!c->enforce);
        CHECK_STR(c->filter, "udp");
    }
    cfg_snapshot_unref(snap);
    c = load_cfg("sensor:\n  pbx: [pbx.example]\n  max_flows: 2\n  colour: blue\n", &snap, &errors);
    CHECK(c == NULL);
    CHECK_INT(errors, 3);
    if (snap)
        cfg_snapshot_unref(snap);
}

static void test_helpers(void)
{
    struct pbx_addr a;
    CHECK(sensor_looks_like_sip((const uint8_t *)"SIP/2.0 200 OK\r\n", 16));
    CHECK(sensor_looks_like_sip((const uint8_t *)"\r\nOPTIONS sip:a@b SIP/2.0\r\n", 27));
    CHECK(!sensor_looks_like_sip((const uint8_t *)"\x16\x03\x01\x02\x00", 5));
    CHECK(!sensor_looks_like_sip((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
    CHECK_INT(sensor_pbx_parse("[2001:db8::1]:5070", &a), 0);
    CHECK_INT(a.port, 5070);
    CHECK_INT(sensor_pbx_parse("pbx.example", &a), -EINVAL);
}

/* The command: exit code 1 (threats found), one JSON ban line per attacker. */
static void test_cli(const char *bin, const char *path)
{
    char cmd[1024], line[70000];
    unsigned bans = 0;
    bool summary = false;

    snprintf(cmd, sizeof(cmd),
             "%s sensor -r %s --pbx " PBX4 ":5060 --pbx " PBX6 " --json 2>/dev/null", bin, path);
    FILE *p = popen(cmd, "r");
    if (!p) {
        TEST_FAIL_AT("popen");
        return;
    }
    while (fgets(line, sizeof(line), p)) {
        bans += strstr(line, "\"type\":\"ban\"") != NULL;
        summary = summary || strstr(line, "\"type\":\"summary\"") != NULL;
        CHECK(strstr(line, "\"client\":\"" PHONE "\"") == NULL);
    }
    int st = pclose(p);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK_INT(bans, 8);
    CHECK(summary);

    /* Text mode lists the bans with their rule; usage errors exit 2. */
    snprintf(cmd, sizeof(cmd), "%s sensor -q -r %s --pbx " PBX4 ":5060 2>/dev/null", bin, path);
    p = popen(cmd, "r");
    bool seen = false;
    while (p && fgets(line, sizeof(line), p))
        seen = seen || (strstr(line, "BAN " SWEEPER " by det.enumeration") != NULL);
    CHECK(p && pclose(p) != -1);
    CHECK(seen);
    snprintf(cmd, sizeof(cmd), "%s sensor -r /nonexistent.pcap >/dev/null 2>&1", bin);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof(cmd), "%s sensor --pbx nonsense -r %s >/dev/null 2>&1", bin, path);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

int main(int argc, char **argv)
{
    char path[] = "/tmp/pbx-sensor-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 2;
    close(fd);
    write_capture(path);
    test_helpers();
    test_config();
    test_tcp_segments_alone();
    test_reader_equivalence(path);
    test_reader_damaged();
    test_pipeline(path);
    test_shadow(path);
    if (argc > 1)
        test_cli(argv[1], path);
    unlink(path);
    return test_finish();
}
