/*
 * pbxguard inspect: shared state and the pieces cmd_inspect.c is made of.
 *   inspect_out.c      one parsed message -> text block or JSON line
 *   inspect_file.c     raw message files (stream framing rule, see docs/inspect.md)
 *   inspect_capture.c  pcap/pcapng: decode, defragment, rebuild TCP, frame, report
 */
#ifndef PBXGUARD_APP_INSPECT_H
#define PBXGUARD_APP_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/core/json.h"

/* Version of the --json record layout; bump on incompatible changes (docs/inspect.md). */
#define INSPECT_SCHEMA "pbxguard-inspect/1"

struct inspect_ctx {
    bool json;
    FILE *out;
    struct json_writer jw;
    /* Totals for the summary line and the exit code. */
    uint64_t files;
    uint64_t messages;
    uint64_t valid;
    uint64_t invalid;
    uint64_t non_sip;    /* UDP payloads / TCP streams that are not SIP */
    uint64_t keepalives; /* CRLF and NUL keep-alives */
    uint64_t bad_frames; /* frames that could not be decoded */
    uint64_t io_errors;
};

enum inspect_transport {
    INSPECT_TP_FILE,
    INSPECT_TP_UDP,
    INSPECT_TP_TCP,
};

/* Where a message came from. */
struct inspect_src {
    const char *file;
    const char *format; /* "raw", "pcap", "pcapng" */
    enum inspect_transport tp;
    uint64_t frame;       /* capture: frame that completed the message; 0 for raw files */
    uint64_t first_frame; /* capture: frame holding its first byte */
    uint64_t offset;      /* byte offset in the file (raw) or in the TCP stream */
    uint64_t flow;        /* TCP flow number within the capture, 0 otherwise */
    bool reassembled;     /* from IP fragments */
    const struct pbx_addr *src;
    const struct pbx_addr *dst;
    int64_t ts_us;
};

/*
 * Parses buf[0..len) (sip_msg_parse flags) and prints the result. Returns true when the
 * message is valid. Counts into c.
 */
bool inspect_message(struct inspect_ctx *c, const struct inspect_src *s, const uint8_t *buf,
                     size_t len, unsigned flags);

/*
 * Reports bytes that could not be framed as a message (no parse result to show): reason at
 * byte err_off of buf[0..len). Counts one invalid message.
 */
void inspect_framing_error(struct inspect_ctx *c, const struct inspect_src *s, const uint8_t *buf,
                           size_t len, size_t err_off, const char *reason);

/* True for keep-alives: only CR/LF bytes, or NUL bytes. */
bool inspect_is_keepalive(const uint8_t *p, size_t n);

/* Raw file held in buf. Returns 0, or -errno on an I/O error (already reported). */
int inspect_raw(struct inspect_ctx *c, const char *path, const uint8_t *buf, size_t len);
/* Capture file. Returns 0, or -errno on an I/O error (already reported). */
int inspect_capture(struct inspect_ctx *c, const char *path);

#endif
