/*
 * Stream framing (RFC 3261 §18.3): a message ends after the blank line plus
 * Content-Length body bytes. Keep-alives per RFC 5626 §3.5.1. The scan position is kept
 * across calls so that bytes arriving one at a time are each examined a bounded number
 * of times.
 */
#include <errno.h>
#include <string.h>

#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/limits.h"
#include "sip_util.h"

void sip_framer_init(struct sip_framer *f)
{
    memset(f, 0, sizeof(*f));
}

static int ferr(struct sip_framer *f, int err, size_t off, const char *reason)
{
    f->err_off = off;
    f->err_reason = reason;
    return err;
}

static void reset_frame(struct sip_framer *f)
{
    f->scan = 0;
    f->hdr_len = 0;
    f->body_len = 0;
}

/*
 * Looks for the blank line from f->scan. Returns 1 and sets f->hdr_len when found,
 * 0 when more bytes are needed (f->scan advanced to where the search resumes).
 */
static int find_blank_line(struct sip_framer *f, const char *b, size_t len)
{
    /* A header section ending beyond the cap is refused anyway, so bytes past it are
     * never examined: an attacker cannot make one call scan more than the cap. */
    if (len > SIP_MAX_HDR_SECTION)
        len = SIP_MAX_HDR_SECTION;
    size_t i = f->scan;
    while (i < len) {
        const char *nl = memchr(b + i, '\n', len - i);
        if (!nl) {
            f->work += len - i;
            i = len;
            break;
        }
        size_t at = (size_t)(nl - b);
        f->work += at - i + 1;
        /* The line after this LF is empty if it is "\n" or "\r\n". */
        if (at + 1 >= len || (b[at + 1] == '\r' && at + 2 >= len)) {
            i = at; /* re-examine this LF when more bytes arrive */
            f->scan = i;
            return 0;
        }
        if (b[at + 1] == '\n') {
            f->hdr_len = at + 2;
            return 1;
        }
        if (b[at + 1] == '\r' && b[at + 2] == '\n') {
            f->hdr_len = at + 3;
            return 1;
        }
        i = at + 1;
    }
    f->scan = i;
    return 0;
}

/* Finds Content-Length (or "l") in the header section b[0..hdr_len). */
static int find_content_length(struct sip_framer *f, const char *b, size_t hdr_len)
{
    const char *p = b, *end = b + hdr_len;
    bool found = false;
    uint64_t cl = 0;
    /* Skip the start line. */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        const char *n = p;
        while (n < nl && CC_IS(*n, CC_TOKEN))
            n++;
        struct slice name = slice_range(p, n);
        const char *c = n;
        while (c < nl && CC_IS(*c, CC_WS))
            c++;
        if (name.len && c < nl && *c == ':' &&
            (SLICE_IS(name, "content-length") || SLICE_IS(name, "l"))) {
            /* The value may continue on folded lines. */
            const char *ve = nl;
            while (ve + 1 < end && CC_IS(ve[1], CC_WS)) {
                const char *n2 = memchr(ve + 1, '\n', (size_t)(end - ve - 1));
                if (!n2)
                    break;
                ve = n2;
            }
            struct slice v = trim_lws(slice_range(c + 1, ve));
            uint64_t val;
            int rc = sip_parse_uint(v, SIP_MAX_MSG_SIZE, &val);
            if (rc == -ERANGE)
                return ferr(f, -EMSGSIZE, (size_t)(v.p - b), "Content-Length too large");
            if (rc < 0)
                return ferr(f, -EBADMSG, (size_t)(v.p - b), "bad Content-Length");
            if (found && val != cl)
                return ferr(f, -EBADMSG, (size_t)(v.p - b), "conflicting Content-Length");
            found = true;
            cl = val;
            nl = ve;
        }
        p = nl + 1;
    }
    if (!found)
        return ferr(f, -EBADMSG, hdr_len, "missing Content-Length");
    if (cl > SIP_MAX_BODY_SIZE)
        return ferr(f, -EMSGSIZE, hdr_len, "Content-Length too large");
    f->body_len = (size_t)cl;
    return 0;
}

int sip_framer_next(struct sip_framer *f, const uint8_t *buf, size_t len, struct sip_frame *out)
{
    const char *b = (const char *)buf;
    out->kind = SIP_FRAME_NONE;
    out->len = out->hdr_len = out->body_len = 0;
    if (len == 0)
        return -EAGAIN;
    if (!buf)
        return ferr(f, -EINVAL, 0, "no buffer");
    if (f->hdr_len == 0) {
        if (f->scan == 0 && (b[0] == '\r' || b[0] == '\n')) {
            /* RFC 5626 §3.5.1: CRLFCRLF ping, CRLF pong, between messages only. */
            if (b[0] == '\n')
                return ferr(f, -EBADMSG, 0, "stray LF between messages");
            if (len < 2)
                return -EAGAIN;
            if (b[1] != '\n')
                return ferr(f, -EBADMSG, 1, "stray CR between messages");
            if (len < 4) {
                if (len == 2 || b[2] == '\r')
                    return -EAGAIN;
            } else if (b[2] == '\r' && b[3] == '\n') {
                f->work += 4;
                out->kind = SIP_FRAME_PING;
                out->len = 4;
                return 0;
            }
            f->work += 2;
            out->kind = SIP_FRAME_PONG;
            out->len = 2;
            return 0;
        }
        if (!find_blank_line(f, b, len)) {
            if (len >= SIP_MAX_HDR_SECTION)
                return ferr(f, -EMSGSIZE, SIP_MAX_HDR_SECTION, "header section too long");
            return -EAGAIN;
        }
        if (f->hdr_len > SIP_MAX_HDR_SECTION)
            return ferr(f, -EMSGSIZE, SIP_MAX_HDR_SECTION, "header section too long");
        int rc = find_content_length(f, b, f->hdr_len);
        if (rc < 0)
            return rc;
        f->work += f->hdr_len;
    }
    if (len - f->hdr_len < f->body_len)
        return -EAGAIN;
    out->kind = SIP_FRAME_MESSAGE;
    out->hdr_len = f->hdr_len;
    out->body_len = f->body_len;
    out->len = f->hdr_len + f->body_len;
    reset_frame(f);
    return 0;
}
