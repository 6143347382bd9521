/*
 * sip_msg_parse(): one linear pass over the start line and header lines of a SIP
 * message (RFC 3261 §7), indexing every header, then the few eager checks that framing
 * and header-confusion defence need. Typed headers are otherwise parsed lazily.
 */
#include <errno.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hdr_table.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"
#include "sip_util.h"

/* Headers RFC 3261 §20 allows once; a second copy is flagged (or refused when strict). */
static const uint8_t singleton[SIP_HDR_COUNT] = {
    [SIP_HDR_CALL_ID] = 1,
    [SIP_HDR_CSEQ] = 1,
    [SIP_HDR_FROM] = 1,
    [SIP_HDR_TO] = 1,
    [SIP_HDR_MAX_FORWARDS] = 1,
    [SIP_HDR_CONTENT_LENGTH] = 1,
    [SIP_HDR_CONTENT_TYPE] = 1,
    [SIP_HDR_EXPIRES] = 1,
    [SIP_HDR_MIN_EXPIRES] = 1,
    [SIP_HDR_DATE] = 1,
    [SIP_HDR_MIME_VERSION] = 1,
    [SIP_HDR_ORGANIZATION] = 1,
    [SIP_HDR_PRIORITY] = 1,
    [SIP_HDR_REPLY_TO] = 1,
    [SIP_HDR_RETRY_AFTER] = 1,
    [SIP_HDR_SERVER] = 1,
    [SIP_HDR_SUBJECT] = 1,
    [SIP_HDR_TIMESTAMP] = 1,
    [SIP_HDR_USER_AGENT] = 1,
    [SIP_HDR_RSEQ] = 1,
    [SIP_HDR_RACK] = 1,
    [SIP_HDR_SESSION_EXPIRES] = 1,
    [SIP_HDR_MIN_SE] = 1,
    [SIP_HDR_REFER_TO] = 1,
    [SIP_HDR_REFERRED_BY] = 1,
    [SIP_HDR_EVENT] = 1,
    [SIP_HDR_SUBSCRIPTION_STATE] = 1,
    [SIP_HDR_CONTENT_DISPOSITION] = 1,
    [SIP_HDR_IDENTITY] = 1,
    [SIP_HDR_REPLACES] = 1,
};

struct parse_ctx {
    struct sip_msg *m;
    const char *base;
    const char *end;
    unsigned flags;
};

static int fail(struct parse_ctx *c, int err, const char *at, const char *reason)
{
    c->m->err_off = at ? (size_t)(at - c->base) : 0;
    c->m->err_reason = reason;
    return err;
}

static void anom(struct sip_msg *m, enum sip_anomaly a)
{
    m->anomalies |= ANOM_BIT(a);
}

/* RFC 3261 §7.1: SIP-Version is case-insensitive; only 2.0 is spoken. */
static bool version_ok(struct slice v)
{
    return SLICE_IS(v, "sip/2.0");
}

/* Length of a valid UTF-8 sequence at p, or 0 when invalid (RFC 3629). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    unsigned cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/*
 * Index of the first flagged byte of a word loaded from memory. Little-endian: the lowest
 * set bit (the borrow tricks below can only add false hits above a true one). Elsewhere
 * 0, so the caller simply walks the word byte by byte.
 */
static inline unsigned first_hit(uint64_t hit)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (unsigned)__builtin_ctzll(hit) >> 3;
#else
    (void)hit;
    return 0;
#endif
}

/*
 * Finds the end of the line starting at p: returns the LF position (or NULL when no
 * complete line is present) and sets *eol to the end of the content (before CR LF).
 * Control and non-UTF-8 bytes are noted as anomalies. One pass, eight bytes per step:
 * a word is examined byte by byte only from its first byte below 0x20 or above 0x7e.
 */
