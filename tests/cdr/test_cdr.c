/*
 * CDR reader and analysis: RFC 4180 corner cases, mappings, timestamps, and the fixtures
 * in tests/cdr/data with the exact flags each must raise (and a clean one raising none).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pbxguard/cdr/analyze.h"
#include "pbxguard/cdr/reader.h"
#include "test.h"

static int write_tmp(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return 0;
}

static void test_csv(void)
{
    const char *path = "/tmp/pbxguard-test-cdr.csv";
    struct cdr_mapping m;
    struct cdr_reader *r = NULL;
    struct cdr_row row;
    char spec[] = "src=1,dst=2,account=3,id=4";
    char why[128];
    int fd;

    /* quoted comma, escaped quotes, embedded newline, CRLF, blank line, empty fields,
     * an unterminated quote at the end (malformed, skipped) */
    CHECK_INT(write_tmp(path, "a,b,c,d\r\n"
                              "\"x,1\",\"say \"\"hi\"\"\",\"multi\nline\",\r\n"
                              "\n"
                              ",,,\n"
                              "short\n"
                              "p,q,r,s\n"
                              "\"open,q,r,s\n"),
              0);
    cdr_mapping_preset(CDR_FMT_GENERIC, &m);
    CHECK_INT(cdr_mapping_parse(spec, &m, why, sizeof(why)), 0);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_INT(cdr_reader_new(fd, path, &m, &r), 0);
    CHECK_INT(cdr_reader_next(r, &row), 1);
    CHECK_SLICE(row.f[CDR_F_SRC], "a");
    CHECK_SLICE(row.f[CDR_F_ID], "d");
    CHECK_INT(row.line, 1);
    CHECK_INT(cdr_reader_next(r, &row), 1);
    CHECK_SLICE(row.f[CDR_F_SRC], "x,1");
    CHECK_SLICE(row.f[CDR_F_DST], "say \"hi\"");
    CHECK_SLICE(row.f[CDR_F_ACCOUNT], "multi\nline");
    CHECK_SLICE(row.f[CDR_F_ID], "");
    CHECK_INT(row.line, 2);
    CHECK_INT(cdr_reader_next(r, &row), 1);
    CHECK_SLICE(row.f[CDR_F_SRC], "");
    CHECK_INT(row.line, 5);
    CHECK_INT(cdr_reader_next(r, &row), 1); /* "short": dst missing -> skipped; next row */
    CHECK_SLICE(row.f[CDR_F_SRC], "p");
    CHECK_INT(row.line, 7);
    CHECK_INT(cdr_reader_next(r, &row), 0);
    CHECK_INT(cdr_reader_malformed(r), 2);
    cdr_reader_free(r);
    close(fd);

    /* Header names resolve columns; a missing name is an error naming it. */
    CHECK_INT(write_tmp(path, "when,to,who\n1795424400,+442079460000,alice\n"), 0);
    char spec2[] = "start=when,dst=to,account=who";
    cdr_mapping_preset(CDR_FMT_GENERIC, &m);
    CHECK_INT(cdr_mapping_parse(spec2, &m, why, sizeof(why)), 0);
    CHECK(m.header);
    fd = open(path, O_RDONLY);
    CHECK_INT(cdr_reader_new(fd, path, &m, &r), 0);
    CHECK_INT(cdr_reader_next(r, &row), 1);
    CHECK_SLICE(row.f[CDR_F_ACCOUNT], "alice");
    CHECK_SLICE(row.f[CDR_F_START], "1795424400");
    cdr_reader_free(r);
    close(fd);
    char spec3[] = "dst=nope";
    cdr_mapping_preset(CDR_FMT_GENERIC, &m);
    CHECK_INT(cdr_mapping_parse(spec3, &m, why, sizeof(why)), 0);
    fd = open(path, O_RDONLY);
    CHECK_INT(cdr_reader_new(fd, path, &m, &r), 0);
    CHECK_INT(cdr_reader_next(r, &row), -EINVAL);
    CHECK(strstr(cdr_reader_error(r), "nope") != NULL);
    cdr_reader_free(r);
    close(fd);

    char bad1[] = "dst=0", bad2[] = "dest=1", bad3[] = "src=1", bad4[] = "dst";
    CHECK_INT(cdr_mapping_parse(bad1, &m, why, sizeof(why)), -EINVAL);
    CHECK_INT(cdr_mapping_parse(bad2, &m, why, sizeof(why)), -EINVAL);
    cdr_mapping_preset(CDR_FMT_GENERIC, &m);
    CHECK_INT(cdr_mapping_parse(bad3, &m, why, sizeof(why)), -EINVAL);
    CHECK_INT(cdr_mapping_parse(bad4, &m, why, sizeof(why)), -EINVAL);

    /* A row longer than the buffer is skipped without losing the next one. */
    {
        FILE *f = fopen(path, "w");
        for (unsigned i = 0; i < CDR_BUF_SIZE + 100; i++)
            fputc('z', f);
        fputs("\n1,2,3,4\n", f);
        fclose(f);
        char spec4[] = "src=1,dst=2";
        cdr_mapping_preset(CDR_FMT_GENERIC, &m);
        CHECK_INT(cdr_mapping_parse(spec4, &m, why, sizeof(why)), 0);
        fd = open(path, O_RDONLY);
        CHECK_INT(cdr_reader_new(fd, path, &m, &r), 0);
        CHECK_INT(cdr_reader_next(r, &row), 1);
        CHECK_SLICE(row.f[CDR_F_DST], "2");
        CHECK_INT(cdr_reader_malformed(r), 1);
        cdr_reader_free(r);
        close(fd);
    }
    remove(path);
}

