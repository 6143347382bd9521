/* Time zones from TZif files (RFC 8536); see pbxguard/fraud/tz.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/slice.h"
#include "pbxguard/fraud/tz.h"

#define TZIF_MAX_SIZE (256 * 1024)

/* Howard Hinnant's days_from_civil / civil_from_days algorithms. */
int64_t fraud_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fraud_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void fraud_tz_fini(struct fraud_tz *tz)
{
    free(tz->trans);
    free(tz->offsets);
    memset(tz, 0, sizeof(*tz));
}

/* Parses "[+-]hh[:mm[:ss]]" (or hhmm) at *p; returns seconds or -1. */
static int32_t parse_hms(const char **p, bool colon_optional)
{
    const char *s = *p;
    int32_t parts[3] = {0, 0, 0};
    int n = 0;
    while (n < 3) {
        int v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < (colon_optional && n == 0 ? 2 : 3)) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (!digits)
            return -1;
        parts[n++] = v;
        if (*s == ':')
            s++;
        else if (!(colon_optional && *s >= '0' && *s <= '9'))
            break;
    }
    *p = s;
    if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59)
        return -1;
    return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

static int32_t parse_signed_hms(const char **p, bool colon_optional)
{
    int sign = 1;
    int32_t v;
    if (**p == '+' || **p == '-') {
        sign = **p == '-' ? -1 : 1;
        (*p)++;
    }
    v = parse_hms(p, colon_optional);
    return v < 0 ? INT32_MIN : sign * v;
}

static bool skip_tz_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        while (*s && *s != '>')
            s++;
        if (*s != '>')
            return false;
        *p = s + 1;
        return true;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    if (s - *p < 3)
        return false;
    *p = s;
    return true;
}

static bool parse_rule(const char **p, struct fraud_tz_rule *r)
{
    const char *s = *p;
    unsigned v[3] = {0, 0, 0};
    if (*s++ != 'M')
        return false; /* Julian-day forms are not used by current tzdata */
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9' && v[i] < 100)
            v[i] = v[i] * 10 + (unsigned)(*s++ - '0');
        if (i < 2 && *s++ != '.')
            return false;
    }
    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
        return false;
    r->month = v[0], r->week = v[1], r->wday = v[2];
    r->secs = 7200;
    if (*s == '/') {
        s++;
        r->secs = parse_signed_hms(&s, false);
        if (r->secs == INT32_MIN)
            return false;
    }
    *p = s;
    return true;
}

/* POSIX TZ string ("GMT0BST,M3.5.0/1,M10.5.0"). Offsets there are west-positive. */
static bool parse_posix(struct fraud_tz *tz, const char *s)
{
    int32_t off;
    if (!skip_tz_name(&s))
        return false;
    off = parse_signed_hms(&s, false);
    if (off == INT32_MIN)
        return false;
    tz->std_offset = -off;
    tz->has_dst = false;
    if (*s == '\0') {
        tz->has_rule = true;
        return true;
    }
    if (!skip_tz_name(&s))
        return false;
    tz->dst_offset = tz->std_offset + 3600;
    if (*s && *s != ',') {
        off = parse_signed_hms(&s, false);
        if (off == INT32_MIN)
            return false;
        tz->dst_offset = -off;
    }
    if (*s++ != ',' || !parse_rule(&s, &tz->start) || *s++ != ',' || !parse_rule(&s, &tz->end))
        return false;
    tz->has_dst = true;
    tz->has_rule = *s == '\0';
    return tz->has_rule;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int parse_tzif(struct fraud_tz *tz, const unsigned char *b, size_t len)
{
    uint32_t cnt[6];
    size_t off = 0, tsize = 4, need;
    int version;

    if (len < 44 || memcmp(b, "TZif", 4) != 0)
        return -EBADMSG;
    version = b[4] ? b[4] - '0' : 1;
    for (int pass = 0; pass < 2; pass++) {
        if (len - off < 44 || memcmp(b + off, "TZif", 4) != 0)
            return -EBADMSG;
        for (int i = 0; i < 6; i++)
            cnt[i] = be32(b + off + 20 + 4 * i);
        /* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
        if (cnt[3] > FRAUD_TZ_TRANSITIONS_MAX || cnt[4] == 0 || cnt[4] > 256 || cnt[5] > 4096 ||
            cnt[2] > 1024)
            return -EBADMSG;
        need = 44 + cnt[3] * tsize + cnt[3] + cnt[4] * 6 + cnt[5] + cnt[2] * (tsize + 4) + cnt[1] +
               cnt[0];
        if (len - off < need)
            return -EBADMSG;
        if (pass == 0 && version >= 2) {
            off += need; /* skip the 32-bit block; the 64-bit one follows */
            tsize = 8;
            continue;
        }
        break;
    }
    {
        const unsigned char *times = b + off + 44;
        const unsigned char *idx = times + cnt[3] * tsize;
        const unsigned char *types = idx + cnt[3];
        uint32_t n = cnt[3];
        tz->trans = calloc(n ? n : 1, sizeof(*tz->trans));
        tz->offsets = calloc(n ? n : 1, sizeof(*tz->offsets));
        if (!tz->trans || !tz->offsets)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            unsigned t = idx[i];
            if (t >= cnt[4])
                return -EBADMSG;
            tz->trans[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
            tz->offsets[i] = (int32_t)be32(types + 6 * t);
            if (i && tz->trans[i] <= tz->trans[i - 1])
                return -EBADMSG;
        }
        tz->n_trans = n;
        /* RFC 8536 §3.2: local time before the first transition uses type 0. */
        tz->initial_offset = (int32_t)be32(types);
        if (version >= 2) {
            const unsigned char *foot = b + off + need;
            size_t flen = len - (off + need);
            if (flen >= 2 && foot[0] == '\n') {
                char rule[128];
                size_t k = 1;
                while (k < flen && foot[k] != '\n' && k < sizeof(rule))
                    k++;
                if (k < flen && k - 1 < sizeof(rule)) {
                    memcpy(rule, foot + 1, k - 1);
                    rule[k - 1] = '\0';
                    if (rule[0] && !parse_posix(tz, rule))
                        tz->has_rule = false;
                }
            }
        }
    }
    return 0;
}

