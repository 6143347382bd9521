/*
 * Scanner signature matcher: the compiled matcher (sigs.c) must give exactly the verdicts of
 * the plain definition - every signature of the field tested as a case-insensitive
 * substring, the first one with the highest score wins - over the shipped
 * data/scanners.yaml and over a synthetic file with ties, one-byte and overlapping
 * signatures. The reference below is that definition, written the slow way on purpose.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "det_int.h"
#include "pbxguard/core/config.h"
#include "test.h"

#define REF_MAX 256u

struct ref_sig {
    int field; /* 0 user_agent, 1 sdp_session_name, 2 sdp_origin_user */
    char match[65];
    char tool[32];
    int score;
};

struct ref {
    struct ref_sig s[REF_MAX];
    size_t n;
};

static const char *const ref_keys[] = {"user_agent", "sdp_session_name", "sdp_origin_user"};

static int ref_load(const char *path, struct ref *r)
{
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    cfg_diag_init(&d);
    if (cfg_doc_load_file(path, &d, &doc) != 0)
        goto out;
    for (int f = 0; f < 3; f++) {
        const struct cfg_node *seq = cfg_map_get(cfg_doc_root(doc), ref_keys[f]);
        for (size_t i = 0; seq && i < cfg_node_count(seq) && r->n < REF_MAX; i++) {
            const struct cfg_node *it = cfg_node_at(seq, i);
            const struct cfg_node *sc = cfg_map_get(it, "score");
            struct ref_sig *s = &r->s[r->n++];
            s->field = f;
            snprintf(s->match, sizeof(s->match), "%s", cfg_node_str(cfg_map_get(it, "match")));
            snprintf(s->tool, sizeof(s->tool), "%s", cfg_node_str(cfg_map_get(it, "tool")));
            s->score = 100;
            if (sc) {
                int64_t v;
                if (cfg_parse_int(sc, &d, 1, 1000, &v) != 0)
                    goto out;
                s->score = (int)v;
            }
        }
    }
    rc = 0;
out:
    cfg_doc_free(doc);
    cfg_diag_fini(&d);
    return rc;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int ref_contains(struct slice hay, const char *needle)
{
    size_t n = strlen(needle);

    if (n == 0 || hay.len < n)
        return 0;
    for (size_t i = 0; i + n <= hay.len; i++) {
        size_t j = 0;
        while (j < n && lower(hay.p[i + j]) == lower(needle[j]))
            j++;
        if (j == n)
            return 1;
    }
    return 0;
}

static int ref_best(const struct ref *r, int field, struct slice v, const char **tool)
{
    int sc = 0;

    for (size_t i = 0; i < r->n; i++) {
        if (r->s[i].field == field && r->s[i].score > sc && ref_contains(v, r->s[i].match)) {
            sc = r->s[i].score;
            *tool = r->s[i].tool;
        }
    }
    return sc;
}

static unsigned mismatches;

/* Both matchers on one value of one field; counts and prints any difference. */
static void same(const struct det_sigs *s, const struct ref *r, int field, struct slice v)
{
    const char *t1 = NULL, *t2 = NULL;
    int a, b;

    if (field == 0) {
        a = det_sigs_ua(s, v, &t1);
    } else {
        /* det_sigs_sdp takes both SDP fields: feed the other one empty. */
        a = det_sigs_sdp(s, field == 1 ? v : SLICE_NULL, field == 2 ? v : SLICE_NULL, &t1);
    }
    b = ref_best(r, field, v, &t2);
    if (a != b || (a && strcmp(t1, t2) != 0)) {
        if (mismatches++ < 10)
            fprintf(stderr, "field %d value '%.*s': compiled %d %s, reference %d %s\n", field,
                    (int)v.len, v.p, a, a ? t1 : "-", b, b ? t2 : "-");
    }
}

static void same_str(const struct det_sigs *s, const struct ref *r, int field, const char *v)
{
    same(s, r, field, slice_cstr(v));
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
    /* xorshift64: fixed seed, the same cases on every run. */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Each signature as itself, in other cases, embedded, at both ends, cut short, with one
 * byte changed; then random mixes of signature fragments, filler and odd bytes. */
static void sweep(const struct det_sigs *s, const struct ref *r)
{
    static const char *const filler[] = {"Yealink SIP-T46S 66.86.0.15",
                                         "Asterisk PBX 18.9.0",
                                         "Linphone/5.0",
                                         " ",
                                         "/",
                                         "-",
                                         "1.0",
                                         "\xc3\xa9",
                                         "\x80\xff",
                                         "S",
                                         "s",
                                         "i",
                                         "p"};
    char buf[512];

    for (size_t i = 0; i < r->n; i++) {
        const char *m = r->s[i].match;
        size_t n = strlen(m);
        for (int f = 0; f < 3; f++) {
            same_str(s, r, f, m);
            for (size_t k = 0; k < n; k++)
                buf[k] = (char)(k % 2 ? m[k] ^ 0x20 : m[k]);
            buf[n] = '\0';
            same_str(s, r, f, buf); /* case variant (and non-letters changed on purpose) */
            for (size_t k = 0; k < n; k++)
                buf[k] = (char)((m[k] >= 'a' && m[k] <= 'z') ? m[k] - 32 : m[k]);
            same_str(s, r, f, buf);
            snprintf(buf, sizeof(buf), "x%sy", m);
            same_str(s, r, f, buf);
            snprintf(buf, sizeof(buf), "%s/1.2", m);
            same_str(s, r, f, buf);
            snprintf(buf, sizeof(buf), "Agent %s", m);
            same_str(s, r, f, buf);
            same(s, r, f, slice_make(m, n - 1)); /* cut short: a miss */
            same(s, r, f, slice_make(m + 1, n - 1));
            memcpy(buf, m, n);
            buf[n / 2] = '#';
            same(s, r, f, slice_make(buf, n));
        }
    }
    for (unsigned it = 0; it < 20000; it++) {
        size_t len = 0, parts = 1 + next_rand() % 5;
        for (size_t k = 0; k < parts; k++) {
            uint32_t x = next_rand();
            const char *src;
            size_t off = 0, n;
            if (x % 3 == 0 && r->n) {
                src = r->s[next_rand() % r->n].match;
                n = strlen(src);
                off = n ? next_rand() % n : 0; /* a suffix, sometimes the whole */
                if (next_rand() % 2)
                    off = 0;
            } else {
                src = filler[next_rand() % (sizeof(filler) / sizeof(filler[0]))];
                n = strlen(src);
            }
            for (size_t j = off; j < n && len < sizeof(buf); j++) {
                char c = src[j];
                if (next_rand() % 4 == 0)
                    c = (char)((c >= 'a' && c <= 'z') ? c - 32 : lower(c));
                buf[len++] = c;
            }
        }
        same(s, r, (int)(next_rand() % 3), slice_make(buf, len));
    }
}

/* A User-Agent and the verdict det_sigs_ua must give: its score and, when tool is set, the
 * tool named (NO_TOOL: the out-parameter is left untouched). ua NULL is the absent value. */
struct ua_case {
    const char *ua;
    int score;
    const char *tool;
};

#define NO_TOOL ""

static void check_ua(const struct det_sigs *s, const struct ua_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct ua_case *c = &cases[i];
        const char *tool = NULL;
        int got = det_sigs_ua(s, c->ua ? slice_cstr(c->ua) : SLICE_NULL, &tool);
        if (got != c->score || (c->tool && c->tool[0] == '\0' && tool) ||
            (c->tool && c->tool[0] && (!tool || strcmp(tool, c->tool) != 0)))
            fprintf(stderr, "user agent '%s'\n", c->ua ? c->ua : "(absent)");
        CHECK_INT(got, c->score);
        if (c->tool && c->tool[0] == '\0')
            CHECK(tool == NULL);
        else if (c->tool)
            CHECK_STR(tool, c->tool);
    }
}

/* Every value in every field, compiled matcher against the reference. */
static void same_all(const struct det_sigs *s, const struct ref *r, const char *const *vals,
                     size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 3; f++)
            same_str(s, r, f, vals[i]);
}

