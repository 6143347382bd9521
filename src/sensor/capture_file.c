/*
 * pcap / pcapng files through libpcap's offline reader, which handles both formats,
 * both byte orders and nanosecond timestamps. A regular classic-pcap file opened by path is
 * read by a small buffered reader instead (one read(2) per 4 MiB and no copy per frame:
 * libpcap's two fread() calls per record cost more than decoding the frame); pcapng and
 * streams always go through libpcap.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbxguard/sensor/capture_file.h"

/* libpcap refuses records larger than this (MAXIMUM_SNAPLEN); the buffered reader too. */
#define MAX_RECORD 262144u
/* Buffered reader: one read(2) per 4 MiB, at least one whole record (MAX_RECORD) fits. */
#define READ_BUF (4u << 20)
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u

struct cap_file {
    pcap_t *pcap; /* NULL for the buffered reader */
    enum pkt_link link;
    enum cap_format format;
    uint64_t index;
    /* buffered classic pcap: unread bytes are buf[start..end) */
    int fd;
    uint8_t *buf;
    size_t start;
    size_t end;
    bool eof;
    bool big_endian;
    bool nano;
};

static uint32_t rd32(const uint8_t *p, bool be)
{
    return be ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
              : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

enum cap_format cap_format_detect(const uint8_t *h, size_t len)
{
    if (!h || len < 4)
        return CAP_FORMAT_NONE;
    uint32_t be = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
    switch (be) {
    case 0xa1b2c3d4u: /* microseconds, big endian */
    case 0xd4c3b2a1u: /* microseconds, little endian */
    case 0xa1b23c4du: /* nanoseconds, big endian */
    case 0x4d3cb2a1u: /* nanoseconds, little endian */
        return CAP_FORMAT_PCAP;
    case 0x0a0d0d0au: /* pcapng section header block, same in both byte orders */
        return CAP_FORMAT_PCAPNG;
    default:
        return CAP_FORMAT_NONE;
    }
}

const char *cap_format_name(enum cap_format f)
{
    switch (f) {
    case CAP_FORMAT_PCAP:
        return "pcap";
    case CAP_FORMAT_PCAPNG:
        return "pcapng";
    case CAP_FORMAT_NONE:
        break;
    }
    return "none";
}

static int finish_open(pcap_t *p, enum cap_format fmt, struct cap_file **out, char *err,
                       size_t errcap)
{
    enum pkt_link link;
    int dlt = pcap_datalink(p);
    if (pkt_link_from_dlt(dlt, &link) < 0) {
        snprintf(err, errcap, "unsupported link type %d (%s)", dlt,
                 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
        pcap_close(p);
        return -EPROTONOSUPPORT;
    }
    struct cap_file *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errcap, "out of memory");
        pcap_close(p);
        return -ENOMEM;
    }
    c->pcap = p;
    c->link = link;
    c->format = fmt;
    *out = c;
    return 0;
}

int cap_file_open_stream(FILE *fp, struct cap_file **out, char *err, size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    uint8_t head[4] = {0};
    if (!fp || !out)
        return -EINVAL;
    size_t got = fread(head, 1, sizeof(head), fp);
    if (got != sizeof(head) || fseek(fp, 0, SEEK_SET) != 0) {
        snprintf(err, errcap, "too short for a capture file");
        fclose(fp);
        return -EBADMSG;
    }
    enum cap_format fmt = cap_format_detect(head, got);
    /* Microsecond timestamps whatever the file stores: ts_us is what callers use. */
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        snprintf(err, errcap, "%s", ebuf[0] ? ebuf : "not a capture file");
        fclose(fp);
        return -EBADMSG;
    }
    return finish_open(p, fmt, out, err, errcap);
}

