/*
 * SIP parser throughput: pbxguard vs libosip2 on the same corpus, in one process.
 *
 *   bench_parser [--seconds S] [--iterations N] [--parse-only] [--pbx-only] [--check] [FILE...]
 *
 * Each file holds one message (default corpus: samples/sip/[01]*.sip, the valid samples:
 * REGISTER with Authorization, INVITE with SDP, 100/180/200/401/407, OPTIONS, ACK, BYE,
 * CANCEL, 400-1200 bytes each). Every message is copied into its own heap buffer before
 * timing. Each side loops over the corpus for S seconds in all (default 2), in 10
 * alternating slices so both see the same machine load, and reports messages/s, MB/s and
 * heap allocations per message, then the throughput ratio.
 *
 * Fairness: libosip2 parses Via, From/To (with tags), CSeq, Contact, Call-ID and
 * Content-Length eagerly, so the pbxguard side also calls the typed accessors for every Via
 * value, From and To tags, CSeq, every Contact, Call-ID and Content-Length; both sides
 * read the same fields afterwards. libosip2 must also free its message each time (part
 * of its per-message cost); pbxguard's struct sip_msg is reused caller storage.
 *
 * --check: exit 1 unless pbxguard reaches >= 10x libosip2's messages/s with zero
 * allocations per message.
 */
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <osipparser2/osip_parser.h>

#include "alloc_count.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"

struct corpus {
    uint8_t **msgs;
    size_t *lens;
    size_t n;
    size_t bytes;
};

/* Each parser runs in this many alternating slices of seconds / BENCH_ROUNDS. */
#define BENCH_ROUNDS 10

/* --parse-only: sip_msg_parse() alone, to separate its cost from the typed accessors'. */
static bool parse_only;
/* --pbx-only: skip libosip2 (for profiling the pbxguard side alone). */
static bool pbx_only;
/*
 * --iterations N: instead of timed slices, exactly N passes over the corpus per parser
 * and no warm-up, so that an instruction counter (valgrind --tool=callgrind, perf stat)
 * sees a fixed amount of work: instructions per message = count / (N * corpus size).
 */
static unsigned long iterations;

struct result {
    uint64_t msgs;
    uint64_t bytes;
    double secs;
    uint64_t allocs;
    uint64_t failures;
    uint64_t checksum;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(struct corpus *c, const char *path)
{
    int rc = -EIO;
    uint8_t *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        goto out;
    if (fseek(fp, 0, SEEK_END) != 0)
        goto out;
    long size = ftell(fp);
    if (size <= 0 || size > (long)SIP_MAX_MSG_SIZE || fseek(fp, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)size);
    if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size)
        goto out;
    uint8_t **nm = realloc(c->msgs, (c->n + 1) * sizeof(*nm));
    if (!nm)
        goto out;
    c->msgs = nm;
    size_t *nl = realloc(c->lens, (c->n + 1) * sizeof(*nl));
    if (!nl)
        goto out;
    c->lens = nl;
    c->msgs[c->n] = buf;
    c->lens[c->n] = (size_t)size;
    c->n++;
    c->bytes += (size_t)size;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (fp)
        fclose(fp);
    return rc;
}

/* The pbxguard side: parse, then the typed fields libosip2 fills eagerly. */
static int pbx_one(struct sip_msg *m, const uint8_t *buf, size_t len, uint64_t *sum)
{
    struct sip_via via;
    struct sip_name_addr na;
    struct sip_cseq cseq;
    const struct sip_via *v;
    const struct sip_name_addr *a;
    if (sip_msg_parse(m, buf, len, SIP_PARSE_DATAGRAM) != 0)
        return -1;
    if (parse_only)
        return 0;
    /*
     * The typed values through the public accessors. The parser validated the top Via,
     * From, To, CSeq and every Contact, and keeps those results: the borrowing accessors
     * return them in place. Every other Via value is parsed here (sip_msg_via() from the
     * value slices the parser recorded while counting them).
     */
    for (unsigned i = 0; i < m->via_count; i++) {
        v = i == 0 ? sip_msg_via0_get(m) : NULL;
        if (!v && sip_msg_via(m, i, &via) == 0)
            v = &via;
        if (v)
            *sum += v->branch.len + v->port;
    }
    if ((a = sip_msg_from_get(m)) != NULL)
        *sum += a->tag.len + a->uri.host.len;
    if ((a = sip_msg_to_get(m)) != NULL)
        *sum += a->tag.len + a->uri.host.len;
    if (sip_msg_cseq(m, &cseq) == 0)
        *sum += cseq.num;
    for (unsigned i = 0;; i++) {
        a = sip_msg_contact_get(m, i);
        if (!a && sip_msg_contact(m, i, &na) == 0)
            a = &na;
        if (!a)
            break;
        *sum += a->uri.host.len;
    }
    *sum += sip_msg_call_id(m).len + (uint64_t)m->content_length;
    return 0;
}

