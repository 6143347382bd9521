/*
 * Configuration: YAML -> node tree -> sections. Table-driven: each bad snippet has the exact
 * "file:line:column: reason" of its first error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/general.h"
#include "pbxguard/core/log.h"
#include "test.h"

/* A section exercising every binder type, as a subsystem would write one. */
struct demo_config {
    const char *name;
    bool flag;
    int64_t count;
    int64_t window_ms;
    uint64_t buffer;
    int mode;
    struct cfg_strlist users;
    struct pbx_endpoint upstream;
    struct cfg_endpoints listen;
    struct cfg_cidrlist allow;
    const struct cfg_node *extra;
    int64_t custom;
};

static const char *const demo_modes[] = {"fast", "safe", NULL};

static int check_no_space(const char *v, char *why, size_t cap)
{
    if (strchr(v, ' ')) {
        snprintf(why, cap, "spaces are not allowed");
        return -EINVAL;
    }
    return 0;
}

static int bind_even(const struct cfg_node *n, struct cfg_diag *d, void *dst)
{
    int64_t v;
    int rc = cfg_parse_int(n, d, 0, 100, &v);
    if (rc)
        return rc;
    if (v % 2) {
        cfg_error(d, n, "must be even");
        return -EINVAL;
    }
    *(int64_t *)dst = v;
    return 0;
}

static int demo_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        {.key = "name",
         .type = CFG_T_STRING,
         .offset = offsetof(struct demo_config, name),
         .flags = CFG_REQUIRED,
         .max = 16,
         .check = check_no_space},
        CFG_FIELD(struct demo_config, flag, "flag", BOOL),
        CFG_FIELD_RANGE(struct demo_config, count, "count", INT, -5, 1000),
        CFG_FIELD_RANGE(struct demo_config, window_ms, "window", DURATION, 1000, 86400000),
        CFG_FIELD_RANGE(struct demo_config, buffer, "buffer", SIZE, 1024, 1ll << 30),
        CFG_FIELD_ENUM(struct demo_config, mode, "mode", demo_modes),
        {.key = "users",
         .type = CFG_T_STRLIST,
         .offset = offsetof(struct demo_config, users),
         .max = 3,
         .check = check_no_space},
        CFG_FIELD(struct demo_config, upstream, "upstream", ENDPOINT),
        {.key = "listen",
         .type = CFG_T_ENDPOINTS,
         .offset = offsetof(struct demo_config, listen),
         .flags = CFG_NONEMPTY,
         .max = 4},
        CFG_FIELD(struct demo_config, allow, "allow", CIDRLIST),
        CFG_FIELD(struct demo_config, extra, "extra", MAP),
        {.key = "even",
         .type = CFG_T_CUSTOM,
         .offset = offsetof(struct demo_config, custom),
         .custom = bind_even},
    };
    if (!section) {
        /* the demo section is mandatory in this table */
        cfg_error(d, NULL, "demo: section missing");
        return -EINVAL;
    }
    struct demo_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->count = 7;
    c->window_ms = 60000;
    int rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), c, d);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void demo_free(void *p)
{
    free(p);
}

static const struct cfg_section table[] = {
    {"general", general_config_load, general_config_free},
    {"log", log_config_load, log_config_free},
    {"events", ev_config_load, ev_config_free},
    {"demo", demo_load, demo_free},
};

/* Loads text and returns the first error as "file:line:col: reason" (or "" if valid). */
static int load(const char *yaml, char *first, size_t cap, struct cfg_snapshot **out,
                unsigned *nerr)
{
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;
    cfg_diag_init(&d);
    int rc =
        cfg_snapshot_load_buf("t.yaml", yaml, strlen(yaml), table, PBX_ARRAY_SIZE(table), &d, &s);
    first[0] = '\0';
    if (d.count) {
        const struct cfg_diag_entry *e = &d.entries[0];
        if (e->line)
            snprintf(first, cap, "%s:%u:%u: %s", e->file, e->line, e->column, e->reason);
        else if (*e->file)
            snprintf(first, cap, "%s: %s", e->file, e->reason);
        else
            snprintf(first, cap, "%s", e->reason);
    }
    if (nerr)
        *nerr = cfg_diag_errors(&d);
    cfg_diag_fini(&d);
    if (out)
        *out = s;
    else
        cfg_snapshot_unref(s);
    return rc;
}