int fraud_tz_load(struct fraud_tz *tz, const char *name)
{
    char path[512];
    const char *dir = getenv("TZDIR");
    unsigned char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int rc = 0;

    memset(tz, 0, sizeof(*tz));
    if (!name || !name[0] || strlen(name) >= FRAUD_TZ_NAME_MAX)
        return -EINVAL;
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        slice_copy_cstr(slice_cstr(name), tz->name, sizeof(tz->name));
        return 0;
    }
    if (name[0] == '+' || name[0] == '-') {
        const char *p = name;
        int32_t off = parse_signed_hms(&p, true);
        if (off == INT32_MIN || *p || off > 14 * 3600 || off < -14 * 3600)
            return -EINVAL;
        tz->std_offset = off;
        tz->initial_offset = off;
        tz->has_rule = true;
        slice_copy_cstr(slice_cstr(name), tz->name, sizeof(tz->name));
        return 0;
    }
    if (name[0] == '/' || strstr(name, ".."))
        return -EINVAL;
    snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
    f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? -ENOENT : -errno;
    buf = malloc(TZIF_MAX_SIZE);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    len = fread(buf, 1, TZIF_MAX_SIZE, f);
    if (ferror(f) || len == TZIF_MAX_SIZE) {
        rc = -EBADMSG;
        goto out;
    }
    rc = parse_tzif(tz, buf, len);
    if (rc == 0)
        slice_copy_cstr(slice_cstr(name), tz->name, sizeof(tz->name));
out:
    free(buf);
    if (f)
        fclose(f);
    if (rc < 0)
        fraud_tz_fini(tz);
    return rc;
}

/* UTC instant of a rule's change in year y; `before` is the offset in force before it. */
static int64_t rule_instant(const struct fraud_tz_rule *r, int64_t y, int32_t before)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = fraud_days_from_civil(y, r->month, 1);
    unsigned wday1 = (unsigned)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    unsigned day = 1 + (r->wday + 7 - wday1) % 7 + 7 * (r->week - 1);
    unsigned len = mdays[r->month - 1];
    if (r->month == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        len = 29;
    while (day > len)
        day -= 7;
    return (first + day - 1) * 86400 + r->secs - before;
}

int32_t fraud_tz_offset(const struct fraud_tz *tz, int64_t t)
{
    if (tz->n_trans && t < tz->trans[0])
        return tz->initial_offset;
    if (tz->n_trans && (t < tz->trans[tz->n_trans - 1] || !tz->has_rule)) {
        uint32_t lo = 0, hi = tz->n_trans; /* last i with trans[i] <= t */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (tz->trans[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        return tz->offsets[lo];
    }
    if (!tz->has_rule)
        return tz->initial_offset;
    if (!tz->has_dst)
        return tz->std_offset;
    {
        int64_t y;
        unsigned m, d;
        fraud_civil_from_days(floor_div(t + tz->std_offset, 86400), &y, &m, &d);
        int64_t s = rule_instant(&tz->start, y, tz->std_offset);
        int64_t e = rule_instant(&tz->end, y, tz->dst_offset);
        bool dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
        return dst ? tz->dst_offset : tz->std_offset;
    }
}

void fraud_tz_local(const struct fraud_tz *tz, int64_t t_ms, struct fraud_local *out)
{
    int64_t t = floor_div(t_ms, 1000);
    int32_t off = fraud_tz_offset(tz, t);
    int64_t local = t + off, days = floor_div(local, 86400), y;
    int64_t secs = local - days * 86400;
    unsigned m, d;

    fraud_civil_from_days(days, &y, &m, &d);
    out->year = (int)y;
    out->month = m;
    out->day = d;
    out->wday = (unsigned)(((days % 7) + 11) % 7);
    out->minute = (unsigned)(secs / 60);
    out->second = (unsigned)(secs % 60);
    out->offset = off;
}

int64_t fraud_tz_to_utc(const struct fraud_tz *tz, int64_t local_s)
{
    /* Try the offset in force a day before and after: the earlier consistent one wins. */
    int32_t a = fraud_tz_offset(tz, local_s - 86400), b = fraud_tz_offset(tz, local_s + 86400);
    int64_t ta = local_s - a, tb = local_s - b;
    bool ok_a = fraud_tz_offset(tz, ta) == a, ok_b = fraud_tz_offset(tz, tb) == b;
    if (ok_a && ok_b)
        return ta < tb ? ta : tb;
    if (ok_a)
        return ta;
    if (ok_b)
        return tb;
    return local_s - fraud_tz_offset(tz, local_s - a);
}