SIP_HOT static const char *line_end(struct sip_msg *m, const char *p, const char *end,
                                    const char **eol)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t del = ones * 0x7f;
    while (p < end) {
#if defined(__SSE2__)
        /* Sixteen bytes per step: a signed compare below 0x20 also catches 0x80..0xff. */
        if (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i odd = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                                       _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
            unsigned hit = (unsigned)_mm_movemask_epi8(odd);
            if (!hit) {
                p += 16;
                continue;
            }
            p += __builtin_ctz(hit);
        } else
#endif
            if (end - p >= 8) {
            uint64_t x, y, hit;
            memcpy(&x, p, 8);
            y = x ^ del;
            /* Bytes < 0x20, == 0x7f or >= 0x80. The lowest set bit is always exact. */
            hit = (((x - ones * 0x20) & ~x) | ((y - ones) & ~y) | x) & highs;
            if (!hit) {
                p += 8;
                continue;
            }
            p += first_hit(hit);
        }
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch < 0x7f) {
            p++;
            continue;
        }
        if (ch == '\n') {
            anom(m, SIP_ANOM_BARE_LF);
            *eol = p;
            return p;
        }
        if (ch == '\r') {
            if (p + 1 >= end)
                return NULL;
            if (p[1] == '\n') {
                *eol = p;
                return p + 1;
            }
            anom(m, SIP_ANOM_CTRL_CHAR); /* a CR not followed by LF */
            p++;
            continue;
        }
        if (ch == '\t') {
            p++;
            continue;
        }
        if (ch >= 0x80) {
            size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (n == 0) {
                anom(m, SIP_ANOM_NON_UTF8);
                n = 1;
            }
            p += n;
            continue;
        }
        anom(m, SIP_ANOM_CTRL_CHAR); /* NUL, DEL and the other controls */
        p++;
    }
    return NULL;
}

/*
 * line_end() for header values, inlined into the header loop: whole blocks of printable
 * ASCII are skipped and the usual CR LF is taken at once; anything else (a control, a
 * non-ASCII byte, a bare CR or LF, a short tail) goes to line_end() from that byte, which
 * is where line_end() itself would have got to.
 */
static inline __attribute__((always_inline)) const char *
line_end_fast(struct sip_msg *m, const char *p, const char *end, const char **eol)
{
#if defined(__SSE2__)
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i odd = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                                   _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
        unsigned hit = (unsigned)_mm_movemask_epi8(odd);
        if (!hit) {
            p += 16;
            continue;
        }
        p += __builtin_ctz(hit);
        if (p[0] == '\r' && p + 1 < end && p[1] == '\n') {
            *eol = p;
            return p + 1;
        }
        break;
    }
#endif
    return line_end(m, p, end, eol);
}

static int parse_request_line(struct parse_ctx *c, const char *p, const char *eol)
{
    struct sip_msg *m = c->m;
    const char *q = p;
    while (q < eol && CC_IS(*q, CC_TOKEN))
        q++;
    if (q == p || q >= eol || *q != ' ')
        return fail(c, -EBADMSG, q, "bad method");
    if ((size_t)(q - p) > SIP_MAX_METHOD_LEN)
        return fail(c, -EMSGSIZE, p, "method too long");
    m->method_name = slice_range(p, q);
    m->method = sip_method_lookup(m->method_name);
    if (m->method == SIP_METHOD_UNKNOWN)
        anom(m, SIP_ANOM_UNKNOWN_METHOD);
    m->is_request = true;

    /* RFC 3261 §7.1: exactly one SP between the elements; the URI holds no whitespace. */
    const char *u = q + 1;
    const char *ue = memchr(u, ' ', (size_t)(eol - u));
    if (!ue)
        return fail(c, -EBADMSG, eol, "missing SIP-Version");
    if (ue == u)
        return fail(c, -EBADMSG, u, "empty Request-URI");
    m->ruri_raw = slice_range(u, ue);
    m->version = slice_range(ue + 1, eol);
    if (!version_ok(m->version))
        return fail(c, -EBADMSG, ue + 1, "bad SIP-Version");
    if (m->ruri_raw.len > SIP_MAX_URI_LEN)
        return fail(c, -EMSGSIZE, u, "Request-URI too long");
    int rc = sip_uri_parse(&m->ruri, m->ruri_raw);
    m->anomalies |= m->ruri.anomalies;
    if (rc < 0)
        return fail(c, rc, u + m->ruri.err_off, "bad Request-URI");
    if (m->ruri.scheme == SIP_URI_SIP || m->ruri.scheme == SIP_URI_SIPS) {
        /* RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI. */
        if (slice_present(m->ruri.headers))
            return fail(c, -EBADMSG, m->ruri.headers.p - 1, "headers in Request-URI");
        if (memchr(m->ruri.user.p ? m->ruri.user.p : u, '%',
                   m->ruri.user.p ? m->ruri.user.len : 0) ||
            memchr(m->ruri.host.p, '%', m->ruri.host.len))
            anom(m, SIP_ANOM_RURI_ESCAPED);
    }
    return 0;
}

