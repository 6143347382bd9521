/*
 * Audit tests: the Asterisk reader, pattern semantics, secret masking, and every fixture
 * (insecure ones must yield the listed finding IDs at the listed lines; hardened ones must
 * yield nothing at all).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pbxguard/audit/audit.h"
#include "pbxguard/audit/dialplan.h"
#include "test.h"

#include "ast_conf.h"
#include "test_certs.h"

#define FIX "tests/audit/fixtures/"

struct expect {
    const char *id;
    const char *file; /* suffix of the finding's file, NULL = no location */
    unsigned line;
    const char *evidence; /* substring, or NULL */
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void expect_findings(const struct audit_report *r, const struct expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < r->n && !found; k++) {
            const struct audit_finding *f = &r->v[k];
            if (strcmp(f->check->id, e[i].id) != 0 || f->line != e[i].line)
                continue;
            if (e[i].file ? !f->file || !ends_with(f->file, e[i].file) : f->file != NULL)
                continue;
            if (e[i].evidence && !strstr(f->evidence, e[i].evidence))
                continue;
            found = true;
        }
        if (found)
            test_passed_count++;
        else
            TEST_FAIL_AT("missing finding %s at %s:%u (%s)", e[i].id, e[i].file ? e[i].file : "-",
                         e[i].line, e[i].evidence ? e[i].evidence : "");
    }
}

static void dump(const struct audit_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        fprintf(stderr, "  got %s %s:%u %s\n", r->v[i].check->id, r->v[i].file ? r->v[i].file : "-",
                r->v[i].line, r->v[i].evidence);
}

static int64_t day(const char *s)
{
    int64_t d = 0;
    CHECK_INT(audit_date_parse(s, &d), 0);
    return d;
}

static void test_patterns(void)
{
    static const struct {
        const char *pattern, *number;
        bool match;
    } cases[] = {
        {"_X.", "1", false},
        {"_X.", "12", true},
        {"_X!", "1", true},
        {"_00X.", "00441234", true},
        {"_00X.", "0044", true},
        {"_00X.", "004", false},
        {"_011.", "011442079460000", true},
        {"_011.", "0114", true},
        {"_011.", "011", false},
        {"_9011.", "9011442079460000", true},
        {"_9011.", "011442079460000", false},
        {"_NXXNXXXXXX", "2125551234", true},
        {"_NXXNXXXXXX", "1125551234", false},
        {"_NXXNXXXXXX", "212555123", false},
        {"_NXXNXXXXXX", "21255512345", false},
        {"_[2-9]X.", "213", true},
        {"_[2-9]X.", "11", false},
        {"_[2-9]X.", "21", false},
        {"_[135]XX", "512", true},
        {"_[135]XX", "412", false},
        {"_1-800-NXXXXXX", "18005551234", true},
        {"_ZXXX", "0123", false},
        {"_zxxx", "1123", true},
        {"_+.", "+442079460000", true},
        {"1234", "1234", true},
        {"1234", "12345", false},
        {"_1234", "1234", true},
        {"s", "s", true},
        {"_X.", "", false},
        {"_!", "", true},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        bool got = audit_ext_match(cases[i].pattern, cases[i].number);
        if (got == cases[i].match)
            test_passed_count++;
        else
            TEST_FAIL_AT("pattern %s vs %s: got %d", cases[i].pattern, cases[i].number, got);
    }
    /* Asterisk picks the narrower pattern: exact < _011. < _0X. < _X. < _! */
    CHECK(audit_ext_cmp("0114", "_011.") < 0);
    CHECK(audit_ext_cmp("_011.", "_0X.") < 0);
    CHECK(audit_ext_cmp("_0X.", "_X.") < 0);
    CHECK(audit_ext_cmp("_X.", "_X!") < 0);
    CHECK(audit_ext_cmp("_NXX", "_XXX") < 0);
    CHECK(audit_ext_cmp("_XXX", "_XXX") == 0);
}