#define DEMO "demo:\n  name: x\n  listen: [udp:127.0.0.1:5060]\n"

struct bad_case {
    const char *yaml;
    const char *error;
};

static const struct bad_case bad[] = {
    /* structure */
    {DEMO "bogus: 1\n", "t.yaml:4:1: bogus: unknown section"},
    {DEMO "general:\n  data_dir: /x\n  colour: red\n", "t.yaml:6:3: general.colour: unknown key"},
    {DEMO "general:\n  shadow_mode: true\n  shadow_mode: false\n",
     "t.yaml:6:3: general.shadow_mode: duplicate key (first at line 5)"},
    {DEMO "log:\n\tlevel: info\n", "t.yaml:5:1: tab character where YAML needs spaces"},
    {"- a\n- b\n", "t.yaml:1:1: the configuration must be a map of sections, not a sequence"},
    {DEMO "---\nx: 1\n", "t.yaml:4:1: more than one YAML document"},
    {DEMO "general: [1, 2]\n", "t.yaml:4:10: general: expected a map, got a sequence"},
    {DEMO "general:\n  data_dir: [a]\n",
     "t.yaml:5:13: general.data_dir: expected a string, got a sequence"},
    {"demo:\n  name: \"a\xff\"\n", "t.yaml:2:11: invalid UTF-8 byte 0xff"},
    {"demo:\n  name: \"a\x01\"\n", "t.yaml:2:11: control character 0x01 in file"},
    {"demo: {name: x, listen: [udp:127.0.0.1:5060]\n",
     "t.yaml:2:1: did not find expected ',' or '}' while parsing a flow mapping"},
    {DEMO "general: &a\n  data_dir: *nope\n", "t.yaml:5:13: unknown anchor 'nope'"},
    {DEMO "? [a, b]\n: 1\n", "t.yaml:4:3: keys must be non-empty scalars"},
    /* scalars */
    {DEMO "general:\n  shadow_mode: maybe\n",
     "t.yaml:5:16: general.shadow_mode: expected true or false, got 'maybe'"},
    {DEMO "general:\n  data_dir: relative/dir\n",
     "t.yaml:5:13: general.data_dir: must be an absolute path"},
    {DEMO "general:\n  user: \"Root User\"\n",
     "t.yaml:5:9: general.user: 'Root User' is not a valid user or group name"},
    {DEMO "log:\n  level: verbose\n",
     "t.yaml:5:10: log.level: unknown value 'verbose' (expected one of: error, warn, info, "
     "debug)"},
    {DEMO "log:\n  destination: relative.log\n",
     "t.yaml:5:16: log.destination: expected stderr, syslog or an absolute file path, got "
     "'relative.log'"},
    {DEMO "events:\n  destination: tcp\n",
     "t.yaml:5:16: events.destination: expected off, stdout or an absolute file path, got "
     "'tcp'"},
    {DEMO "events:\n  rotate_size: 12\n",
     "t.yaml:5:16: events.rotate_size: must be 0 (never rotate) or at least 64K"},
    {DEMO "events:\n  rotate_size: 64X\n",
     "t.yaml:5:16: events.rotate_size: expected a size like 512K, 64M or 1G, got '64X'"},
    {DEMO "events:\n  rotate_keep: 0\n",
     "t.yaml:5:16: events.rotate_keep: '0' out of range [1, 100]"},
    {DEMO "events:\n  rotate_keep: 5x\n",
     "t.yaml:5:16: events.rotate_keep: expected an integer, got '5x'"},
    {DEMO "events:\n  flush_interval: 2m\n",
     "t.yaml:5:19: events.flush_interval: duration '2m' out of range [10ms, 1m]"},
    {DEMO "events:\n  flush_interval: soon\n",
     "t.yaml:5:19: events.flush_interval: expected a duration like 30s, 10m, 1h, 7d or 250ms, "
     "got 'soon'"},
    {DEMO "events:\n  raw_excerpt: 4K\n",
     "t.yaml:5:16: events.raw_excerpt: size '4K' out of range [0, 2048] bytes"},
    {"demo:\n  name: \"a b\"\n  listen: [udp:127.0.0.1:5060]\n",
     "t.yaml:2:9: demo.name: spaces are not allowed"},
    {"demo:\n  name: abcdefghijklmnopq\n  listen: [udp:127.0.0.1:5060]\n",
     "t.yaml:2:9: demo.name: too long (17 bytes, limit 16)"},
    {"demo:\n  name: ''\n  listen: [udp:127.0.0.1:5060]\n",
     "t.yaml:2:9: demo.name: must not be empty"},
    {"demo:\n  name:\n  listen: [udp:127.0.0.1:5060]\n",
     "t.yaml:2:8: demo.name: a value is required"},
    {"demo:\n  listen: [udp:127.0.0.1:5060]\n", "t.yaml:2:3: demo: missing required key 'name'"},
    {"general: {}\n", "demo: section missing"},
    {"demo:\n  name: x\n  listen:\n    - udp:127.0.0.1:5060\n    - sctp:0.0.0.0:5060\n",
     "t.yaml:5:7: demo.listen[1]: unknown transport 'sctp'"},
    {"demo:\n  name: x\n  listen: [udp:300.0.0.1:5060]\n",
     "t.yaml:3:12: demo.listen[0]: expected an endpoint like udp:0.0.0.0:5060 or "
     "tls:[::1]:5061, got 'udp:300.0.0.1:5060'"},
    {"demo:\n  name: x\n  listen: []\n", "t.yaml:3:11: demo.listen: must have at least one item"},
    {DEMO "  users: [a, b, c, d]\n", "t.yaml:4:10: demo.users: too many items (4, limit 3)"},
    {DEMO "  users: [a, 'b c']\n", "t.yaml:4:14: demo.users[1]: spaces are not allowed"},
    {DEMO "  users: a\n", "t.yaml:4:10: demo.users: expected a list, got a scalar"},
    {DEMO "  allow: [10.0.0.0/33]\n",
     "t.yaml:4:11: demo.allow[0]: expected an address or CIDR range like 192.0.2.0/24, got "
     "'10.0.0.0/33'"},
    {DEMO "  upstream: udp:pbx.example:5060\n",
     "t.yaml:4:13: demo.upstream: expected an endpoint like udp:0.0.0.0:5060 or "
     "tls:[::1]:5061, got 'udp:pbx.example:5060'"},
    {DEMO "  upstream: 192.0.2.1:5060\n",
     "t.yaml:4:13: demo.upstream: expected an endpoint like udp:0.0.0.0:5060 or "
     "tls:[::1]:5061, got '192.0.2.1:5060'"},
    {DEMO "  extra: 3\n", "t.yaml:4:10: demo.extra: expected a map, got a scalar"},
    {DEMO "  even: 3\n", "t.yaml:4:9: demo.even: must be even"},
    {DEMO "  count: 99999999999999999999\n",
     "t.yaml:4:10: demo.count: '99999999999999999999' out of range [-5, 1000]"},
    {DEMO "  buffer: 1\n", "t.yaml:4:11: demo.buffer: size '1' out of range [1024, 1073741824] "
                           "bytes"},
    {DEMO "  window: 99999999999999999999d\n",
     "t.yaml:4:11: demo.window: duration '99999999999999999999d' out of range [1s, 1d]"},
    /* the digits fit, the scaled value does not */
    {DEMO "  buffer: 18014398509481984G\n",
     "t.yaml:4:11: demo.buffer: size '18014398509481984G' out of range [1024, 1073741824] "
     "bytes"},
    {DEMO "  window: 18446744073709551w\n",
     "t.yaml:4:11: demo.window: duration '18446744073709551w' out of range [1s, 1d]"},
    {DEMO "  buffer: 1T\n",
     "t.yaml:4:11: demo.buffer: expected a size like 512K, 64M or 1G, got '1T'"},
    {DEMO "  mode: Fast\n",
     "t.yaml:4:9: demo.mode: unknown value 'Fast' (expected one of: fast, safe)"},
    /* attacker-ish bytes in values are escaped in messages */
    {DEMO "  mode: \"a\\nb\"\n",
     "t.yaml:4:9: demo.mode: unknown value 'a\\nb' (expected one of: fast, safe)"},
    {DEMO "  mode: \"a\\0b\"\n", "t.yaml:4:9: demo.mode: NUL character in value"},
};