static int parse_status_line(struct parse_ctx *c, const char *p, const char *eol)
{
    struct sip_msg *m = c->m;
    const char *sp = memchr(p, ' ', (size_t)(eol - p));
    if (!sp || !version_ok(slice_range(p, sp)))
        return fail(c, -EBADMSG, p, "bad SIP-Version");
    m->version = slice_range(p, sp);
    const char *d = sp + 1;
    if (eol - d < 3 || !CC_IS(d[0], CC_DIGIT) || !CC_IS(d[1], CC_DIGIT) || !CC_IS(d[2], CC_DIGIT) ||
        (d + 3 < eol && d[3] != ' '))
        return fail(c, -EBADMSG, d, "bad status code");
    int code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    if (code < 100 || code > 699)
        return fail(c, -EBADMSG, d, "bad status code");
    m->status = code;
    if (d + 3 >= eol) {
        m->reason = slice_make(eol, 0);
        anom(m, SIP_ANOM_EMPTY_REASON);
    } else {
        m->reason = slice_range(d + 4, eol);
        if (m->reason.len == 0)
            anom(m, SIP_ANOM_EMPTY_REASON);
        if (m->reason.len > SIP_MAX_REASON_LEN)
            return fail(c, -EMSGSIZE, d + 4, "reason phrase too long");
    }
    m->is_request = false;
    return 0;
}

/* Numeric value, noting leading zeros; same returns as sip_parse_uint(). */
static int parse_num(struct sip_msg *m, struct slice s, uint64_t max, uint64_t *out)
{
    int rc = sip_parse_uint(s, max, out);
    if (rc == 0 && s.len > 1 && s.p[0] == '0')
        anom(m, SIP_ANOM_LEADING_ZEROS);
    return rc;
}

static int on_content_length(struct parse_ctx *c, const struct sip_hdr *h)
{
    struct sip_msg *m = c->m;
    uint64_t v;
    int rc = parse_num(m, h->value, SIP_MAX_MSG_SIZE, &v);
    if (rc == -ERANGE)
        return fail(c, -EMSGSIZE, h->value.p, "Content-Length too large");
    if (rc < 0)
        return fail(c, -EBADMSG, h->value.p, "bad Content-Length");
    if (m->content_length >= 0) {
        if ((uint64_t)m->content_length != v)
            return fail(c, -EBADMSG, h->value.p, "conflicting Content-Length");
        anom(m, SIP_ANOM_MULTI_CL_VALUES);
        return 0;
    }
    if (v > SIP_MAX_BODY_SIZE)
        return fail(c, -EMSGSIZE, h->value.p, "Content-Length too large");
    m->content_length = (int64_t)v;
    return 0;
}

static int on_cseq(struct parse_ctx *c, const struct sip_hdr *h)
{
    struct sip_msg *m = c->m;
    struct sip_cseq cs;
    int rc = sip_cseq_parse(&cs, h->value);
    if (rc < 0)
        return fail(c, -EBADMSG, h->value.p, "bad CSeq");
    if (m->count[SIP_HDR_CSEQ] > 1) {
        if (cs.num != m->cseq_num || !slice_eq(cs.method_name, m->cseq_method_name))
            return fail(c, -EBADMSG, h->value.p, "conflicting CSeq");
        return 0;
    }
    if (h->value.len > 1 && h->value.p[0] == '0' && CC_IS(h->value.p[1], CC_DIGIT))
        anom(m, SIP_ANOM_LEADING_ZEROS);
    m->cseq_num = cs.num;
    m->cseq_method = cs.method;
    m->cseq_method_name = cs.method_name;
    return 0;
}

