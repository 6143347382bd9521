/*
 * Detection engine tests: crafted messages through the real parser and the engine, with an
 * injected clock (every call takes now_ms). Each detector has a case that fires and a
 * control that must not.
 */
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/siphash.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/detect/runtime.h"
#include "pbxguard/store/store.h"
#include "sipgen.h"
#include "test.h"

/* ---- event capture ---- */

static struct {
    unsigned total;
    unsigned by_action[EV_ACT_COUNT_];
    unsigned shadow;
    char last_rule[64];
    char last_line[EV_LINE_MAX];
} evs;

static void ev_capture(const struct ev_record *r, const char *line, size_t len, void *ctx)
{
    (void)ctx;
    evs.total++;
    evs.by_action[r->action]++;
    evs.shadow += r->shadow;
    snprintf(evs.last_rule, sizeof(evs.last_rule), "%s", r->rule ? r->rule : "");
    snprintf(evs.last_line, sizeof(evs.last_line), "%.*s", (int)len, line);
}

static void ev_reset(void)
{
    memset(&evs, 0, sizeof(evs));
}

/* ---- fixtures ---- */

static struct pbx_addr ip(const char *s)
{
    struct pbx_addr a;
    memset(&a, 0, sizeof(a));
    if (pbx_addr_parse(s, strlen(s), &a) != 0)
        abort();
    a.port = 5060;
    return a;
}

struct fx {
    struct ban_table *bans;
    struct det_engine *e;
    struct det_config cfg;
};

static void fx_init(struct fx *f, void (*tune)(struct det_config *))
{
    struct ban_config bc;
    char err[256];

    ban_config_defaults(&bc);
    bc.capacity = 4096;
    if (ban_table_new(&bc, &f->bans) != 0)
        abort();
    det_config_defaults(&f->cfg);
    f->cfg.memory_max = 4u << 20;
    f->cfg.canaries[0] = "999";
    f->cfg.ncanaries = 1;
    if (tune)
        tune(&f->cfg);
    int rc = det_engine_new(&f->cfg, f->bans, NULL, err, sizeof(err), &f->e);
    if (rc != 0) {
        fprintf(stderr, "det_engine_new: %d %s\n", rc, err);
        abort();
    }
    ev_reset();
}

static void fx_fini(struct fx *f)
{
    det_engine_free(f->e);
    ban_table_free(f->bans);
}

static struct det_ctx ctx_of(const char *addr)
{
    struct det_ctx c;
    memset(&c, 0, sizeof(c));
    c.src = ip(addr);
    c.tp = PBX_TP_UDP;
    return c;
}

/* Sends one request (admit + parse + on_request). Returns the action. */
static enum det_action req(struct fx *f, const struct det_ctx *c, const struct treq *r, int64_t now,
                           struct det_verdict *v)
{
    struct tmsg t;

    if (!det_admit(f->e, &c->src, c->tp, now))
        return DET_DROP;
    if (treq_build(&t, r) != 0) {
        fprintf(stderr, "treq_build failed: %s\n", t.m.err_reason ? t.m.err_reason : "?");
        abort();
    }
    det_on_request(f->e, c, &t.m, now, v);
    return v->action;
}

static enum det_action resp(struct fx *f, const struct det_ctx *c, const struct treq *r, int st,
                            const char *reason, const char *extra, int64_t now,
                            struct det_verdict *v)
{
    struct tmsg t;

    if (tresp_build(&t, r, st, reason, extra) != 0)
        abort();
    det_on_response(f->e, c, &t.m, now, v);
    return v->action;
}

static struct det_verdict V; /* verdicts are large: one static scratch */

/* ---- tests ---- */