/* Writes yaml to a temporary file and loads it with both matchers. Returns the compiled
 * signatures, NULL when either load failed. */
static struct det_sigs *load_yaml(const char *yaml, size_t len, struct ref *r)
{
    char path[] = "/tmp/pbx-test-sigs-XXXXXX";
    struct det_sigs *s = NULL;
    char err[256];
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return NULL;
    CHECK(write(fd, yaml, len) == (ssize_t)len);
    close(fd);
    CHECK_INT(det_sigs_load(path, &s, err, sizeof(err)), 0);
    CHECK_INT(ref_load(path, r), 0);
    unlink(path);
    return s;
}

static void test_shipped(void)
{
    const char *path = "data/scanners.yaml";
    struct det_sigs *s = NULL;
    struct ref r;
    const char *tool = NULL;
    char err[256];

    CHECK_INT(det_sigs_load(path, &s, err, sizeof(err)), 0);
    CHECK_INT(ref_load(path, &r), 0);
    if (!s)
        return;
    CHECK(r.n >= 16);

    /* Fixed expectations, so that both matchers cannot drift together. */
    static const struct ua_case fixed[] = {
        {"friendly-scanner", 100, "sipvicious"},
        {"FRIENDLY-SCANNER", 100, NULL},
        {"sipsak 0.9.6", 60, "sipsak"},
        {"SiPsAk", 60, NULL},
        {"sipsa", 0, NULL},
        /* Two hits: the higher score wins whatever the order in the value. */
        {"sipsak via sippts", 100, "sippts"},
        {"gulp+smap", 80, "smap"},
        {"Mozilla/5.0 (compatible; Nmap NSE)", 100, "nmap"},
        {"cisco-sipgateway/ios-12.X", 40, NULL},
        {"Yealink SIP-T46S 66.86.0.15", 0, NO_TOOL},
        {"Grandstream GXP2170 1.0.11.3", 0, NULL},
        {"Asterisk PBX 18.9.0", 0, NULL},
        {NULL, 0, NULL},
    };
    check_ua(s, fixed, PBX_ARRAY_SIZE(fixed));
    CHECK_INT(det_sigs_sdp(s, SLICE_LIT("-"), SLICE_LIT("Friendly"), &tool), 60);
    CHECK_STR(tool, "sipvicious");
    CHECK_INT(det_sigs_sdp(s, SLICE_LIT("SIPvicious"), SLICE_LIT("friendly"), &tool), 100);

    static const char *const uas[] = {"friendly-scanner",
                                      "Friendly-Scanner 1.0",
                                      "sipvicious",
                                      "SIPVicious 0.3.4",
                                      "sipcli/v1.8",
                                      "pplsip",
                                      "sippts 3.2",
                                      "VaxSIPUserAgent/3.1",
                                      "vaxsipuseragent",
                                      "sip-scan",
                                      "Sip-Scanner",
                                      "sipsak 0.9.8",
                                      "SIVuS",
                                      "sivus",
                                      "Gulp",
                                      "gulpvoip",
                                      "iWar",
                                      "IWAR",
                                      "sundayddr",
                                      "smap",
                                      "SMAP 0.6",
                                      "Cisco-SIPGateway/IOS-12.x",
                                      "sipptk",
                                      "Nmap NSE",
                                      "nmap nse",
                                      "Yealink SIP-T46S 66.86.0.15",
                                      "Grandstream GXP2170 1.0.11.3",
                                      "Polycom/5.9.5 PolycomVVX-VVX_411-UA/5.9.5.0614",
                                      "Cisco-CP8851/11.7.1",
                                      "Asterisk PBX 18.9.0",
                                      "FreeSWITCH-mod_sofia/1.10.7",
                                      "Linphone/5.0 (belle-sip/5.0)",
                                      "baresip v2.0.0 (x86_64/linux)",
                                      "MicroSIP/3.21.3",
                                      "Zoiper rv2.10.20.1",
                                      "Bria 6",
                                      "sipp",
                                      "S",
                                      "",
                                      "smap\xff",
                                      "\xffsipsak",
                                      "friendly-scanne",
                                      "riendly-scanner",
                                      "sip vicious",
                                      "nmapnse",
                                      "gul p"};
    same_all(s, &r, uas, PBX_ARRAY_SIZE(uas));
    /* A value longer than any header buffer, with the hit at the very end. */
    char big[3000];
    memset(big, 'a', sizeof(big));
    memcpy(big + sizeof(big) - 6, "SIVUS", 5);
    big[sizeof(big) - 1] = 'x';
    same(s, &r, 0, slice_make(big, sizeof(big)));
    same(s, &r, 0, slice_make(big, sizeof(big) - 2));
    sweep(s, &r);
    det_sigs_free(s);
}

