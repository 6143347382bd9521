/*
 * Stream framer: identical frames however the input is split, keep-alives, mandatory
 * Content-Length, caps, and linear work when bytes arrive one at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/msg.h"
#include "sip_test_util.h"

#define MAX_FRAMES 32

struct frame_rec {
    enum sip_frame_kind kind;
    size_t off, len, hdr_len, body_len;
};

struct run {
    struct frame_rec f[MAX_FRAMES];
    unsigned n;
    int last_rc;     /* last non-zero return */
    size_t consumed; /* bytes consumed by complete frames */
    uint64_t work;
};

/*
 * Feeds in[0..len) to a framer in chunks whose ends are given by cuts (ascending, the
 * last one = len), as a connection would: unconsumed bytes stay contiguous, each frame
 * is consumed on 0, and -EAGAIN waits for the next chunk.
 */
static void run_stream(const uint8_t *in, size_t len, const size_t *cuts, unsigned ncuts,
                       struct run *r)
{
    struct sip_framer fr;
    sip_framer_init(&fr);
    memset(r, 0, sizeof(*r));
    size_t avail = 0;
    for (unsigned c = 0; c < ncuts; c++) {
        avail = cuts[c];
        for (;;) {
            struct sip_frame out;
            /* An exact-size copy of the unconsumed bytes: ASan catches any read past them. */
            uint8_t *region = sip_test_dup(in + r->consumed, avail - r->consumed);
            if (!region) {
                r->last_rc = -ENOMEM;
                return;
            }
            int rc = sip_framer_next(&fr, region, avail - r->consumed, &out);
            free(region);
            if (rc != 0) {
                r->last_rc = rc;
                if (rc != -EAGAIN) {
                    r->work += fr.work;
                    return;
                }
                break;
            }
            if (r->n < MAX_FRAMES) {
                struct frame_rec *f = &r->f[r->n++];
                f->kind = out.kind;
                f->off = r->consumed;
                f->len = out.len;
                f->hdr_len = out.hdr_len;
                f->body_len = out.body_len;
            }
            r->consumed += out.len;
        }
    }
    r->work += fr.work;
}

static bool same_runs(const struct run *a, const struct run *b)
{
    if (a->n != b->n || a->last_rc != b->last_rc || a->consumed != b->consumed)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (memcmp(&a->f[i], &b->f[i], sizeof(a->f[i])) != 0)
            return false;
    return true;
}

static const char stream_text[] = "\r\n\r\n" /* ping */
                                  "INVITE sip:bob@example.com SIP/2.0\r\n"
                                  "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK74bf9\r\n"
                                  "From: <sip:alice@example.com>;tag=9fxced76sl\r\n"
                                  "To: <sip:bob@example.com>\r\n"
                                  "Call-ID: 3848276298220188511@192.0.2.1\r\n"
                                  "CSeq: 1 INVITE\r\n"
                                  "Max-Forwards: 70\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 12\r\n"
                                  "\r\n"
                                  "hello\r\n\r\nbye"
                                  "\r\n" /* pong */
                                  "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                                  "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK74bfa\r\n"
                                  "From: <sip:alice@example.com>;tag=1\r\n"
                                  "To: <sip:bob@example.com>\r\n"
                                  "Call-ID: c2\r\n"
                                  "CSeq: 2 OPTIONS\r\n"
                                  "Subject: folded\r\n"
                                  " l: 99\r\n" /* a fold, not a Content-Length header */
                                  "l:\r\n"
                                  " 0\r\n" /* compact, folded value */
                                  "\r\n"
                                  "\r\n\r\n" /* ping */
                                  "SIP/2.0 200 OK\r\n"
                                  "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK74bfa\r\n"
                                  "From: <sip:alice@example.com>;tag=1\r\n"
                                  "To: <sip:bob@example.com>;tag=2\r\n"
                                  "Call-ID: c2\r\n"
                                  "CSeq: 2 OPTIONS\r\n"
                                  "Content-Length: 0\r\n"
                                  "\r\n";

