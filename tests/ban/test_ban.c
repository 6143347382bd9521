/* Ban table: escalation, history, IPv6 widening, allow-list, capacity, expiry callbacks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/ban/ban.h"
#include "test.h"

#define MIN (60 * 1000LL)

static struct pbx_addr ip(const char *s)
{
    struct pbx_addr a;
    if (pbx_addr_parse(s, strlen(s), &a) != 0)
        abort();
    return a;
}

static struct ban_table *mk(size_t cap)
{
    struct ban_config c;
    struct ban_table *t = NULL;
    ban_config_defaults(&c);
    c.capacity = cap;
    if (ban_table_new(&c, &t) != 0)
        abort();
    return t;
}

static void test_escalation(void)
{
    struct ban_table *t = mk(64);
    struct pbx_addr a = ip("203.0.113.9");
    struct ban_entry e;
    int64_t now = 1000;

    CHECK_INT(ban_add(t, &a, 0, 0, "det.x", "r", now, &e, NULL), 0);
    CHECK_INT(e.level, 1);
    CHECK_INT(e.expires_ms - now, 10 * MIN);
    CHECK(ban_check(t, &a, now + 1, NULL));
    now = e.expires_ms + 1;
    CHECK(!ban_check(t, &a, now, NULL));
    CHECK_INT(ban_add(t, &a, 0, 0, "det.x", "r", now, &e, NULL), 0);
    CHECK_INT(e.level, 2);
    CHECK_INT(e.expires_ms - now, 60 * MIN);
    now = e.expires_ms + 1;
    CHECK_INT(ban_add(t, &a, 0, 0, "det.x", "r", now, &e, NULL), 0);
    CHECK_INT(e.level, 3);
    CHECK_INT(e.expires_ms - now, 24 * 60 * MIN);
    now = e.expires_ms + 1;
    CHECK_INT(ban_add(t, &a, 0, 0, "det.x", "r", now, &e, NULL), 0);
    CHECK_INT(e.level, 4);
    CHECK(e.expires_ms == BAN_PERMANENT);
    CHECK(ban_check(t, &a, now + 365LL * 24 * 60 * MIN, NULL));
    /* Past the history window a new offence starts again at level 1. */
    struct pbx_addr b = ip("203.0.113.10");
    CHECK_INT(ban_add(t, &b, 0, 0, "det.x", "r", 1000, &e, NULL), 0);
    CHECK_INT(ban_add(t, &b, 0, 0, "det.x", "r", 1000 + 8 * 24 * 60 * MIN, &e, NULL), 0);
    CHECK_INT(e.level, 1);
    /* A fixed duration and a re-ban that never shortens. */
    struct pbx_addr c = ip("203.0.113.11");
    CHECK_INT(ban_add(t, &c, 0, 5 * MIN, "ctl", "r", 0, &e, NULL), 0);
    CHECK_INT(e.expires_ms, 5 * MIN);
    CHECK_INT(ban_add(t, &c, 0, 1000, "ctl", "r", 1, &e, NULL), 0);
    CHECK_INT(e.expires_ms, 5 * MIN);
    CHECK_INT(ban_del(t, &c, 0, 2), 0);
    CHECK(!ban_check(t, &c, 3, NULL));
    CHECK_INT(ban_del(t, &c, 0, 3), -ENOENT);
    ban_table_free(t);
}

static void test_v6_widening(void)
{
    struct ban_table *t = mk(64);
    struct ban_entry e;
    bool widened = false;
    struct pbx_addr a1 = ip("2001:db8:1:2::1"), a2 = ip("2001:db8:1:2::2"),
                    a3 = ip("2001:db8:1:2:ffff::3"), other = ip("2001:db8:1:2:1234::77"),
                    out = ip("2001:db8:1:3::1");

    CHECK_INT(ban_add(t, &a1, 0, 0, "r", "x", 1000, &e, &widened), 0);
    CHECK(!widened);
    CHECK_INT(e.prefix, 128);
    CHECK(!ban_check(t, &other, 1001, NULL));
    CHECK_INT(ban_add(t, &a2, 0, 0, "r", "x", 1000, &e, &widened), 0);
    CHECK(!widened);
    CHECK_INT(ban_add(t, &a3, 0, 0, "r", "x", 1000, &e, &widened), 0);
    CHECK(widened);
    CHECK_INT(e.prefix, 64);
    CHECK(ban_check(t, &other, 1001, &e));
    CHECK_INT(e.prefix, 64);
    CHECK(!ban_check(t, &out, 1001, NULL));
    char buf[80];
    CHECK_STR(ban_scope_fmt(&e, buf, sizeof(buf)), "2001:db8:1:2::/64");
    /* Re-banning the same address is not a new member of the /64. */
    struct ban_table *t2 = mk(64);
    for (int i = 0; i < 5; i++)
        CHECK_INT(ban_add(t2, &a1, 0, 0, "r", "x", 1000 + i, &e, &widened), 0);
    CHECK(!ban_check(t2, &other, 2000, NULL));
    /* IPv4-mapped addresses are IPv4. */
    struct pbx_addr m = ip("::ffff:198.51.100.4"), v4 = ip("198.51.100.4");
    CHECK_INT(ban_add(t2, &m, 0, 0, "r", "x", 1000, &e, NULL), 0);
    CHECK(ban_check(t2, &v4, 1001, NULL));
    ban_table_free(t);
    ban_table_free(t2);
}

