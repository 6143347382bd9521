/*
 * RFC 4180 CSV reader over a fixed buffer. A row is located and split in one pass; quoted
 * fields containing "" are unescaped into a per-row scratch buffer, every other field is
 * a slice straight into the read buffer, so the common row costs no copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/cdr/reader.h"

struct cdr_reader {
    int fd;
    char name[128];
    struct cdr_mapping map;
    char *buf; /* CDR_BUF_SIZE + 1 */
    size_t pos, len;
    bool eof, header_done;
    uint64_t consumed, line, malformed;
    char *scratch; /* CDR_ROW_MAX */
    struct slice cols[CDR_COLS_MAX];
    char err[256];
};

static const char *const field_names[CDR_F_COUNT] = {
    "account", "src",      "dst",     "channel",     "start", "answer",
    "end",     "duration", "billsec", "disposition", "id",    "source",
};

const char *cdr_field_name(enum cdr_field f)
{
    return (unsigned)f < CDR_F_COUNT ? field_names[f] : "?";
}

void cdr_mapping_preset(enum cdr_format fmt, struct cdr_mapping *m)
{
    /* Asterisk cdr_csv.c build_csv_record(): accountcode, src, dst, dcontext, clid,
     * channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
     * disposition, amaflags[, uniqueid[, userfield]]. */
    static const int asterisk[CDR_F_COUNT] = {0, 1, 2, 5, 9, 10, 11, 12, 13, 14, 16, -1};
    /* FreeSWITCH cdr_csv.conf.xml template "example": caller_id_name, caller_id_number,
     * destination_number, context, start_stamp, answer_stamp, end_stamp, duration,
     * billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec. */
    static const int freeswitch[CDR_F_COUNT] = {12, 1, 2, -1, 4, 5, 6, 7, 8, 9, 10, -1};
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < CDR_F_COUNT; i++)
        m->col[i] = fmt == CDR_FMT_ASTERISK     ? asterisk[i]
                    : fmt == CDR_FMT_FREESWITCH ? freeswitch[i]
                                                : -1;
}

int cdr_mapping_parse(char *spec, struct cdr_mapping *m, char *why, size_t why_cap)
{
    char *s = spec;
    while (*s) {
        char *item = s, *eq, *end = strchr(s, ',');
        int f = -1;
        if (end)
            *end = '\0';
        s = end ? end + 1 : s + strlen(s);
        eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1]) {
            snprintf(why, why_cap, "'%.40s' is not field=column", item);
            return -EINVAL;
        }
        *eq = '\0';
        for (int i = 0; i < CDR_F_COUNT; i++)
            if (strcmp(item, field_names[i]) == 0)
                f = i;
        if (f < 0) {
            snprintf(why, why_cap, "unknown field '%.40s'", item);
            return -EINVAL;
        }
        const char *col = eq + 1;
        bool digits = true;
        unsigned long v = 0;
        for (const char *p = col; *p; p++) {
            if (*p < '0' || *p > '9' || v > CDR_COLS_MAX)
                digits = false;
            else
                v = v * 10 + (unsigned long)(*p - '0');
        }
        if (digits) {
            if (v < 1 || v > CDR_COLS_MAX) {
                snprintf(why, why_cap, "column %.20s out of range 1..%u", col, CDR_COLS_MAX);
                return -EINVAL;
            }
            m->col[f] = (int)v - 1;
            m->name[f] = NULL;
        } else {
            m->name[f] = col;
            m->header = true;
        }
    }
    if (m->col[CDR_F_DST] < 0 && !m->name[CDR_F_DST]) {
        snprintf(why, why_cap, "the mapping needs at least dst");
        return -EINVAL;
    }
    return 0;
}

int cdr_reader_new(int fd, const char *name, const struct cdr_mapping *m, struct cdr_reader **out)
{
    struct cdr_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->buf = malloc(CDR_BUF_SIZE + 1);
    r->scratch = malloc(CDR_ROW_MAX);
    if (!r->buf || !r->scratch) {
        cdr_reader_free(r);
        return -ENOMEM;
    }
    r->fd = fd;
    /* One pass front to back: ask for aggressive read-ahead (ignored for pipes). */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    r->map = *m;
    r->header_done = !m->header;
    slice_copy_cstr(slice_cstr(name), r->name, sizeof(r->name));
    *out = r;
    return 0;
}

void cdr_reader_free(struct cdr_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->scratch);
    free(r);
}

uint64_t cdr_reader_bytes(const struct cdr_reader *r)
{
    return r->consumed;
}

uint64_t cdr_reader_malformed(const struct cdr_reader *r)
{
    return r->malformed;
}

const char *cdr_reader_error(const struct cdr_reader *r)
{
    return r->err;
}

/* Moves the unread tail to the front and reads more. Returns bytes read, 0 at EOF. */
static int refill(struct cdr_reader *r)
{
    ssize_t n;
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == CDR_BUF_SIZE)
        return -EMSGSIZE;
    do
        n = read(r->fd, r->buf + r->len, CDR_BUF_SIZE - r->len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        r->eof = true;
    r->len += (size_t)n;
    return (int)(n > 0);
}

/*
 * Splits one row starting at buf[pos] (len bytes available). Returns the row's length
 * including its line end, 0 if the row is not complete in the buffer, or -EBADMSG.
 * Sets *ncols.
 */