static void test_conf_reader(void)
{
    struct ast_conf c;
    CHECK_INT(ast_conf_load(FIX "conf-reader/main.conf", &c), 0);
    const struct ast_section *child = ast_conf_find(&c, "child", NULL);
    CHECK(child != NULL);
    if (child) {
        const struct ast_var *v;
        CHECK_STR(ast_section_get(child, "a", &v), "1");
        CHECK(v && v->line == 3); /* inherited values keep the template's location */
        CHECK_STR(ast_section_get(child, "b", NULL), "override");
        CHECK_STR(ast_section_get(child, "c", NULL), "3");
        CHECK_STR(ast_section_get(child, "d", NULL), "semi;colon");
        CHECK_STR(ast_section_get(child, "exten", &v), "_X.,1,NoOp()");
        CHECK(v && v->arrow);
        CHECK(ast_section_get(child, "e", NULL) == NULL);
        CHECK_STR(ast_section_get(child, "f", NULL), "after-block");
        CHECK_STR(ast_section_get(child, "g", NULL), "appended");
    }
    CHECK(ast_conf_find(&c, "base", NULL) == NULL); /* templates are not sections */
    CHECK(ast_conf_find(&c, "from-sub", NULL) != NULL);
    const struct ast_section *self = ast_conf_find(&c, "self", NULL);
    CHECK(self && ast_section_get(self, "y", NULL));
    CHECK(ast_conf_find(&c, "this-is-not-a-section", NULL) == NULL);
    ast_conf_fini(&c);
    CHECK_INT(ast_conf_load(FIX "conf-reader/missing.conf", &c), -ENOENT);
    ast_conf_fini(&c);
}

static void test_secrets(void)
{
    char m[64];
    CHECK(audit_secret_is_weak("1234", NULL));
    CHECK(audit_secret_is_weak("password1", NULL));
    CHECK(audit_secret_is_weak("Secret2024", NULL));
    CHECK(audit_secret_is_weak("longusername", "LongUserName"));
    CHECK(audit_secret_is_weak("0123456789012", NULL));
    CHECK(!audit_secret_is_weak("Zk4#pW9v!Lr2qT7x", "1003"));
    audit_mask_secret("1234", m, sizeof(m));
    CHECK_STR(m, "<4 chars, digits only>");
    audit_mask_secret("amp111", m, sizeof(m));
    CHECK_STR(m, "<6 chars, dictionary word>");
    audit_mask_secret("Zk4#pW9v!Lr2qT7x", m, sizeof(m));
    CHECK_STR(m, "<16 chars, mixed classes>");
}

static void test_report_basics(void)
{
    enum audit_severity s;
    int64_t d;
    CHECK_INT(audit_severity_parse("HIGH", &s), 0);
    CHECK_INT(s, AUDIT_SEV_HIGH);
    CHECK_INT(audit_severity_parse("severe", &s), -EINVAL);
    CHECK_INT(audit_date_parse("1970-01-01", &d), 0);
    CHECK_INT(d, 0);
    CHECK_INT(day("2024-06-30") - day("2024-06-01"), 29);
    CHECK_INT(day("2025-03-01") - day("2025-02-28"), 1);
    CHECK_INT(audit_date_parse("2024-13-01", &d), -EINVAL);
    CHECK_INT(audit_date_parse("2024-1", &d), -EINVAL);
    CHECK(audit_check_by_id("AST-DIAL-001") != NULL);

    struct audit_report r;
    audit_report_init(&r);
    CHECK_INT(audit_report_grade(&r), 'A');
    CHECK_INT(audit_report_add(&r, audit_check_by_id("AST-SIP-006"), "x", 1, "ctl\r\nbytes"), 0);
    CHECK_STR(r.v[0].evidence, "ctl??bytes");
    CHECK_INT(audit_report_grade(&r), 'B');
    CHECK_INT(audit_report_add(&r, audit_check_by_id("AST-DIAL-001"), NULL, 0, "y"), 0);
    CHECK_INT(audit_report_grade(&r), 'F');
    audit_report_sort(&r);
    CHECK_STR(r.v[0].check->id, "AST-DIAL-001");
    /* One noisy check is capped and counted; the others still get in. */
    for (int i = 0; i < AUDIT_MAX_PER_CHECK + 10; i++)
        CHECK_INT(audit_report_add(&r, audit_check_by_id("AST-SIP-003"), "f", (unsigned)i, "w"), 0);
    CHECK_INT(audit_report_count(&r, "AST-SIP-003"), AUDIT_MAX_PER_CHECK);
    CHECK_INT(r.dropped, 10);
    CHECK_INT(audit_report_add(&r, audit_check_by_id("AST-SIP-001"), NULL, 0, "z"), 0);
    CHECK_INT(audit_report_count(&r, "AST-SIP-001"), 1);
    audit_report_fini(&r);
}

