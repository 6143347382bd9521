/*
 * Stream framer property: feeding the stream in pieces must give exactly the frames (and
 * the final verdict) that feeding it whole gives. Input format:
 *   [k = data[0] % 16] [k cut increments, one byte each] [the stream]
 * The pieces run makes bytes available up to each cut in turn, then the rest.
 * fuzz-requires: pbx_sip
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pbxguard/sip/framer.h"
#include "pbxguard/sip/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 256

struct run {
    struct sip_frame frames[MAX_FRAMES];
    size_t nframes;
    int final; /* -EAGAIN at the end of the input, or the error that stopped it */
};

/* Feeds buf[0..len) with bytes appearing up to each cut; cuts are absolute, ascending. */
static void frame_all(const uint8_t *buf, size_t len, const size_t *cuts, size_t ncuts,
                      struct run *r)
{
    struct sip_framer f;
    size_t base = 0, c = 0;
    size_t avail = ncuts ? cuts[0] : len;
    sip_framer_init(&f);
    r->nframes = 0;
    for (;;) {
        struct sip_frame fr;
        int rc = sip_framer_next(&f, buf + base, avail - base, &fr);
        if (rc == 0) {
            if (fr.len == 0 || fr.len > avail - base)
                __builtin_trap();
            if (r->nframes == MAX_FRAMES) {
                r->final = 1;
                return;
            }
            r->frames[r->nframes++] = fr;
            base += fr.len;
            continue;
        }
        if (rc == -EAGAIN && avail < len) {
            /* More bytes arrive: the next cut, or the rest of the stream. */
            c++;
            avail = c < ncuts ? cuts[c] : len;
            continue;
        }
        r->final = rc;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, pieces;
    size_t cuts[16];
    if (size < 1)
        return 0;
    size_t k = data[0] % 16;
    if (size < 1 + k)
        return 0;
    const uint8_t *stream = data + 1 + k;
    size_t len = size - 1 - k;
    size_t ncuts = 0, at = 0;
    for (size_t i = 0; i < k; i++) {
        at += data[1 + i];
        if (at >= len)
            break;
        cuts[ncuts++] = at;
    }
    frame_all(stream, len, NULL, 0, &whole);
    frame_all(stream, len, cuts, ncuts, &pieces);
    if (whole.final != pieces.final || whole.nframes != pieces.nframes)
        __builtin_trap();
    for (size_t i = 0; i < whole.nframes; i++)
        if (whole.frames[i].kind != pieces.frames[i].kind ||
            whole.frames[i].len != pieces.frames[i].len ||
            whole.frames[i].hdr_len != pieces.frames[i].hdr_len ||
            whole.frames[i].body_len != pieces.frames[i].body_len)
            __builtin_trap();
    return 0;
}