static void test_bad_table(void)
{
    char first[1024];
    for (size_t i = 0; i < PBX_ARRAY_SIZE(bad); i++) {
        int rc = load(bad[i].yaml, first, sizeof(first), NULL, NULL);
        if (rc == 0 || strcmp(first, bad[i].error) != 0)
            fprintf(stderr, "case %zu (rc %d)\n", i, rc);
        CHECK(rc < 0);
        CHECK_STR(first, bad[i].error);
    }
}

static void test_good(void)
{
    static const char yaml[] = "# comment\n"
                               "general:\n"
                               "  data_dir: /srv/pbx\n"
                               "  user: pbxguard\n"
                               "  shadow_mode: yes\n"
                               "log: {level: debug, destination: /var/log/pbxguard.log}\n"
                               "events:\n"
                               "  destination: stdout\n"
                               "  rotate_size: 0\n"
                               "  flush_interval: 250ms\n"
                               "demo:\n"
                               "  name: edge1\n"
                               "  flag: on\n"
                               "  count: -5\n"
                               "  window: 10m\n"
                               "  buffer: 64M\n"
                               "  mode: safe\n"
                               "  users: &u [alice, bob]\n"
                               "  upstream: tls:[::1]:5061\n"
                               "  listen: [udp:0.0.0.0:5060, 'tcp:[2001:db8::1]:5070']\n"
                               "  allow: [192.0.2.0/24, 2001:db8::/32, 203.0.113.9]\n"
                               "  extra: {a: 1, b: *u}\n"
                               "  even: 42\n";
    char first[512];
    struct cfg_snapshot *s = NULL;
    int rc = load(yaml, first, sizeof(first), &s, NULL);
    CHECK_INT(rc, 0);
    CHECK_STR(first, "");
    if (rc)
        return;
    const struct general_config *g = general_config_get(s);
    CHECK_STR(g->data_dir, "/srv/pbx");
    CHECK_STR(g->user, "pbxguard");
    CHECK(g->group == NULL);
    CHECK(g->shadow_mode);
    const struct log_config *lc = cfg_snapshot_section(s, "log");
    CHECK_INT(lc->level, LOG_LEVEL_DEBUG);
    CHECK_INT(lc->dest, LOG_DEST_FILE);
    CHECK_STR(lc->path, "/var/log/pbxguard.log");
    const struct ev_config *ec = cfg_snapshot_section(s, "events");
    CHECK_INT(ec->dest, EV_DEST_STDOUT);
    CHECK_INT(ec->rotate_size, 0);
    CHECK_INT(ec->rotate_keep, 5);
    CHECK_INT(ec->flush_interval_ms, 250);
    const struct demo_config *c = cfg_snapshot_section(s, "demo");
    CHECK_STR(c->name, "edge1");
    CHECK(c->flag);
    CHECK_INT(c->count, -5);
    CHECK_INT(c->window_ms, 600000);
    CHECK_INT(c->buffer, 64u << 20);
    CHECK_INT(c->mode, 1);
    CHECK_INT(c->users.count, 2);
    if (c->users.count == 2) {
        CHECK_STR(c->users.items[0], "alice");
        CHECK_STR(c->users.items[1], "bob");
    }
    CHECK_INT(c->upstream.transport, PBX_TP_TLS);
    CHECK_INT(c->upstream.addr.port, 5061);
    CHECK_INT(c->listen.count, 2);
    if (c->listen.count == 2) {
        CHECK_INT(c->listen.items[1].transport, PBX_TP_TCP);
        CHECK_INT(c->listen.items[1].addr.port, 5070);
    }
    CHECK_INT(c->allow.count, 3);
    if (c->allow.count == 3) {
        CHECK_INT(c->allow.items[0].prefix, 24);
        CHECK_INT(c->allow.items[2].prefix, 32);
    }
    CHECK_INT(c->custom, 42);
    /* the alias was copied with its own path; positions point at the anchored text */
    const struct cfg_node *b = cfg_map_get(c->extra, "b");
    CHECK_INT(cfg_node_kind(b), CFG_NODE_SEQ);
    CHECK_STR(cfg_node_path(b), "demo.extra.b");
    CHECK_STR(cfg_node_path(cfg_node_at(b, 1)), "demo.extra.b[1]");
    CHECK_STR(cfg_node_str(cfg_node_at(b, 1)), "bob");
    CHECK_INT(cfg_node_line(cfg_node_at(b, 1)), 18);
    CHECK_INT(cfg_node_column(cfg_node_at(b, 1)), 21);
    CHECK_STR(cfg_snapshot_source(s), "t.yaml");
    cfg_snapshot_unref(s);
}

