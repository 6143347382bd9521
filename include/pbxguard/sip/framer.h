/*
 * SIP stream framing for TCP/TLS (RFC 3261 §18.3, RFC 5626 §3.5.1), kept separate from
 * parsing: it only finds where each message ends (blank line + Content-Length) and
 * recognises CRLF keep-alives. The caller then hands exactly one frame to
 * sip_msg_parse(..., SIP_PARSE_STREAM).
 *
 * Usage: the connection keeps its unconsumed bytes contiguous in a buffer starting at
 * the first byte of the next frame. After each read, call sip_framer_next() with the
 * whole unconsumed region. -EAGAIN means "need more bytes": append and call again with
 * the same prefix (the framer remembers how far it scanned, so total work stays linear
 * in the bytes received, however they are split). On 0, the frame is buf[0..f->len);
 * consume those bytes and call again with the rest (the framer resets itself).
 *
 * struct sip_framer is caller storage (one per connection), no allocation, not
 * thread-safe (one connection, one thread). The buffer is never modified.
 */
#ifndef PBXGUARD_SIP_FRAMER_H
#define PBXGUARD_SIP_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"

enum sip_frame_kind {
    SIP_FRAME_NONE = 0,
    SIP_FRAME_MESSAGE, /* one SIP message: headers + Content-Length body */
    SIP_FRAME_PING,    /* "\r\n\r\n" keep-alive: answer with a CRLF pong */
    SIP_FRAME_PONG,    /* a lone "\r\n" keep-alive answer */
};

struct sip_frame {
    enum sip_frame_kind kind;
    size_t len;      /* bytes of the frame, to consume */
    size_t hdr_len;  /* MESSAGE: start line + headers + blank line */
    size_t body_len; /* MESSAGE: Content-Length */
};

struct sip_framer {
    size_t scan;    /* next offset to examine for the end of the header section */
    size_t hdr_len; /* 0 until the blank line is found */
    size_t body_len;
    uint64_t work;          /* bytes examined since init (for linearity checks and metrics) */
    size_t err_off;         /* on error: offset into buf */
    const char *err_reason; /* on error: static reason */
};

void sip_framer_init(struct sip_framer *f);

/*
 * Finds the next frame in buf[0..len). Returns:
 *   0        *out describes a complete frame at buf[0..out->len)
 *   -EAGAIN  incomplete; call again with more bytes appended (same prefix)
 *   -EBADMSG no/invalid/conflicting Content-Length, or garbage where a frame must start
 *   -EMSGSIZE header section longer than SIP_MAX_HDR_SECTION (detected as soon as that
 *            many bytes arrived without a blank line) or Content-Length above
 *            SIP_MAX_BODY_SIZE; the connection should be closed
 * After an error the framer state is undefined until sip_framer_init().
 */
PBX_WUR int sip_framer_next(struct sip_framer *f, const uint8_t *buf, size_t len,
                            struct sip_frame *out);

#endif
