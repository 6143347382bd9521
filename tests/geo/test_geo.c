/*
 * Geo: lookups in a small .mmdb the test builds itself (tests/geo/mkmmdb.py, a stdlib-only
 * writer following the MaxMind DB spec), country policy at admission, and registration
 * anomalies (new country, geo-velocity) through the engine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/core/event.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/geo/geo.h"
#include "../detect/sipgen.h"
#include "test.h"

static char db[64];
static unsigned alerts;
static char last_rule[64];

static void capture(const struct ev_record *r, const char *line, size_t len, void *ctx)
{
    (void)line;
    (void)len;
    (void)ctx;
    if (r->action == EV_ACT_ALERT) {
        alerts++;
        snprintf(last_rule, sizeof(last_rule), "%s", r->rule);
    }
}

static struct pbx_addr ip(const char *s)
{
    struct pbx_addr a;
    if (pbx_addr_parse(s, strlen(s), &a) != 0)
        abort();
    return a;
}

static void test_lookup(struct geo *g)
{
    struct geo_result r;
    struct pbx_addr a = ip("192.0.2.77"), b = ip("2001:db8:1::5"), c = ip("203.0.113.1"),
                    m = ip("::ffff:198.51.100.9");

    CHECK_INT(geo_lookup(g, &a, &r), 0);
    CHECK_STR(r.cc, "FR");
    CHECK(r.has_loc);
    CHECK(r.lat > 48.8 && r.lat < 48.9);
    CHECK_INT(geo_lookup(g, &b, &r), 0);
    CHECK_STR(r.cc, "DE");
    CHECK_INT(geo_lookup(g, &m, &r), 0);
    CHECK_STR(r.cc, "AU");
    CHECK_INT(geo_lookup(g, &c, &r), -ENOENT);
    double km = geo_distance_km(48.85, 2.35, -33.87, 151.21);
    CHECK(km > 16900 && km < 17000); /* Paris - Sydney */
    struct geo *bad = NULL;
    CHECK_INT(geo_open("/nonexistent.mmdb", &bad), -ENOENT);
    CHECK_INT(geo_open("data/scanners.yaml", &bad), -EINVAL);
}

static void test_policy(void)
{
    struct geo_policy p;
    memset(&p, 0, sizeof(p));
    CHECK(geo_policy_permits(&p, "FR"));
    CHECK_INT(geo_policy_add(&p, false, "au"), 0);
    CHECK_INT(geo_policy_add(&p, false, "AUS"), -EINVAL);
    CHECK(!geo_policy_permits(&p, "AU"));
    CHECK(geo_policy_permits(&p, "FR"));
    CHECK(geo_policy_permits(&p, NULL));
    p.unknown_deny = true;
    CHECK(!geo_policy_permits(&p, NULL));
    struct geo_policy q;
    memset(&q, 0, sizeof(q));
    CHECK_INT(geo_policy_add(&q, true, "FR"), 0);
    CHECK(geo_policy_permits(&q, "fr"));
    CHECK(!geo_policy_permits(&q, "DE"));
}

static void registered(struct det_engine *e, const char *src, const char *user, int64_t now,
                       struct det_verdict *v)
{
    struct det_ctx c;
    struct tmsg t;
    char cid[32];

    memset(&c, 0, sizeof(c));
    c.src = ip(src);
    snprintf(cid, sizeof(cid), "g%lld", (long long)now);
    struct treq r = {.method = "REGISTER", .user = user, .callid = cid, .cseq = 2, .auth = user};
    CHECK_INT(treq_build(&t, &r), 0);
    det_on_request(e, &c, &t.m, now, v);
    CHECK_INT(tresp_build(&t, &r, 200, "OK", "Expires: 3600\r\n"), 0);
    det_on_response(e, &c, &t.m, now + 1, v);
}

static void test_engine(struct geo *g)
{
    struct ban_config bc;
    struct ban_table *bans;
    struct det_config cfg;
    struct det_engine *e;
    static struct det_verdict v;
    const int64_t H = 3600 * 1000;

    ban_config_defaults(&bc);
    bc.capacity = 256;
    CHECK_INT(ban_table_new(&bc, &bans), 0);
    det_config_defaults(&cfg);
    cfg.memory_max = 2u << 20;
    CHECK_INT(geo_policy_add(&cfg.geo, false, "DE"), 0);
    CHECK_INT(det_engine_new(&cfg, bans, g, NULL, 0, &e), 0);

    /* Country policy before parsing. */
    struct pbx_addr de = ip("2001:db8::7"), fr = ip("192.0.2.8"), unknown = ip("203.0.113.8");
    CHECK(!det_admit(e, &de, PBX_TP_UDP, 1000));
    CHECK(det_admit(e, &fr, PBX_TP_UDP, 1000));
    CHECK(det_admit(e, &unknown, PBX_TP_UDP, 1000));

    /* Same account, same country: nothing. */
    registered(e, "192.0.2.10", "201", 10 * H, &v);
    registered(e, "192.0.2.11", "201", 11 * H, &v);
    CHECK_INT(alerts, 0);
    /* Sydney 30 minutes after Paris: impossible travel. */
    registered(e, "198.51.100.20", "201", 11 * H + H / 2, &v);
    CHECK_INT(alerts, 1);
    CHECK_STR(last_rule, "det.geo_velocity");
    CHECK(v.flags & DET_F_ALERT);
    CHECK_INT(v.action, DET_ALERT);
    /* Another account first seen in Paris, then in Sydney two days later: new country only. */
    registered(e, "192.0.2.30", "301", 10 * H, &v);
    registered(e, "198.51.100.31", "301", 58 * H, &v);
    CHECK_INT(alerts, 2);
    CHECK_STR(last_rule, "det.new_country");
    /* Back to a known country: no alert. */
    registered(e, "192.0.2.32", "301", 100 * H, &v);
    CHECK_INT(alerts, 2);
    det_engine_free(e);
    ban_table_free(bans);
}

int main(void)
{
    char cmd[512];
    struct geo *g = NULL;

    snprintf(db, sizeof(db), "/tmp/pbxgeo-%d.mmdb", (int)getpid());
    snprintf(cmd, sizeof(cmd),
             "python3 tests/geo/mkmmdb.py %s 192.0.2.0/24=FR:48.85:2.35 "
             "198.51.100.0/24=AU:-33.87:151.21 2001:db8::/32=DE:52.52:13.40",
             db);
    if (system(cmd) != 0) {
        fprintf(stderr, "mkmmdb failed\n");
        return 1;
    }
    if (ev_subscribe(capture, NULL) != 0)
        return 1;
    CHECK_INT(geo_open(db, &g), 0);
    if (g) {
        test_lookup(g);
        test_engine(g);
    }
    test_policy();
    geo_close(g);
    unlink(db);
    return test_finish();
}