static void test_splits(void)
{
    const uint8_t *in = (const uint8_t *)stream_text;
    size_t len = sizeof(stream_text) - 1;
    struct run whole, split;
    size_t cut1[1] = {len};
    run_stream(in, len, cut1, 1, &whole);
    CHECK_INT(whole.last_rc, -EAGAIN);
    CHECK_INT(whole.consumed, len);
    CHECK_INT(whole.n, 6);
    CHECK_INT(whole.f[0].kind, SIP_FRAME_PING);
    CHECK_INT(whole.f[1].kind, SIP_FRAME_MESSAGE);
    CHECK_INT(whole.f[1].body_len, 12);
    CHECK_INT(whole.f[2].kind, SIP_FRAME_PONG);
    CHECK_INT(whole.f[3].kind, SIP_FRAME_MESSAGE);
    CHECK_INT(whole.f[3].body_len, 0);
    CHECK_INT(whole.f[4].kind, SIP_FRAME_PING);
    CHECK_INT(whole.f[5].kind, SIP_FRAME_MESSAGE);
    /* Every message frame parses as exactly one stream message. */
    static struct sip_msg m;
    for (unsigned i = 0; i < whole.n; i++) {
        if (whole.f[i].kind != SIP_FRAME_MESSAGE)
            continue;
        CHECK_INT(sip_msg_parse(&m, in + whole.f[i].off, whole.f[i].len, SIP_PARSE_STREAM), 0);
        CHECK_INT(m.msg_len, whole.f[i].len);
        CHECK_INT(m.hdr_len, whole.f[i].hdr_len);
    }
    CHECK_INT(sip_msg_parse(&m, in + whole.f[1].off, whole.f[1].len, SIP_PARSE_STREAM), 0);
    CHECK_SLICE(m.body, "hello\r\n\r\nbye");

    /* The same stream cut in two at every point, then in three at many pairs. */
    unsigned bad = 0;
    for (size_t k = 0; k <= len; k++) {
        size_t cuts[2] = {k, len};
        run_stream(in, len, cuts, 2, &split);
        if (!same_runs(&whole, &split))
            bad++;
    }
    CHECK_INT(bad, 0);
    bad = 0;
    for (size_t a = 0; a <= len; a += 7) {
        for (size_t b = a; b <= len; b += 13) {
            size_t cuts[3] = {a, b, len};
            run_stream(in, len, cuts, 3, &split);
            if (!same_runs(&whole, &split))
                bad++;
        }
    }
    CHECK_INT(bad, 0);

    /* One byte at a time: same frames, and work stays linear in the input. */
    size_t *cuts = malloc(len * sizeof(*cuts));
    CHECK(cuts != NULL);
    if (!cuts)
        return;
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    run_stream(in, len, cuts, (unsigned)len, &split);
    CHECK(same_runs(&whole, &split));
    CHECK(split.work <= 4 * len);
    free(cuts);
}

/* Linear work: 64 KiB with no blank line, fed one byte at a time. */
static void test_linear(void)
{
    const size_t total = 64 * 1024;
    uint8_t *in = malloc(total);
    CHECK(in != NULL);
    if (!in)
        return;
    static const char line[] = "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    memcpy(in, "INVITE sip:a@b.example SIP/2.0\r\n", 32);
    for (size_t i = 32; i < total; i++)
        in[i] = (uint8_t)line[(i - 32) % (sizeof(line) - 1)];

    struct sip_framer fr;
    struct sip_frame out;
    sip_framer_init(&fr);
    size_t fed, prev_scan = 0;
    int rc = -EAGAIN;
    bool monotonic = true;
    for (fed = 1; fed <= total; fed++) {
        rc = sip_framer_next(&fr, in, fed, &out);
        if (rc != -EAGAIN)
            break;
        if (fr.scan < prev_scan)
            monotonic = false;
        prev_scan = fr.scan;
    }
    /* The cap stops it before buffering more than the header-section limit. */
    CHECK_INT(rc, -EMSGSIZE);
    CHECK_INT(fed, SIP_MAX_HDR_SECTION);
    CHECK(monotonic);
    /* A framer rescanning from the start would do ~fed^2/2 = 134M units of work. */
    CHECK(fr.work <= 2 * (uint64_t)fed);
    CHECK(prev_scan + 64 >= fed - 1);

    /* The same with only CRs and no LF at all (memchr finds nothing): still linear. */
    memset(in + 32, 'z', total - 32);
    sip_framer_init(&fr);
    for (fed = 1; fed <= total; fed++) {
        rc = sip_framer_next(&fr, in, fed, &out);
        if (rc != -EAGAIN)
            break;
    }
    CHECK_INT(rc, -EMSGSIZE);
    CHECK(fr.work <= 2 * (uint64_t)fed);

    /* One call with a huge buffer examines at most the cap. */
    sip_framer_init(&fr);
    CHECK_INT(sip_framer_next(&fr, in, total, &out), -EMSGSIZE);
    CHECK(fr.work <= SIP_MAX_HDR_SECTION);
    free(in);
}

