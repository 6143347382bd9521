/*
 * pcap / pcapng files through libpcap's offline reader, which handles both formats,
 * both byte orders and nanosecond timestamps. A regular classic-pcap file opened by path is
 * read from a read-only mapping instead (no copy per frame: offline replay is bounded by the
 * parser, not by stdio); pcapng and streams always go through libpcap.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbxguard/sensor/capture_file.h"

/* libpcap refuses records larger than this (MAXIMUM_SNAPLEN); the mapped reader too. */
#define MAP_MAX_RECORD 262144u
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u

struct cap_file {
    pcap_t *pcap; /* NULL when mapped */
    enum pkt_link link;
    enum cap_format format;
    uint64_t index;
    /* mapped classic pcap */
    const uint8_t *map;
    size_t map_len;
    size_t off;
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

/*
 * Maps a regular classic-pcap file. Returns 0 with *out set, 1 when the file is not one
 * (the caller falls back to libpcap), or a negative errno with err set.
 */
static int map_open(const char *path, struct cap_file **out, char *err, size_t errcap)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 1;
    void *m = MAP_FAILED;

    if (fd < 0)
        return 1; /* the stdio path reports the error */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)PCAP_FILE_HDR)
        goto out;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        goto out;
    const uint8_t *h = m;
    if (cap_format_detect(h, PCAP_FILE_HDR) != CAP_FORMAT_PCAP)
        goto out;
    bool be = h[0] == 0xa1;
    uint32_t magic = rd32(h, true);
    enum pkt_link link;
    /* Version 2.x only; the link type's upper bits carry FCS information (LT_LINKTYPE). */
    uint32_t lt = rd32(h + 20, be) & 0x03ffffffu;
    if ((h[be ? 5 : 4] | (h[be ? 4 : 5] << 8)) != 2)
        goto out;
    if (pkt_link_from_dlt((int)lt, &link) < 0) {
        snprintf(err, errcap, "unsupported link type %u", (unsigned)lt);
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    struct cap_file *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errcap, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    (void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    c->link = link;
    c->format = CAP_FORMAT_PCAP;
    c->map = m;
    c->map_len = (size_t)st.st_size;
    c->off = PCAP_FILE_HDR;
    c->big_endian = be;
    c->nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    m = MAP_FAILED;
    *out = c;
    rc = 0;
out:
    if (m != MAP_FAILED)
        munmap(m, (size_t)st.st_size);
    close(fd);
    return rc;
}

static int map_next(struct cap_file *c, struct cap_frame *f, char *err, size_t errcap)
{
    size_t left = c->map_len - c->off;

    if (left == 0)
        return -ENOENT;
    if (left < PCAP_REC_HDR) {
        snprintf(err, errcap, "truncated dump file; tried to read %u header bytes, only got %zu",
                 PCAP_REC_HDR, left);
        return -EBADMSG;
    }
    const uint8_t *r = c->map + c->off;
    uint32_t sec = rd32(r, c->big_endian), frac = rd32(r + 4, c->big_endian);
    uint32_t incl = rd32(r + 8, c->big_endian), orig = rd32(r + 12, c->big_endian);
    if (incl > MAP_MAX_RECORD) {
        snprintf(err, errcap, "invalid packet capture length %u, bigger than maximum of %u",
                 (unsigned)incl, MAP_MAX_RECORD);
        return -EBADMSG;
    }
    if (left - PCAP_REC_HDR < incl) {
        snprintf(err, errcap, "truncated dump file; tried to read %u captured bytes, only got %zu",
                 (unsigned)incl, left - PCAP_REC_HDR);
        return -EBADMSG;
    }
    c->index++;
    f->data = r + PCAP_REC_HDR;
    f->caplen = incl;
    f->wirelen = orig;
    f->ts_us = (int64_t)sec * 1000000 + (c->nano ? frac / 1000 : frac);
    f->index = c->index;
    c->off += PCAP_REC_HDR + incl;
    return 0;
}

int cap_file_open(const char *path, struct cap_file **out, char *err, size_t errcap)
{
    if (!path || !out)
        return -EINVAL;
    int m = map_open(path, out, err, errcap);
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
    if (c->map)
        return map_next(c, f, err, errcap);
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
    if (c->map)
        munmap((void *)c->map, c->map_len);
    if (c->pcap)
        pcap_close(c->pcap);
    free(c);
}
