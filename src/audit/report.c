/* Findings container, severity names and grading. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbxguard/audit/audit.h"

static const char *const sev_names[] = {"info", "low", "medium", "high", "critical"};

const char *audit_severity_name(enum audit_severity s)
{
    if ((unsigned)s >= PBX_ARRAY_SIZE(sev_names))
        return "unknown";
    return sev_names[s];
}

int audit_severity_parse(const char *s, enum audit_severity *out)
{
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(sev_names); i++) {
        if (strcasecmp(s, sev_names[i]) == 0) {
            *out = (enum audit_severity)i;
            return 0;
        }
    }
    return -EINVAL;
}

void audit_report_init(struct audit_report *r)
{
    r->v = NULL;
    r->n = 0;
    r->cap = 0;
    r->dropped = 0;
}

void audit_report_fini(struct audit_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].file);
        free(r->v[i].evidence);
    }
    free(r->v);
    audit_report_init(r);
}

int audit_report_add(struct audit_report *r, const struct audit_check *c, const char *file,
                     unsigned line, const char *fmt, ...)
{
    char buf[AUDIT_MAX_EVIDENCE];
    va_list ap;

    if (r->n >= AUDIT_MAX_FINDINGS || audit_report_count(r, c->id) >= AUDIT_MAX_PER_CHECK) {
        r->dropped++;
        return 0;
    }
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        struct audit_finding *nv = realloc(r->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        r->v = nv;
        r->cap = ncap;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* Evidence quotes configuration and network bytes: keep it on one printable line. */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';

    struct audit_finding *f = &r->v[r->n];
    f->check = c;
    f->line = line;
    f->file = file ? strdup(file) : NULL;
    f->evidence = strdup(buf);
    if ((file && !f->file) || !f->evidence) {
        free(f->file);
        free(f->evidence);
        return -ENOMEM;
    }
    r->n++;
    return 0;
}

size_t audit_report_count(const struct audit_report *r, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (!id || strcmp(r->v[i].check->id, id) == 0)
            n++;
    return n;
}

const struct audit_finding *audit_report_find(const struct audit_report *r, const char *id,
                                              size_t idx)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].check->id, id) == 0) {
            if (idx == 0)
                return &r->v[i];
            idx--;
        }
    }
    return NULL;
}

bool audit_report_worst(const struct audit_report *r, enum audit_severity *out)
{
    bool any = false;
    for (size_t i = 0; i < r->n; i++) {
        if (!any || r->v[i].check->severity > *out)
            *out = r->v[i].check->severity;
        any = true;
    }
    return any;
}

static int cmp_finding(const void *a, const void *b)
{
    const struct audit_finding *x = a, *y = b;
    if (x->check->severity != y->check->severity)
        return x->check->severity > y->check->severity ? -1 : 1;
    int c = strcmp(x->check->id, y->check->id);
    if (c)
        return c;
    c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return strcmp(x->evidence, y->evidence);
}

void audit_report_sort(struct audit_report *r)
{
    if (r->n > 1)
        qsort(r->v, r->n, sizeof(r->v[0]), cmp_finding);
}

char audit_report_grade(const struct audit_report *r)
{
    enum audit_severity worst;
    if (!audit_report_worst(r, &worst))
        return 'A';
    switch (worst) {
    case AUDIT_SEV_INFO:
        return 'A';
    case AUDIT_SEV_LOW:
        return 'B';
    case AUDIT_SEV_MEDIUM:
        return 'C';
    case AUDIT_SEV_HIGH:
        return 'D';
    case AUDIT_SEV_CRITICAL:
        break;
    }
    return 'F';
}

int audit_report_score(const struct audit_report *r)
{
    static const int weight[] = {0, 1, 5, 15, 40};
    int score = 100;
    for (size_t i = 0; i < r->n && score > 0; i++)
        score -= weight[r->v[i].check->severity];
    return score < 0 ? 0 : score;
}

int audit_date_parse(const char *s, int64_t *days)
{
    int v[3] = {0, 0, 0};
    int field = 0, digits = 0;

    if (!s)
        return -EINVAL;
    for (const char *p = s;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 4)
                return -EINVAL;
            v[field] = v[field] * 10 + (*p - '0');
        } else if ((*p == '-' && field < 2) || *p == '\0') {
            if (digits == 0)
                return -EINVAL;
            if (*p == '\0')
                break;
            field++;
            digits = 0;
        } else {
            return -EINVAL;
        }
    }
    if (field != 2 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
        return -EINVAL;
    /* Days from civil date (proleptic Gregorian), H. Hinnant's algorithm. */
    int64_t y = v[0] - (v[1] <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (v[1] + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + v[2] - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return 0;
}