struct err_case {
    const char *name;
    const char *in;
    int rc;
    const char *reason;
};

static const struct err_case err_cases[] = {
    {"missing content-length", "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", -EBADMSG,
     "missing Content-Length"},
    {"bad content-length", "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1x\r\n\r\n", -EBADMSG,
     "bad Content-Length"},
    {"negative content-length", "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n", -EBADMSG,
     "bad Content-Length"},
    {"conflicting content-length", "OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n",
     -EBADMSG, "conflicting Content-Length"},
    {"huge content-length", "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 9999999999999\r\n\r\n",
     -EMSGSIZE, "Content-Length too large"},
    {"content-length above body cap", "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 60000\r\n\r\n",
     -EMSGSIZE, "Content-Length too large"},
    {"stray LF", "\nOPTIONS sip:a@b SIP/2.0\r\n", -EBADMSG, "stray LF between messages"},
    {"stray CR", "\rXOPTIONS", -EBADMSG, "stray CR between messages"},
    {"P-hzs is not Content-Length", "OPTIONS sip:a@b SIP/2.0\r\nContent-Lengthx: 3\r\n\r\n",
     -EBADMSG, "missing Content-Length"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(err_cases); i++) {
        const struct err_case *c = &err_cases[i];
        struct sip_framer fr;
        struct sip_frame out;
        sip_framer_init(&fr);
        int rc = sip_framer_next(&fr, (const uint8_t *)c->in, strlen(c->in), &out);
        unsigned failed = test_failed_count;
        CHECK_INT(rc, c->rc);
        CHECK_STR(fr.err_reason, c->reason);
        CHECK(fr.err_off <= strlen(c->in));
        if (test_failed_count != failed)
            fprintf(stderr, "  ^ in framer case \"%s\"\n", c->name);
    }

    struct sip_framer fr;
    struct sip_frame out;
    /* Duplicate equal Content-Length values frame fine (the parser flags them). */
    const char *dup = "OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\nContent-Length: 2\r\n\r\nab";
    sip_framer_init(&fr);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)dup, strlen(dup), &out), 0);
    CHECK_INT(out.len, strlen(dup));
    /* Bare-LF header section. */
    const char *lf = "OPTIONS sip:a@b SIP/2.0\nContent-Length: 1\n\nZ";
    sip_framer_init(&fr);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)lf, strlen(lf), &out), 0);
    CHECK_INT(out.body_len, 1);
    CHECK_INT(out.len, strlen(lf));
    /* Empty input and a lone CRLF wait for more. */
    sip_framer_init(&fr);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)"", 0, &out), -EAGAIN);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)"\r\n", 2, &out), -EAGAIN);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)"\r\n\r", 3, &out), -EAGAIN);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)"\r\n\r\n", 4, &out), 0);
    CHECK_INT(out.kind, SIP_FRAME_PING);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)"\r\nO", 3, &out), 0);
    CHECK_INT(out.kind, SIP_FRAME_PONG);
    CHECK_INT(out.len, 2);
    /* Body arriving late. */
    const char *late = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\nabcd";
    sip_framer_init(&fr);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)late, strlen(late) - 2, &out), -EAGAIN);
    CHECK_INT(sip_framer_next(&fr, (const uint8_t *)late, strlen(late), &out), 0);
    CHECK_INT(out.hdr_len, strlen(late) - 4);
    CHECK_INT(out.body_len, 4);
}

/*
 * Differential check on every torture and corpus message: where the parser accepts a
 * message as one stream frame, the framer must cut exactly the same frame; where the
 * framer refuses the Content-Length, the parser must refuse the message too. A gap
 * between the two is a request-smuggling bug.
 */
