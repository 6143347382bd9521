/*
 * pcap / pcapng files through libpcap's offline reader, which handles both formats,
 * both byte orders and nanosecond timestamps.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sensor/capture_file.h"

struct cap_file {
    pcap_t *pcap;
    enum pkt_link link;
    enum cap_format format;
    uint64_t index;
};

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

int cap_file_open(const char *path, struct cap_file **out, char *err, size_t errcap)
{
    if (!path || !out)
        return -EINVAL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        snprintf(err, errcap, "%s", strerror(e));
        return -e;
    }
    return cap_file_open_stream(fp, out, err, errcap);
}

int cap_file_next(struct cap_file *c, struct cap_frame *f, char *err, size_t errcap)
{
    struct pcap_pkthdr *h;
    const u_char *data;
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
    pcap_close(c->pcap);
    free(c);
}