/* An empty file, a comment-only file and "{}" all mean embedded defaults. */
static void test_defaults(void)
{
    static const struct cfg_section mine[] = {
        {"general", general_config_load, general_config_free},
        {"log", log_config_load, log_config_free},
        {"events", ev_config_load, ev_config_free},
    };
    static const char *const texts[] = {"", "# nothing\n", "{}\n", "general:\nlog: ~\n"};
    for (size_t i = 0; i < PBX_ARRAY_SIZE(texts); i++) {
        struct cfg_diag d;
        struct cfg_snapshot *s = NULL;
        cfg_diag_init(&d);
        int rc = cfg_snapshot_load_buf("e.yaml", texts[i], strlen(texts[i]), mine,
                                       PBX_ARRAY_SIZE(mine), &d, &s);
        CHECK_INT(rc, 0);
        CHECK_INT(cfg_diag_errors(&d), 0);
        if (rc == 0) {
            const struct general_config *g = general_config_get(s);
            CHECK_STR(g->data_dir, "/var/lib/pbxguard");
            CHECK(!g->shadow_mode);
            CHECK(g->user == NULL);
            const struct log_config *lc = cfg_snapshot_section(s, "log");
            CHECK_INT(lc->level, LOG_LEVEL_INFO);
            CHECK_INT(lc->dest, LOG_DEST_STDERR);
            const struct ev_config *ec = cfg_snapshot_section(s, "events");
            CHECK_INT(ec->dest, EV_DEST_FILE);
            CHECK_STR(ec->path, "/var/log/pbxguard/events.jsonl");
            CHECK_INT(ec->rotate_size, 64u << 20);
            CHECK_INT(ec->raw_max, 1024);
            CHECK(cfg_snapshot_section(s, "nope") == NULL);
        }
        cfg_snapshot_unref(s);
        cfg_diag_fini(&d);
    }
}