static void run(struct audit_opts *o, struct audit_report *r)
{
    audit_report_init(r);
    if (!o->today)
        o->today = day("2025-01-15");
    CHECK_INT(audit_run(o, r), 0);
}

static void test_asterisk(void)
{
    static const struct expect want[] = {
        {"AST-PJSIP-001", "asterisk-insecure/pjsip_endpoints.conf", 12, "equal to the user name"},
        {"AST-PJSIP-001", "asterisk-insecure/pjsip_endpoints.conf", 22, "<9 chars, dictionary"},
        {"AST-PJSIP-002", "asterisk-insecure/pjsip.conf", 23, "context=from-anon"},
        {"AST-PJSIP-003", "asterisk-insecure/pjsip.conf", 36, "match=0.0.0.0/0"},
        {"AST-PJSIP-004", "asterisk-insecure/pjsip_endpoints.conf", 5, "[1001]"},
        {"AST-PJSIP-004", "asterisk-insecure/pjsip_endpoints.conf", 15, "[1002]"},
        {"AST-PJSIP-005", "asterisk-insecure/pjsip.conf", 6, NULL},
        {"AST-PJSIP-006", "asterisk-insecure/pjsip.conf", 9, "bind=0.0.0.0"},
        {"AST-PJSIP-007", "asterisk-insecure/pjsip_endpoints.conf", 17, "[1002]"},
        {"AST-SIP-001", "asterisk-insecure/sip.conf", 3, "context=from-guest"},
        {"AST-SIP-002", "asterisk-insecure/sip.conf", 4, NULL},
        {"AST-SIP-003", "asterisk-insecure/sip.conf", 19, "<4 chars, digits only>"},
        {"AST-SIP-004", "asterisk-insecure/sip.conf", 12, "insecure=port,invite"},
        {"AST-SIP-005", "asterisk-insecure/sip.conf", 13, "[trunk-provider]"},
        {"AST-SIP-006", "asterisk-insecure/sip.conf", 5, NULL},
        {"AST-SIP-007", "asterisk-insecure/sip.conf", 7, NULL},
        {"AST-SIP-008", "asterisk-insecure/sip.conf", 19, "[2001]"},
        {"AST-AMI-001", "asterisk-insecure/manager.conf", 4, "bindaddr=0.0.0.0"},
        {"AST-AMI-002", "asterisk-insecure/manager.conf", 7, "well-known default"},
        {"AST-AMI-003", "asterisk-insecure/manager.conf", 6, "[admin]"},
        {"AST-HTTP-001", "asterisk-insecure/http.conf", 3, "ARI enabled"},
        {"AST-ARI-001", "asterisk-insecure/ari.conf", 7, NULL},
        {"AST-RTP-001", "asterisk-insecure/rtp.conf", 4, NULL},
        /* Guests: sip.conf [general] -> from-guest -> include from-internal -> include
         * outbound-allroutes -> _011. priority n Dial(SIP/trunk-provider/...). */
        {"AST-DIAL-001", "asterisk-insecure/sip.conf", 2,
         "extensions.conf:10 [from-guest] include => from-internal -> extensions.conf:17 "
         "[from-internal] include => outbound-allroutes -> extensions.conf:27"},
        /* Anonymous: from-anon Goto() into outbound-allroutes. */
        {"AST-DIAL-001", "asterisk-insecure/pjsip.conf", 25,
         "extensions.conf:13 [from-anon] exten => _X.,1,Goto(outbound-allroutes"},
    };
    struct audit_opts o = {.asterisk_dir = FIX "asterisk-insecure"};
    struct audit_report r;
    run(&o, &r);
    expect_findings(&r, want, PBX_ARRAY_SIZE(want));
    /* The identify section maps to a context that only reaches phones: no dial-out. */
    CHECK_INT(audit_report_count(&r, "AST-DIAL-001"), 2);
    /* [1003] (pulled in by #tryinclude with a glob) is hardened: nothing about it. */
    for (size_t i = 0; i < r.n; i++) {
        CHECK(strstr(r.v[i].evidence, "[1003") == NULL);
        /* Secrets never appear, only their shape. */
        CHECK(strstr(r.v[i].evidence, "amp111") == NULL);
        CHECK(strstr(r.v[i].evidence, "secret123") == NULL);
        CHECK(strstr(r.v[i].evidence, "Provider2019") == NULL);
    }
    audit_report_fini(&r);

    struct audit_opts h = {.asterisk_dir = FIX "asterisk-hardened"};
    run(&h, &r);
    CHECK_INT(r.n, 0);
    if (r.n)
        dump(&r);
    audit_report_fini(&r);
}

