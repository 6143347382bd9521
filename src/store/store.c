/*
 * SQLite persistence (see include/pbxguard/store/store.h): a queue of owned records,
 * committed in one transaction per batch.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/log.h"
#include "pbxguard/store/store.h"

enum rec_kind { REC_BAN, REC_LIFT, REC_EVENT, REC_CALL };

struct rec {
    enum rec_kind kind;
    int64_t seq;
    int64_t ts_ms;
    struct ban_entry ban;
    struct store_call call;
    char *text; /* evidence, event line; call strings packed */
    size_t text_len;
};

struct store {
    struct store_config cfg;
    char *path;
    sqlite3 *db;
    struct rec *q;
    size_t nq;
    int64_t next_seq;
    int64_t committed_seq;
    int64_t last_commit_ms;
    int64_t first_queued_ms;
    struct store_stats st;
};

/* Migrations: entry i brings user_version from i to i+1. Never edit a shipped entry. */
static const char *const migrations[] = {
    "CREATE TABLE bans ("
    " scope TEXT PRIMARY KEY,"
    " family INTEGER NOT NULL, addr TEXT NOT NULL, prefix INTEGER NOT NULL,"
    " rule TEXT NOT NULL, reason TEXT NOT NULL, level INTEGER NOT NULL,"
    " hits INTEGER NOT NULL DEFAULT 0, count INTEGER NOT NULL DEFAULT 1,"
    " first_ms INTEGER NOT NULL, since_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, lifted_ms INTEGER, evidence BLOB);"
    "CREATE INDEX bans_expiry ON bans(expires_ms);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, line TEXT NOT NULL);"
    "CREATE INDEX events_ts ON events(ts_ms);"
    "CREATE TABLE calls (id INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL,"
    " duration_ms INTEGER, call_id TEXT, account TEXT, src TEXT, dest TEXT,"
    " dest_class TEXT, status INTEGER);"
    "CREATE INDEX calls_account ON calls(account, start_ms);",
    /* 2: what the fraud policy decided and what the call cost, next to the call itself. */
    "ALTER TABLE calls ADD COLUMN answer_ms INTEGER;"
    "ALTER TABLE calls ADD COLUMN end_ms INTEGER;"
    "ALTER TABLE calls ADD COLUMN cost_milli INTEGER;"
    "ALTER TABLE calls ADD COLUMN verdict TEXT;"
    "ALTER TABLE calls ADD COLUMN rule TEXT;",
};

void store_config_defaults(struct store_config *c)
{
    memset(c, 0, sizeof(*c));
    c->batch_ms = 200;
    c->batch_max = 512;
    c->queue_max = 8192;
    c->events_max = 1000000;
    c->events_max_age_ms = 30LL * 24 * 3600 * 1000;
    c->evidence_max = 4096;
    c->sync_full = true;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int exec(struct store *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error("store: %s: %s", s->path, err ? err : "error");
        sqlite3_free(err);
        return -EIO;
    }
    return 0;
}

static int migrate(struct store *s)
{
    sqlite3_stmt *st = NULL;
    int version = 0, rc;
    char sql[64];

    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > (int)PBX_ARRAY_SIZE(migrations))
        return -EPROTO;
    for (int v = version; v < (int)PBX_ARRAY_SIZE(migrations); v++) {
        if ((rc = exec(s, "BEGIN IMMEDIATE")) != 0)
            return rc;
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if ((rc = exec(s, migrations[v])) != 0 || (rc = exec(s, sql)) != 0) {
            (void)exec(s, "ROLLBACK");
            return rc;
        }
        if ((rc = exec(s, "COMMIT")) != 0)
            return rc;
    }
    return 0;
}

