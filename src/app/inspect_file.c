/*
 * Raw message files. The rule (docs/inspect.md): a file is read the way a TCP stream is,
 * so one file may hold several messages back to back, each ended by its Content-Length
 * after the blank line, with CRLF keep-alives between them ignored. When stream framing
 * cannot find the end of the next message (no usable Content-Length, or fewer body bytes
 * than announced), the rest of the file is taken as one datagram (RFC 3261 §18.3: the body
 * is the rest of the datagram) and parsed as such, so that single messages without
 * Content-Length still parse and broken ones get the parser's own error and offset.
 */
#include <errno.h>

#include "inspect.h"
#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/msg.h"

static bool only_whitespace(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\t')
            return false;
    return true;
}

int inspect_raw(struct inspect_ctx *c, const char *path, const uint8_t *buf, size_t len)
{
    struct sip_framer fr;
    struct inspect_src src = {.file = path, .format = "raw", .tp = INSPECT_TP_FILE};
    size_t off = 0;
    unsigned found = 0;
    sip_framer_init(&fr);
    while (off < len) {
        struct sip_frame frame;
        int rc = sip_framer_next(&fr, buf + off, len - off, &frame);
        if (rc == 0) {
            if (frame.kind == SIP_FRAME_MESSAGE) {
                src.offset = off;
                inspect_message(c, &src, buf + off, frame.len, SIP_PARSE_STREAM);
                found++;
            } else {
                c->keepalives++;
            }
            off += frame.len;
            continue;
        }
        if (only_whitespace(buf + off, len - off))
            break;
        src.offset = off;
        inspect_message(c, &src, buf + off, len - off, SIP_PARSE_DATAGRAM);
        found++;
        break;
    }
    if (!found) {
        src.offset = 0;
        inspect_framing_error(c, &src, buf, len, len, "no SIP message in the file");
    }
    return 0;
}
