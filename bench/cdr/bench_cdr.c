/*
 * CDR analysis throughput: writes a synthetic Asterisk Master.csv (office and trunk
 * traffic with a little fraud mixed in) to /tmp, then times `cdr analyze` on it in
 * process and prints rows per second.
 *   bench_cdr [ROWS] [PATH]     defaults: 2000000 rows, /tmp/pbxguard-bench-master.csv
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "pbxguard/cdr/analyze.h"
#include "pbxguard/fraud/engine.h"

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint32_t rnd(void)
{
    /* xorshift64*: reproducible and fast; quality is irrelevant here. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static void stamp(int64_t t, char *buf, size_t cap)
{
    int64_t y, days = t / 86400, s = t % 86400;
    unsigned m, d;
    fraud_civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04lld-%02u-%02u %02u:%02u:%02u", (long long)y, m, d, (unsigned)(s / 3600),
             (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

static int generate(const char *path, unsigned long rows)
{
    /* prefix + random digits; the mix is mostly national with some abroad and fraud */
    static const char *const dests[] = {"0207946", "0161496",  "07400",  "07700",
                                        "0800",    "00331426", "004930", "001212555",
                                        "2",       "09098",    "00537"};
    static const unsigned digits[] = {4, 4, 6, 6, 6, 5, 6, 4, 3, 6, 6};
    static const unsigned weight[] = {30, 20, 20, 10, 3, 6, 4, 3, 2, 1, 1};
    FILE *f = fopen(path, "w");
    int64_t t = (fraud_days_from_civil(2026, 11, 2) * 86400) + 8 * 3600;
    char dst[32], s1[24], s2[24], s3[24];
    if (!f)
        return -errno;
    for (unsigned long i = 0; i < rows; i++) {
        unsigned pick = rnd() % 100, k = 0, acc = weight[0];
        while (pick >= acc && k + 1 < sizeof(weight) / sizeof(weight[0]))
            acc += weight[++k];
        snprintf(dst, sizeof(dst), "%s%0*u", dests[k], (int)digits[k], rnd() % 1000);
        unsigned account = 1000 + rnd() % 500, ring = 2 + rnd() % 20;
        unsigned bill = rnd() % 4 ? rnd() % 600 : 0;
        t += rnd() % 3;
        stamp(t, s1, sizeof(s1));
        if (bill)
            stamp(t + ring, s2, sizeof(s2));
        else
            s2[0] = '\0';
        stamp(t + ring + bill, s3, sizeof(s3));
        fprintf(f,
                "\"\",\"%u\",\"%s\",\"from-internal\",\"\"\"Ext %u\"\" <%u>\",\"PJSIP/%u-%08lx\","
                "\"PJSIP/trunk-%08lx\",\"Dial\",\"PJSIP/%s@trunk,60\",\"%s\",\"%s\",\"%s\",%u,%u,"
                "\"%s\",\"DOCUMENTATION\",\"1762070400.%lu\",\"\"\n",
                account, dst, account, account, account, i, i, dst, s1, s2, s3, ring + bill, bill,
                bill ? "ANSWERED" : "NO ANSWER", i);
    }
    return fclose(f) == 0 ? 0 : -EIO;
}

int main(int argc, char **argv)
{
    unsigned long rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
    const char *path = argc > 2 ? argv[2] : "/tmp/pbxguard-bench-master.csv";
    struct fraud_policy *p = fraud_policy_new();
    struct fraud_engine *e = NULL;
    struct cdr_options o;
    struct cdr_report rep;
    struct stat st;
    char err[256];
    const char *files[1] = {path};

    if (!p || fraud_dialplan_preset(&p->plan, "GB") < 0)
        return 2;
    if (fraud_policy_add_rate(p, "+44", 10) < 0 || fraud_policy_add_rate(p, "+447", 50) < 0 ||
        fraud_policy_add_rate(p, "+33", 120) < 0 || fraud_policy_add_rate(p, "+4490", 1500) < 0)
        return 2;
    if (fraud_engine_new(p, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_cdr: %s\n", err);
        return 2;
    }
    if (stat(path, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "bench_cdr: writing %lu rows to %s\n", rows, path);
        if (generate(path, rows) < 0) {
            fprintf(stderr, "bench_cdr: cannot write %s\n", path);
            return 2;
        }
        stat(path, &st);
    }
    memset(&o, 0, sizeof(o));
    cdr_mapping_preset(CDR_FMT_ASTERISK, &o.map);
    if (cdr_report_init(&rep, 100) < 0)
        return 2;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    if (cdr_analyze(e, files, 1, &o, &rep, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_cdr: %s\n", err);
        return 2;
    }
    getrusage(RUSAGE_SELF, &ru1);
    /* CPU time as well as wall time: on a shared machine the wall clock includes waiting
     * for a core. */
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("cdr analyze: %llu rows, %.1f MB in %.3f s wall / %.3f s CPU: %.0f rows/s wall, "
           "%.0f rows/s CPU (%.0f MB/s), %llu flagged\n",
           (unsigned long long)rep.rows, (double)st.st_size / 1e6, rep.seconds, cpu,
           (double)rep.rows / rep.seconds, (double)rep.rows / cpu,
           (double)st.st_size / 1e6 / rep.seconds, (unsigned long long)rep.flagged_calls);
    cdr_report_fini(&rep);
    fraud_engine_free(e);
    fraud_policy_free(p);
    return 0;
}
