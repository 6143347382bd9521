/*
 * Minimal SDP (RFC 4566 §5): enough to see session/media connection addresses and
 * media ports, protocols and formats. Lines are "<type>=<value>" ended by CRLF or LF.
 */
#include <errno.h>
#include <string.h>

#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/sdp.h"
#include "sip_util.h"

int sip_sdp_word_next(struct slice *rest, struct slice *word)
{
    if (!rest->p)
        return 0;
    const char *p = rest->p, *end = rest->p + rest->len;
    while (p < end && *p == ' ')
        p++;
    if (p >= end) {
        *rest = slice_make(end, 0);
        return 0;
    }
    const char *w = p;
    while (p < end && *p != ' ')
        p++;
    *word = slice_range(w, p);
    *rest = slice_range(p, end);
    return 1;
}

/* "<nettype> <addrtype> <address>" as in c= and the tail of o=. */
static int parse_conn(struct sip_sdp_conn *c, struct slice v)
{
    memset(c, 0, sizeof(*c));
    if (sip_sdp_word_next(&v, &c->nettype) <= 0 || sip_sdp_word_next(&v, &c->addrtype) <= 0 ||
        sip_sdp_word_next(&v, &c->addr) <= 0)
        return -EBADMSG;
    struct slice extra;
    if (sip_sdp_word_next(&v, &extra) > 0)
        return -EBADMSG;
    if (slice_eq(c->addrtype, SLICE_LIT("IP4")))
        c->type = SIP_SDP_ADDR_IP4;
    else if (slice_eq(c->addrtype, SLICE_LIT("IP6")))
        c->type = SIP_SDP_ADDR_IP6;
    else
        c->type = SIP_SDP_ADDR_OTHER;
    return 0;
}

static int parse_media(struct sip_sdp_media *md, struct slice v)
{
    /* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
    struct slice port;
    memset(md, 0, sizeof(*md));
    if (sip_sdp_word_next(&v, &md->media) <= 0 || sip_sdp_word_next(&v, &port) <= 0 ||
        sip_sdp_word_next(&v, &md->proto) <= 0)
        return -EBADMSG;
    const char *slash = memchr(port.p, '/', port.len);
    uint64_t n = 1, pv;
    if (slash) {
        if (sip_parse_uint(slice_range(slash + 1, port.p + port.len), 65535, &n) < 0 || n == 0)
            return -EBADMSG;
        port = slice_range(port.p, slash);
    }
    if (sip_parse_uint(port, 65535, &pv) < 0)
        return -EBADMSG;
    md->port = (uint16_t)pv;
    md->nports = (uint16_t)n;
    struct slice rest = v;
    const char *p = rest.p, *end = rest.p + rest.len;
    while (p < end && *p == ' ')
        p++;
    md->fmts = slice_range(p, end);
    return 0;
}

static void extend(struct slice *s, const char *line, const char *next)
{
    if (!slice_present(*s))
        *s = slice_range(line, next);
    else
        s->len = (size_t)(next - s->p);
}

int sip_sdp_parse(struct sip_sdp *s, struct slice body)
{
    memset(s, 0, sizeof(*s));
    if (!body.p || body.len == 0)
        return -EBADMSG;
    const char *p = body.p, *end = body.p + body.len;
    unsigned lines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        const char *eol = nl ? nl : end;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (++lines > SIP_MAX_SDP_LINES)
            return -EMSGSIZE;
        if (eol == p) {
            p = next;
            continue; /* blank line (e.g. a trailing CRLF) */
        }
        if (eol - p < 2 || p[1] != '=')
            return -EBADMSG;
        char type = p[0];
        struct slice v = slice_range(p + 2, eol);
        if (lines == 1 && (type != 'v' || !slice_eq(v, SLICE_LIT("0"))))
            return -EBADMSG;
        struct sip_sdp_media *md = s->nmedia ? &s->media[s->nmedia - 1] : NULL;
        switch (type) {
        case 'v':
            s->version = v;
            break;
        case 'o': {
            struct slice w = v;
            s->origin = v;
            if (sip_sdp_word_next(&w, &s->o_username) <= 0 ||
                sip_sdp_word_next(&w, &s->o_sess_id) <= 0 ||
                sip_sdp_word_next(&w, &s->o_sess_version) <= 0 || parse_conn(&s->o_addr, w) < 0)
                return -EBADMSG;
            break;
        }
        case 's':
            s->session_name = v;
            break;
        case 't':
            s->timing = v;
            break;
        case 'c':
            if (parse_conn(md ? &md->conn : &s->conn, v) < 0)
                return -EBADMSG;
            break;
        case 'm':
            if (s->nmedia >= SIP_MAX_SDP_MEDIA)
                return -EMSGSIZE;
            if (parse_media(&s->media[s->nmedia], v) < 0)
                return -EBADMSG;
            s->nmedia++;
            break;
        case 'a':
            extend(md ? &md->attrs : &s->attrs, p, next);
            break;
        default:
            break;
        }
        p = next;
    }
    if (!slice_present(s->version))
        return -EBADMSG;
    return 0;
}

bool sip_sdp_attr(struct slice attrs, const char *name, unsigned n, struct slice *value)
{
    if (!attrs.p)
        return false;
    const char *p = attrs.p, *end = attrs.p + attrs.len;
    size_t nl_len = strlen(name);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        const char *eol = nl ? nl : end;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (eol - p >= 2 && p[0] == 'a' && p[1] == '=') {
            const char *a = p + 2;
            size_t alen = (size_t)(eol - a);
            if (alen >= nl_len && memcmp(a, name, nl_len) == 0 &&
                (alen == nl_len || a[nl_len] == ':')) {
                if (n == 0) {
                    *value = alen == nl_len ? SLICE_NULL : slice_range(a + nl_len + 1, eol);
                    return true;
                }
                n--;
            }
        }
        p = next;
    }
    return false;
}

const struct sip_sdp_conn *sip_sdp_media_conn(const struct sip_sdp *s, unsigned i)
{
    if (i >= s->nmedia)
        return NULL;
    if (s->media[i].conn.type != SIP_SDP_ADDR_NONE)
        return &s->media[i].conn;
    return s->conn.type != SIP_SDP_ADDR_NONE ? &s->conn : NULL;
}