/* Several mistakes are reported in one pass, each at its place. */
static void test_many_errors(void)
{
    static const char yaml[] = "general:\n"
                               "  shadow_mode: 2\n"
                               "  colour: red\n"
                               "log:\n"
                               "  level: loud\n"
                               "events:\n"
                               "  fsync: sometimes\n"
                               "extra: 1\n"
                               "demo:\n"
                               "  name: x\n"
                               "  listen: [udp:127.0.0.1:5060]\n";
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;
    cfg_diag_init(&d);
    int rc =
        cfg_snapshot_load_buf("m.yaml", yaml, strlen(yaml), table, PBX_ARRAY_SIZE(table), &d, &s);
    CHECK_INT(rc, -EINVAL);
    CHECK(s == NULL);
    CHECK_INT(cfg_diag_errors(&d), 5);
    /* in file order */
    static const char *const want[] = {
        "2:16: general.shadow_mode: expected true or false, got '2'",
        "3:3: general.colour: unknown key",
        "5:10: log.level: unknown value 'loud' (expected one of: error, warn, info, debug)",
        "7:10: events.fsync: expected true or false, got 'sometimes'",
        "8:1: extra: unknown section",
    };
    for (unsigned i = 0; i < d.count && i < PBX_ARRAY_SIZE(want); i++) {
        char got[512];
        snprintf(got, sizeof(got), "%u:%u: %s", d.entries[i].line, d.entries[i].column,
                 d.entries[i].reason);
        CHECK_STR(got, want[i]);
    }
    cfg_diag_fini(&d);

    /* the error count is capped, the rest counted */
    char big[8192];
    size_t off = (size_t)snprintf(big, sizeof(big), "general:\n");
    for (int i = 0; i < 80; i++)
        off += (size_t)snprintf(big + off, sizeof(big) - off, "  k%d: 1\n", i);
    cfg_diag_init(&d);
    rc = cfg_snapshot_load_buf("c.yaml", big, off, table, 3, &d, &s);
    CHECK_INT(rc, -EINVAL);
    CHECK_INT(d.count, CFG_MAX_ERRORS);
    CHECK_INT(cfg_diag_errors(&d), 80);
    cfg_diag_fini(&d);
}