/* read(2) until buf is full or the file ends. 0 or -errno. */
static int fill(struct cap_file *c)
{
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    while (!c->eof && c->end < READ_BUF) {
        ssize_t n = read(c->fd, c->buf + c->end, READ_BUF - c->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            c->eof = true;
        c->end += (size_t)n;
    }
    return 0;
}

/*
 * Opens a regular classic-pcap file for the buffered reader. Returns 0 with *out set, 1 when
 * the file is not one (the caller falls back to libpcap), or a negative errno with err set.
 */
static int buf_open(const char *path, struct cap_file **out, char *err, size_t errcap)
{
    struct stat st;
    struct cap_file *c = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 1;

    if (fd < 0)
        return 1; /* the stdio path reports the error */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)PCAP_FILE_HDR)
        goto out;
    c = calloc(1, sizeof(*c));
    if (c)
        c->buf = malloc(READ_BUF);
    if (!c || !c->buf) {
        snprintf(err, errcap, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    c->fd = fd;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (fill(c) != 0 || c->end < PCAP_FILE_HDR)
        goto out;
    const uint8_t *h = c->buf;
    if (cap_format_detect(h, PCAP_FILE_HDR) != CAP_FORMAT_PCAP)
        goto out;
    bool be = h[0] == 0xa1;
    uint32_t magic = rd32(h, true);
    /* Version 2.x only; the link type's upper bits carry FCS information (LT_LINKTYPE). */
    uint32_t lt = rd32(h + 20, be) & 0x03ffffffu;
    if ((h[be ? 5 : 4] | (h[be ? 4 : 5] << 8)) != 2)
        goto out;
    if (pkt_link_from_dlt((int)lt, &c->link) < 0) {
        snprintf(err, errcap, "unsupported link type %u", (unsigned)lt);
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    c->format = CAP_FORMAT_PCAP;
    c->start = PCAP_FILE_HDR;
    c->big_endian = be;
    c->nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    *out = c;
    return 0;
out:
    if (c)
        free(c->buf);
    free(c);
    close(fd);
    return rc;
}

static int buf_next(struct cap_file *c, struct cap_frame *f, char *err, size_t errcap)
{
    int rc;

    if (c->end - c->start < PCAP_REC_HDR && (rc = fill(c)) != 0) {
        snprintf(err, errcap, "read: %s", strerror(-rc));
        return -EBADMSG;
    }
    size_t left = c->end - c->start;
    if (left == 0)
        return -ENOENT;
    if (left < PCAP_REC_HDR) {
        snprintf(err, errcap, "truncated dump file; tried to read %u header bytes, only got %zu",
                 PCAP_REC_HDR, left);
        return -EBADMSG;
    }
    const uint8_t *r = c->buf + c->start;
    uint32_t incl = rd32(r + 8, c->big_endian);
    if (incl > MAX_RECORD) {
        snprintf(err, errcap, "invalid packet capture length %u, bigger than maximum of %u",
                 (unsigned)incl, MAX_RECORD);
        return -EBADMSG;
    }
    if (left - PCAP_REC_HDR < incl) {
        if ((rc = fill(c)) != 0) {
            snprintf(err, errcap, "read: %s", strerror(-rc));
            return -EBADMSG;
        }
        left = c->end - c->start;
        r = c->buf + c->start;
        if (left - PCAP_REC_HDR < incl) {
            snprintf(err, errcap,
                     "truncated dump file; tried to read %u captured bytes, only got %zu",
                     (unsigned)incl, left - PCAP_REC_HDR);
            return -EBADMSG;
        }
    }
    uint32_t sec = rd32(r, c->big_endian), frac = rd32(r + 4, c->big_endian);
    c->index++;
    f->data = r + PCAP_REC_HDR;
    f->caplen = incl;
    f->wirelen = rd32(r + 12, c->big_endian);
    f->ts_us = (int64_t)sec * 1000000 + (c->nano ? frac / 1000 : frac);
    f->index = c->index;
    c->start += PCAP_REC_HDR + incl;
    return 0;
}

int cap_file_open(const char *path, struct cap_file **out, char *err, size_t errcap)
{
    if (!path || !out)
        return -EINVAL;
    int m = buf_open(path, out, err, errcap);
    if (m <= 0)
        return m;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        snprintf(err, errcap, "%s", strerror(e));
        return -e;
    }
    /* libpcap reads each record with two fread() calls; a large stdio buffer turns the
     * default 4 KiB read(2) per few frames into one per megabyte (offline replay speed). */
    (void)setvbuf(fp, NULL, _IOFBF, 1u << 20);
    return cap_file_open_stream(fp, out, err, errcap);
}

int cap_file_next(struct cap_file *c, struct cap_frame *f, char *err, size_t errcap)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    if (c->buf)
        return buf_next(c, f, err, errcap);
    int rc = pcap_next_ex(c->pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return -ENOENT;
    if (rc != 1) {
        snprintf(err, errcap, "%s", pcap_geterr(c->pcap));
        return -EBADMSG;
    }
    c->index++;
    f->data = data;
    f->caplen = h->caplen;
    f->wirelen = h->len;
    f->ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    f->index = c->index;
    return 0;
}

enum pkt_link cap_file_link(const struct cap_file *c)
{
    return c->link;
}

enum cap_format cap_file_format(const struct cap_file *c)
{
    return c->format;
}

void cap_file_close(struct cap_file *c)
{
    if (!c)
        return;
    if (c->buf) {
        free(c->buf);
        close(c->fd);
    }
    if (c->pcap)
        pcap_close(c->pcap);
    free(c);
}
