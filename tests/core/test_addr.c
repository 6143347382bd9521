/* Address, endpoint and CIDR parsing and matching. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "pbxguard/core/addr.h"
#include "test.h"

static struct pbx_addr must_addr(const char *s)
{
    struct pbx_addr a = {0};
    if (pbx_addr_parse(s, strlen(s), &a) != 0)
        TEST_FAIL_AT("cannot parse %s", s);
    return a;
}

static void test_addr_parse(void)
{
    static const struct {
        const char *in;
        int rc;
        const char *fmt;
    } cases[] = {
        {"192.0.2.1", 0, "192.0.2.1:0"},
        {"192.0.2.1:5060", 0, "192.0.2.1:5060"},
        {"::1", 0, "[::1]:0"},
        {"[::1]", 0, "[::1]:0"},
        {"[2001:db8::1]:5061", 0, "[2001:db8::1]:5061"},
        {"2001:db8::1:5060", 0, "[2001:db8::1:5060]:0"}, /* bare IPv6 takes no port */
        {"192.0.2.1:0", -EINVAL, NULL},
        {"192.0.2.1:65536", -EINVAL, NULL},
        {"192.0.2.1:", -EINVAL, NULL},
        {"[::1]5060", -EINVAL, NULL},
        {"[192.0.2.1]:5060", -EINVAL, NULL},
        {"example.com", -EINVAL, NULL},
        {"", -EINVAL, NULL},
        {"999.0.0.1", -EINVAL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pbx_addr a = {0};
        int rc = pbx_addr_parse(cases[i].in, strlen(cases[i].in), &a);
        CHECK_INT(rc, cases[i].rc);
        if (rc == 0 && cases[i].fmt) {
            char buf[PBX_ADDR_STRLEN];
            CHECK_STR(pbx_addr_fmt(&a, buf, sizeof(buf)), cases[i].fmt);
        }
    }
}

static void test_endpoint_parse(void)
{
    static const struct {
        const char *in;
        int rc;
        const char *fmt;
    } cases[] = {
        {"udp:0.0.0.0:5060", 0, "udp:0.0.0.0:5060"},
        {"TLS:[::]:5061", 0, "tls:[::]:5061"},
        {"tls:127.0.0.1", 0, "tls:127.0.0.1:5061"},
        {"tcp:[::1]", 0, "tcp:[::1]:5060"},
        {"sctp:127.0.0.1:5060", -EINVAL, NULL},
        {"udp", -EINVAL, NULL},
        {"udp:", -EINVAL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pbx_endpoint e;
        int rc = pbx_endpoint_parse(cases[i].in, strlen(cases[i].in), &e);
        CHECK_INT(rc, cases[i].rc);
        if (rc == 0) {
            char buf[PBX_ENDPOINT_STRLEN];
            CHECK_STR(pbx_endpoint_fmt(&e, buf, sizeof(buf)), cases[i].fmt);
        }
    }
}

static void test_cidr(void)
{
    struct pbx_cidr c;
    CHECK_INT(pbx_cidr_parse("10.1.2.3/8", 10, &c), 0);
    struct pbx_addr in = must_addr("10.200.0.1"), out = must_addr("11.0.0.1");
    CHECK(pbx_cidr_contains(&c, &in));
    CHECK(!pbx_cidr_contains(&c, &out));
    struct pbx_addr mapped = must_addr("::ffff:10.9.9.9");
    CHECK(pbx_cidr_contains(&c, &mapped));

    CHECK_INT(pbx_cidr_parse("2001:db8:1:2::/64", 17, &c), 0);
    struct pbx_addr v6in = must_addr("2001:db8:1:2:ffff::1"), v6out = must_addr("2001:db8:1:3::1");
    CHECK(pbx_cidr_contains(&c, &v6in));
    CHECK(!pbx_cidr_contains(&c, &v6out));
    CHECK(!pbx_cidr_contains(&c, &in));

    CHECK_INT(pbx_cidr_parse("192.0.2.7", 9, &c), 0);
    CHECK_INT(c.prefix, 32);
    CHECK_INT(pbx_cidr_parse("192.0.2.0/33", 12, &c), -EINVAL);
    CHECK_INT(pbx_cidr_parse("::/129", 6, &c), -EINVAL);
    CHECK_INT(pbx_cidr_parse("::/", 3, &c), -EINVAL);
    CHECK_INT(pbx_cidr_parse("0.0.0.0/0", 9, &c), 0);
    CHECK(pbx_cidr_contains(&c, &out));

    /* /61 keeps a partial byte. */
    struct pbx_addr m = pbx_addr_mask(&v6in, 61);
    char buf[PBX_ADDR_STRLEN];
    CHECK_STR(pbx_addr_fmt_ip(&m, buf, sizeof(buf)), "2001:db8:1::");
}

static void test_sockaddr_round_trip(void)
{
    struct pbx_addr a = must_addr("[2001:db8::5]:5070"), b;
    struct sockaddr_storage ss;
    socklen_t len = pbx_addr_to_sockaddr(&a, &ss);
    CHECK_INT(pbx_addr_from_sockaddr((struct sockaddr *)&ss, len, &b), 0);
    CHECK(pbx_addr_eq(&a, &b, true));
    b.port = 1;
    CHECK(!pbx_addr_eq(&a, &b, true));
    CHECK(pbx_addr_eq(&a, &b, false));
    struct pbx_addr mapped = must_addr("::ffff:192.0.2.9"), v4 = must_addr("192.0.2.9");
    struct pbx_addr un = pbx_addr_unmap(&mapped);
    CHECK(pbx_addr_is_v4mapped(&mapped));
    CHECK(pbx_addr_eq(&un, &v4, false));
}

int main(void)
{
    test_addr_parse();
    test_endpoint_parse();
    test_cidr();
    test_sockaddr_round_trip();
    return test_finish();
}