/* Include loops, FreePBX dial-out macros, terminal priorities, best-match order. */
static void test_dialplan_paths(void)
{
    static const struct expect want[] = {
        {"AST-DIAL-001", "asterisk-dialplan/sip.conf", 2,
         "9011442079460000 reaches a trunk -> extensions.conf:4 [guest-loop] include => a -> "
         "extensions.conf:7 [a] include => b -> extensions.conf:11 [b] include => fpbx -> "
         "extensions.conf:14 [fpbx] exten => _9011.,1,Macro(dialout-trunk"},
        /* 011... picks the narrower _011. (Hangup); 00... still reaches the trunk via _0X. */
        {"AST-DIAL-001", "asterisk-dialplan/pjsip.conf", 12,
         "international (00) 00442079460000 reaches a trunk -> extensions.conf:23 [prefer] "
         "exten => _0X.,1,Dial(PJSIP/${EXTEN}@trunk) (3 of 8 samples)"},
    };
    struct audit_opts o = {.asterisk_dir = FIX "asterisk-dialplan"};
    struct audit_report r;
    run(&o, &r);
    expect_findings(&r, want, PBX_ARRAY_SIZE(want));
    /* [blocked] hangs up before its Dial(): the anonymous endpoint reaches nothing. */
    CHECK_INT(audit_report_count(&r, "AST-DIAL-001"), 2);
    audit_report_fini(&r);
}

static void test_freeswitch(void)
{
    static const struct expect want[] = {
        {"FS-VARS-001", "freeswitch-insecure/vars.xml", 3, "shipped default"},
        {"FS-ESL-001", "freeswitch-insecure/autoload_configs/event_socket.conf.xml", 6,
         "<7 chars, dictionary word> (the shipped default)"},
        {"FS-ESL-002", "freeswitch-insecure/autoload_configs/event_socket.conf.xml", 4,
         "listen-ip=0.0.0.0"},
        /* auth-calls comes from $${internal_auth_calls} set in vars.xml. */
        {"FS-SOFIA-001", "freeswitch-insecure/sip_profiles/internal.xml", 5,
         "profile internal: auth-calls=false"},
        {"FS-SOFIA-002", "freeswitch-insecure/sip_profiles/internal.xml", 6, "accept-blind-reg"},
    };
    struct audit_opts o = {.freeswitch_dir = FIX "freeswitch-insecure"};
    struct audit_report r;
    run(&o, &r);
    expect_findings(&r, want, PBX_ARRAY_SIZE(want));
    for (size_t i = 0; i < r.n; i++)
        CHECK(strstr(r.v[i].evidence, "ClueCon") == NULL);
    audit_report_fini(&r);

    struct audit_opts h = {.freeswitch_dir = FIX "freeswitch-hardened"};
    run(&h, &r);
    CHECK_INT(r.n, 0);
    if (r.n)
        dump(&r);
    audit_report_fini(&r);

    struct audit_opts missing = {.freeswitch_dir = FIX "does-not-exist", .today = 1};
    audit_report_init(&r);
    CHECK_INT(audit_run(&missing, &r), -ENOENT);
    audit_report_fini(&r);
}