/* Ties (same score: the first listed wins), one-byte and overlapping signatures, a
 * signature that is a prefix of another, non-ASCII bytes. */
static void test_synthetic(void)
{
    static const char yaml[] = "user_agent:\n"
                               "  - {match: \"ab\", tool: t-ab, score: 50}\n"
                               "  - {match: \"abc\", tool: t-abc, score: 50}\n"
                               "  - {match: \"B\", tool: t-b, score: 10}\n"
                               "  - {match: \"bcd\", tool: t-bcd, score: 70}\n"
                               "  - {match: \"aaaa\", tool: t-aaaa, score: 20}\n"
                               "  - {match: \"xyz\", tool: t-xyz1, score: 30}\n"
                               "  - {match: \"XYZ\", tool: t-xyz2, score: 30}\n"
                               "  - {match: \"\xc3\xa9t\xc3\xa9\", tool: t-ete, score: 40}\n"
                               "  - {match: \"q\", tool: t-q, score: 90}\n"
                               "sdp_session_name:\n"
                               "  - {match: \"b\", tool: s-b, score: 5}\n"
                               "sdp_origin_user:\n"
                               "  - {match: \"zz\", tool: o-zz, score: 5}\n";
    struct ref r;
    struct det_sigs *s = load_yaml(yaml, sizeof(yaml) - 1, &r);
    if (!s)
        return;
    static const struct ua_case fixed[] = {
        {"xABCx", 50, "t-ab"}, /* tie: the first listed */
        {"abcd", 70, "t-bcd"},
        {"xyz", 30, "t-xyz1"},
        {"q", 90, NULL},
        {"zzzq", 90, NULL},
        {"b", 10, NULL},
        {"aaa B", 10, NULL},
        {"\xc3\xa9T\xc3\xa9", 40, NULL},
        /* slice_lower_ch folds ASCII only: the upper-case e-acute is another byte sequence. */
        {"\xc3\x89t\xc3\x89", 0, NULL},
    };
    check_ua(s, fixed, PBX_ARRAY_SIZE(fixed));
    static const char *const vals[] = {"",      "a",  "b",   "ab",    "aab", "abab", "aaaa", "aaa",
                                       "AAAAB", "bc", "bcd", "xbcdx", "XyZ", "xy",   "yz",   "zz",
                                       "ZZ",    "q",  "Q",   "é",     "été", "ÉTÉ",  "ét",   "zq"};
    same_all(s, &r, vals, PBX_ARRAY_SIZE(vals));
    sweep(s, &r);
    det_sigs_free(s);
}