static void test_allow(void)
{
    struct ban_table *t = mk(64);
    struct pbx_cidr c;
    struct pbx_addr a = ip("10.20.30.40");
    struct pbx_cidr list[4];

    CHECK_INT(pbx_cidr_parse("10.0.0.0/8", 10, &c), 0);
    CHECK_INT(ban_allow_add(t, &c), 0);
    CHECK_INT(ban_allow_add(t, &c), 0);
    CHECK_INT(ban_allow_list(t, list, 4), 1);
    CHECK_INT(ban_add(t, &a, 0, 0, "r", "x", 1, NULL, NULL), -EPERM);
    CHECK(!ban_check(t, &a, 2, NULL));
    CHECK_INT(ban_allow_del(t, &c), 0);
    CHECK_INT(ban_allow_del(t, &c), -ENOENT);
    CHECK_INT(ban_add(t, &a, 0, 0, "r", "x", 1, NULL, NULL), 0);
    ban_table_free(t);
}

static unsigned expired_n;
static void on_expired(const struct ban_entry *e, void *ctx)
{
    (void)e;
    (void)ctx;
    expired_n++;
}

/* A full table recycles history, never an active ban; list/expire/restore. */
static void test_capacity(void)
{
    struct ban_table *t = mk(32);
    char s[32];
    struct ban_entry list[64];
    int rc = 0, n = 0;

    for (int i = 0; i < 40; i++) {
        snprintf(s, sizeof(s), "192.0.2.%d", i + 1);
        struct pbx_addr a = ip(s);
        rc = ban_add(t, &a, 0, 0, "r", "x", 1000, NULL, NULL);
        if (rc == 0)
            n++;
    }
    CHECK_INT(n, 32);
    CHECK_INT(rc, -ENOSPC);
    CHECK_INT(ban_list(t, list, 64, 1001), 32);
    for (int i = 0; i < 32; i++) {
        snprintf(s, sizeof(s), "192.0.2.%d", i + 1);
        struct pbx_addr a = ip(s);
        CHECK(ban_check(t, &a, 1001, NULL));
    }
    /* After expiry the same table takes new bans (history recycled). */
    int64_t later = 1000 + 11 * MIN;
    ban_expire(t, later, on_expired, NULL);
    CHECK_INT(expired_n, 32);
    ban_expire(t, later, on_expired, NULL);
    CHECK_INT(expired_n, 32);
    struct pbx_addr z = ip("198.51.100.200");
    CHECK_INT(ban_add(t, &z, 0, 0, "r", "x", later, NULL, NULL), 0);
    CHECK_INT(ban_table_active(t, later), 1);
    /* Restore as persisted. */
    struct ban_entry e;
    memset(&e, 0, sizeof(e));
    e.addr = ip("198.51.100.201");
    e.prefix = 32;
    e.level = 3;
    e.expires_ms = later + 5000;
    CHECK_INT(ban_restore(t, &e, later), 0);
    CHECK(ban_check(t, &e.addr, later + 1, &e));
    CHECK_INT(e.level, 3);
    e.expires_ms = later - 1;
    CHECK_INT(ban_restore(t, &e, later), -ESTALE);
    CHECK(ban_table_mem(t) > 0);
    ban_table_free(t);
}

/* ban_expire skips its scan until a ban is due; none may be reported late or twice. */
static void test_expiry_order(void)
{
    struct ban_table *t = mk(256);
    struct pbx_addr a = ip("198.51.100.1"), b = ip("198.51.100.2"), c = ip("198.51.100.3");
    expired_n = 0;
    CHECK_INT(ban_add(t, &a, 0, 20 * MIN, "r", "x", 0, NULL, NULL), 0);
    ban_expire(t, 1, on_expired, NULL);
    CHECK_INT(expired_n, 0);
    /* Added after a scan, due before the earliest ban known at that scan. */
    CHECK_INT(ban_add(t, &b, 0, 5 * MIN, "r", "x", 2, NULL, NULL), 0);
    ban_expire(t, 5 * MIN + 1, on_expired, NULL);
    CHECK_INT(expired_n, 0);
    ban_expire(t, 5 * MIN + 2, on_expired, NULL);
    CHECK_INT(expired_n, 1);
    ban_expire(t, 5 * MIN + 3, on_expired, NULL);
    CHECK_INT(expired_n, 1);
    CHECK_INT(ban_add(t, &c, 0, -1, "r", "x", 3, NULL, NULL), 0); /* permanent: never due */
    ban_expire(t, 20 * MIN - 1, on_expired, NULL);
    CHECK_INT(expired_n, 1);
    ban_expire(t, 20 * MIN, on_expired, NULL);
    CHECK_INT(expired_n, 2);
    /* Re-banned after its expiry was reported: due again at the new expiry. */
    CHECK_INT(ban_add(t, &b, 0, 0, "r", "x", 30 * MIN, NULL, NULL), 0);
    ban_expire(t, 30 * MIN + 60 * MIN, on_expired, NULL);
    CHECK_INT(expired_n, 3);
    ban_expire(t, 1000 * MIN, on_expired, NULL);
    CHECK_INT(expired_n, 3);
    CHECK_INT(ban_table_active(t, 1000 * MIN), 1);
    ban_table_free(t);
}

int main(void)
{
    test_escalation();
    test_v6_widening();
    test_allow();
    test_capacity();
    test_expiry_order();
    return test_finish();
}