static int osip_one(const uint8_t *buf, size_t len, uint64_t *sum)
{
    osip_message_t *sip;
    osip_via_t *via;
    osip_contact_t *ct;
    osip_generic_param_t *tag;
    if (osip_message_init(&sip) != 0)
        return -1;
    if (osip_message_parse(sip, (const char *)buf, len) != 0) {
        osip_message_free(sip);
        return -1;
    }
    for (int i = 0; osip_message_get_via(sip, i, &via) >= 0; i++) {
        osip_generic_param_t *br = NULL;
        osip_via_param_get_byname(via, "branch", &br);
        *sum += (br && br->gvalue ? strlen(br->gvalue) : 0) + (via->port ? 1 : 0);
    }
    if (sip->from && osip_from_get_tag(sip->from, &tag) == 0 && tag->gvalue)
        *sum += strlen(tag->gvalue) + (sip->from->url && sip->from->url->host ? 1 : 0);
    if (sip->to && osip_to_get_tag(sip->to, &tag) == 0 && tag->gvalue)
        *sum += strlen(tag->gvalue);
    if (sip->cseq && sip->cseq->number)
        *sum += strlen(sip->cseq->number);
    for (int i = 0; osip_message_get_contact(sip, i, &ct) >= 0; i++)
        *sum += ct->url && ct->url->host ? 1 : 0;
    if (sip->call_id && sip->call_id->number)
        *sum += strlen(sip->call_id->number);
    if (sip->content_length && sip->content_length->value)
        *sum += strlen(sip->content_length->value);
    osip_message_free(sip);
    return 0;
}

static void run(const struct corpus *c, bool pbx, double seconds, struct result *r)
{
    static struct sip_msg m;
    memset(r, 0, sizeof(*r));
    struct alloc_counts a0 = alloc_count_get();
    double t0 = now_s(), t;
    unsigned long passes = 0;
    do {
        for (size_t i = 0; i < c->n; i++) {
            int rc = pbx ? pbx_one(&m, c->msgs[i], c->lens[i], &r->checksum)
                         : osip_one(c->msgs[i], c->lens[i], &r->checksum);
            if (rc != 0)
                r->failures++;
        }
        r->msgs += c->n;
        r->bytes += c->bytes;
        t = now_s();
        passes++;
    } while (iterations ? passes < iterations : t - t0 < seconds);
    r->secs = t - t0;
    r->allocs = alloc_count_get().allocs - a0.allocs;
}

static void accumulate(struct result *sum, const struct result *r)
{
    sum->msgs += r->msgs;
    sum->bytes += r->bytes;
    sum->secs += r->secs;
    sum->allocs += r->allocs;
    sum->failures += r->failures;
    sum->checksum += r->checksum;
}

static void print_row(const char *name, const struct result *r)
{
    double mps = (double)r->msgs / r->secs;
    double mbs = (double)r->bytes / r->secs / 1e6;
    if (alloc_count_available())
        printf("%-10s %14.0f %10.1f %12.2f %10llu\n", name, mps, mbs,
               (double)r->allocs / (double)r->msgs, (unsigned long long)r->failures);
    else
        printf("%-10s %14.0f %10.1f %12s %10llu\n", name, mps, mbs, "n/a",
               (unsigned long long)r->failures);
}