/* Caps against hostile files: billion laughs, depth, aliases, size. */
static void test_caps(void)
{
    char first[512];
    unsigned nerr;
    /* 9 levels of 9 references each would be 387M nodes if expanded */
    static const char laughs[] = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                                 "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                 "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                 "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                 "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                                 "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                                 "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    int rc = load(laughs, first, sizeof(first), NULL, &nerr);
    CHECK_INT(rc, -EMSGSIZE);
    CHECK(strstr(first, "too many nodes (limit 100000, aliases included)") != NULL);

    char many[2048];
    size_t off = (size_t)snprintf(many, sizeof(many), "a: &a x\nb: [");
    for (int i = 0; i < 70; i++)
        off += (size_t)snprintf(many + off, sizeof(many) - off, "*a, ");
    off += (size_t)snprintf(many + off, sizeof(many) - off, "*a]\n");
    rc = load(many, first, sizeof(first), NULL, NULL);
    CHECK_INT(rc, -EMSGSIZE);
    CHECK_STR(first, "t.yaml:2:261: too many aliases (limit 64)");

    char deep[256];
    off = 0;
    for (int i = 0; i < 40; i++)
        deep[off++] = '[';
    for (int i = 0; i < 40; i++)
        deep[off++] = ']';
    deep[off++] = '\n';
    deep[off] = '\0';
    rc = load(deep, first, sizeof(first), NULL, NULL);
    CHECK_INT(rc, -EMSGSIZE);
    CHECK_STR(first, "t.yaml:1:33: nesting too deep (limit 32)");

    size_t n = CFG_MAX_FILE_SIZE + 1;
    char *huge = malloc(n + 1);
    if (huge) {
        memset(huge, '#', n);
        huge[n] = '\0';
        rc = load(huge, first, sizeof(first), NULL, NULL);
        CHECK_INT(rc, -EMSGSIZE);
        CHECK_STR(first, "t.yaml: file too large (4194305 bytes, limit 4194304)");
        free(huge);
    }

    char *longv = malloc(CFG_MAX_SCALAR + 64);
    if (longv) {
        off = (size_t)snprintf(longv, 64, "demo:\n  name: ");
        memset(longv + off, 'a', CFG_MAX_SCALAR + 1);
        longv[off + CFG_MAX_SCALAR + 1] = '\0';
        rc = load(longv, first, sizeof(first), NULL, NULL);
        CHECK(rc < 0);
        CHECK_STR(first, "t.yaml:2:9: demo.name: value too long (8193 bytes, limit 8192)");
        free(longv);
    }
}

/* Duplicate detection stays correct (and fast) on large maps. */
static void test_large_map_duplicates(void)
{
    size_t cap = 64 * 1024, off = 0;
    char *y = malloc(cap);
    if (!y)
        return;
    off += (size_t)snprintf(y + off, cap - off, "general:\n");
    for (int i = 0; i < 2000; i++)
        off += (size_t)snprintf(y + off, cap - off, "  k%d: 1\n", i % 1999);
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    cfg_diag_init(&d);
    int rc = cfg_doc_load_buf("big.yaml", y, off, &d, &doc);
    CHECK_INT(rc, -EINVAL);
    CHECK_INT(cfg_diag_errors(&d), 1);
    if (d.count) {
        CHECK_INT(d.entries[0].line, 2001);
        CHECK_STR(d.entries[0].reason, "general.k0: duplicate key (first at line 2)");
    }
    cfg_diag_fini(&d);
    cfg_doc_free(doc);
    free(y);
}

/* Node accessors on a document without sections. */
static void test_nodes(void)
{
    static const char y[] = "a:\n  - 1\n  - 'null'\n  - ~\n  - {k: v}\nb: \"q\"\n";
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    cfg_diag_init(&d);
    int rc = cfg_doc_load_buf(NULL, y, strlen(y), &d, &doc);
    CHECK_INT(rc, 0);
    const struct cfg_node *root = cfg_doc_root(doc);
    CHECK_INT(cfg_node_count(root), 2);
    CHECK_STR(cfg_node_str(cfg_node_key_at(root, 1)), "b");
    const struct cfg_node *a = cfg_map_get(root, "a");
    CHECK_INT(cfg_node_kind(a), CFG_NODE_SEQ);
    CHECK_INT(cfg_node_count(a), 4);
    CHECK_INT(cfg_node_kind(cfg_node_at(a, 1)), CFG_NODE_SCALAR);
    CHECK(cfg_node_quoted(cfg_node_at(a, 1)));
    CHECK_INT(cfg_node_kind(cfg_node_at(a, 2)), CFG_NODE_NULL);
    CHECK_STR(cfg_node_path(cfg_map_get(cfg_node_at(a, 3), "k")), "a[3].k");
    CHECK(cfg_node_at(a, 4) == NULL);
    CHECK(cfg_map_get(a, "k") == NULL);
    CHECK_STR(cfg_node_file(a), "<config>");
    CHECK_INT(cfg_node_line(a), 2);
    CHECK_INT(cfg_node_column(a), 3);
    cfg_doc_free(doc);
    cfg_diag_fini(&d);
}