static long split_row(struct cdr_reader *r, size_t *ncols, unsigned *newlines)
{
    /* Bytes that end an unquoted field. */
    static const bool stop[256] = {[','] = true, ['\n'] = true, ['\r'] = true};
    const char *p = r->buf + r->pos, *end = r->buf + r->len;
    const char *s = p;
    size_t nc = 0, scratch = 0;
    unsigned nl = 0;

    for (;;) {
        struct slice f;
        if (s < end && *s == '"') {
            /* RFC 4180 §2.5-2.7: quoted field; "" is a literal quote. */
            const char *q = s + 1, *start = q;
            bool escaped = false;
            for (;;) {
                const char *hit = memchr(q, '"', (size_t)(end - q));
                if (!hit)
                    return r->eof ? -EBADMSG : 0;
                if (hit + 1 < end && hit[1] == '"') {
                    escaped = true;
                    q = hit + 2;
                    continue;
                }
                if (hit + 1 == end && !r->eof)
                    return 0;
                f = slice_make(start, (size_t)(hit - start));
                s = hit + 1;
                break;
            }
            if (escaped) {
                size_t o = scratch;
                for (size_t i = 0; i < f.len; i++) {
                    if (o >= CDR_ROW_MAX)
                        return -EBADMSG;
                    r->scratch[o++] = f.p[i];
                    if (f.p[i] == '"')
                        i++;
                }
                f = slice_make(r->scratch + scratch, o - scratch);
                scratch = o;
            }
        } else {
            const char *c = s;
            while (c < end && !stop[(unsigned char)*c])
                c++;
            if (c == end && !r->eof)
                return 0;
            f = slice_make(s, (size_t)(c - s));
            s = c;
        }
        if (nc < CDR_COLS_MAX)
            r->cols[nc] = f;
        nc++;
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n') {
            s++;
            /* Line numbers: the row's own newline plus any inside quoted fields, counted
             * in one pass over the row rather than per byte while splitting. */
            for (const char *c = memchr(p, '\n', (size_t)(s - 1 - p)); c;
                 c = memchr(c + 1, '\n', (size_t)(s - 1 - (c + 1))))
                nl++;
            nl++;
        } else if (s < end) {
            return -EBADMSG; /* garbage after a closing quote */
        } else if (!r->eof) {
            return 0;
        }
        break;
    }
    *ncols = nc < CDR_COLS_MAX ? nc : CDR_COLS_MAX;
    *newlines = nl;
    return (long)(s - p);
}

/* Skips to just after the next newline (resynchronising after a bad row). */
static int skip_line(struct cdr_reader *r)
{
    for (;;) {
        const char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->pos)) + 1;
            r->pos += n;
            r->consumed += n;
            r->line++;
            return 0;
        }
        r->consumed += r->len - r->pos;
        r->pos = r->len;
        if (r->eof)
            return 0;
        int rc = refill(r);
        if (rc < 0)
            return rc;
    }
}

static int resolve_header(struct cdr_reader *r, size_t ncols)
{
    for (int f = 0; f < CDR_F_COUNT; f++) {
        if (!r->map.name[f])
            continue;
        r->map.col[f] = -1;
        for (size_t c = 0; c < ncols; c++)
            if (slice_eq_cstr_ci(r->cols[c], r->map.name[f]))
                r->map.col[f] = (int)c;
        if (r->map.col[f] < 0) {
            snprintf(r->err, sizeof(r->err), "%s: header has no column '%.40s' for %s", r->name,
                     r->map.name[f], field_names[f]);
            return -EINVAL;
        }
    }
    return 0;
}

int cdr_reader_next(struct cdr_reader *r, struct cdr_row *row)
{
    for (;;) {
        size_t ncols = 0;
        unsigned nl = 0;
        long n;

        if (r->pos == r->len) {
            if (r->eof)
                return 0;
            int rc = refill(r);
            if (rc < 0)
                return rc;
            continue;
        }
        n = split_row(r, &ncols, &nl);
        if (n == 0) {
            int rc = refill(r);
            if (rc == -EMSGSIZE) {
                r->malformed++; /* one row fills the whole buffer */
                r->consumed += r->len;
                r->pos = r->len;
                rc = skip_line(r);
            }
            if (rc < 0)
                return rc;
            continue;
        }
        if (n < 0) {
            r->malformed++;
            int rc = skip_line(r);
            if (rc < 0)
                return rc;
            continue;
        }
        uint64_t line = r->line + 1;
        r->pos += (size_t)n;
        r->consumed += (uint64_t)n;
        r->line += nl ? nl : 1;
        if (ncols == 1 && r->cols[0].len == 0)
            continue; /* blank line */
        if (!r->header_done) {
            r->header_done = true;
            int rc = resolve_header(r, ncols);
            if (rc < 0)
                return rc;
            continue;
        }
        if (r->map.col[CDR_F_DST] >= (int)ncols) {
            r->malformed++;
            continue;
        }
        for (int f = 0; f < CDR_F_COUNT; f++) {
            int c = r->map.col[f];
            row->f[f] = (c >= 0 && c < (int)ncols) ? r->cols[c] : SLICE_LIT("");
        }
        row->line = line;
        return 1;
    }
}