static int on_max_forwards(struct parse_ctx *c, const struct sip_hdr *h)
{
    struct sip_msg *m = c->m;
    uint64_t v;
    /* RFC 3261 §20.22: 0..255 in practice (§8.1.1.6 starts at 70). */
    if (parse_num(m, h->value, SIP_MAX_MAXFWD, &v) < 0)
        return fail(c, -EBADMSG, h->value.p, "bad Max-Forwards");
    if (m->max_forwards < 0)
        m->max_forwards = (int)v;
    return 0;
}

/* Same value bytes, ignoring LWS differences at the edges only. */
static bool same_value(const struct sip_msg *m, enum sip_hdr_id id, const struct sip_hdr *h)
{
    return slice_eq(m->hdrs[m->first[id]].value, h->value);
}

static bool date_ok(struct slice v)
{
    /* RFC 3261 §20.17 / RFC 1123: "Sat, 13 Nov 2010 23:29:00 GMT", GMT only. */
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (v.len != 29)
        return false;
    const char *p = v.p;
    bool found = false;
    for (unsigned i = 0; i < 7; i++)
        found |= memcmp(p, days[i], 3) == 0;
    if (!found || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
        p[19] != ':' || p[22] != ':' || p[25] != ' ' || memcmp(p + 26, "GMT", 3) != 0)
        return false;
    found = false;
    for (unsigned i = 0; i < 12; i++)
        found |= memcmp(p + 8, months[i], 3) == 0;
    static const uint8_t digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
    for (unsigned i = 0; i < sizeof(digits); i++)
        if (!CC_IS(p[digits[i]], CC_DIGIT))
            return false;
    return found;
}

static int on_header(struct parse_ctx *c, struct sip_hdr *h)
{
    struct sip_msg *m = c->m;
    enum sip_hdr_id id = (enum sip_hdr_id)h->id;
    if (m->count[id] > 1 && singleton[id]) {
        anom(m, SIP_ANOM_DUP_SINGLETON);
        if (id == SIP_HDR_CALL_ID || id == SIP_HDR_FROM || id == SIP_HDR_TO) {
            if (!same_value(m, id, h))
                return fail(c, -EBADMSG, h->name.p, "conflicting duplicate header");
        }
        if ((c->flags & SIP_PARSE_STRICT) && id != SIP_HDR_CONTENT_LENGTH)
            return fail(c, -EBADMSG, h->name.p, "duplicate header");
    }
    switch (id) {
    case SIP_HDR_CONTENT_LENGTH:
        return on_content_length(c, h);
    case SIP_HDR_CSEQ:
        return on_cseq(c, h);
    case SIP_HDR_MAX_FORWARDS:
        return on_max_forwards(c, h);
    case SIP_HDR_CALL_ID:
        if (m->count[id] == 1) {
            if (h->value.len == 0)
                return fail(c, -EBADMSG, h->name.p, "empty Call-ID");
            m->call_id = h->value;
            if (h->value.len > SIP_LONG_CALL_ID)
                anom(m, SIP_ANOM_LONG_CALL_ID);
        }
        return 0;
    case SIP_HDR_DATE:
        if (!date_ok(h->value))
            anom(m, SIP_ANOM_BAD_DATE);
        return 0;
    case SIP_HDR_EXPIRES:
    case SIP_HDR_MIN_EXPIRES: {
        /* RFC 3261 §20.19: delta-seconds. Tolerated but flagged: a registrar reading an
         * overlarge or garbled value may wrap it (RFC 4475 §3.1.2.4). */
        uint64_t v;
        if (sip_parse_uint(h->value, SIP_MAX_EXPIRES, &v) < 0)
            anom(m, SIP_ANOM_UNPARSED_HEADER);
        return 0;
    }
    default:
        return 0;
    }
}