static void test_kamailio(void)
{
    static const struct expect insecure[] = {
        {"KAM-AUTH-001", "tests/probe/kamailio/insecure.cfg", 122, "is_method(\"REGISTER\")"},
        {"KAM-FLOOD-001", "tests/probe/kamailio/insecure.cfg", 58, NULL},
        {"KAM-SCAN-001", "tests/probe/kamailio/insecure.cfg", 58, NULL},
    };
    static const struct expect stock[] = {
        {"KAM-AUTH-001", "kamailio/stock-noauth.cfg", 11, "auth module not loaded"},
        {"KAM-FLOOD-001", "kamailio/stock-noauth.cfg", 11, NULL},
        {"KAM-SCAN-001", "kamailio/stock-noauth.cfg", 11, NULL},
    };
    struct audit_report r;
    struct audit_opts o = {.kamailio_file = "tests/probe/kamailio/insecure.cfg"};
    run(&o, &r);
    expect_findings(&r, insecure, PBX_ARRAY_SIZE(insecure));
    CHECK_INT(r.n, 3);
    audit_report_fini(&r);

    struct audit_opts s = {.kamailio_file = FIX "kamailio/stock-noauth.cfg"};
    run(&s, &r);
    expect_findings(&r, stock, PBX_ARRAY_SIZE(stock));
    audit_report_fini(&r);

    static const char *const clean[] = {"tests/probe/kamailio/secure.cfg",
                                        FIX "kamailio/hardened-default.cfg"};
    for (size_t i = 0; i < PBX_ARRAY_SIZE(clean); i++) {
        struct audit_opts h = {.kamailio_file = clean[i]};
        run(&h, &r);
        CHECK_INT(r.n, 0);
        if (r.n)
            dump(&r);
        audit_report_fini(&r);
    }
}

/* Copies a fixture tree into a fresh temporary root, so certificates can be added. */
static bool make_root(const char *fixture, char *root, size_t cap)
{
    char cmd[2048];
    snprintf(root, cap, "/tmp/pbxguard-audit-XXXXXX");
    if (!mkdtemp(root))
        return false;
    snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", fixture, root);
    return system(cmd) == 0;
}

static void remove_root(const char *root)
{
    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    CHECK_INT(system(cmd), 0);
}

static void mkdirs(const char *root, const char *rel)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s%s'", root, rel);
    CHECK_INT(system(cmd), 0);
}