static void test_siphash(void)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    /* Reference vectors from the SipHash paper (appendix A) / reference implementation. */
    CHECK(pbx_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
    CHECK(pbx_siphash24(key, msg, 1) == 0x74f839c593dc67fdull);
    CHECK(pbx_siphash24(key, msg, 8) == 0x93f5f5799a932462ull);
    CHECK(pbx_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
    CHECK(pbx_siphash24(key, msg, 63) == 0x958a324ceb064572ull);
    /* SipHash-1-3, same key and messages (the reference implementation's 1-3 vectors). */
    CHECK(pbx_siphash13(key, msg, 0) == 0xabac0158050fc4dcull);
    CHECK(pbx_siphash13(key, msg, 1) == 0xc9f49bf37d57ca93ull);
    CHECK(pbx_siphash13(key, msg, 15) != pbx_siphash24(key, msg, 15));
    uint8_t k2[16];
    CHECK_INT(pbx_siphash_keygen(k2), 0);
}

static char hook_evidence[8192];
static size_t hook_len;
static unsigned hook_calls;
static void ban_hook(const struct ban_entry *b, const char *ev, size_t len, void *ctx)
{
    (void)b;
    (void)ctx;
    hook_calls++;
    hook_len = len < sizeof(hook_evidence) - 1 ? len : sizeof(hook_evidence) - 1;
    memcpy(hook_evidence, ev, hook_len);
    hook_evidence[hook_len] = '\0';
}

static unsigned count_substr(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* svwar-style REGISTER sweep: 100 users, 3 exist (401), the rest 404 -> ban at 10 distinct. */
static void test_enumeration_sweep(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.5");
    char user[16], cid[32];
    int banned_at = -1, n404 = 0;

    fx_init(&f, NULL);
    det_set_ban_hook(f.e, ban_hook, NULL);
    hook_calls = 0;
    for (int i = 0; i < 100 && banned_at < 0; i++) {
        struct treq r = {.method = "REGISTER",
                         .user = user,
                         .callid = cid,
                         .cseq = 1,
                         .ua = "Linksys/PAP2T-3.1.15"};
        int64_t now = 1000000 + i * 2000; /* slow: one every 2 s, under every rate limit */
        snprintf(user, sizeof(user), "%d", 100 + i);
        snprintf(cid, sizeof(cid), "sweep%d", i);
        if (req(&f, &c, &r, now, &V) != DET_PASS)
            break;
        bool exists = i == 1 || i == 5 || i == 42;
        if (exists) {
            resp(&f, &c, &r, 401, "Unauthorized", CHALLENGE_401, now + 1, &V);
        } else {
            n404++;
            if (resp(&f, &c, &r, 404, "Not Found", NULL, now + 1, &V) == DET_BAN)
                banned_at = n404;
        }
    }
    CHECK_INT(banned_at, 10);
    CHECK_STR(V.rule, "det.enumeration");
    /* The ban carries the answers that led to it, newest included, within the cap. */
    CHECK_INT(hook_calls, 1);
    CHECK(hook_len <= 4096);
    CHECK(count_substr(hook_evidence, "SIP/2.0 404 Not Found") >= 8);
    CHECK(strstr(hook_evidence, "Call-ID: sweep") != NULL);
    int64_t t = V.ban.since_ms;
    CHECK(ban_check(f.bans, &c.src, t + 1, NULL));
    CHECK_INT(V.ban.expires_ms - t, 10 * 60 * 1000); /* first ban: 10 min */
    /* The next packet from the source is refused before parsing. */
    CHECK(!det_admit(f.e, &c.src, PBX_TP_UDP, t + 2));
    fx_fini(&f);
}

/* The same number of REGISTERs for one real user (challenge, then credentials, 200). */
static void test_one_user_no_ban(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.6");
    char cid[32];
    unsigned bad = 0;

    fx_init(&f, NULL);
    for (int i = 0; i < 100; i++) {
        int64_t now = 1000000 + i * 2000;
        struct treq r = {.method = "REGISTER",
                         .user = "201",
                         .callid = cid,
                         .cseq = 1,
                         .ua = "Yealink SIP-T46S"};
        snprintf(cid, sizeof(cid), "reg%d", i);
        bad += req(&f, &c, &r, now, &V) != DET_PASS;
        bad += resp(&f, &c, &r, 401, "Unauthorized", CHALLENGE_401, now + 1, &V) != DET_PASS;
        r.cseq = 2;
        r.auth = "201";
        bad += req(&f, &c, &r, now + 2, &V) != DET_PASS;
        bad += resp(&f, &c, &r, 200, "OK", NULL, now + 3, &V) != DET_PASS;
    }
    CHECK_INT(bad, 0);
    CHECK(!ban_check(f.bans, &c.src, 2000000, NULL));
    CHECK_INT(evs.by_action[EV_ACT_BAN], 0);
    fx_fini(&f);
}

/* 50 phones behind one NAT address: register every 60 s, OPTIONS keep-alive every 30 s,
 * for 30 simulated minutes, and all boot at the same moment. Never banned or dropped. */
static void test_nat_office(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("192.0.2.77");
    char user[16], cid[48];
    unsigned bad = 0, msgs = 0;

    fx_init(&f, NULL);
    /* Power cut: all 50 phones boot together, their REGISTERs interleave. */
    for (int step = 0; step < 4; step++) {
        for (int p = 0; p < 50; p++) {
            int64_t now = 4000000 + step * 100 + p;
            snprintf(user, sizeof(user), "%d", 300 + p);
            snprintf(cid, sizeof(cid), "boot-%d", p);
            struct treq r = {.method = "REGISTER",
                             .user = user,
                             .callid = cid,
                             .cseq = step < 2 ? 1 : 2,
                             .auth = step < 2 ? NULL : user,
                             .ua = "Yealink SIP-T46S"};
            if (step == 0 || step == 2)
                bad += req(&f, &c, &r, now, &V) != DET_PASS;
            else
                bad += resp(&f, &c, &r, step == 1 ? 401 : 200, step == 1 ? "Unauthorized" : "OK",
                            step == 1 ? CHALLENGE_401 : NULL, now, &V) != DET_PASS;
            msgs++;
        }
    }
    for (int64_t t = 0; t < 30 * 60 * 1000; t += 1000) {
        for (int p = 0; p < 50; p++) {
            int64_t now = 5000000 + t + p * 7; /* phones spread within the second */
            snprintf(user, sizeof(user), "%d", 300 + p);
            /* Phone p registers at t = p (s) mod 60 and sends OPTIONS every 30 s. */
            bool reg = t > 0 && (t / 1000) % 60 == p % 60;
            bool opt = (t / 1000) % 30 == p % 30;
            if (reg) {
                snprintf(cid, sizeof(cid), "nat-%d-%lld", p, (long long)t);
                struct treq r = {.method = "REGISTER",
                                 .user = user,
                                 .callid = cid,
                                 .cseq = 1,
                                 .ua = "Yealink SIP-T46S"};
                bad += req(&f, &c, &r, now, &V) != DET_PASS;
                bad +=
                    resp(&f, &c, &r, 401, "Unauthorized", CHALLENGE_401, now + 5, &V) != DET_PASS;
                r.cseq = 2;
                r.auth = user;
                bad += req(&f, &c, &r, now + 10, &V) != DET_PASS;
                bad += resp(&f, &c, &r, 200, "OK", NULL, now + 15, &V) != DET_PASS;
                msgs += 4;
            }
            if (opt) {
                snprintf(cid, sizeof(cid), "ka-%d-%lld", p, (long long)t);
                struct treq r = {.method = "OPTIONS",
                                 .user = user,
                                 .callid = cid,
                                 .cseq = 1,
                                 .ua = "Yealink SIP-T46S"};
                bad += req(&f, &c, &r, now + 20, &V) != DET_PASS;
                msgs++;
            }
        }
    }
    CHECK(msgs > 8000);
    CHECK_INT(bad, 0);
    CHECK(!ban_check(f.bans, &c.src, 7000000, NULL));
    CHECK_INT(evs.by_action[EV_ACT_BAN], 0);
    fx_fini(&f);
}

static void test_scanner(void)
{
    struct fx f;
    struct det_ctx c1 = ctx_of("203.0.113.20"), c2 = ctx_of("203.0.113.21"),
                   c3 = ctx_of("203.0.113.22"), c4 = ctx_of("203.0.113.23");

    fx_init(&f, NULL);
    /* svmap: OPTIONS sip:100@1.1.1.1 with the friendly-scanner User-Agent. */
    struct treq r1 = {.method = "OPTIONS",
                      .user = "100",
                      .host = "1.1.1.1",
                      .callid = "s1",
                      .cseq = 1,
                      .ua = "friendly-scanner",
                      .tag = "3206210844"};
    CHECK_INT(req(&f, &c1, &r1, 1000, &V), DET_BAN);
    CHECK_STR(V.rule, "det.scanner");
    CHECK(V.score >= 100);
    /* Spoofed User-Agent, but SIPVicious' fixed tag and svmap's URI shape remain. */
    struct treq r2 = {.method = "OPTIONS",
                      .user = "100",
                      .host = "1.1.1.1",
                      .callid = "s2",
                      .cseq = 1,
                      .ua = "Yealink SIP-T46S",
                      .tag = "3206210844"};
    CHECK_INT(req(&f, &c2, &r2, 1000, &V), DET_BAN);
    /* svwar/svcrack: From tag hex-encoding "203.0.113.1:5060" plus digits. */
    struct treq r3 = {.method = "REGISTER",
                      .user = "1000",
                      .callid = "s3",
                      .cseq = 1,
                      .ua = "Yealink",
                      .tag = "3230332e302e3131332e313a35303630013437",
                      .branch = "z9hG4bK-1234567"};
    CHECK_INT(req(&f, &c3, &r3, 1000, &V), DET_BAN);
    /* Control: a SIPp-style hyphenated branch alone is not a scanner. */
    struct treq r4 = {.method = "REGISTER",
                      .user = "1000",
                      .callid = "s4",
                      .cseq = 1,
                      .ua = "SIPp",
                      .branch = "z9hG4bK-4242-1-0"};
    CHECK_INT(req(&f, &c4, &r4, 1000, &V), DET_PASS);
    CHECK(!ban_check(f.bans, &c4.src, 1001, NULL));
    fx_fini(&f);
}

static void sweep_tune(struct det_config *c)
{
    c->enumeration.enabled = false; /* isolate the scanner's behaviour score */
    c->shield = false;
}

/* OPTIONS sweep over random numeric users with an innocuous User-Agent: behaviour alone. */
static void test_scanner_behaviour(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.30");
    char user[16], cid[16];
    int at = -1;

    fx_init(&f, sweep_tune);
    for (int i = 0; i < 32 && at < 0; i++) {
        snprintf(user, sizeof(user), "%d", 1000 + (i * 7919) % 9000);
        snprintf(cid, sizeof(cid), "o%d", i);
        struct treq r = {.method = "OPTIONS",
                         .user = user,
                         .callid = cid,
                         .cseq = 1,
                         .ua = "Grandstream GXP2170",
                         .branch = "z9hG4bK-99"};
        if (req(&f, &c, &r, 1000 + i * 100, &V) == DET_BAN)
            at = i + 1;
    }
    CHECK_INT(at, 10); /* 50 + 2x5 (sweep) + 20 (numeric) + 20 (hyphen branch) */
    fx_fini(&f);
}

static void test_bruteforce_source(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.40");
    char cid[16];
    int at = -1;

    fx_init(&f, NULL);
    for (int i = 0; i < 20 && at < 0; i++) {
        snprintf(cid, sizeof(cid), "bf%d", i);
        struct treq r = {.method = "REGISTER",
                         .user = "201",
                         .callid = cid,
                         .cseq = 2,
                         .auth = "201",
                         .ua = "Zoiper"};
        CHECK_INT(req(&f, &c, &r, 1000 + i * 500, &V), DET_PASS);
        if (resp(&f, &c, &r, 401, "Unauthorized", CHALLENGE_401, 1001 + i * 500, &V) == DET_BAN)
            at = i + 1;
    }
    CHECK_INT(at, 8);
    CHECK_STR(V.rule, "det.bruteforce");
    /* A stale-nonce 401 is not a failure. */
    struct det_ctx c2 = ctx_of("203.0.113.41");
    for (int i = 0; i < 20; i++) {
        snprintf(cid, sizeof(cid), "st%d", i);
        struct treq r = {
            .method = "REGISTER", .user = "202", .callid = cid, .cseq = 2, .auth = "202"};
        req(&f, &c2, &r, 1000 + i * 500, &V);
        resp(&f, &c2, &r, 401, "Unauthorized",
             "WWW-Authenticate: Digest realm=\"pbx.example\", nonce=\"x1\", stale=true\r\n",
             1001 + i * 500, &V);
    }
    CHECK(!ban_check(f.bans, &c2.src, 20000, NULL));
    fx_fini(&f);
}

static void acct_tune(struct det_config *c)
{
    struct pbx_cidr trunk;
    (void)c;
    (void)trunk;
}

/* Distributed guessing: one failure each from many sources protects the account. */
static void test_bruteforce_account(void)
{
    struct fx f;
    char addr[32], cid[16];

    fx_init(&f, acct_tune);
    for (int i = 0; i < 4; i++) {
        snprintf(addr, sizeof(addr), "198.18.0.%d", i + 1);
        snprintf(cid, sizeof(cid), "d%d", i);
        struct det_ctx c = ctx_of(addr);
        struct treq r = {
            .method = "REGISTER", .user = "500", .callid = cid, .cseq = 2, .auth = "500"};
        req(&f, &c, &r, 10000 + i, &V);
        resp(&f, &c, &r, 401, "Unauthorized", CHALLENGE_401, 10000 + i, &V);
    }
    CHECK(det_account_protected(f.e, "500", 10100));
    CHECK(V.flags & DET_F_ALERT);
    CHECK_STR(evs.last_rule, "det.bruteforce_account");
    /* A fifth source (even one that just logged in elsewhere: learned trust) is refused. */
    struct det_ctx c5 = ctx_of("198.18.0.50");
    struct treq ok = {
        .method = "REGISTER", .user = "600", .callid = "ok", .cseq = 2, .auth = "600"};
    req(&f, &c5, &ok, 10200, &V);
    resp(&f, &c5, &ok, 200, "OK", NULL, 10201, &V);
    struct treq r5 = {
        .method = "REGISTER", .user = "500", .callid = "d5", .cseq = 2, .auth = "500"};
    CHECK_INT(req(&f, &c5, &r5, 10300, &V), DET_REJECT);
    CHECK_INT(V.status, 403);
    /* No single source reached the per-source threshold: none is banned. */
    CHECK(!ban_check(f.bans, &c5.src, 10300, NULL));
    /* Other accounts are unaffected; protection ends after protect_ms. */
    struct treq r6 = {
        .method = "REGISTER", .user = "600", .callid = "d6", .cseq = 2, .auth = "600"};
    CHECK_INT(req(&f, &c5, &r6, 10400, &V), DET_PASS);
    CHECK(!det_account_protected(f.e, "500", 10000 + 15 * 60 * 1000 + 10));
    fx_fini(&f);
}

static void test_canary(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.50");

    fx_init(&f, NULL);
    /* Even after a successful login elsewhere (learned trust), a canary bans at once. */
    struct treq ok = {
        .method = "REGISTER", .user = "201", .callid = "c0", .cseq = 2, .auth = "201"};
    req(&f, &c, &ok, 1000, &V);
    resp(&f, &c, &ok, 200, "OK", NULL, 1001, &V);
    struct treq r = {.method = "INVITE", .user = "999", .callid = "c1", .cseq = 1};
    CHECK_INT(req(&f, &c, &r, 2000, &V), DET_BAN);
    CHECK_STR(V.rule, "det.canary");
    CHECK(ban_check(f.bans, &c.src, 2001, NULL));
    /* Control: the same INVITE to a normal extension passes. */
    struct det_ctx c2 = ctx_of("203.0.113.51");
    struct treq r2 = {.method = "INVITE", .user = "998", .callid = "c2", .cseq = 1};
    CHECK_INT(req(&f, &c2, &r2, 2000, &V), DET_PASS);
    fx_fini(&f);
}

/* Parses the rewrite and returns its status; fills the challenge realm/nonce length. */
static int rewrite_status(const struct det_verdict *v, char *realm, size_t *nonce_len,
                          unsigned *nhdrs)
{
    static struct sip_msg m;
    struct slice ch;
    if (sip_msg_parse(&m, (const uint8_t *)v->rewrite, v->rewrite_len, SIP_PARSE_DATAGRAM) != 0)
        return -1;
    ch = sip_msg_hdr_value(&m, SIP_HDR_WWW_AUTHENTICATE, 0);
    if (!ch.p)
        ch = sip_msg_hdr_value(&m, SIP_HDR_PROXY_AUTHENTICATE, 0);
    const char *rp = ch.p ? memmem(ch.p, ch.len, "realm=\"", 7) : NULL;
    const char *np = ch.p ? memmem(ch.p, ch.len, "nonce=\"", 7) : NULL;
    if (rp) {
        const char *e = memchr(rp + 7, '"', (size_t)(ch.p + ch.len - rp - 7));
        snprintf(realm, 64, "%.*s", (int)(e - rp - 7), rp + 7);
    }
    if (np) {
        const char *e = memchr(np + 7, '"', (size_t)(ch.p + ch.len - np - 7));
        *nonce_len = (size_t)(e - np - 7);
    }
    *nhdrs = m.nhdrs;
    return m.status;
}

static void test_shield(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.60");
    char realm[64] = "";
    size_t nlen = 0;
    unsigned nh_fake = 0, nh_real = 0;

    fx_init(&f, NULL);
    /* The PBX challenges an existing user: the engine learns the challenge shape. */
    struct treq r1 = {.method = "REGISTER", .user = "201", .callid = "sh1", .cseq = 1};
    CHECK_INT(resp(&f, &c, &r1, 401, "Unauthorized", CHALLENGE_401, 1000, &V), DET_PASS);
    CHECK(!(V.flags & DET_F_REWRITE));
    struct tmsg real;
    CHECK_INT(tresp_build(&real, &r1, 401, "Unauthorized", CHALLENGE_401), 0);
    nh_real = real.m.nhdrs;
    /* A missing user: 404 becomes the same 401 shape. */
    struct treq r2 = {.method = "REGISTER", .user = "777", .callid = "sh2", .cseq = 1};
    resp(&f, &c, &r2, 404, "Not Found", NULL, 1100, &V);
    CHECK(V.flags & DET_F_REWRITE);
    if (getenv("DEBUG_SHIELD"))
        fprintf(stderr, "%.*s", (int)V.rewrite_len, V.rewrite);
    CHECK_INT(rewrite_status(&V, realm, &nlen, &nh_fake), 401);
    CHECK_STR(realm, "pbx.example");
    CHECK_INT(nlen, 40); /* the PBX nonce's length */
    CHECK_INT(nh_fake, nh_real);
    CHECK(memmem(V.rewrite, V.rewrite_len, "qop=\"auth\"", 10) != NULL);
    CHECK(memmem(V.rewrite, V.rewrite_len, "algorithm=MD5", 13) != NULL);
    CHECK(memmem(V.rewrite, V.rewrite_len, "Call-ID: sh2\r\n", 14) != NULL);
    CHECK(memmem(V.rewrite, V.rewrite_len, "Not Found", 9) == NULL);
    /* INVITE -> 407 with Proxy-Authenticate. */
    struct treq r3 = {.method = "INVITE", .user = "778", .callid = "sh3", .cseq = 1};
    resp(&f, &c, &r3, 404, "Not Found", NULL, 1200, &V);
    CHECK_INT(rewrite_status(&V, realm, &nlen, &nh_fake), 407);
    /* A challenge line of the same shape for a refusal the gateway makes itself. */
    char line[512], other[512];
    int n = det_challenge_line(f.e, true, SLICE_LIT("fallback.example"), line, sizeof(line));
    CHECK(n > 0 && (size_t)n == strlen(line));
    CHECK(strncmp(line, "Proxy-Authenticate: Digest realm=\"pbx.example\", nonce=\"", 55) == 0);
    CHECK(strstr(line, "qop=\"auth\"") != NULL && strstr(line, "algorithm=MD5") != NULL);
    const char *nonce = line + 55, *end = strchr(nonce, '"');
    CHECK(end != NULL && end - nonce == 40);
    CHECK_INT(det_challenge_line(f.e, true, SLICE_NULL, other, sizeof(other)), n);
    CHECK(strcmp(line, other) != 0); /* a fresh nonce each time */
    CHECK_INT(det_challenge_line(f.e, true, SLICE_NULL, other, 40), -EMSGSIZE);
    /* Trusted (allow-listed) sources see the truth. */
    struct pbx_cidr lan;
    CHECK_INT(pbx_cidr_parse("10.0.0.0/8", 10, &lan), 0);
    CHECK_INT(ban_allow_add(f.bans, &lan), 0);
    struct det_ctx ct = ctx_of("10.1.2.3");
    resp(&f, &ct, &r2, 404, "Not Found", NULL, 1300, &V);
    CHECK(!(V.flags & DET_F_REWRITE));
    fx_fini(&f);
}

static void flood_tune(struct det_config *c)
{
    c->global_rate = 100;
    c->global_burst = 100;
}

static void test_flood(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.70");
    char cid[16];
    unsigned pass = 0, drop = 0;
    int ban_at = -1;

    fx_init(&f, NULL);
    for (int i = 0; i < 2000 && ban_at < 0; i++) {
        snprintf(cid, sizeof(cid), "f%d", i);
        struct treq r = {.method = "OPTIONS", .user = "201", .callid = cid, .cseq = 1};
        enum det_action a = req(&f, &c, &r, 100000 + i / 10, &V); /* 10 per ms */
        pass += a == DET_PASS;
        drop += a == DET_DROP;
        if (a == DET_BAN)
            ban_at = i;
    }
    CHECK(pass >= 100 && pass <= 130); /* the OPTIONS burst, plus what refills */
    CHECK(drop > 300);
    CHECK(ban_at > 0);
    CHECK_STR(V.rule, "det.flood");
    /* Events are rate-limited: far fewer than the drops. */
    CHECK(evs.by_action[EV_ACT_DROP] < 20);
    fx_fini(&f);

    /* Global overload: 503 + Retry-After once the global bucket is empty. */
    fx_init(&f, flood_tune);
    unsigned r503 = 0;
    for (int i = 0; i < 300; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "198.19.%d.%d", i / 250, i % 250 + 1);
        struct det_ctx ci = ctx_of(addr);
        snprintf(cid, sizeof(cid), "g%d", i);
        struct treq r = {.method = "REGISTER", .user = "201", .callid = cid, .cseq = 1};
        if (req(&f, &ci, &r, 50000, &V) == DET_REJECT && V.status == 503 && V.retry_after_s == 5)
            r503++;
    }
    CHECK_INT(r503, 200);
    fx_fini(&f);
}

static void test_malformed(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.80");
    struct sip_msg m;
    static const char junk[] = "INVITE sip:x SIP/2.0\r\nVia: garbage\r\n\r\n";
    unsigned rej = 0, drop = 0;
    int ban_at = -1;

    fx_init(&f, NULL);
    for (int i = 0; i < 30 && ban_at < 0; i++) {
        int rc = sip_msg_parse(&m, (const uint8_t *)junk, sizeof(junk) - 1, SIP_PARSE_DATAGRAM);
        CHECK(rc < 0);
        det_on_malformed(f.e, &c, rc, &m, 1000 + i, &V);
        rej += V.action == DET_REJECT && V.status == 400;
        drop += V.action == DET_DROP;
        if (V.action == DET_BAN)
            ban_at = i + 1;
    }
    CHECK_INT(rej, 3);
    CHECK_INT(drop, 16);
    CHECK_INT(ban_at, 20);
    fx_fini(&f);
}

static void spoof_tune(struct det_config *c)
{
    if (pbx_cidr_parse("192.0.2.1", 9, &c->pbx_nets[0]) != 0)
        abort();
    c->npbx_nets = 1;
}

static void test_spoof(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.90");
    struct tmsg t;

    fx_init(&f, spoof_tune);
    struct treq r = {.method = "INVITE",
                     .user = "201",
                     .callid = "p1",
                     .cseq = 1,
                     .extra = "P-Asserted-Identity: <sip:911@pbx.example>\r\n"};
    CHECK_INT(req(&f, &c, &r, 1000, &V), DET_PASS);
    CHECK(V.flags & DET_F_STRIP_IDENTITY);
    struct treq r2 = {.method = "INVITE",
                      .user = "201",
                      .callid = "p2",
                      .cseq = 1,
                      .extra = "Remote-Party-ID: <sip:911@pbx.example>;party=calling\r\n"};
    CHECK_INT(req(&f, &c, &r2, 1001, &V), DET_PASS);
    CHECK(V.flags & DET_F_STRIP_IDENTITY);
    struct treq r3 = {.method = "INVITE", .user = "201", .callid = "p3", .cseq = 1};
    CHECK_INT(req(&f, &c, &r3, 1002, &V), DET_PASS);
    CHECK(!(V.flags & DET_F_STRIP_IDENTITY));
    /* A client's request whose top Via claims the PBX. */
    struct treq r4 = {.method = "BYE", .user = "201", .callid = "p4", .cseq = 2};
    CHECK_INT(treq_build(&t, &r4), 0);
    char *via = strstr(t.buf, "198.51.100.10:5060;branch");
    memcpy(via, "192.0.2.1    ", 13);
    CHECK_INT(tmsg_parse(&t), 0);
    det_on_request(f.e, &c, &t.m, 1003, &V);
    CHECK_INT(V.action, DET_REJECT);
    CHECK_STR(V.rule, "det.spoof_origin");
    /* The same from the upstream itself passes. */
    struct det_ctx up = ctx_of("192.0.2.1");
    up.from_upstream = true;
    det_on_request(f.e, &up, &t.m, 1004, &V);
    CHECK_INT(V.action, DET_PASS);
    fx_fini(&f);
}

static void shadow_tune(struct det_config *c)
{
    c->shadow = true;
}

static void test_shadow(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.100");

    fx_init(&f, shadow_tune);
    struct treq r = {.method = "OPTIONS",
                     .user = "100",
                     .host = "1.1.1.1",
                     .callid = "sh",
                     .cseq = 1,
                     .ua = "friendly-scanner"};
    CHECK_INT(req(&f, &c, &r, 1000, &V), DET_PASS);
    CHECK_INT(V.would_action, DET_BAN);
    CHECK(V.flags & DET_F_SHADOW);
    CHECK(evs.shadow >= 1);
    CHECK(strstr(evs.last_line, "\"shadow\":true") != NULL);
    CHECK(!ban_check(f.bans, &c.src, 1001, NULL));
    CHECK(det_admit(f.e, &c.src, PBX_TP_UDP, 1002));
    /* Shielding is not applied in shadow mode either. */
    struct treq r2 = {.method = "REGISTER", .user = "777", .callid = "sh2", .cseq = 1};
    resp(&f, &c, &r2, 404, "Not Found", NULL, 1100, &V);
    CHECK(!(V.flags & DET_F_REWRITE));
    fx_fini(&f);

    /* A flood in shadow mode is never banned and keeps coming: its would-ban events stay
     * rate-limited instead of one per message. */
    struct det_ctx fc = ctx_of("203.0.113.101");
    char cid[16];
    unsigned would_ban = 0;
    fx_init(&f, shadow_tune);
    ev_reset();
    for (int i = 0; i < 5000; i++) {
        snprintf(cid, sizeof(cid), "sf%d", i);
        struct treq fr = {.method = "OPTIONS", .user = "201", .callid = cid, .cseq = 1};
        req(&f, &fc, &fr, 100000 + i / 10, &V);
        would_ban += V.would_action == DET_BAN;
    }
    CHECK(would_ban > 1000); /* the flood does reach the ban threshold */
    CHECK(evs.total < 100);  /* ...but the event stream is not its amplifier */
    CHECK(det_admit(f.e, &fc.src, PBX_TP_UDP, 200000)); /* and nothing was enforced */
    fx_fini(&f);
}

static void test_allow_list(void)
{
    struct fx f;
    struct pbx_cidr trunk;
    struct det_ctx c = ctx_of("192.0.2.200");

    fx_init(&f, NULL);
    CHECK_INT(pbx_cidr_parse("192.0.2.192/26", 14, &trunk), 0);
    CHECK_INT(ban_allow_add(f.bans, &trunk), 0);
    struct treq r = {.method = "OPTIONS",
                     .user = "100",
                     .host = "1.1.1.1",
                     .callid = "al",
                     .cseq = 1,
                     .ua = "friendly-scanner"};
    CHECK_INT(req(&f, &c, &r, 1000, &V), DET_PASS);
    CHECK(!ban_check(f.bans, &c.src, 1001, NULL));
    struct ban_entry b;
    CHECK_INT(det_ban(f.e, &c.src, 0, 0, "ctl", "operator", 1002, &b), -EPERM);
    /* Floods from a trunk are not dropped either. */
    unsigned drops = 0;
    for (int i = 0; i < 5000; i++)
        drops += !det_admit(f.e, &c.src, PBX_TP_UDP, 2000);
    CHECK_INT(drops, 0);
    fx_fini(&f);
}

/* A million spoofed sources: memory stays at what was allocated up front; bans survive. */
static void test_memory_cap(void)
{
    struct fx f;
    struct det_stats st;
    struct ban_entry b;
    struct det_ctx c = ctx_of("203.0.113.250");
    uint64_t x = 88172645463325252ull;
    size_t mem0;

    fx_init(&f, NULL);
    CHECK_INT(det_ban(f.e, &c.src, 0, 0, "ctl", "test", 1000, &b), 0);
    /* Protect an account, then flood. */
    for (int i = 0; i < 4; i++) {
        char addr[32], cid[16];
        snprintf(addr, sizeof(addr), "198.18.1.%d", i + 1);
        snprintf(cid, sizeof(cid), "m%d", i);
        struct det_ctx ci = ctx_of(addr);
        struct treq r = {
            .method = "REGISTER", .user = "700", .callid = cid, .cseq = 2, .auth = "700"};
        req(&f, &ci, &r, 1000, &V);
        resp(&f, &ci, &r, 401, "Unauthorized", CHALLENGE_401, 1000, &V);
    }
    det_stats_get(f.e, &st);
    mem0 = st.mem_bytes;
    CHECK(mem0 <= f.cfg.memory_max);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000000; i++) {
        struct pbx_addr a;
        memset(&a, 0, sizeof(a));
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (i & 1) {
            a.family = AF_INET;
            uint32_t v = (uint32_t)x;
            memcpy(&a.ip.v4, &v, 4);
        } else {
            a.family = AF_INET6;
            memcpy(&a.ip.v6, &x, 8);
            memcpy((char *)&a.ip.v6 + 8, &x, 8);
        }
        (void)det_admit(f.e, &a, PBX_TP_UDP, 2000 + i / 1000);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("det_admit: %.0f ns per packet from a new spoofed source (1M)\n",
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e6);
    det_stats_get(f.e, &st);
    CHECK_INT(st.mem_bytes, mem0);
    CHECK(st.mem_bytes <= f.cfg.memory_max);
    CHECK(st.src_used <= st.src_cap);
    CHECK(st.src_evictions > 900000);
    CHECK(ban_check(f.bans, &c.src, 3000, NULL));
    CHECK(det_account_protected(f.e, "700", 3000));
    printf("memory cap: %zu bytes for %zu sources + %zu accounts, %llu evictions\n", st.mem_bytes,
           st.src_cap, st.acct_cap, (unsigned long long)st.src_evictions);
    fx_fini(&f);
}

static void test_ipv6_widening(void)
{
    struct fx f;
    char addr[64], cid[16];

    fx_init(&f, NULL);
    for (int i = 0; i < 3; i++) {
        snprintf(addr, sizeof(addr), "2001:db8:5:6::%x", i + 1);
        snprintf(cid, sizeof(cid), "v6%d", i);
        struct det_ctx c = ctx_of(addr);
        struct treq r = {.method = "OPTIONS",
                         .user = "100",
                         .host = "1.1.1.1",
                         .callid = cid,
                         .cseq = 1,
                         .ua = "friendly-scanner"};
        CHECK_INT(req(&f, &c, &r, 1000 + i, &V), DET_BAN);
    }
    CHECK_INT(V.ban.prefix, 64);
    struct pbx_addr other = ip("2001:db8:5:6:abcd::99");
    CHECK(!det_admit(f.e, &other, PBX_TP_UDP, 2000));
    struct pbx_addr outside = ip("2001:db8:5:7::1");
    CHECK(det_admit(f.e, &outside, PBX_TP_UDP, 2000));
    fx_fini(&f);
}

static void test_lockdown(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("203.0.113.120"), c2 = ctx_of("203.0.113.121");

    fx_init(&f, NULL);
    struct treq ok = {
        .method = "REGISTER", .user = "201", .callid = "l0", .cseq = 2, .auth = "201"};
    req(&f, &c, &ok, 1000, &V);
    resp(&f, &c, &ok, 200, "OK", NULL, 1001, &V);
    det_set_lockdown(f.e, true);
    CHECK(det_admit(f.e, &c.src, PBX_TP_UDP, 1002));   /* logged in recently */
    CHECK(!det_admit(f.e, &c2.src, PBX_TP_UDP, 1002)); /* unknown */
    det_set_lockdown(f.e, false);
    CHECK(det_admit(f.e, &c2.src, PBX_TP_UDP, 1003));
    fx_fini(&f);
}

static void test_config(void)
{
    static const struct cfg_section tab[] = {{"detect", det_config_load, det_config_free}};
    static const char good[] = "detect:\n"
                               "  shadow: true\n"
                               "  memory_max: 16M\n"
                               "  canaries: ['999', '+15550100']\n"
                               "  enumeration: {users: 5, window: 2m}\n"
                               "  bruteforce: {failures: 4, action: reject, reject_status: 403}\n"
                               "  flood: {rate: 100, burst: 300}\n"
                               "  geo: {deny_countries: [KP, ru]}\n";
    static const char bad[] = "detect:\n"
                              "  enumeration:\n"
                              "    users: 5\n"
                              "    colour: blue\n";
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;

    cfg_diag_init(&d);
    CHECK_INT(cfg_snapshot_load_buf("t.yaml", good, sizeof(good) - 1, tab, 1, &d, &s), 0);
    if (s) {
        const struct det_config *c = cfg_snapshot_section(s, "detect");
        CHECK(c->shadow);
        CHECK_INT(c->memory_max, 16u << 20);
        CHECK_INT(c->ncanaries, 2);
        CHECK_STR(c->canaries[1], "+15550100");
        CHECK_INT(c->enum_users, 5);
        CHECK_INT(c->enum_window_ms, 120000);
        CHECK_INT(c->bf_src_failures, 4);
        CHECK_INT(c->bruteforce.action, DET_REJECT);
        CHECK_INT(c->flood_rate[0], 100);
        CHECK_INT(c->geo.ndeny, 2);
        CHECK(!geo_policy_permits(&c->geo, "RU"));
        CHECK(geo_policy_permits(&c->geo, "FR"));
        cfg_snapshot_unref(s);
    }
    cfg_diag_fini(&d);
    cfg_diag_init(&d);
    s = NULL;
    CHECK(cfg_snapshot_load_buf("t.yaml", bad, sizeof(bad) - 1, tab, 1, &d, &s) != 0);
    CHECK(d.count >= 1);
    if (d.count) {
        CHECK_INT(d.entries[0].line, 4);
        CHECK_INT(d.entries[0].column, 5);
    }
    cfg_diag_fini(&d);
}

static void cost_tune(struct det_config *c)
{
    c->flood.enabled = false;
    c->global_rate = 0;
}

/* Cost of the request path for a parsed INVITE from a known source (not a benchmark gate). */
static void test_request_cost(void)
{
    struct fx f;
    struct det_ctx c = ctx_of("192.0.2.50");
    struct tmsg t;
    struct timespec t0, t1;
    const int n = 200000;

    fx_init(&f, cost_tune);
    struct treq r = {.method = "INVITE",
                     .user = "201",
                     .callid = "cost",
                     .cseq = 1,
                     .auth = "201",
                     .ua = "Yealink SIP-T46S"};
    CHECK_INT(treq_build(&t, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        (void)det_admit(f.e, &c.src, PBX_TP_UDP, 1000 + i / 20);
        det_on_request(f.e, &c, &t.m, 1000 + i / 20, &V);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("det_admit + det_on_request: %.0f ns per INVITE\n",
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n);
    fx_fini(&f);
}

static void test_config_sections(void)
{
    static const struct cfg_section tab[] = {
        {"ban", ban_config_load, ban_config_free},
        {"store", store_config_load, store_config_free},
        {"geo", geo_config_load, geo_config_free},
    };
    static const char y[] = "ban:\n"
                            "  steps: [5m, 2h, permanent]\n"
                            "  ipv6_widen_after: 2\n"
                            "  allow: [10.0.0.0/8, '2001:db8::/32']\n"
                            "  nftables: {enabled: false, table: pbxg}\n"
                            "store:\n"
                            "  path: /tmp/x.db\n"
                            "  batch_interval: 50ms\n"
                            "  events_max_age: 7d\n"
                            "  synchronous: normal\n"
                            "geo:\n"
                            "  database: /usr/share/GeoIP/GeoLite2-Country.mmdb\n";
    static const char bad[] = "ban:\n  steps: [5m, forever]\n";
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;

    cfg_diag_init(&d);
    CHECK_INT(cfg_snapshot_load_buf("t.yaml", y, sizeof(y) - 1, tab, 3, &d, &s), 0);
    if (s) {
        const struct ban_section *b = cfg_snapshot_section(s, "ban");
        const struct store_config *sc = cfg_snapshot_section(s, "store");
        const struct geo_config *g = cfg_snapshot_section(s, "geo");
        CHECK_INT(b->cfg.nsteps, 3);
        CHECK_INT(b->cfg.steps_ms[1], 2 * 3600 * 1000);
        CHECK_INT(b->cfg.steps_ms[2], -1);
        CHECK_INT(b->cfg.v6_widen_after, 2);
        CHECK_INT(b->nallow, 2);
        CHECK(!b->nft);
        CHECK_STR(b->table, "pbxg");
        CHECK_STR(sc->path, "/tmp/x.db");
        CHECK_INT(sc->batch_ms, 50);
        CHECK(!sc->sync_full);
        CHECK_INT(sc->events_max_age_ms, 7LL * 86400000);
        CHECK_STR(g->database, "/usr/share/GeoIP/GeoLite2-Country.mmdb");
        cfg_snapshot_unref(s);
    }
    cfg_diag_fini(&d);
    cfg_diag_init(&d);
    s = NULL;
    CHECK(cfg_snapshot_load_buf("t.yaml", bad, sizeof(bad) - 1, tab, 3, &d, &s) != 0);
    CHECK(d.count >= 1 && d.entries[0].line == 2);
    cfg_diag_fini(&d);
}

/* The daemon's assembly: bans survive a restart through the store; events are stored. */
static void test_runtime(void)
{
    char dir[64], err[256], cmd[96];
    struct det_runtime *r = NULL;
    struct det_config dc;
    struct pbx_addr a = ip("203.0.113.200");
    struct ban_entry b;

    snprintf(dir, sizeof(dir), "/tmp/pbxrt-%d", (int)getpid());
    CHECK_INT(mkdir(dir, 0700), 0);
    det_config_defaults(&dc);
    dc.memory_max = 2u << 20;
    CHECK_INT(det_runtime_open(&dc, NULL, NULL, NULL, dir, false, 1000, err, sizeof(err), &r), 0);
    if (!r)
        return;
    CHECK_INT(r->restored, 0);
    CHECK_INT(det_ban(r->engine, &a, 0, 0, "ctl", "rt", 1000, &b), 0);
    det_runtime_tick(r, 1010); /* not due yet */
    det_runtime_tick(r, 2000); /* committed */
    CHECK(store_count(r->store, "bans") == 1);
    CHECK(store_count(r->store, "events") >= 1);
    det_runtime_close(r);
    r = NULL;
    CHECK_INT(det_runtime_open(&dc, NULL, NULL, NULL, dir, false, 3000, err, sizeof(err), &r), 0);
    if (r) {
        CHECK_INT(r->restored, 1);
        CHECK(!det_admit(r->engine, &a, PBX_TP_UDP, 3001));
        det_runtime_close(r);
    }
    struct geo_config gc = {.database = "/nonexistent.mmdb"};
    CHECK_INT(det_runtime_open(&dc, NULL, NULL, &gc, dir, false, 3000, err, sizeof(err), &r),
              -ENOENT);
    CHECK(strstr(err, "geo.database") != NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    if (ev_subscribe(ev_capture, NULL) != 0)
        return 1;
    test_siphash();
    test_enumeration_sweep();
    test_one_user_no_ban();
    test_nat_office();
    test_scanner();
    test_scanner_behaviour();
    test_bruteforce_source();
    test_bruteforce_account();
    test_canary();
    test_shield();
    test_flood();
    test_malformed();
    test_spoof();
    test_shadow();
    test_allow_list();
    test_memory_cap();
    test_ipv6_widening();
    test_lockdown();
    test_config();
    test_config_sections();
    test_request_cost();
    test_runtime();
    return test_finish();
}
