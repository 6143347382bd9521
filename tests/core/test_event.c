/* Security events: exact JSON lines, escaping, sinks, rotation, subscribers, threads. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/event.h"
#include "test.h"

static void test_format_exact(void)
{
    const struct ev_kv ev[] = {EV_KV_I("failures", 12), EV_KV_I("window_s", 60),
                               EV_KV_B("known_account", false),
                               EV_KV_S("last_status", SLICE_LIT("403"))};
    struct ev_record r = {
        .ts_ms = 1795766400123, /* 2026-11-27T08:00:00.123Z */
        .type = "auth.bruteforce",
        .rule = "det.auth_fail_rate",
        .action = EV_ACT_BAN,
        .severity = EV_SEV_HIGH,
        .component = "gateway",
        .src = SLICE_LIT("203.0.113.7:5060"),
        .transport = "udp",
        .target = SLICE_LIT("1001"),
        .method = SLICE_LIT("REGISTER"),
        .reason = "12 failed authentications in 60s",
        .ban_s = 3600,
        .evidence = ev,
        .n_evidence = PBX_ARRAY_SIZE(ev),
        .raw = SLICE_LIT("REGISTER sip:pbx SIP/2.0\r\n"),
    };
    char line[EV_LINE_MAX];
    int n = ev_format(&r, 7, 1024, line, sizeof(line));
    CHECK_STR(line, "{\"ts\":\"2026-11-27T08:00:00.123Z\",\"seq\":7,\"v\":1,"
                    "\"type\":\"auth.bruteforce\",\"rule\":\"det.auth_fail_rate\","
                    "\"action\":\"ban\",\"severity\":\"high\",\"shadow\":false,"
                    "\"component\":\"gateway\",\"src\":\"203.0.113.7:5060\","
                    "\"transport\":\"udp\",\"target\":\"1001\",\"method\":\"REGISTER\","
                    "\"reason\":\"12 failed authentications in 60s\",\"ban_s\":3600,"
                    "\"evidence\":{\"failures\":12,\"window_s\":60,\"known_account\":false,"
                    "\"last_status\":\"403\"},"
                    "\"raw\":\"REGISTER sip:pbx SIP/2.0\\r\\n\",\"raw_len\":26}\n");
    CHECK_INT(n, strlen(line));

    /* minimal record: absent fields are left out */
    struct ev_record m = {.ts_ms = 1000, .type = "scan.ua", .action = EV_ACT_DROP, .shadow = true};
    n = ev_format(&m, 1, 0, line, sizeof(line));
    CHECK_STR(line, "{\"ts\":\"1970-01-01T00:00:01.000Z\",\"seq\":1,\"v\":1,\"type\":\"scan.ua\","
                    "\"action\":\"drop\",\"severity\":\"info\",\"shadow\":true}\n");

    struct ev_record bad = {.action = EV_ACT_DROP};
    CHECK_INT(ev_format(&bad, 1, 0, line, sizeof(line)), -EINVAL);
    CHECK_STR(ev_action_name(EV_ACT_UNLOCK), "unlock");
    CHECK_STR(ev_action_name((enum ev_action)99), "unknown");
    CHECK_STR(ev_severity_name(EV_SEV_CRITICAL), "critical");
}

/* Header values with CRLF, quotes and braces cannot forge a second event or a field. */
static void test_forgery(void)
{
    static const char ua[] = "sipvicious\r\n{\"ts\":\"x\",\"action\":\"pass\"}\n\"shadow\":true";
    struct ev_record r = {
        .type = "scan.ua",
        .action = EV_ACT_DROP,
        .user_agent = slice_make(ua, sizeof(ua) - 1),
        .target = SLICE_LIT("1001\"},\"action\":\"pass"),
    };
    char line[EV_LINE_MAX];
    int n = ev_format(&r, 1, 1024, line, sizeof(line));
    CHECK(n > 0);
    CHECK(strchr(line, '\n') == line + n - 1);
    CHECK(strchr(line, '\r') == NULL);
    CHECK(strstr(line, "\"action\":\"drop\"") != NULL);
    /* the only unescaped "action" key is ours */
    const char *p = strstr(line, "\"action\":");
    CHECK(p && strstr(p + 1, "\"action\":") == NULL);
    CHECK(strstr(line, "\"user_agent\":\"sipvicious\\r\\n{\\\"ts\\\"") != NULL);
}

/* Oversized untrusted parts are capped or dropped; the line stays whole and bounded. */
static void test_oversize(void)
{
    char *blob = malloc(100000);
    if (!blob)
        return;
    memset(blob, 0x01, 100000);
    struct ev_kv kv[EV_MAX_EVIDENCE + 4];
    for (size_t i = 0; i < PBX_ARRAY_SIZE(kv); i++)
        kv[i] = EV_KV_S("k", slice_make(blob, 100000));
    struct ev_record r = {
        .type = "parse.error",
        .action = EV_ACT_DROP,
        .target = slice_make(blob, 100000),
        .evidence = kv,
        .n_evidence = PBX_ARRAY_SIZE(kv),
        .raw = slice_make(blob, 100000),
    };
    char line[EV_LINE_MAX];
    int n = ev_format(&r, 1, EV_RAW_MAX, line, sizeof(line));
    CHECK(n > 0 && (size_t)n < sizeof(line));
    CHECK(line[n - 1] == '\n');
    CHECK(strchr(line, '\n') == line + n - 1);
    CHECK(strstr(line, "\"truncated\":true") != NULL);
    CHECK(strstr(line, "[+99744 bytes]") != NULL); /* target: 256 shown */
    /* with fewer evidence pairs, evidence stays and only the count of the rest is given */
    r.n_evidence = EV_MAX_EVIDENCE + 2;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(kv); i++)
        kv[i] = EV_KV_I("n", i);
    r.raw = SLICE_NULL;
    n = ev_format(&r, 1, EV_RAW_MAX, line, sizeof(line));
    CHECK(n > 0);
    CHECK(strstr(line, "\"evidence_dropped\":2") != NULL);
    CHECK(strstr(line, "\"truncated\"") == NULL);
    free(blob);
}