/* Walks the header lines; returns the byte after the blank line through *body. */
static int parse_headers(struct parse_ctx *c, const char *p, const char **body)
{
    struct sip_msg *m = c->m;
    const char *end = c->end;
    bool stream = c->flags & SIP_PARSE_STREAM;
    for (;;) {
        if ((size_t)(p - c->base) > SIP_MAX_HDR_SECTION)
            return fail(c, -EMSGSIZE, p, "header section too long");
        if (p >= end)
            return fail(c, stream ? -EAGAIN : -EBADMSG, p, "header section not terminated");
        if (*p == '\r') {
            if (p + 1 >= end)
                return fail(c, stream ? -EAGAIN : -EBADMSG, p, "header section not terminated");
            if (p[1] == '\n') {
                /* Same limit as the stream framer: the whole section, blank line included. */
                if ((size_t)(p + 2 - c->base) > SIP_MAX_HDR_SECTION)
                    return fail(c, -EMSGSIZE, p, "header section too long");
                *body = p + 2;
                return 0;
            }
            return fail(c, -EBADMSG, p, "bad line end");
        }
        if (*p == '\n') {
            anom(m, SIP_ANOM_BARE_LF);
            if ((size_t)(p + 1 - c->base) > SIP_MAX_HDR_SECTION)
                return fail(c, -EMSGSIZE, p, "header section too long");
            *body = p + 1;
            return 0;
        }
        /* Header name: a token, then optional whitespace, then ':' (RFC 3261 §7.3.1). */
        const char *q = p;
        enum sip_hdr_id id = SIP_HDR_OTHER;
        bool compact = false;
#if defined(__SSE2__)
        /*
         * Fast path for a known name written right before the colon: the name found by one
         * compare of sixteen bytes with ':' is classified and confirmed in full, and a known
         * name is made of letters and '-' only, so it is a valid token.
         */
        if (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            unsigned hit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
            if (hit) {
                unsigned n = (unsigned)__builtin_ctz(hit);
                if (n > 0) {
                    id = sip_hdr_classify16(p, n, &compact);
                    if (id != SIP_HDR_OTHER)
                        q = p + n;
                }
            }
        }
#endif
        if (q == p) {
            while (q < end && CC_IS(*q, CC_TOKEN))
                q++;
            if (q > p && (size_t)(q - p) <= SIP_MAX_HDR_NAME_LEN)
                id = sip_hdr_classify(p, (size_t)(q - p), &compact);
        }
        if (q == p) {
            if (CC_IS(*p, CC_WS))
                return fail(c, -EBADMSG, p, "folded line without header");
            return fail(c, -EBADMSG, p, "bad header name");
        }
        if ((size_t)(q - p) > SIP_MAX_HDR_NAME_LEN)
            return fail(c, -EMSGSIZE, p, "header name too long");
        struct slice name = slice_range(p, q);
        if (q < end && CC_IS(*q, CC_WS)) {
            anom(m, SIP_ANOM_WS_BEFORE_COLON);
            while (q < end && CC_IS(*q, CC_WS))
                q++;
        }
        if (q >= end)
            return fail(c, stream ? -EAGAIN : -EBADMSG, q, "header section not terminated");
        if (*q != ':')
            return fail(c, -EBADMSG, q, "missing colon in header");
        const char *v = q + 1;
        const char *scan = v, *eol = NULL, *nl;
        bool folded = false;
        for (;;) {
            nl = line_end_fast(m, scan, end, &eol);
            if (!nl)
                return fail(c, stream ? -EAGAIN : -EBADMSG, p, "header section not terminated");
            /* RFC 3261 §7.3.1: a line starting with SP/HT continues the value. */
            if (nl + 1 < end && CC_IS(nl[1], CC_WS)) {
                folded = true;
                scan = nl + 1;
                continue;
            }
            if (nl + 1 >= end && stream)
                return fail(c, -EAGAIN, p, "header section not terminated");
            break;
        }
        if ((size_t)(eol - p) > SIP_MAX_LINE_LEN)
            return fail(c, -EMSGSIZE, p, "header line too long");
        if (m->nhdrs >= SIP_MAX_HEADERS)
            return fail(c, -EMSGSIZE, p, "too many headers");
        struct sip_hdr *h = &m->hdrs[m->nhdrs];
        h->name = name;
        h->value = trim_lws(slice_range(v, eol));
        h->id = (uint16_t)id;
        h->next = SIP_HDR_END;
        h->off = (uint32_t)(p - c->base);
        h->compact = compact;
        h->folded = folded;
        if (folded)
            anom(m, SIP_ANOM_LWS_FOLD);
        if (compact)
            anom(m, SIP_ANOM_COMPACT_FORM);
        if (h->value.len == 0)
            anom(m, SIP_ANOM_EMPTY_VALUE);
        if (m->first[id] == SIP_HDR_END)
            m->first[id] = m->nhdrs;
        else
            m->hdrs[m->last[id]].next = m->nhdrs;
        m->last[id] = m->nhdrs;
        m->count[id]++;
        m->nhdrs++;
        int rc = on_header(c, h);
        if (rc < 0)
            return rc;
        p = nl + 1;
    }
}

