/*
 * CDR replay through the fraud engine (see pbxguard/cdr/analyze.h). Calls still "in
 * progress" at a row's start time sit in a min-heap ordered by end time, capped at the
 * engine's call table size, so concurrency is judged as it was while memory stays fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pbxguard/cdr/analyze.h"

struct pending {
    int64_t end_ms;
    uint64_t seq;
    uint64_t line;
    uint32_t file;
    bool flagged, blocked;
    int32_t flag_idx;
    enum fraud_class class;
    char country[4];
    char account[FRAUD_ACCOUNT_MAX];
    char dst[48];
    char e164[24];
    int64_t start_ms;
    uint32_t billsec;
    uint64_t cost;
};

/* Heap node: ordering key plus the slot holding the call's details. Keeping the heap
 * small makes sifting cheap; the slots never move. */
struct heap_node {
    int64_t end_ms;
    uint32_t slot;
};

struct run {
    struct fraud_engine *e;
    struct cdr_report *rep;
    const struct cdr_options *opt;
    struct fraud_tz tz;
    int64_t cache_hour;
    int32_t cache_off;
    struct heap_node *heap;
    struct pending *slots;
    uint32_t *free_slots;
    size_t n_heap, cap_heap, n_free;
    struct pending *current; /* the call being ended, for alerts */
    uint64_t seq;
    char date[10];
    int64_t date_days;
    bool date_ok;
    uint16_t *region_slot; /* REGION_KEYS entries: bucket index + 1, 0 = none yet */
    size_t n_region_slots;
};

int cdr_report_init(struct cdr_report *rep, size_t flagged_keep)
{
    memset(rep, 0, sizeof(*rep));
    rep->flags_cap = flagged_keep ? flagged_keep : CDR_FLAGGED_KEEP_DEFAULT;
    rep->dests = calloc((size_t)FRAUD_REGIONS_MAX * FRAUD_CLASS_COUNT, sizeof(*rep->dests));
    rep->flags = calloc(rep->flags_cap, sizeof(*rep->flags));
    rep->first_ms = INT64_MAX;
    rep->last_ms = INT64_MIN;
    if (!rep->dests || !rep->flags) {
        cdr_report_fini(rep);
        return -ENOMEM;
    }
    return 0;
}

void cdr_report_fini(struct cdr_report *rep)
{
    free(rep->dests);
    free(rep->flags);
    rep->dests = NULL;
    rep->flags = NULL;
}

static bool two(const char *p, unsigned *v)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
    return true;
}