/* No one-byte signature: the skipping scan, with overlaps, ties, shared prefixes and
 * signatures of different lengths whose pairs collide. */
static void test_synthetic_skip(void)
{
    static const char yaml[] = "user_agent:\n"
                               "  - {match: \"abcab\", tool: t1, score: 30}\n"
                               "  - {match: \"bca\", tool: t2, score: 30}\n"
                               "  - {match: \"cabx\", tool: t3, score: 60}\n"
                               "  - {match: \"aaa\", tool: t4, score: 20}\n"
                               "  - {match: \"Scan-ner/2\", tool: t5, score: 90}\n"
                               "  - {match: \"scan\", tool: t6, score: 10}\n"
                               "  - {match: \"ZZ\", tool: t7, score: 15}\n";
    struct ref r;
    struct det_sigs *s = load_yaml(yaml, sizeof(yaml) - 1, &r);
    if (!s)
        return;
    static const struct ua_case fixed[] = {
        {"xxabcabxx", 60, "t3"},    {"abcab", 30, "t1"}, {"SCAN-NER/2", 90, NULL},
        {"my scan-ner/", 10, NULL}, {"zz", 15, NULL},    {"z", 0, NULL},
    };
    check_ua(s, fixed, PBX_ARRAY_SIZE(fixed));
    static const char *const vals[] = {
        "aaaa", "aabcaa", "bcab",       "cab",       "cabX",
        "xzzx", "scanne", "Scan-ner/1", "abcabcabx", "aaaaaaaaaaaaaaaab"};
    same_all(s, &r, vals, PBX_ARRAY_SIZE(vals));
    sweep(s, &r);
    det_sigs_free(s);
}

int main(void)
{
    test_shipped();
    test_synthetic();
    test_synthetic_skip();
    CHECK_INT(mismatches, 0);
    return test_finish();
}