static int check_vias(struct parse_ctx *c)
{
    struct sip_msg *m = c->m;
    struct sip_value_iter it;
    struct slice item;
    int rc;
    sip_value_iter_init(&it, m, SIP_HDR_VIA);
    while ((rc = sip_value_next(&it, &item)) > 0) {
        if (++m->via_count > SIP_MAX_VIA)
            return fail(c, -EMSGSIZE, item.p, "too many Via values");
        if (m->via_count <= SIP_MSG_VIA_CACHE)
            m->via_items[m->via_count - 1] = item;
        if (m->via_count == 1) {
            struct sip_via *v = &m->via0;
            int vr = sip_via_parse(v, item);
            if (vr < 0)
                return fail(c, vr == -EMSGSIZE ? vr : -EBADMSG, item.p, "bad Via");
            m->anomalies |= v->anomalies;
            if (!slice_present(v->branch))
                anom(m, SIP_ANOM_VIA_NO_BRANCH);
        }
    }
    if (rc < 0)
        return fail(c, rc == -EMSGSIZE ? rc : -EBADMSG, m->hdrs[m->first[SIP_HDR_VIA]].value.p,
                    "bad Via");
    if (m->via_count == 0)
        return fail(c, -EBADMSG, m->hdrs[m->first[SIP_HDR_VIA]].name.p, "empty Via");
    return 0;
}

static int check_addr(struct parse_ctx *c, enum sip_hdr_id id, struct sip_name_addr *na)
{
    const struct sip_hdr *h = &c->m->hdrs[c->m->first[id]];
    int rc = sip_name_addr_parse(na, h->value);
    if (rc < 0)
        return fail(c, rc == -EMSGSIZE ? rc : -EBADMSG, h->value.p,
                    id == SIP_HDR_FROM ? "bad From" : "bad To");
    c->m->anomalies |= na->anomalies;
    return 0;
}

/*
 * Every Contact value must parse: RFC 4475 §3.1.2.13 (an addr-spec carrying URI headers
 * or ';' ambiguity) is refused rather than guessed, since the registrar and this parser
 * could otherwise bind different addresses.
 */
static int check_contacts(struct parse_ctx *c, unsigned *ncontacts)
{
    struct sip_msg *m = c->m;
    struct sip_value_iter it;
    struct slice item;
    struct sip_name_addr spare;
    int rc;
    unsigned n = 0;
    bool star = false;
    sip_value_iter_init(&it, m, SIP_HDR_CONTACT);
    while ((rc = sip_value_next(&it, &item)) > 0) {
        /* The first few are parsed straight into the cache sip_msg_contact() reads. */
        struct sip_name_addr *na = n < SIP_MSG_CONTACT_CACHE ? &m->contacts[n] : &spare;
        int pr = sip_name_addr_parse(na, item);
        if (pr < 0)
            return fail(c, pr == -EMSGSIZE ? pr : -EBADMSG, item.p, "bad Contact");
        /* RFC 3261 §10.2.2: "*" only alone. */
        if (n > 0 && (na->star || star))
            return fail(c, -EBADMSG, item.p, "Contact * mixed with other values");
        star = na->star;
        m->anomalies |= na->anomalies;
        n++;
    }
    if (rc < 0)
        return fail(c, rc == -EMSGSIZE ? rc : -EBADMSG, m->hdrs[m->first[SIP_HDR_CONTACT]].value.p,
                    "bad Contact");
    *ncontacts = n;
    return 0;
}

/* RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory. */
static int check_mandatory(struct parse_ctx *c)
{
    struct sip_msg *m = c->m;
    static const enum sip_hdr_id need[] = {SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID,
                                           SIP_HDR_CSEQ};
    for (unsigned i = 0; i < PBX_ARRAY_SIZE(need); i++) {
        if (m->count[need[i]] == 0) {
            anom(m, SIP_ANOM_MISSING_HEADER);
            return fail(c, -EBADMSG, c->base + m->hdr_len, "missing mandatory header");
        }
    }
    if (m->is_request && m->count[SIP_HDR_MAX_FORWARDS] == 0)
        anom(m, SIP_ANOM_NO_MAXFWD);
    if (m->is_request && m->max_forwards == 0)
        anom(m, SIP_ANOM_MAXFWD_ZERO);
    if (m->is_request && !slice_eq(m->cseq_method_name, m->method_name))
        anom(m, SIP_ANOM_CSEQ_METHOD_MISMATCH);

    int rc = check_vias(c);
    if (rc < 0)
        return rc;
    rc = check_addr(c, SIP_HDR_FROM, &m->from);
    if (rc < 0)
        return rc;
    if (m->is_request && !slice_present(m->from.tag))
        anom(m, SIP_ANOM_NO_FROM_TAG);
    rc = check_addr(c, SIP_HDR_TO, &m->to);
    if (rc < 0)
        return rc;
    if (m->is_request && m->method == SIP_METHOD_REGISTER && slice_present(m->to.tag))
        anom(m, SIP_ANOM_TO_TAG_ON_REQUEST);
    unsigned ncontacts;
    rc = check_contacts(c, &ncontacts);
    if (rc < 0)
        return rc;
    /* Only now are the caches complete and consistent with a successful parse. */
    m->cached = SIP_CACHE_FROM | SIP_CACHE_TO | SIP_CACHE_VIA0;
    m->nvia_items = (uint8_t)(m->via_count < SIP_MSG_VIA_CACHE ? m->via_count : SIP_MSG_VIA_CACHE);
    m->ncontacts = (uint8_t)(ncontacts < SIP_MSG_CONTACT_CACHE ? ncontacts : SIP_MSG_CONTACT_CACHE);
    return 0;
}

static int parse_body(struct parse_ctx *c, const char *body)
{
    struct sip_msg *m = c->m;
    size_t avail = (size_t)(c->end - body);
    m->hdr_len = (size_t)(body - c->base);
    if (m->content_length < 0) {
        anom(m, SIP_ANOM_NO_CL);
        /* RFC 3261 §18.3: mandatory on streams; on datagrams the body is the rest. */
        if (c->flags & SIP_PARSE_STREAM)
            return fail(c, -EBADMSG, body, "missing Content-Length");
        m->body = slice_make(body, avail);
        m->msg_len = m->len;
    } else {
        size_t cl = (size_t)m->content_length;
        if (cl > avail) {
            if (c->flags & SIP_PARSE_STREAM)
                return fail(c, -EAGAIN, c->end, "body incomplete");
            anom(m, SIP_ANOM_CL_MISMATCH);
            m->body = slice_make(body, avail);
            return fail(c, -EBADMSG, c->end, "Content-Length exceeds body");
        }
        m->body = slice_make(body, cl);
        m->msg_len = m->hdr_len + cl;
        if (cl < avail) {
            anom(m, SIP_ANOM_TRAILING_DATA);
            if (c->flags & SIP_PARSE_STRICT)
                return fail(c, -EBADMSG, body + cl, "data after body");
        }
    }
    if (m->body.len > 0 && m->count[SIP_HDR_CONTENT_TYPE] == 0)
        anom(m, SIP_ANOM_BODY_WITHOUT_TYPE);
    return 0;
}

