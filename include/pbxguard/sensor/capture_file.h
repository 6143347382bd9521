/*
 * Offline reading of pcap and pcapng capture files. A regular classic-pcap file opened by
 * path is read by a buffered reader of its own (4 MiB read(2) calls, no copy per frame);
 * pcapng files and streams go through libpcap. Both give the same frames, timestamps
 * (microseconds; nanosecond files are truncated) and errors for damaged records.
 *
 * Ownership: cap_file_open() returns a reader the caller frees with cap_file_close().
 * A frame's data pointer is owned by the reader and valid until the next cap_file_next()
 * or cap_file_close(). Not thread-safe: one reader per thread.
 */
#ifndef PBXGUARD_SENSOR_CAPTURE_FILE_H
#define PBXGUARD_SENSOR_CAPTURE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/sensor/pkt_decode.h"

enum cap_format {
    CAP_FORMAT_NONE = 0,
    CAP_FORMAT_PCAP,   /* classic libpcap, micro- or nanosecond, either byte order */
    CAP_FORMAT_PCAPNG, /* section header block 0x0A0D0D0A */
};

/* Identifies a capture file by its first bytes (at least 4 needed). */
enum cap_format cap_format_detect(const uint8_t *head, size_t len);
const char *cap_format_name(enum cap_format f);

struct cap_frame {
    const uint8_t *data;
    size_t caplen;  /* bytes captured */
    size_t wirelen; /* bytes on the wire */
    int64_t ts_us;
    uint64_t index; /* 1-based frame number in the file */
};

struct cap_file;

/*
 * Opens path for reading. On failure returns a negative errno (-ENOENT and friends from
 * the open, -EBADMSG for a file libpcap does not accept, -EPROTONOSUPPORT for a link type
 * pkt_decode() does not handle) and writes a NUL-terminated reason into err (errcap bytes).
 */
PBX_WUR int cap_file_open(const char *path, struct cap_file **out, char *err, size_t errcap);

/* Same on an open stream; the reader takes ownership of fp (closed by cap_file_close()). */
PBX_WUR int cap_file_open_stream(FILE *fp, struct cap_file **out, char *err, size_t errcap);

/*
 * Reads the next frame. Returns 0 with *f set, -ENOENT at the end of the file, -EBADMSG on
 * a damaged record (reason in err; reading stops there).
 */
PBX_WUR int cap_file_next(struct cap_file *c, struct cap_frame *f, char *err, size_t errcap);

/* Link layer of the frames. */
enum pkt_link cap_file_link(const struct cap_file *c);
enum cap_format cap_file_format(const struct cap_file *c);

void cap_file_close(struct cap_file *c);

#endif