int store_open(const struct store_config *cfg, struct store **out)
{
    struct store *s;
    int rc;

    if (!cfg || !cfg->path || !cfg->path[0])
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->path = strdup(cfg->path);
    s->q = calloc(cfg->queue_max ? cfg->queue_max : 1, sizeof(*s->q));
    if (!s->path || !s->q) {
        rc = -ENOMEM;
        goto out;
    }
    if (s->cfg.queue_max == 0)
        s->cfg.queue_max = 1;
    s->next_seq = 1;
    if (sqlite3_open_v2(cfg->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        log_error("store: cannot open %s: %s", cfg->path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        rc = -EIO;
        goto out;
    }
    sqlite3_busy_timeout(s->db, 2000);
    if ((rc = exec(s, "PRAGMA journal_mode=WAL")) != 0 ||
        (rc = exec(s, cfg->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")) !=
            0 ||
        (rc = migrate(s)) != 0)
        goto out;
    *out = s;
    return 0;
out:
    store_close(s);
    return rc;
}

static void rec_free(struct rec *r)
{
    free(r->text);
    memset(r, 0, sizeof(*r));
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->db && s->nq && store_commit(s) < 0)
        log_error("store: %zu records lost at close", s->nq);
    for (size_t i = 0; i < s->nq; i++)
        rec_free(&s->q[i]);
    if (s->db)
        sqlite3_close(s->db);
    free(s->q);
    free(s->path);
    free(s);
}

static struct rec *enqueue(struct store *s, int64_t *seq)
{
    if (s->nq >= s->cfg.queue_max) {
        s->st.forced++;
        if (store_commit(s) < 0)
            return NULL;
    }
    struct rec *r = &s->q[s->nq];
    memset(r, 0, sizeof(*r));
    r->seq = s->next_seq++;
    *seq = r->seq;
    return r;
}

static char *dup_bytes(const void *p, size_t len)
{
    char *d = malloc(len + 1);
    if (!d)
        return NULL;
    if (len)
        memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

int64_t store_ban_put(struct store *s, const struct ban_entry *e, const void *evidence,
                      size_t evidence_len, int64_t now_ms)
{
    int64_t seq;
    struct rec *r = enqueue(s, &seq);

    if (!r)
        return -EIO;
    if (evidence_len > s->cfg.evidence_max)
        evidence_len = s->cfg.evidence_max;
    r->kind = REC_BAN;
    r->ban = *e;
    r->ts_ms = now_ms;
    if (evidence && evidence_len) {
        r->text = dup_bytes(evidence, evidence_len);
        if (!r->text)
            return -ENOMEM;
        r->text_len = evidence_len;
    }
    if (!s->nq)
        s->first_queued_ms = now_ms;
    s->nq++;
    return seq;
}

int64_t store_ban_lift(struct store *s, const struct ban_entry *e, int64_t now_ms)
{
    int64_t seq;
    struct rec *r = enqueue(s, &seq);

    if (!r)
        return -EIO;
    r->kind = REC_LIFT;
    r->ban = *e;
    r->ts_ms = now_ms;
    if (!s->nq)
        s->first_queued_ms = now_ms;
    s->nq++;
    return seq;
}

int64_t store_event_put(struct store *s, int64_t ts_ms, const char *line, size_t len)
{
    int64_t seq;
    struct rec *r;

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    r = enqueue(s, &seq);
    if (!r)
        return -EIO;
    r->kind = REC_EVENT;
    r->ts_ms = ts_ms;
    r->text = dup_bytes(line, len);
    if (!r->text)
        return -ENOMEM;
    r->text_len = len;
    if (!s->nq)
        s->first_queued_ms = ts_ms;
    s->nq++;
    return seq;
}

int64_t store_call_put(struct store *s, const struct store_call *c)
{
    const char *f[7] = {c->call_id,    c->account, c->src, c->dest,
                        c->dest_class, c->verdict, c->rule};
    size_t total = 0, off = 0;
    int64_t seq;
    struct rec *r;

    for (int i = 0; i < 7; i++)
        total += (f[i] ? strlen(f[i]) : 0) + 1;
    r = enqueue(s, &seq);
    if (!r)
        return -EIO;
    r->kind = REC_CALL;
    r->call = *c;
    r->text = malloc(total);
    if (!r->text)
        return -ENOMEM;
    /* Pack the strings into one block; the call's pointers point into it. */
    const char **dst[7] = {&r->call.call_id,    &r->call.account, &r->call.src, &r->call.dest,
                           &r->call.dest_class, &r->call.verdict, &r->call.rule};
    for (int i = 0; i < 7; i++) {
        size_t n = f[i] ? strlen(f[i]) : 0;
        if (n)
            memcpy(r->text + off, f[i], n);
        r->text[off + n] = '\0';
        *dst[i] = f[i] ? r->text + off : NULL;
        off += n + 1;
    }
    if (!s->nq)
        s->first_queued_ms = c->start_ms;
    s->nq++;
    return seq;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int write_rec(struct store *s, sqlite3_stmt *const *st, const struct rec *r)
{
    char scope[PBX_ADDR_STRLEN + 4], ip[PBX_ADDR_STRLEN];
    sqlite3_stmt *x;

    switch (r->kind) {
    case REC_BAN:
        x = st[0];
        ban_scope_fmt(&r->ban, scope, sizeof(scope));
        pbx_addr_fmt_ip(&r->ban.addr, ip, sizeof(ip));
        sqlite3_bind_text(x, 1, scope, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(x, 2, r->ban.addr.family == AF_INET ? 4 : 6);
        sqlite3_bind_text(x, 3, ip, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(x, 4, r->ban.prefix);
        sqlite3_bind_text(x, 5, r->ban.rule, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(x, 6, r->ban.reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(x, 7, r->ban.level);
        sqlite3_bind_int64(x, 8, r->ban.hits);
        sqlite3_bind_int64(x, 9, r->ban.first_ms);
        sqlite3_bind_int64(x, 10, r->ban.since_ms);
        sqlite3_bind_int64(x, 11, r->ts_ms);
        sqlite3_bind_int64(x, 12, r->ban.expires_ms);
        if (r->text)
            sqlite3_bind_blob(x, 13, r->text, (int)r->text_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(x, 13);
        break;
    case REC_LIFT:
        x = st[1];
        ban_scope_fmt(&r->ban, scope, sizeof(scope));
        sqlite3_bind_int64(x, 1, r->ts_ms);
        sqlite3_bind_text(x, 2, scope, -1, SQLITE_TRANSIENT);
        break;
    case REC_EVENT:
        x = st[2];
        sqlite3_bind_int64(x, 1, r->ts_ms);
        sqlite3_bind_text(x, 2, r->text, (int)r->text_len, SQLITE_TRANSIENT);
        break;
    case REC_CALL:
    default:
        x = st[3];
        sqlite3_bind_int64(x, 1, r->call.start_ms);
        sqlite3_bind_int64(x, 2, r->call.duration_ms);
        bind_text_or_null(x, 3, r->call.call_id);
        bind_text_or_null(x, 4, r->call.account);
        bind_text_or_null(x, 5, r->call.src);
        bind_text_or_null(x, 6, r->call.dest);
        bind_text_or_null(x, 7, r->call.dest_class);
        sqlite3_bind_int(x, 8, r->call.status);
        if (r->call.answer_ms)
            sqlite3_bind_int64(x, 9, r->call.answer_ms);
        if (r->call.end_ms)
            sqlite3_bind_int64(x, 10, r->call.end_ms);
        sqlite3_bind_int64(x, 11, r->call.cost_milli);
        bind_text_or_null(x, 12, r->call.verdict);
        bind_text_or_null(x, 13, r->call.rule);
        break;
    }
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    sqlite3_clear_bindings(x);
    if (rc != SQLITE_DONE) {
        log_error("store: write: %s", sqlite3_errmsg(s->db));
        return -EIO;
    }
    return 0;
}

static const char *const write_sql[4] = {
    /* A new ban of a known scope counts one more ban and keeps the first-seen time. */
    ("INSERT INTO bans(scope,family,addr,prefix,rule,reason,level,hits,first_ms,since_ms,"
     "last_ms,expires_ms,evidence) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) "
     "ON CONFLICT(scope) DO UPDATE SET rule=?5, reason=?6, "
     "count = count + (since_ms != ?10), level=?7, hits=?8, since_ms=?10, last_ms=?11, "
     "expires_ms=?12, lifted_ms=NULL, evidence=coalesce(?13, evidence)"),
    "UPDATE bans SET lifted_ms=?1, expires_ms=min(expires_ms, ?1) WHERE scope=?2",
    "INSERT INTO events(ts_ms, line) VALUES(?1, ?2)",
    ("INSERT INTO calls(start_ms,duration_ms,call_id,account,src,dest,dest_class,status,"
     "answer_ms,end_ms,cost_milli,verdict,rule) "
     "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"),
};

int store_commit(struct store *s)
{
    sqlite3_stmt *st[4] = {0};
    int64_t t0 = mono_us();
    int rc = 0;
    size_t n = s->nq;

    if (n == 0)
        return 0;
    for (int i = 0; i < 4; i++) {
        if (sqlite3_prepare_v2(s->db, write_sql[i], -1, &st[i], NULL) != SQLITE_OK) {
            log_error("store: prepare: %s", sqlite3_errmsg(s->db));
            rc = -EIO;
            goto out;
        }
    }
    if ((rc = exec(s, "BEGIN IMMEDIATE")) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((rc = write_rec(s, st, &s->q[i])) != 0) {
            (void)exec(s, "ROLLBACK");
            goto out;
        }
    }
    if ((rc = exec(s, "COMMIT")) != 0) {
        (void)exec(s, "ROLLBACK");
        goto out;
    }
    s->committed_seq = s->q[n - 1].seq;
    for (size_t i = 0; i < n; i++)
        rec_free(&s->q[i]);
    s->nq = 0;
    s->st.commits++;
    s->st.records += n;
    rc = (int)n;
out:
    for (int i = 0; i < 4; i++)
        sqlite3_finalize(st[i]);
    if (rc < 0)
        s->st.errors++;
    s->st.last_commit_us = mono_us() - t0;
    return rc;
}

int store_tick(struct store *s, int64_t now_ms)
{
    if (s->nq == 0)
        return 0;
    if (s->nq < s->cfg.batch_max && now_ms - s->first_queued_ms < s->cfg.batch_ms)
        return 0;
    s->last_commit_ms = now_ms;
    return store_commit(s);
}

int64_t store_committed_seq(const struct store *s)
{
    return s->committed_seq;
}

int store_bans_load(struct store *s, int64_t now_ms, store_ban_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT addr, prefix, rule, reason, level, hits, first_ms, since_ms,"
                           " expires_ms FROM bans WHERE expires_ms > ?1 AND lifted_ms IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, now_ms);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ban_entry e;
        const char *ip = (const char *)sqlite3_column_text(st, 0);

        memset(&e, 0, sizeof(e));
        if (!ip || pbx_addr_parse(ip, strlen(ip), &e.addr) != 0)
            continue;
        e.prefix = (uint8_t)sqlite3_column_int(st, 1);
        snprintf(e.rule, sizeof(e.rule), "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(e.reason, sizeof(e.reason), "%s", (const char *)sqlite3_column_text(st, 3));
        e.level = (uint32_t)sqlite3_column_int64(st, 4);
        e.hits = (uint32_t)sqlite3_column_int64(st, 5);
        e.first_ms = sqlite3_column_int64(st, 6);
        e.since_ms = sqlite3_column_int64(st, 7);
        e.expires_ms = sqlite3_column_int64(st, 8);
        fn(&e, ctx);
    }
    if (step != SQLITE_DONE)
        rc = -EIO;
    sqlite3_finalize(st);
    return rc;
}

int store_ban_evidence(struct store *s, const char *scope, char *buf, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = -ENOENT;

    if (sqlite3_prepare_v2(s->db, "SELECT evidence FROM bans WHERE scope = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW && cap > 0) {
        const void *p = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n >= cap)
            n = cap - 1;
        if (n)
            memcpy(buf, p, n);
        buf[n] = '\0';
        rc = (int)n;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_prune(struct store *s, int64_t now_ms)
{
    char sql[160];
    int deleted = 0;

    if (s->cfg.events_max_age_ms > 0) {
        snprintf(sql, sizeof(sql), "DELETE FROM events WHERE ts_ms < %lld",
                 (long long)(now_ms - s->cfg.events_max_age_ms));
        if (exec(s, sql) != 0)
            return -EIO;
        deleted += sqlite3_changes(s->db);
    }
    if (s->cfg.events_max > 0) {
        snprintf(sql, sizeof(sql),
                 "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - %llu",
                 (unsigned long long)s->cfg.events_max);
        if (exec(s, sql) != 0)
            return -EIO;
        deleted += sqlite3_changes(s->db);
    }
    return deleted;
}

int64_t store_count(struct store *s, const char *table)
{
    sqlite3_stmt *st = NULL;
    char sql[64];
    int64_t n = -EIO;

    if (strcmp(table, "bans") && strcmp(table, "events") && strcmp(table, "calls"))
        return -EINVAL;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

void store_stats_get(const struct store *s, struct store_stats *out)
{
    *out = s->st;
}

void store_ev_subscriber(const struct ev_record *r, const char *line, size_t len, void *ctx)
{
    struct store *s = ctx;
    int64_t ts = r->ts_ms ? r->ts_ms : clock_wall_ms();

    /* A subscriber cannot fail the emitter; a lost line is counted. */
    if (store_event_put(s, ts, line, len) < 0)
        s->st.errors++;
}