static void test_time(void)
{
    int64_t t;
    bool ep;
    CHECK_INT(cdr_parse_time(SLICE_LIT("2026-11-23 10:00:00"), &t, &ep), 0);
    CHECK_INT(t, 1795428000);
    CHECK(!ep);
    CHECK_INT(cdr_parse_time(SLICE_LIT("2026-11-23T10:00:00.123456"), &t, &ep), 0);
    CHECK_INT(t, 1795428000);
    CHECK_INT(cdr_parse_time(SLICE_LIT("1795428000"), &t, &ep), 0);
    CHECK(ep);
    CHECK_INT(cdr_parse_time(SLICE_LIT(""), &t, &ep), -ENOENT);
    CHECK_INT(cdr_parse_time(SLICE_LIT("2026-13-23 10:00:00"), &t, &ep), -EINVAL);
    CHECK_INT(cdr_parse_time(SLICE_LIT("yesterday at noon"), &t, &ep), -EINVAL);
}

/* The policy the fixtures are judged by: a small office in London. */
static struct fraud_engine *office_engine(void)
{
    struct fraud_policy *p = fraud_policy_new();
    struct fraud_engine *e = NULL;
    size_t gi;
    char err[256];
    if (!p || fraud_dialplan_preset(&p->plan, "GB") < 0)
        abort();
    slice_copy_cstr(slice_cstr("Europe/London"), p->schedule.timezone,
                    sizeof(p->schedule.timezone));
    slice_copy_cstr(slice_cstr("data/fraud/ranges.txt"), p->ranges_file, sizeof(p->ranges_file));
    if (fraud_policy_add_rate(p, "+44", 20) < 0 || fraud_policy_add_rate(p, "+447", 100) < 0 ||
        fraud_policy_add_rate(p, "+33", 150) < 0 || fraud_policy_add_rate(p, "+881", 9000) < 0 ||
        fraud_policy_add_rate(p, "+4490", 1500) < 0)
        abort();
    if (fraud_policy_add_group(p, "tenant-a", &gi) < 0 ||
        fraud_group_allow_country(&p->groups[gi], "FR") < 0 ||
        fraud_policy_add_account(p, "*@tenant-a.example", gi) < 0)
        abort();
    if (fraud_engine_new(p, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    fraud_policy_free(p);
    return e;
}

struct expect {
    uint64_t line;
    const char *rules; /* comma-separated, in the order raised */
};

static void check_fixture(const char *file, enum cdr_format fmt, const char *map,
                          const struct expect *want, size_t n_want, uint64_t rows)
{
    struct fraud_engine *e = office_engine();
    struct cdr_options o;
    struct cdr_report rep;
    char err[256], spec[256], why[128];
    const char *files[1] = {file};

    memset(&o, 0, sizeof(o));
    cdr_mapping_preset(fmt, &o.map);
    if (map) {
        slice_copy_cstr(slice_cstr(map), spec, sizeof(spec));
        CHECK_INT(cdr_mapping_parse(spec, &o.map, why, sizeof(why)), 0);
    }
    CHECK_INT(cdr_report_init(&rep, 0), 0);
    CHECK_INT(cdr_analyze(e, files, 1, &o, &rep, err, sizeof(err)), 0);
    CHECK_INT(rep.rows, rows);
    CHECK_INT(rep.malformed, 0);
    CHECK_INT(rep.flagged_calls, n_want);
    CHECK_INT(rep.n_flags, n_want);
    for (size_t i = 0; i < n_want && i < rep.n_flags; i++) {
        const struct cdr_flag *f = &rep.flags[i];
        char got[200] = "";
        size_t len = 0;
        for (size_t k = 0; k < f->n_rules; k++)
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", k ? "," : "",
                                    fraud_rule_name(f->rules[k]));
        if (f->line != want[i].line || strcmp(got, want[i].rules) != 0)
            TEST_FAIL_AT("%s flag %zu: line %llu [%s], want line %llu [%s]", file, i,
                         (unsigned long long)f->line, got, (unsigned long long)want[i].line,
                         want[i].rules);
        else
            test_passed_count++;
    }
    /* Every output renders. */
    FILE *devnull = fopen("/dev/null", "w");
    CHECK_INT(cdr_report_text(&rep, devnull), 0);
    CHECK_INT(cdr_report_json(&rep, devnull), 0);
    CHECK_INT(cdr_report_html(&rep, devnull), 0);
    fclose(devnull);
    cdr_report_fini(&rep);
    fraud_engine_free(e);
}

static void test_fixtures(void)
{
    /* Master.csv is written at hang-up, so lines follow end times. */
    static const struct expect asterisk[] = {
        {3, "first_international"},
        {4, "class_forbidden"},
        {5, "high_risk,first_international"},
        {9, "sequential"},
        {10, "first_international"},
        {14, "short_burst"},
        {15, "short_burst"},
        {16, "number_mangled,first_international"},
        {17, "max_duration"},
        {18, "off_hours,first_international"},
    };
    static const struct expect freeswitch[] = {
        {3, "first_international"},
        {4, "class_forbidden,first_international"},
        {5, "class_forbidden,first_international"},
        {6, "high_risk,first_international"},
    };
    static const struct expect generic[] = {
        {3, "country_forbidden,first_international"},
        {4, "first_international"},
        {5, "class_forbidden,first_international"},
    };
    check_fixture("tests/cdr/data/asterisk-fraud.csv", CDR_FMT_ASTERISK, NULL, asterisk,
                  PBX_ARRAY_SIZE(asterisk), 20);
    check_fixture("tests/cdr/data/asterisk-clean.csv", CDR_FMT_ASTERISK, NULL, NULL, 0, 8);
    check_fixture("tests/cdr/data/freeswitch-fraud.csv", CDR_FMT_FREESWITCH, NULL, freeswitch,
                  PBX_ARRAY_SIZE(freeswitch), 6);
    check_fixture("tests/cdr/data/generic-fraud.csv", CDR_FMT_GENERIC,
                  "id=call_id,account=caller,dst=called,source=source_ip,start=begin,"
                  "billsec=talk_seconds,disposition=result",
                  generic, PBX_ARRAY_SIZE(generic), 5);
}

static void test_report_content(void)
{
    struct fraud_engine *e = office_engine();
    struct cdr_options o;
    struct cdr_report rep;
    char err[256];
    const char *files[2] = {"tests/cdr/data/asterisk-fraud.csv", "tests/cdr/data/no-such.csv"};
    const char *out = "/tmp/pbxguard-test-cdr-report.html";

    memset(&o, 0, sizeof(o));
    cdr_mapping_preset(CDR_FMT_ASTERISK, &o.map);
    CHECK_INT(cdr_report_init(&rep, 0), 0);
    CHECK_INT(cdr_analyze(e, files, 2, &o, &rep, err, sizeof(err)), -ENOENT);
    CHECK(strstr(err, "no-such.csv") != NULL);
    cdr_report_fini(&rep);
    fraud_engine_free(e);
    e = office_engine(); /* learned state (first international calls) starts afresh */

    CHECK_INT(cdr_report_init(&rep, 0), 0);
    CHECK_INT(cdr_analyze(e, files, 1, &o, &rep, err, sizeof(err)), 0);
    /* Premium +4490 at 1.500/min for 300 s. */
    CHECK_INT(rep.cost_by_class[FRAUD_CLASS_PREMIUM], 7500);
    CHECK_INT(rep.by_rule[FRAUD_RULE_FIRST_INTL], 5);
    CHECK_INT(rep.by_hour[14], 6);
    const struct cdr_dest_stat *top[3];
    CHECK_INT(cdr_report_top_dests(&rep, top, 3), 3);
    CHECK_STR(top[0]->region, "FR");
    FILE *f = fopen(out, "w");
    CHECK_INT(cdr_report_html(&rep, f), 0);
    fclose(f);
    f = fopen(out, "r");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK(strstr(buf, "<svg") != NULL);
    CHECK(strstr(buf, "calls per hour of day") != NULL);
    CHECK(strstr(buf, "http") == NULL); /* self-contained: no external assets */
    CHECK(strstr(buf, "short_burst") != NULL);
    remove(out);
    cdr_report_fini(&rep);
    fraud_engine_free(e);
}

static void test_html_escaping(void)
{
    const char *path = "/tmp/pbxguard-test-cdr-xss.csv";
    struct fraud_engine *e = office_engine();
    struct cdr_options o;
    struct cdr_report rep;
    char err[256], spec[] = "account=1,dst=2,start=3,billsec=4";
    const char *files[1] = {path};

    CHECK_INT(write_tmp(path, "\"<script>alert(1)</script>\",09098790123,1795428000,10\n"), 0);
    memset(&o, 0, sizeof(o));
    cdr_mapping_preset(CDR_FMT_GENERIC, &o.map);
    CHECK_INT(cdr_mapping_parse(spec, &o.map, err, sizeof(err)), 0);
    CHECK_INT(cdr_report_init(&rep, 0), 0);
    CHECK_INT(cdr_analyze(e, files, 1, &o, &rep, err, sizeof(err)), 0);
    CHECK_INT(rep.flagged_calls, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK_INT(cdr_report_html(&rep, m), 0);
    fclose(m);
    CHECK(strstr(buf, "<script>") == NULL);
    CHECK(strstr(buf, "&lt;script&gt;") != NULL);
    free(buf);
    cdr_report_fini(&rep);
    fraud_engine_free(e);
    remove(path);
}

/* Random bytes rich in CSV syntax: the reader and the replay must survive and count. */
static void test_garbage(void)
{
    const char *path = "/tmp/pbxguard-test-cdr-garbage.csv";
    static const char alphabet[] = ",,,\"\"\n\r0123456789+-: 2026-11-23 *#abc\xff\x00";
    struct fraud_engine *e = office_engine();
    struct cdr_options o;
    struct cdr_report rep;
    char err[256], spec[] = "account=1,dst=2,start=3,answer=4,end=5,billsec=6";
    const char *files[1] = {path};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    FILE *f = fopen(path, "w");

    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        fputc(alphabet[x % (sizeof(alphabet) - 1)], f);
    }
    /* and plausible rows with hostile values */
    fputs("x,+44207946,2026-11-23 10:00:00,2026-11-23 09:00:00,2026-11-23 08:00:00,99999999999\n",
          f);
    fputs("y,0044,9999-99-99 99:99:99,,,\n", f);
    fclose(f);
    memset(&o, 0, sizeof(o));
    cdr_mapping_preset(CDR_FMT_GENERIC, &o.map);
    CHECK_INT(cdr_mapping_parse(spec, &o.map, err, sizeof(err)), 0);
    CHECK_INT(cdr_report_init(&rep, 10), 0);
    CHECK_INT(cdr_analyze(e, files, 1, &o, &rep, err, sizeof(err)), 0);
    CHECK(rep.rows + rep.malformed > 1000);
    CHECK(rep.n_flags <= 10);
    FILE *devnull = fopen("/dev/null", "w");
    CHECK_INT(cdr_report_html(&rep, devnull), 0);
    CHECK_INT(cdr_report_json(&rep, devnull), 0);
    fclose(devnull);
    cdr_report_fini(&rep);
    fraud_engine_free(e);
    remove(path);
}

int main(void)
{
    test_garbage();
    test_csv();
    test_time();
    test_fixtures();
    test_report_content();
    test_html_escaping();
    return test_finish();
}