int cdr_parse_time(struct slice s, int64_t *out, bool *is_epoch)
{
    unsigned y1, y2, mo, d, h, mi, se;
    const char *p = s.p;

    *is_epoch = false;
    while (s.len && (s.p[s.len - 1] == ' '))
        s.len--;
    if (!s.len)
        return -ENOENT;
    if (s.len <= 12) {
        int64_t v = 0;
        for (size_t i = 0; i < s.len; i++) {
            if (s.p[i] < '0' || s.p[i] > '9')
                return -EINVAL;
            v = v * 10 + (s.p[i] - '0');
        }
        *out = v;
        *is_epoch = true;
        return 0;
    }
    if (s.len < 19 || !two(p, &y1) || !two(p + 2, &y2) || p[4] != '-' || !two(p + 5, &mo) ||
        p[7] != '-' || !two(p + 8, &d) || (p[10] != ' ' && p[10] != 'T') || !two(p + 11, &h) ||
        p[13] != ':' || !two(p + 14, &mi) || p[16] != ':' || !two(p + 17, &se))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -EINVAL;
    *out = fraud_days_from_civil((int64_t)(y1 * 100 + y2), mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

/* cdr_parse_time with the date's day number cached: consecutive CDRs share dates. */
static int parse_time_cached(struct run *r, struct slice s, int64_t *out, bool *is_epoch)
{
    if (s.len == 19 && r->date_ok && memcmp(s.p, r->date, 10) == 0 && s.p[10] == ' ') {
        unsigned h, mi, se;
        const char *p = s.p;
        if (two(p + 11, &h) && p[13] == ':' && two(p + 14, &mi) && p[16] == ':' &&
            two(p + 17, &se) && h < 24 && mi < 60 && se <= 60) {
            *is_epoch = false;
            *out = r->date_days * 86400 + h * 3600 + mi * 60 + se;
            return 0;
        }
    }
    int rc = cdr_parse_time(s, out, is_epoch);
    if (rc == 0 && !*is_epoch && s.len == 19 && s.p[10] == ' ') {
        memcpy(r->date, s.p, 10);
        r->date_days = (*out >= 0 ? *out : *out - 86399) / 86400;
        r->date_ok = true;
    }
    return rc;
}

/* Local wall time -> UTC ms, caching the offset per local hour (CDRs come in order). */
static int64_t to_utc_ms(struct run *r, int64_t local_s, bool is_epoch)
{
    if (is_epoch)
        return local_s * 1000;
    int64_t hour = local_s / 3600;
    if (hour != r->cache_hour) {
        r->cache_hour = hour;
        r->cache_off = (int32_t)(local_s - fraud_tz_to_utc(&r->tz, local_s));
    }
    return (local_s - r->cache_off) * 1000;
}

static uint64_t parse_uint(struct slice s)
{
    uint64_t v = 0;
    for (size_t i = 0; i < s.len && i < 12; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            break;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    return v;
}

/* "PJSIP/1001-0000000a" -> "1001"; "SIP/trunk-00ab" -> "trunk". */
static struct slice channel_peer(struct slice ch)
{
    size_t i = 0, j;
    while (i < ch.len && ch.p[i] != '/')
        i++;
    if (i == ch.len)
        return SLICE_NULL;
    i++;
    j = ch.len;
    for (size_t k = ch.len; k > i; k--)
        if (ch.p[k - 1] == '-') {
            j = k - 1;
            break;
        }
    if (j <= i)
        return SLICE_NULL;
    return slice_make(ch.p + i, j - i);
}

static void heap_push(struct run *r, const struct pending *p)
{
    uint32_t slot = r->free_slots[--r->n_free];
    size_t i = r->n_heap++;
    r->slots[slot] = *p;
    while (i && r->heap[(i - 1) / 2].end_ms > p->end_ms) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = (struct heap_node){p->end_ms, slot};
}

/* Removes the earliest-ending call; returns its slot (free it after use). */
static uint32_t heap_pop(struct run *r)
{
    uint32_t top = r->heap[0].slot;
    struct heap_node last = r->heap[--r->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= r->n_heap)
            break;
        if (l + 1 < r->n_heap && r->heap[l + 1].end_ms < r->heap[l].end_ms)
            m = l + 1;
        if (r->heap[m].end_ms >= last.end_ms)
            break;
        r->heap[i] = r->heap[m];
        i = m;
    }
    if (r->n_heap)
        r->heap[i] = last;
    return top;
}

/* Call-IDs for replayed calls: the row sequence number in decimal, without printf. */
static struct slice seq_id(uint64_t v, char *buf, size_t cap)
{
    size_t i = cap;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    return slice_make(buf + i, cap - i);
}

static struct cdr_flag *keep_flag(struct run *r, struct pending *p)
{
    struct cdr_report *rep = r->rep;
    struct cdr_flag *f;
    if (p->flag_idx >= 0)
        return &rep->flags[p->flag_idx];
    if (rep->n_flags == rep->flags_cap)
        return NULL;
    p->flag_idx = (int32_t)rep->n_flags;
    f = &rep->flags[rep->n_flags++];
    memset(f, 0, sizeof(*f));
    f->line = p->line;
    f->file = p->file;
    memcpy(f->account, p->account, sizeof(f->account));
    memcpy(f->dst, p->dst, sizeof(f->dst));
    memcpy(f->e164, p->e164, sizeof(f->e164));
    memcpy(f->country, p->country, sizeof(f->country));
    f->class = p->class;
    f->start_ms = p->start_ms;
    f->billsec = p->billsec;
    f->cost = p->cost;
    return f;
}

static void hour_of(struct run *r, int64_t utc_ms, unsigned *hour)
{
    struct fraud_local l;
    fraud_tz_local(&r->tz, utc_ms, &l);
    *hour = l.minute / 60;
}

static void add_flag(struct run *r, struct pending *p, enum fraud_rule rule, enum fraud_action act,
                     const char *detail)
{
    struct cdr_report *rep = r->rep;
    struct cdr_flag *f;
    rep->by_rule[rule]++;
    if (!p->flagged) {
        unsigned h;
        p->flagged = true;
        rep->flagged_calls++;
        hour_of(r, p->start_ms, &h);
        rep->flagged_by_hour[h]++;
    }
    f = keep_flag(r, p);
    if (!f)
        return;
    if (f->n_rules < CDR_FLAG_RULES_MAX)
        f->rules[f->n_rules++] = rule;
    if (act > f->action || !f->detail[0]) {
        if (act >= f->action)
            f->action = act;
        slice_copy_cstr(slice_cstr(detail), f->detail, sizeof(f->detail));
    }
}

static void on_alert(void *ctx, const struct fraud_alert *a)
{
    struct run *r = ctx;
    if (!r->current)
        return;
    if (a->action >= FRAUD_ACT_REJECT && !r->current->blocked) {
        r->current->blocked = true;
        r->rep->would_block++;
    }
    add_flag(r, r->current, a->rule, a->action, a->detail);
}

static void end_one(struct run *r)
{
    uint32_t slot = heap_pop(r);
    struct pending *p = &r->slots[slot];
    char id[24];
    r->current = p;
    (void)!fraud_call_ended(r->e, seq_id(p->seq, id, sizeof(id)), p->end_ms, FRAUD_END_BYE);
    r->current = NULL;
    r->free_slots[r->n_free++] = slot;
}

/* Region code (2-3 of [A-Z0-9]) -> a dense index, so each row finds its destination
 * bucket in O(1). */
#define REGION_KEYS (37 * 37 * 37)

static unsigned region_char(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A') + 1;
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0') + 27;
    return 0;
}

static void dest_add(struct run *r, const struct fraud_decision *d, bool answered, uint32_t billsec,
                     uint64_t cost)
{
    struct cdr_report *rep = r->rep;
    size_t ri = FRAUD_REGIONS_MAX - 1; /* unknown region bucket */
    if (d->country[0]) {
        unsigned key = (region_char(d->country[0]) * 37 + region_char(d->country[1])) * 37 +
                       region_char(d->country[2]);
        if (!r->region_slot[key] && r->n_region_slots < FRAUD_REGIONS_MAX - 1)
            r->region_slot[key] = (uint16_t)++r->n_region_slots;
        if (r->region_slot[key])
            ri = r->region_slot[key] - 1u;
    }
    struct cdr_dest_stat *s = &rep->dests[ri * FRAUD_CLASS_COUNT + (size_t)d->class];
    if (!s->calls) {
        memcpy(s->region, d->country, sizeof(s->region));
        s->class = d->class;
    }
    s->calls++;
    s->answered += answered;
    s->billsec += billsec;
    s->cost += cost;
}

static int process_row(struct run *r, const struct cdr_row *row, uint32_t file)
{
    struct cdr_report *rep = r->rep;
    int64_t start_l, answer_l = 0, end_l = 0, start_ms, answer_ms = 0, end_ms;
    bool ep_s, ep_a = false, ep_e = false, answered;
    struct fraud_decision d;
    struct pending p;
    uint64_t billsec, duration;
    struct slice account = row->f[CDR_F_ACCOUNT];
    char id[24];

    rep->rows++;
    if (parse_time_cached(r, row->f[CDR_F_START], &start_l, &ep_s) < 0) {
        rep->bad_time++;
        return 0;
    }
    start_ms = to_utc_ms(r, start_l, ep_s);
    if (parse_time_cached(r, row->f[CDR_F_ANSWER], &answer_l, &ep_a) == 0)
        answer_ms = to_utc_ms(r, answer_l, ep_a);
    if (parse_time_cached(r, row->f[CDR_F_END], &end_l, &ep_e) == 0)
        end_ms = to_utc_ms(r, end_l, ep_e);
    else
        end_ms = 0;
    billsec = parse_uint(row->f[CDR_F_BILLSEC]);
    duration = parse_uint(row->f[CDR_F_DURATION]);
    if (!row->f[CDR_F_BILLSEC].len && answer_ms && end_ms > answer_ms)
        billsec = (uint64_t)(end_ms - answer_ms) / 1000;
    if (!end_ms)
        end_ms = start_ms + (int64_t)(duration > billsec ? duration : billsec) * 1000;
    answered = billsec > 0 || (answer_ms && end_ms > answer_ms);
    if (answered && !answer_ms)
        answer_ms = end_ms - (int64_t)billsec * 1000;
    if (answered && end_ms < answer_ms + (int64_t)billsec * 1000)
        end_ms = answer_ms + (int64_t)billsec * 1000;
    if (end_ms < start_ms)
        end_ms = start_ms;

    if (!account.len)
        account = channel_peer(row->f[CDR_F_CHANNEL]);
    if (!account.len)
        account = row->f[CDR_F_SRC];

    while (r->n_heap && r->heap[0].end_ms <= start_ms)
        end_one(r);

    struct fraud_call_ctx ctx = {account, row->f[CDR_F_SOURCE], row->f[CDR_F_DST], start_ms};
    if (fraud_check_invite(r->e, &ctx, &d) < 0)
        return -EINVAL;

    memset(&p, 0, sizeof(p));
    p.end_ms = end_ms;
    p.seq = ++r->seq;
    p.line = row->line;
    p.file = file;
    p.flag_idx = -1;
    p.class = d.class;
    memcpy(p.country, d.country, sizeof(p.country));
    slice_copy_cstr(account, p.account, sizeof(p.account));
    slice_copy_cstr(row->f[CDR_F_DST], p.dst, sizeof(p.dst));
    slice_copy_cstr(slice_cstr(d.e164), p.e164, sizeof(p.e164));
    p.start_ms = start_ms;
    p.billsec = (uint32_t)(billsec > UINT32_MAX ? UINT32_MAX : billsec);
    p.cost = answered ? billsec * d.rate_per_minute / 60 : 0;

    if (d.action >= FRAUD_ACT_REJECT) {
        p.blocked = true;
        rep->would_block++;
    }
    for (size_t i = 0; i < d.n_reasons; i++)
        if (d.reasons[i].action >= FRAUD_ACT_ALERT)
            add_flag(r, &p, d.reasons[i].rule, d.reasons[i].action, d.reasons[i].detail);

    /* The call did happen: track it whatever the verdict, so later limits see it. */
    struct slice sid = seq_id(p.seq, id, sizeof(id));
    if (r->n_heap == r->cap_heap)
        end_one(r);
    if (fraud_call_start(r->e, sid, &ctx, &d) == 0) {
        if (answered)
            (void)!fraud_call_answered(r->e, sid, answer_ms);
        heap_push(r, &p);
    }

    unsigned hour;
    if (!ep_s)
        hour = (unsigned)(((start_l % 86400) + 86400) % 86400 / 3600);
    else
        hour_of(r, start_ms, &hour);
    rep->by_hour[hour]++;
    rep->by_class[d.class]++;
    rep->cost_by_class[d.class] += p.cost;
    rep->answered += answered;
    rep->billsec += billsec;
    rep->cost += p.cost;
    if (start_ms < rep->first_ms)
        rep->first_ms = start_ms;
    if (start_ms > rep->last_ms)
        rep->last_ms = start_ms;
    dest_add(r, &d, answered, p.billsec, p.cost);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int analyze_fd(struct run *r, int fd, const char *name, uint32_t file, char *err,
                      size_t err_cap)
{
    struct cdr_reader *rd = NULL;
    struct cdr_row row;
    struct stat st;
    uint64_t size = 0, n = 0;
    double last = now_s();
    int rc;

    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        size = (uint64_t)st.st_size;
    rc = cdr_reader_new(fd, name, &r->opt->map, &rd);
    if (rc < 0)
        return rc;
    while ((rc = cdr_reader_next(rd, &row)) > 0) {
        rc = process_row(r, &row, file);
        if (rc < 0)
            break;
        if (r->opt->progress && (++n & 0xffff) == 0 && size > 0) {
            double t = now_s();
            if (t - last >= 0.25) {
                last = t;
                fprintf(stderr, "\r%s: %3u%%  %llu rows", name,
                        (unsigned)(cdr_reader_bytes(rd) * 100 / size),
                        (unsigned long long)r->rep->rows);
                fflush(stderr);
            }
        }
    }
    if (r->opt->progress && n >= 0x10000)
        fprintf(stderr, "\r%s: 100%%  %llu rows\n", name, (unsigned long long)r->rep->rows);
    if (rc < 0 && err)
        snprintf(err, err_cap, "%s",
                 cdr_reader_error(rd)[0] ? cdr_reader_error(rd) : strerror(-rc));
    r->rep->malformed += cdr_reader_malformed(rd);
    cdr_reader_free(rd);
    return rc < 0 ? rc : 0;
}

int cdr_analyze(struct fraud_engine *e, const char *const *files, size_t n_files,
                const struct cdr_options *opt, struct cdr_report *rep, char *err, size_t err_cap)
{
    struct run r;
    const char *zone = opt->timezone ? opt->timezone : fraud_engine_policy(e)->schedule.timezone;
    double t0 = now_s();
    int rc = 0;

    memset(&r, 0, sizeof(r));
    r.e = e;
    r.rep = rep;
    r.opt = opt;
    r.cache_hour = INT64_MIN;
    rep->files = files;
    rep->n_files = n_files;
    rc = fraud_tz_load(&r.tz, zone);
    if (rc < 0) {
        if (err)
            snprintf(err, err_cap, "time zone '%s' cannot be loaded", zone);
        return rc;
    }
    slice_copy_cstr(slice_cstr(zone), rep->timezone, sizeof(rep->timezone));
    r.cap_heap = fraud_engine_policy(e)->max_calls ? fraud_engine_policy(e)->max_calls : 1;
    r.heap = calloc(r.cap_heap, sizeof(*r.heap));
    r.slots = calloc(r.cap_heap, sizeof(*r.slots));
    r.free_slots = calloc(r.cap_heap, sizeof(*r.free_slots));
    r.region_slot = calloc(REGION_KEYS, sizeof(*r.region_slot));
    if (!r.heap || !r.slots || !r.free_slots || !r.region_slot) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r.cap_heap; i++)
        r.free_slots[r.n_free++] = (uint32_t)(r.cap_heap - 1 - i);
    fraud_engine_set_hooks(e, NULL, on_alert, &r);
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        bool is_stdin = strcmp(files[i], "-") == 0;
        int fd = is_stdin ? 0 : open(files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = -errno;
            if (err)
                snprintf(err, err_cap, "%s: %s", files[i], strerror(errno));
            break;
        }
        rc = analyze_fd(&r, fd, files[i], (uint32_t)i, err, err_cap);
        if (!is_stdin)
            close(fd);
    }
    while (r.n_heap)
        end_one(&r);
out:
    fraud_engine_set_hooks(e, NULL, NULL, NULL);
    free(r.heap);
    free(r.slots);
    free(r.free_slots);
    free(r.region_slot);
    fraud_tz_fini(&r.tz);
    rep->seconds = now_s() - t0;
    return rc;
}

static bool dest_better(const struct cdr_dest_stat *a, const struct cdr_dest_stat *b)
{
    return a->cost > b->cost || (a->cost == b->cost && a->calls > b->calls);
}

size_t cdr_report_top_dests(const struct cdr_report *rep, const struct cdr_dest_stat **out,
                            size_t cap)
{
    size_t n = 0;
    if (!cap)
        return 0;
    for (size_t i = 0; i < (size_t)FRAUD_REGIONS_MAX * FRAUD_CLASS_COUNT; i++) {
        const struct cdr_dest_stat *s = &rep->dests[i];
        size_t k;
        if (!s->calls || s->class == FRAUD_CLASS_INTERNAL || s->class == FRAUD_CLASS_UNKNOWN ||
            s->class == FRAUD_CLASS_EMERGENCY)
            continue;
        if (n < cap)
            k = n++;
        else if (dest_better(s, out[cap - 1]))
            k = cap - 1;
        else
            continue;
        /* Insertion into a small sorted array: cap is tiny. */
        while (k > 0 && dest_better(s, out[k - 1])) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = s;
    }
    return n;
}
