/*
 * SQLite store: schema/migrations, batching, bans/events/calls, retention, and durability
 * across kill -9: a child commits bans and is SIGKILLed mid-stream; every ban it reported
 * committed must come back.
 */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/store/store.h"
#include "test.h"

static char dir[64], dbpath[96];

static struct store *open_db(void)
{
    struct store_config c;
    struct store *s = NULL;
    store_config_defaults(&c);
    c.path = dbpath;
    c.events_max = 100;
    c.events_max_age_ms = 3600 * 1000;
    int rc = store_open(&c, &s);
    CHECK_INT(rc, 0);
    return s;
}

static struct ban_entry mkban(int i, int64_t now)
{
    struct ban_entry e;
    char ip[32];
    memset(&e, 0, sizeof(e));
    snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    if (pbx_addr_parse(ip, strlen(ip), &e.addr) != 0)
        abort();
    e.prefix = 32;
    e.level = 1 + i % 3;
    e.first_ms = now;
    e.since_ms = now;
    e.expires_ms = now + 3600 * 1000;
    snprintf(e.rule, sizeof(e.rule), "det.test");
    snprintf(e.reason, sizeof(e.reason), "ban %d", i);
    return e;
}

static unsigned loaded;
static struct ban_table *load_into;
static void on_ban(const struct ban_entry *e, void *ctx)
{
    (void)ctx;
    loaded++;
    if (load_into && ban_restore(load_into, e, 1000 + 1) != 0)
        TEST_FAIL_AT("ban_restore failed");
}