static void test_host(void)
{
    char root[256], p1[512], p2[512], p3[512], p4[512];
    struct audit_report r;

    CHECK(make_root(FIX "host-insecure", root, sizeof(root)));
    mkdirs(root, "/etc/asterisk/keys");
    mkdirs(root, "/etc/kamailio/tls");
    snprintf(p1, sizeof(p1), "%s/etc/asterisk/keys/asterisk.pem", root);
    snprintf(p2, sizeof(p2), "%s/etc/kamailio/tls/server.pem", root);
    /* Expired, 1024-bit, self-signed; and one expiring 17 days after "today". */
    CHECK_INT(test_make_cert(p1, NULL, "pbx.example", 1024, "20200101000000Z", "20240101000000Z",
                             NULL, NULL),
              0);
    CHECK_INT(test_make_cert(p2, NULL, "sip.example", 2048, "20240201000000Z", "20250201000000Z",
                             NULL, NULL),
              0);
    static const struct expect want[] = {
        {"HOST-OS-001", "/etc/os-release", 3, "Debian 10"},
        {"HOST-SSH-001", "/etc/ssh/sshd_config.d/10-installer.conf", 1, "PermitRootLogin yes"},
        {"HOST-SSH-002", "/etc/ssh/sshd_config", 0, "default yes"},
        {"HOST-SSH-003", "/etc/ssh/sshd_config", 0, "default 22"},
        {"HOST-FW-002", "/etc/nftables.conf", 6, "input policy accept"},
        {"HOST-PHP-001", "/var/lib/dpkg/status", 5, "PHP 7.3"},
        {"HOST-DB-001", "/var/lib/dpkg/status", 9, "MariaDB 10.3"},
        {"HOST-PORT-001", "/proc/net/udp", 2, "udp 0.0.0.0:5060"},
        {"HOST-PORT-002", "/proc/net/tcp", 2, "tcp 0.0.0.0:5038"},
        {"HOST-PORT-003", "/proc/net/tcp", 4, "tcp 0.0.0.0:8088"},
        {"HOST-PORT-003", "/proc/net/tcp6", 2, "tcp [::]:8089"},
        {"HOST-TLS-001", "/etc/asterisk/keys/asterisk.pem", 0, "expired 380 days ago"},
        {"HOST-TLS-002", "/etc/kamailio/tls/server.pem", 0, "expires in 17 days"},
        {"HOST-TLS-003", "/etc/asterisk/keys/asterisk.pem", 0, "1024 bits"},
        {"HOST-TLS-004", "/etc/asterisk/keys/asterisk.pem", 0, "self-signed"},
    };
    struct audit_opts o = {.host = true, .root = root};
    run(&o, &r);
    expect_findings(&r, want, PBX_ARRAY_SIZE(want));
    /* 3306 on loopback and the SSH client connection are not listeners to report. */
    CHECK_INT(audit_report_count(&r, "HOST-PORT-002"), 1);
    CHECK_INT(audit_report_count(&r, "HOST-FW-001"), 0);
    audit_report_fini(&r);
    remove_root(root);

    /* CentOS 7 on the day after its end of life, and on the day itself. */
    struct audit_opts c = {.host = true, .root = FIX "host-centos7", .today = day("2024-07-01")};
    static const struct expect centos[] = {
        {"HOST-OS-001", "host-centos7/etc/os-release", 5, "CentOS 7"},
        {"HOST-FW-001", NULL, 0, "no nftables.conf"},
    };
    run(&c, &r);
    expect_findings(&r, centos, PBX_ARRAY_SIZE(centos));
    audit_report_fini(&r);
    c.today = day("2024-06-30");
    run(&c, &r);
    CHECK_INT(audit_report_count(&r, "HOST-OS-001"), 0);
    CHECK_INT(audit_report_count(&r, "HOST-OS-002"), 1);
    audit_report_fini(&r);

    /* Hardened: CA-signed 2048-bit certificate with its CA beside it; nothing to report. */
    CHECK(make_root(FIX "host-hardened", root, sizeof(root)));
    mkdirs(root, "/etc/pbxguard/tls");
    mkdirs(root, "/etc/asterisk/keys");
    snprintf(p1, sizeof(p1), "%s/etc/pbxguard/tls/ca.pem", root);
    snprintf(p2, sizeof(p2), "%s/etc/pbxguard/tls/ca.key", root);
    snprintf(p3, sizeof(p3), "%s/etc/asterisk/keys/pbx.crt", root);
    snprintf(p4, sizeof(p4), "%s/etc/asterisk/keys/pbx.key", root);
    CHECK_INT(test_make_cert(p1, p2, "PBX Test CA", 2048, "20240101000000Z", "20340101000000Z",
                             NULL, NULL),
              0);
    CHECK_INT(
        test_make_cert(p3, p4, "pbx.example", 2048, "20240101000000Z", "20270101000000Z", p1, p2),
        0);
    struct audit_opts h = {.host = true, .root = root};
    run(&h, &r);
    CHECK_INT(r.n, 0);
    if (r.n)
        dump(&r);
    audit_report_fini(&r);
    remove_root(root);
}

int main(void)
{
    test_patterns();
    test_conf_reader();
    test_secrets();
    test_report_basics();
    test_asterisk();
    test_dialplan_paths();
    test_freeswitch();
    test_kamailio();
    test_host();
    return test_finish();
}
