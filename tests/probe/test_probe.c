/* Probe unit tests: option parsing, targets, digest credentials, the check table. */
#include <errno.h>
#include <string.h>

#include "pbxguard/probe/probe.h"
#include "test.h"

#include "conn.h"
#include "probe_int.h"

static void test_extensions(void)
{
    unsigned v[16];
    size_t n;
    CHECK_INT(probe_extensions_parse("100-103", v, 16, &n), 0);
    CHECK_INT(n, 4);
    CHECK_INT(v[3], 103);
    CHECK_INT(probe_extensions_parse("1001,2000-2001,7", v, 16, &n), 0);
    CHECK_INT(n, 4);
    CHECK_INT(v[0], 1001);
    CHECK_INT(v[2], 2001);
    CHECK_INT(v[3], 7);
    CHECK_INT(probe_extensions_parse("10-5", v, 16, &n), -EINVAL);
    CHECK_INT(probe_extensions_parse("1,,2", v, 16, &n), -EINVAL);
    CHECK_INT(probe_extensions_parse("abc", v, 16, &n), -EINVAL);
    CHECK_INT(probe_extensions_parse("", v, 16, &n), -EINVAL);
    CHECK_INT(probe_extensions_parse("1-100", v, 16, &n), -EMSGSIZE);
    CHECK_INT(probe_extensions_parse("99999999999", v, 16, &n), -EINVAL);
}

static void test_targets(void)
{
    struct probe_target t;
    CHECK_INT(probe_target_parse("127.0.0.1", PROBE_UDP, &t), 0);
    CHECK_INT(t.port, 5060);
    CHECK_STR(t.host, "127.0.0.1");
    CHECK_INT(probe_target_parse("127.0.0.1", PROBE_TLS, &t), 0);
    CHECK_INT(t.port, 5061);
    CHECK_INT(probe_target_parse("sip:100@127.0.0.2:5080", PROBE_UDP, &t), 0);
    CHECK_INT(t.port, 5080);
    CHECK_STR(t.host, "127.0.0.2");
    CHECK_INT(probe_target_parse("[::1]:5070", PROBE_TCP, &t), 0);
    CHECK_STR(t.host, "::1");
    CHECK_INT(t.port, 5070);
    CHECK_INT(probe_target_parse("127.0.0.1:0", PROBE_UDP, &t), -EINVAL);
    CHECK_INT(probe_target_parse("127.0.0.1:70000", PROBE_UDP, &t), -EINVAL);
    CHECK_INT(probe_target_parse("[::1", PROBE_UDP, &t), -EINVAL);
    CHECK_INT(probe_target_parse("", PROBE_UDP, &t), -EINVAL);
}

static void test_digest(void)
{
    char out[1024];
    /* RFC 2617 §3.5 credentials, without qop: response = MD5(HA1:nonce:HA2). */
    CHECK_INT(probe_digest_header("Digest realm=\"testrealm@host.com\", "
                                  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
                                  false, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", out,
                                  sizeof(out)),
              0);
    CHECK(strncmp(out, "Authorization: Digest username=\"Mufasa\"", 39) == 0);
    CHECK(strstr(out, "response=\"670fd8c2df070c60b045671b8b24ff02\"") != NULL);
    CHECK(strstr(out, "\r\n") != NULL);
    CHECK_INT(probe_digest_header("Digest realm=\"r\", nonce=\"n\", qop=\"auth,auth-int\", "
                                  "opaque=\"xyz\"",
                                  true, "u", "p", "REGISTER", "sip:h", out, sizeof(out)),
              0);
    CHECK(strncmp(out, "Proxy-Authorization: ", 21) == 0);
    CHECK(strstr(out, "qop=auth, nc=00000001, cnonce=\"") != NULL);
    CHECK(strstr(out, "opaque=\"xyz\"") != NULL);
    CHECK_INT(probe_digest_header("Basic realm=\"r\"", false, "u", "p", "REGISTER", "sip:h", out,
                                  sizeof(out)),
              -EBADMSG);
    CHECK_INT(probe_digest_header("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256", false, "u",
                                  "p", "REGISTER", "sip:h", out, sizeof(out)),
              -EBADMSG);
}

static void test_checks_table(void)
{
    size_t n;
    const struct audit_check *const *c = probe_checks(&n);
    CHECK_INT(n, 13);
    for (size_t i = 0; i < n; i++) {
        CHECK(strncmp(c[i]->id, "PRB-", 4) == 0);
        CHECK(c[i]->title && c[i]->why && c[i]->fix);
        CHECK_INT(c[i]->scope, AUDIT_SCOPE_PROBE);
    }
}

static void test_refusals(void)
{
    struct audit_report r;
    struct probe_opts o = {.target = "127.0.0.1", .wordlist = "/dev/null"};
    audit_report_init(&r);
    CHECK_INT(probe_run(&o, &r), -EINVAL); /* no ownership acknowledgement */
    o.wordlist = NULL;
    o.rate = PROBE_MAX_RATE + 1;
    CHECK_INT(probe_run(&o, &r), -EINVAL);
    CHECK_INT(r.n, 0);
    audit_report_fini(&r);
}

int main(void)
{
    test_extensions();
    test_targets();
    test_digest();
    test_checks_table();
    test_refusals();
    return test_finish();
}