static void test_basic(void)
{
    struct store *s = open_db();
    struct ban_entry e = mkban(1, 1000);
    char ev[256];
    int64_t seq;

    if (!s)
        return;
    seq = store_ban_put(s, &e, "REGISTER sip:x SIP/2.0\r\n", 24, 1000);
    CHECK(seq > 0);
    CHECK(store_committed_seq(s) < seq);
    CHECK_INT(store_tick(s, 1000 + 10), 0); /* not due yet */
    CHECK_INT(store_tick(s, 1000 + 250), 1);
    CHECK(store_committed_seq(s) >= seq);
    CHECK_INT(store_count(s, "bans"), 1);
    CHECK_INT(store_ban_evidence(s, "10.0.0.1", ev, sizeof(ev)), 24);
    CHECK(strncmp(ev, "REGISTER", 8) == 0);
    /* Same scope banned again: one row, count 2. */
    e.since_ms = 5000;
    e.level = 2;
    CHECK(store_ban_put(s, &e, NULL, 0, 5000) > 0);
    for (int i = 0; i < 150; i++) {
        snprintf(ev, sizeof(ev), "{\"type\":\"t\",\"n\":%d}\n", i);
        CHECK(store_event_put(s, 1000 + i, ev, strlen(ev)) > 0);
    }
    struct store_call call = {.start_ms = 1000,
                              .duration_ms = 60000,
                              .call_id = "c1",
                              .account = "201",
                              .src = "192.0.2.1",
                              .dest = "+4420",
                              .dest_class = "intl",
                              .status = 200,
                              .answer_ms = 3000,
                              .end_ms = 63000,
                              .cost_milli = 1250,
                              .verdict = "alert",
                              .rule = "fraud.first_international"};
    CHECK(store_call_put(s, &call) > 0);
    CHECK_INT(store_commit(s), 152);
    {
        /* The fraud columns of the calls table (schema version 2) read back as written. */
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        CHECK_INT(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        CHECK_INT(sqlite3_prepare_v2(db,
                                     "SELECT answer_ms, end_ms, cost_milli, verdict, rule "
                                     "FROM calls WHERE call_id = 'c1'",
                                     -1, &st, NULL),
                  SQLITE_OK);
        CHECK_INT(sqlite3_step(st), SQLITE_ROW);
        CHECK_INT(sqlite3_column_int64(st, 0), 3000);
        CHECK_INT(sqlite3_column_int64(st, 1), 63000);
        CHECK_INT(sqlite3_column_int64(st, 2), 1250);
        CHECK_STR((const char *)sqlite3_column_text(st, 3), "alert");
        CHECK_STR((const char *)sqlite3_column_text(st, 4), "fraud.first_international");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    CHECK_INT(store_count(s, "bans"), 1);
    CHECK_INT(store_count(s, "events"), 150);
    CHECK_INT(store_count(s, "calls"), 1);
    /* Retention: count cap 100. Then age: everything older than 1 h at now=1h+1000+50. */
    CHECK_INT(store_prune(s, 2000), 50);
    CHECK_INT(store_count(s, "events"), 100);
    CHECK_INT(store_prune(s, 3600 * 1000 + 1000 + 120), 70);
    loaded = 0;
    CHECK_INT(store_bans_load(s, 6000, on_ban, NULL), 0);
    CHECK_INT(loaded, 1);
    /* Operator unban: not restored. */
    CHECK(store_ban_lift(s, &e, 7000) > 0);
    CHECK_INT(store_commit(s), 1);
    loaded = 0;
    CHECK_INT(store_bans_load(s, 7001, on_ban, NULL), 0);
    CHECK_INT(loaded, 0);
    struct store_stats st;
    store_stats_get(s, &st);
    CHECK_INT(st.commits, 3);
    store_close(s);

    /* Reopen: schema present, version current; a newer schema is refused. */
    s = open_db();
    store_close(s);
    sqlite3 *db;
    CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct store_config c;
    store_config_defaults(&c);
    c.path = dbpath;
    CHECK_INT(store_open(&c, &s), -EPROTO);
}

/* The child behaves like the daemon: queues bans, commits in batches, reports each commit. */
static void child(int wfd)
{
    struct store_config c;
    struct store *s;

    store_config_defaults(&c);
    c.path = dbpath;
    if (store_open(&c, &s) != 0)
        _exit(2);
    for (int i = 0;; i++) {
        struct ban_entry e = mkban(i, 1000);
        if (store_ban_put(s, &e, "x", 1, 1000) < 0)
            _exit(3);
        if (i % 50 == 49) {
            if (store_commit(s) < 0)
                _exit(4);
            int n = i + 1;
            if (write(wfd, &n, sizeof(n)) != sizeof(n))
                _exit(5);
        }
    }
}

static void test_kill9(void)
{
    int p[2];
    pid_t pid;
    int committed = 0, n;

    snprintf(dbpath, sizeof(dbpath), "%s/kill9.db", dir);
    CHECK_INT(pipe(p), 0);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        child(p[1]);
    }
    close(p[1]);
    /* Bounded: stop reading at 2000 committed (or child death). */
    while (committed < 2000 && read(p[0], &n, sizeof(n)) == sizeof(n))
        committed = n;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(p[0]);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(committed >= 2000);

    struct ban_config bc;
    ban_config_defaults(&bc);
    bc.capacity = 1 << 16;
    CHECK_INT(ban_table_new(&bc, &load_into), 0);
    struct store *s = open_db();
    loaded = 0;
    CHECK_INT(store_bans_load(s, 1001, on_ban, NULL), 0);
    CHECK((int)loaded >= committed);
    /* Every ban reported committed is back in memory. */
    int missing = 0;
    for (int i = 0; i < committed; i++) {
        struct ban_entry e = mkban(i, 1000);
        missing += !ban_check(load_into, &e.addr, 1002, NULL);
    }
    CHECK_INT(missing, 0);
    printf("kill -9: %d bans reported committed, %u restored\n", committed, loaded);
    store_close(s);
    ban_table_free(load_into);
    load_into = NULL;
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pbxstore-%d", (int)getpid());
    if (mkdir(dir, 0700) != 0)
        return 1;
    snprintf(dbpath, sizeof(dbpath), "%s/basic.db", dir);
    test_basic();
    test_kill9();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return test_finish();
}
