/*
 * Minimal SDP reader: session and media lines, connection addresses, format lists and
 * attribute lookup.
 * fuzz-requires: pbx_sip
 */
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/sip/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(struct slice s)
{
    for (size_t i = 0; i < s.len; i++)
        sink += (uint8_t)s.p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sip_sdp s;
    struct slice v, w, rest;
    if (sip_sdp_parse(&s, slice_make(data, size)) != 0)
        return 0;
    if (s.nmedia > SIP_MAX_SDP_MEDIA)
        __builtin_trap();
    touch(s.version);
    touch(s.o_username);
    touch(s.o_addr.addr);
    touch(s.session_name);
    touch(s.timing);
    touch(s.conn.addr);
    /* Absent attribute sections are passed on purpose: the lookup must treat them as empty. */
    for (unsigned k = 0; k < 4 && sip_sdp_attr(s.attrs, "group", k, &v); k++)
        touch(v);
    for (unsigned i = 0; i < s.nmedia; i++) {
        touch(s.media[i].media);
        touch(s.media[i].proto);
        rest = s.media[i].fmts;
        while (sip_sdp_word_next(&rest, &w) == 1)
            touch(w);
        for (unsigned k = 0; k < 8 && sip_sdp_attr(s.media[i].attrs, "rtpmap", k, &v); k++)
            touch(v);
        if (sip_sdp_attr(s.media[i].attrs, "sendrecv", 0, &v))
            sink++;
        const struct sip_sdp_conn *c = sip_sdp_media_conn(&s, i);
        if (c)
            touch(c->addr);
    }
    return 0;
}