static void agree_on(const char *path)
{
    size_t len;
    uint8_t *buf = sip_test_load(path, &len);
    if (!buf) {
        TEST_FAIL_AT("cannot read %s", path);
        return;
    }
    static struct sip_msg m;
    struct sip_framer fr;
    struct sip_frame out;
    sip_framer_init(&fr);
    int prc = sip_msg_parse(&m, buf, len, SIP_PARSE_STREAM);
    int frc = sip_framer_next(&fr, buf, len, &out);
    if (prc == 0) {
        if (frc != 0 || out.kind != SIP_FRAME_MESSAGE || out.len != m.msg_len ||
            out.hdr_len != m.hdr_len)
            TEST_FAIL_AT("%s: parser frame %zu/%zu, framer rc %d len %zu/%zu", path, m.hdr_len,
                         m.msg_len, frc, out.len, out.hdr_len);
        else
            test_passed_count++;
    } else if (frc == -EBADMSG || frc == -EMSGSIZE) {
        if (prc == -EAGAIN)
            TEST_FAIL_AT("%s: framer refuses (%s), parser waits", path, fr.err_reason);
        else
            test_passed_count++;
    } else if (frc == 0 && prc != -EAGAIN) {
        /* The parser refused for a reason other than framing: the frames must still agree. */
        CHECK(out.len <= len);
    }
    free(buf);
}

static void test_agreement(void)
{
    static const char *const dirs[] = {"tests/data/sip-torture/rfc4475",
                                       "tests/data/sip-torture/rfc5118", "tests/data/sip"};
    unsigned files = 0;
    for (size_t d = 0; d < PBX_ARRAY_SIZE(dirs); d++) {
        DIR *dp = opendir(dirs[d]);
        CHECK(dp != NULL);
        if (!dp)
            continue;
        struct dirent *e;
        while ((e = readdir(dp)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l < 5 || (strcmp(e->d_name + l - 4, ".dat") && strcmp(e->d_name + l - 4, ".sip")))
                continue;
            char path[512];
            snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
            agree_on(path);
            files++;
        }
        closedir(dp);
    }
    CHECK(files >= 80);
}

/* A header section of exactly the cap is accepted by both; one byte more by neither. */
static void test_cap_edge(void)
{
    static const char head[] = "OPTIONS sip:a@b.example SIP/2.0\r\n"
                               "Via: SIP/2.0/TCP h.example;branch=z9hG4bK1\r\n"
                               "From: <sip:a@b.example>;tag=1\r\nTo: <sip:c@d.example>\r\n"
                               "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n";
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t total = SIP_MAX_HDR_SECTION + extra;
        uint8_t *buf = malloc(total);
        CHECK(buf != NULL);
        if (!buf)
            return;
        size_t n = sizeof(head) - 1;
        memcpy(buf, head, n);
        /* Filler headers "X: ccc...\r\n" of at most 1000 bytes up to the blank line. */
        size_t left = total - n - 2;
        while (left > 0) {
            size_t l = left > 1000 ? 1000 : left;
            if (left - l > 0 && left - l < 6)
                l -= 6; /* never leave a remainder too short for a header line */
            memcpy(buf + n, "X: ", 3);
            memset(buf + n + 3, 'c', l - 5);
            memcpy(buf + n + l - 2, "\r\n", 2);
            n += l;
            left -= l;
        }
        memcpy(buf + total - 2, "\r\n", 2);
        struct sip_framer fr;
        struct sip_frame out;
        static struct sip_msg m;
        sip_framer_init(&fr);
        int frc = sip_framer_next(&fr, buf, total, &out);
        int prc = sip_msg_parse(&m, buf, total, SIP_PARSE_STREAM);
        CHECK_INT(frc, extra ? -EMSGSIZE : 0);
        CHECK_INT(prc, extra ? -EMSGSIZE : 0);
        if (!extra)
            CHECK_INT(out.len, total);
        free(buf);
    }
}

int main(void)
{
    test_cap_edge();
    test_agreement();
    test_splits();
    test_linear();
    test_errors();
    return test_finish();
}