static void msg_reset(struct sip_msg *m, const uint8_t *buf, size_t len)
{
    m->buf = buf;
    m->len = len;
    m->msg_len = 0;
    m->hdr_len = 0;
    m->is_request = false;
    m->method = SIP_METHOD_UNKNOWN;
    m->method_name = SLICE_NULL;
    m->ruri_raw = SLICE_NULL;
    zero_struct(&m->ruri, sizeof(m->ruri));
    m->version = SLICE_NULL;
    m->status = 0;
    m->reason = SLICE_NULL;
    m->nhdrs = 0;
    memset(m->first, 0xff, sizeof(m->first));
    zero_struct(m->count, sizeof(m->count));
    m->content_length = -1;
    m->max_forwards = -1;
    m->cseq_num = 0;
    m->cseq_method = SIP_METHOD_UNKNOWN;
    m->cseq_method_name = SLICE_NULL;
    m->via_count = 0;
    m->call_id = SLICE_NULL;
    m->body = SLICE_NULL;
    m->cached = 0;
    m->nvia_items = 0;
    m->ncontacts = 0;
    m->anomalies = 0;
    m->err_off = 0;
    m->err_reason = NULL;
}

SIP_HOT int sip_msg_parse(struct sip_msg *m, const uint8_t *buf, size_t len, unsigned flags)
{
    if (!m)
        return -EINVAL;
    msg_reset(m, buf, len);
    if (!buf && len) {
        m->err_reason = "no buffer";
        return -EINVAL;
    }
    struct parse_ctx c = {m, (const char *)buf, (const char *)buf + len, flags};
    if (len > SIP_MAX_MSG_SIZE)
        return fail(&c, -EMSGSIZE, c.base + SIP_MAX_MSG_SIZE, "message too large");
    if (len == 0)
        return fail(&c, (flags & SIP_PARSE_STREAM) ? -EAGAIN : -EBADMSG, c.base, "empty message");

    const char *eol;
    const char *nl = line_end(m, c.base, c.end, &eol);
    if (!nl) {
        if (len > SIP_MAX_LINE_LEN)
            return fail(&c, -EMSGSIZE, c.base, "start line too long");
        return fail(&c, (flags & SIP_PARSE_STREAM) ? -EAGAIN : -EBADMSG, c.end,
                    "start line not terminated");
    }
    if ((size_t)(eol - c.base) > SIP_MAX_LINE_LEN)
        return fail(&c, -EMSGSIZE, c.base, "start line too long");
    int rc;
    if (eol - c.base >= 4 && slice_eq_ci(slice_make(c.base, 4), SLICE_LIT("SIP/")))
        rc = parse_status_line(&c, c.base, eol);
    else
        rc = parse_request_line(&c, c.base, eol);
    if (rc < 0)
        return rc;

    const char *body;
    rc = parse_headers(&c, nl + 1, &body);
    if (rc < 0)
        return rc;
    rc = parse_body(&c, body);
    if (rc < 0)
        return rc;
    return check_mandatory(&c);
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id, unsigned n)
{
    if ((unsigned)id >= SIP_HDR_COUNT)
        return NULL;
    unsigned i = m->first[id];
    while (i != SIP_HDR_END && n > 0) {
        i = m->hdrs[i].next;
        n--;
    }
    return i == SIP_HDR_END ? NULL : &m->hdrs[i];
}

unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id)
{
    if ((unsigned)id >= SIP_HDR_COUNT)
        return 0;
    return m->count[id];
}

struct slice sip_msg_hdr_value(const struct sip_msg *m, enum sip_hdr_id id, unsigned n)
{
    const struct sip_hdr *h = sip_msg_hdr(m, id, n);
    return h ? h->value : SLICE_NULL;
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct slice name, unsigned n)
{
    enum sip_hdr_id id = sip_hdr_lookup(name, NULL);
    if (id != SIP_HDR_OTHER)
        return sip_msg_hdr(m, id, n);
    for (unsigned i = m->first[SIP_HDR_OTHER]; i != SIP_HDR_END; i = m->hdrs[i].next) {
        if (slice_eq_ci(m->hdrs[i].name, name)) {
            if (n == 0)
                return &m->hdrs[i];
            n--;
        }
    }
    return NULL;
}