/* A bad reload keeps the running snapshot; a good one swaps it; readers keep theirs. */
static void test_reload(void)
{
    static const struct cfg_section mine[] = {
        {"general", general_config_load, general_config_free},
        {"log", log_config_load, log_config_free},
        {"events", ev_config_load, ev_config_free},
    };
    char tmpl[] = "/tmp/pbx-cfg-XXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    fputs("general:\n  data_dir: /one\n", f);
    fclose(f);

    struct cfg_live live;
    struct cfg_diag d;
    cfg_live_init(&live);
    CHECK(cfg_live_acquire(&live) == NULL);
    cfg_diag_init(&d);
    CHECK_INT(cfg_live_reload(&live, tmpl, mine, 3, &d), 0);
    cfg_diag_fini(&d);
    struct cfg_snapshot *held = cfg_live_acquire(&live);
    CHECK_STR(general_config_get(held)->data_dir, "/one");
    CHECK_INT(cfg_snapshot_generation(held), 1);

    f = fopen(tmpl, "w");
    fputs("general:\n  data_dir: two\n", f);
    fclose(f);
    cfg_diag_init(&d);
    CHECK_INT(cfg_live_reload(&live, tmpl, mine, 3, &d), -EINVAL);
    CHECK_INT(cfg_diag_errors(&d), 1);
    cfg_diag_fini(&d);
    struct cfg_snapshot *now = cfg_live_acquire(&live);
    CHECK(now == held);
    CHECK_STR(general_config_get(now)->data_dir, "/one");
    cfg_snapshot_unref(now);

    f = fopen(tmpl, "w");
    fputs("general:\n  data_dir: /three\n", f);
    fclose(f);
    cfg_diag_init(&d);
    CHECK_INT(cfg_live_reload(&live, tmpl, mine, 3, &d), 0);
    cfg_diag_fini(&d);
    now = cfg_live_acquire(&live);
    CHECK_STR(general_config_get(now)->data_dir, "/three");
    CHECK_INT(cfg_snapshot_generation(now), 2);
    /* the old reader's view is still intact */
    CHECK_STR(general_config_get(held)->data_dir, "/one");
    cfg_snapshot_unref(now);
    cfg_snapshot_unref(held);

    unlink(tmpl);
    cfg_diag_init(&d);
    CHECK_INT(cfg_live_reload(&live, tmpl, mine, 3, &d), -ENOENT);
    cfg_diag_fini(&d);
    now = cfg_live_acquire(&live);
    CHECK_STR(general_config_get(now)->data_dir, "/three");
    cfg_snapshot_unref(now);
    cfg_live_fini(&live);
}

/* The shipped example validates against the sections core owns plus a permissive rest. */
static void test_shipped_file_core_sections(void)
{
    static const struct cfg_section mine[] = {
        {"general", general_config_load, general_config_free},
        {"log", log_config_load, log_config_free},
        {"events", ev_config_load, ev_config_free},
    };
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    cfg_diag_init(&d);
    int rc = cfg_doc_load_file("etc/pbxguard.yaml", &d, &doc);
    CHECK_INT(rc, 0);
    for (size_t i = 0; i < PBX_ARRAY_SIZE(mine) && rc == 0; i++) {
        void *obj = NULL;
        CHECK_INT(mine[i].load(cfg_map_get(cfg_doc_root(doc), mine[i].name), &d, &obj), 0);
        mine[i].free(obj);
    }
    cfg_diag_print(&d, stderr);
    cfg_diag_fini(&d);
    cfg_doc_free(doc);
}

int main(void)
{
    test_bad_table();
    test_good();
    test_defaults();
    test_many_errors();
    test_caps();
    test_large_map_duplicates();
    test_nodes();
    test_reload();
    test_shipped_file_core_sections();
    return test_finish();
}