static size_t count_lines(const char *path, int *bad)
{
    FILE *f = fopen(path, "r");
    char buf[EV_LINE_MAX + 2];
    size_t n = 0;
    *bad = 0;
    if (!f)
        return 0;
    while (fgets(buf, sizeof(buf), f)) {
        size_t len = strlen(buf);
        if (len < 3 || buf[0] != '{' || buf[len - 1] != '\n' || buf[len - 2] != '}')
            (*bad)++;
        n++;
    }
    fclose(f);
    return n;
}

struct sub_state {
    unsigned calls;
    char last_type[32];
};

static void sub_fn(const struct ev_record *r, const char *line, size_t len, void *ctx)
{
    struct sub_state *s = ctx;
    s->calls++;
    snprintf(s->last_type, sizeof(s->last_type), "%s", r->type);
    (void)line;
    (void)len;
}

static void test_file_sink(void)
{
    char dir[] = "/tmp/pbx-ev-XXXXXX";
    char path[128], rot[160];
    int bad;
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(path, sizeof(path), "%s/events.jsonl", dir);
    struct ev_config cfg = {.dest = EV_DEST_FILE,
                            .path = path,
                            .rotate_size = 0,
                            .rotate_keep = 2,
                            .flush_interval_ms = 1000,
                            .raw_max = 64};
    struct sub_state st = {0};
    CHECK_INT(ev_subscribe(sub_fn, &st), 0);
    CHECK_INT(ev_open(&cfg), 0);
    struct ev_record r = {.type = "test.one", .action = EV_ACT_ALERT};
    for (int i = 0; i < 3; i++)
        CHECK_INT(ev_emit(&r), 0);
    /* buffered: nothing on disk before the flush */
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
    CHECK_INT(ev_flush(), 0);
    CHECK_INT(count_lines(path, &bad), 3);
    CHECK_INT(bad, 0);
    CHECK_INT(st.calls, 3);
    CHECK_STR(st.last_type, "test.one");
    CHECK_INT(ev_unsubscribe(sub_fn, &st), 0);
    CHECK_INT(ev_unsubscribe(sub_fn, &st), -ENOENT);

    /* rotation: a small cap moves the full file aside and starts a new one */
    cfg.rotate_size = 600;
    CHECK_INT(ev_open(&cfg), 0);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 5; i++)
            CHECK_INT(ev_emit(&r), 0);
        CHECK_INT(ev_flush(), 0);
    }
    snprintf(rot, sizeof(rot), "%s.1", path);
    CHECK(stat(rot, &sb) == 0);
    struct ev_stats stats;
    ev_stats_get(&stats);
    CHECK(stats.rotations >= 2);
    CHECK_INT(stats.dropped, 0);
    int bad1, bad2;
    size_t total = count_lines(path, &bad1) + count_lines(rot, &bad2);
    CHECK(total >= 5);
    CHECK_INT(bad1 + bad2, 0);
    snprintf(rot, sizeof(rot), "%s.3", path);
    CHECK(stat(rot, &sb) != 0); /* rotate_keep = 2 */
    ev_close();

    /* a bad path keeps the previous sink (here: off) and reports the error */
    cfg.path = "/nonexistent-dir/x/events.jsonl";
    CHECK_INT(ev_open(&cfg), -ENOENT);
    CHECK_INT(ev_emit(&r), 0);

    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

static const char *thread_path;

static void *emitter(void *arg)
{
    (void)arg;
    struct ev_record r = {.type = "test.thread",
                          .action = EV_ACT_LOG,
                          .raw = SLICE_LIT("INVITE sip:1@x SIP/2.0\r\nVia: x\r\n\r\n")};
    for (int i = 0; i < 2000; i++)
        if (ev_emit(&r) != 0)
            break;
    return NULL;
}

/* Concurrent emitters never interleave lines. */
static void test_threads(void)
{
    char tmpl[] = "/tmp/pbx-ev-thr-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        CHECK(0);
        return;
    }
    close(fd);
    thread_path = tmpl;
    struct ev_config cfg = {
        .dest = EV_DEST_FILE, .path = thread_path, .rotate_keep = 1, .raw_max = 1024};
    CHECK_INT(ev_open(&cfg), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, emitter, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ev_close();
    int bad;
    CHECK_INT(count_lines(tmpl, &bad), 8000);
    CHECK_INT(bad, 0);
    unlink(tmpl);
}

int main(void)
{
    test_format_exact();
    test_forgery();
    test_oversize();
    test_file_sink();
    test_threads();
    return test_finish();
}