int main(int argc, char **argv)
{
    struct corpus c = {0};
    double seconds = 2.0;
    bool check = false;
    int rc = 2;
    glob_t g = {0};
    bool globbed = false;

    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end;
            seconds = strtod(argv[++i], &end);
            if (*end || seconds <= 0 || seconds > 600) {
                fprintf(stderr, "bench_parser: bad --seconds\n");
                goto out;
            }
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            char *end;
            iterations = strtoul(argv[++i], &end, 10);
            if (*end || iterations == 0 || iterations > 100000000ul) {
                fprintf(stderr, "bench_parser: bad --iterations\n");
                goto out;
            }
        } else if (strcmp(argv[i], "--pbx-only") == 0) {
            pbx_only = true;
        } else if (strcmp(argv[i], "--parse-only") == 0) {
            parse_only = true;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_parser [--seconds S] [--iterations N] [--parse-only] "
                            "[--pbx-only] [--check] [FILE...]\n");
            goto out;
        } else {
            break;
        }
    }
    if (i == argc) {
        if (glob("samples/sip/[01]*.sip", 0, NULL, &g) != 0) {
            fprintf(stderr, "bench_parser: no corpus (run from the repository root)\n");
            goto out;
        }
        globbed = true;
        for (size_t k = 0; k < g.gl_pathc; k++)
            if (load(&c, g.gl_pathv[k]) != 0) {
                fprintf(stderr, "bench_parser: cannot read %s\n", g.gl_pathv[k]);
                goto out;
            }
    }
    for (; i < argc; i++)
        if (load(&c, argv[i]) != 0) {
            fprintf(stderr, "bench_parser: cannot read %s\n", argv[i]);
            goto out;
        }
    if (parser_init() != 0) {
        fprintf(stderr, "bench_parser: libosip2 parser_init failed\n");
        goto out;
    }

    size_t minl = SIZE_MAX, maxl = 0;
    for (size_t k = 0; k < c.n; k++) {
        minl = c.lens[k] < minl ? c.lens[k] : minl;
        maxl = c.lens[k] > maxl ? c.lens[k] : maxl;
    }
    printf("corpus: %zu messages, %zu bytes (%zu..%zu per message), %.1f s per parser\n", c.n,
           c.bytes, minl, maxl, seconds);
    struct result pbx, osip;
    if (iterations) {
        run(&c, true, 0, &pbx);
        if (!pbx_only)
            run(&c, false, 0, &osip);
        printf("%-10s %14s %10s %12s %10s\n", "parser", "msgs/s", "MB/s", "allocs/msg", "failures");
        print_row("pbxguard", &pbx);
        if (!pbx_only)
            print_row("libosip2", &osip);
        rc = pbx.failures == 0 && (pbx_only || osip.failures == 0) ? 0 : 1;
        goto out;
    }
    /* Warm both up (caches, lazy libosip2 tables) before timing. */
    run(&c, true, 0.1, &pbx);
    if (pbx_only) {
        run(&c, true, seconds, &pbx);
        printf("%-10s %14s %10s %12s %10s\n", "parser", "msgs/s", "MB/s", "allocs/msg", "failures");
        print_row("pbxguard", &pbx);
        rc = 0;
        goto out;
    }
    run(&c, false, 0.1, &osip);
    /*
     * Alternate the two parsers in short slices so that both see the same machine load
     * (a shared machine otherwise skews the ratio by whichever ran during a busy spell).
     */
    memset(&pbx, 0, sizeof(pbx));
    memset(&osip, 0, sizeof(osip));
    for (int k = 0; k < BENCH_ROUNDS; k++) {
        struct result a, b;
        run(&c, true, seconds / BENCH_ROUNDS, &a);
        run(&c, false, seconds / BENCH_ROUNDS, &b);
        accumulate(&pbx, &a);
        accumulate(&osip, &b);
    }

    printf("%-10s %14s %10s %12s %10s\n", "parser", "msgs/s", "MB/s", "allocs/msg", "failures");
    print_row("pbxguard", &pbx);
    print_row("libosip2", &osip);
    double ratio = ((double)pbx.msgs / pbx.secs) / ((double)osip.msgs / osip.secs);
    double apm = (double)pbx.allocs / (double)pbx.msgs;
    printf("ratio: pbxguard is %.1fx libosip2 in messages/s\n", ratio);
    bool ok = ratio >= 10.0 && pbx.failures == 0 && (!alloc_count_available() || apm == 0.0);
    printf("target (>= 10x, 0 allocs/msg, no failures): %s\n", ok ? "met" : "NOT met");
    /* Printed so the work cannot be optimised away. */
    fprintf(stderr, "checksums: %llu %llu\n", (unsigned long long)pbx.checksum,
            (unsigned long long)osip.checksum);
    rc = check && !ok ? 1 : 0;
out:
    if (globbed)
        globfree(&g);
    for (size_t k = 0; k < c.n; k++)
        free(c.msgs[k]);
    free(c.msgs);
    free(c.lens);
    return rc;
}
