/*
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966) and the generic
 * ";name=value" parameter walker. Everything works on borrowed slices.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/msg.h"
#include "pbxguard/sip/uri.h"
#include "scan.h"
#include "sip_util.h"

static int uri_fail(struct sip_uri *u, const char *at, const char *reason, int err)
{
    u->err_off = (size_t)(at - u->raw.p);
    u->err_reason = reason;
    return err;
}

/*
 * Checks that s only holds bytes of class cls or valid %XX escapes; notes %00.
 * Returns NULL on success or the offending byte.
 */
static const char *check_chars(struct slice s, uint16_t cls, uint64_t *anomalies)
{
    if (!s.p)
        return NULL;
    const char *p = s.p, *end = s.p + s.len;
    while (p < end) {
        if (*p == '%') {
            if (end - p < 3 || !CC_IS(p[1], CC_HEX) || !CC_IS(p[2], CC_HEX))
                return p;
            if (p[1] == '0' && p[2] == '0')
                *anomalies |= ANOM_BIT(SIP_ANOM_ESCAPED_NUL);
            p += 3;
            continue;
        }
        if (!CC_IS(*p, cls))
            return p;
        p++;
    }
    return NULL;
}

/*
 * IPv6 text via inet_pton on a bounded stack copy. RFC 5118 §4.10 asks receivers to
 * tolerate the ":::" before an embedded IPv4 address that RFC 3261's ABNF produces.
 */
static bool ipv6_ok(struct slice s)
{
    char tmp[SIP_MAX_IPV6_TEXT_LEN + 1];
    unsigned char bin[16];
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!CC_IS(s.p[i], CC_HEX) && s.p[i] != ':' && s.p[i] != '.')
            return false;
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    if (inet_pton(AF_INET6, tmp, bin) == 1)
        return true;
    char *tri = strstr(tmp, ":::");
    if (!tri || !memchr(tmp, '.', s.len) || strstr(tri + 1, ":::"))
        return false;
    memmove(tri, tri + 1, strlen(tri + 1) + 1);
    return inet_pton(AF_INET6, tmp, bin) == 1;
}

#if defined(__SSE2__)
/*
 * The rules of hostname_ok() below for p[0..n), 1 <= n <= 32, on bit masks: the bytes are
 * classified sixteen at a time (alphanumeric, '.', '-'; the zeros past n in none), and the
 * label rules become shifts of the '.' and '-' masks, instead of a branch per byte.
 */
static bool hostname_ok_masks(const char *p, size_t n)
{
    uint32_t alnum = 0, dot = 0, dash = 0;
    for (unsigned h = 0; h < (n > 16 ? 2u : 1u); h++) {
        __m128i x;
        if (h == 0)
            x = n >= 16 ? _mm_loadu_si128((const __m128i *)(const void *)p) : load_partial(p, n);
        else
            x = load_partial(p + 16, n - 16);
        alnum |= (uint32_t)_mm_movemask_epi8(alnum_bytes(x)) << (16 * h);
        dot |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) << (16 * h);
        dash |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('-'))) << (16 * h);
    }
    uint32_t all = n == 32 ? ~0u : (1u << n) - 1;
    if (((alnum | dot | dash) & all) != all)
        return false; /* a byte that is none of the three */
    dot &= all;
    dash &= all;
    uint32_t starts = 1u | (dot << 1); /* first byte of each label */
    if ((dot & starts) || (dot & (dash << 1)) || (dash & starts))
        return false; /* empty label, '-' ending a label, '-' starting one */
    if (((dot | dash) >> (n - 1)) & 1u)
        return false; /* ends with an empty toplabel or a '-' */
    unsigned label = dot ? 32u - (unsigned)__builtin_clz(dot) : 0; /* toplabel start */
    return CC_IS(p[label], CC_ALPHA);
}
#endif

#if defined(__SSE2__)
/*
 * dotted-quad: four groups of 1-3 digits, each <= 255 (leading zeros accepted). Tested on
 * bit masks: digits and dots classified at once, the three dots located
 * by bit scans, and only three-digit groups can exceed 255. No branch per byte.
 */
static bool ipv4_ok(struct slice s)
{
    size_t n = s.len;
    if (n < 7 || n > 15)
        return false; /* "0.0.0.0" .. "255.255.255.255" */
    __m128i x = load_partial(s.p, n);
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    unsigned all = (1u << n) - 1;
    unsigned dig = (unsigned)_mm_movemask_epi8(digit) & all;
    unsigned dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) & all;
    unsigned r2 = dot & (dot - 1), r3 = r2 & (r2 - 1); /* without the lowest one, two */
    if ((dig | dot) != all || r3 == 0 || (r3 & (r3 - 1)) != 0)
        return false; /* a byte that is neither, or not exactly three dots */
    unsigned d1 = (unsigned)__builtin_ctz(dot);
    unsigned d2 = (unsigned)__builtin_ctz(r2);
    unsigned d3 = (unsigned)__builtin_ctz(r3);
    const unsigned start[4] = {0, d1 + 1, d2 + 1, d3 + 1};
    const unsigned len[4] = {d1, d2 - d1 - 1, d3 - d2 - 1, (unsigned)n - d3 - 1};
    for (unsigned g = 0; g < 4; g++) {
        if (len[g] == 0 || len[g] > 3)
            return false;
        const char *d = s.p + start[g];
        if (len[g] == 3 && (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0') > 255)
            return false;
    }
    return true;
}
#else
/* dotted-quad: four groups of 1-3 digits, each <= 255 (leading zeros accepted). */
static bool ipv4_ok(struct slice s)
{
    const char *p = s.p, *end = s.p + s.len;
    for (unsigned part = 0; part < 4; part++) {
        if (part > 0) {
            if (p >= end || *p != '.')
                return false;
            p++;
        }
        unsigned d, v;
        if (p >= end || (v = (unsigned)(unsigned char)*p - '0') > 9)
            return false;
        p++;
        for (unsigned k = 1; k < 3 && p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9;
             k++) {
            v = v * 10 + d;
            p++;
        }
        if (v > 255)
            return false;
    }
    return p == end;
}
#endif

static bool hostname_ok(struct slice s)
{
    /* RFC 3261 §25.1: labels of alphanum and '-', toplabel starting with a letter. */
    if (s.len == 0 || s.len > SIP_MAX_HOSTNAME_LEN)
        return false;
    size_t end = s.len;
    if (s.p[end - 1] == '.')
        end--;
    if (end == 0)
        return false;
#if defined(__SSE2__)
    if (end <= 32)
        return hostname_ok_masks(s.p, end);
#endif
    size_t label = 0;
    for (size_t i = 0; i < end; i++) {
        char ch = s.p[i];
        if (CC_IS(ch, CC_ALNUM))
            continue; /* the common case: one table test per byte */
        if (ch == '.') {
            if (i == label || s.p[i - 1] == '-')
                return false;
            label = i + 1;
            continue;
        }
        if (ch != '-' || i == label)
            return false;
    }
    return label < end && CC_IS(s.p[label], CC_ALPHA) && s.p[end - 1] != '-';
}

SIP_HOT int sip_host_at(const char *p, const char *hend, const char *end, struct slice *host,
                        enum sip_host_type *type, uint16_t *port)
{
    *host = SLICE_NULL;
    *type = SIP_HOST_NONE;
    *port = 0;
    if (hend == p)
        return -EBADMSG;
    struct slice h = slice_range(p, hend);
    if (CC_IS(*p, CC_DIGIT) && ipv4_ok(h))
        *type = SIP_HOST_IPV4;
    else if (hostname_ok(h))
        *type = SIP_HOST_NAME;
    else
        return -EBADMSG;
    *host = h;
    if (hend == end)
        return 0;
    if (*hend != ':')
        return -EBADMSG;
    uint64_t v;
    struct slice ps = slice_range(hend + 1, end);
    if (ps.len > 5 || sip_parse_uint(ps, 65535, &v) < 0 || v == 0)
        return -EBADMSG;
    *port = (uint16_t)v;
    return 0;
}

int sip_hostport_parse(struct slice s, struct slice *host, enum sip_host_type *type, uint16_t *port)
{
    *host = SLICE_NULL;
    *type = SIP_HOST_NONE;
    *port = 0;
    if (!s.p || s.len == 0)
        return -EBADMSG;
    const char *p = s.p, *end = s.p + s.len;
    const char *hend;
    if (*p == '[') {
        const char *rb = memchr(p, ']', s.len);
        if (!rb || !ipv6_ok(slice_range(p + 1, rb)))
            return -EBADMSG;
        *host = slice_range(p + 1, rb);
        *type = SIP_HOST_IPV6;
        hend = rb + 1;
    } else {
        hend = memchr(p, ':', s.len);
        return sip_host_at(p, hend ? hend : end, end, host, type, port);
    }
    if (hend == end)
        return 0;
    if (*hend != ':')
        return -EBADMSG;
    uint64_t v;
    struct slice ps = slice_range(hend + 1, end);
    if (ps.len > 5 || sip_parse_uint(ps, 65535, &v) < 0 || v == 0)
        return -EBADMSG;
    *port = (uint16_t)v;
    return 0;
}

void sip_param_iter_init(struct sip_param_iter *it, struct slice s)
{
    if (!s.p) {
        /* Absent: an empty walk (NULL + 0 would be undefined behaviour). */
        it->p = it->end = NULL;
        it->n = 0;
        return;
    }
    it->p = s.p;
    it->end = s.p + s.len;
    it->n = 0;
}

/* Bytes that end a parameter name / an unquoted value: one table load per byte. */
#define PS_NAME 1u
#define PS_VALUE 2u
static const uint8_t param_stop[256] = {
    ['='] = PS_NAME,
    ['"'] = PS_NAME,
    [';'] = PS_NAME | PS_VALUE,
    [' '] = PS_NAME | PS_VALUE,
    ['\t'] = PS_NAME | PS_VALUE,
    ['\r'] = PS_NAME | PS_VALUE,
    ['\n'] = PS_NAME | PS_VALUE,
};

SIP_HOT int sip_param_next(struct sip_param_iter *it, struct sip_param *out)
{
    const char *p = skip_lws(it->p, it->end), *end = it->end;
    if (p >= end)
        return 0;
    if (*p == ';') {
        p = skip_lws(p + 1, end);
        if (p >= end)
            return -EBADMSG; /* a trailing ';' promises a parameter */
    } else if (it->n > 0) {
        return -EBADMSG;
    }
    if (it->n >= SIP_MAX_PARAMS)
        return -EMSGSIZE;
    const char *n = p;
    while (p < end && !(param_stop[(unsigned char)*p] & PS_NAME))
        p++;
    if (p == n)
        return -EBADMSG;
    out->name = slice_range(n, p);
    out->value = SLICE_NULL;
    p = skip_lws(p, end);
    if (p < end && *p == '=') {
        p = skip_lws(p + 1, end);
        const char *v = p;
        if (p < end && *p == '"') {
            p = skip_quoted(p, end);
            if (!p)
                return -EBADMSG;
        } else {
            /* Stops are ';' and whitespace: blocks without candidates are skipped first. */
            p = skip_blocks(p, end, ';', ';', ';', true);
            while (p < end && !(param_stop[(unsigned char)*p] & PS_VALUE))
                p++;
        }
        if (p == v)
            return -EBADMSG;
        out->value = slice_range(v, p);
        p = skip_lws(p, end);
    }
    if (p < end && *p != ';')
        return -EBADMSG;
    it->p = p;
    it->n++;
    return 1;
}

bool sip_param_find(struct slice params, const char *name, struct sip_param *out)
{
    struct sip_param_iter it;
    struct sip_param prm;
    sip_param_iter_init(&it, params);
    while (sip_param_next(&it, &prm) > 0) {
        if (slice_eq_cstr_ci(prm.name, name)) {
            *out = prm;
            return true;
        }
    }
    return false;
}

struct slice sip_unquote(struct slice s)
{
    if (s.len >= 2 && s.p[0] == '"' && s.p[s.len - 1] == '"')
        return slice_make(s.p + 1, s.len - 2);
    return s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = slice_lower_ch(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sip_unescape(struct slice s, char *dst, size_t cap, size_t *outlen, bool *has_nul)
{
    size_t n = 0;
    if (has_nul)
        *has_nul = false;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        if (ch == '%') {
            if (s.len - i < 3)
                return -EBADMSG;
            int hi = hexval(s.p[i + 1]), lo = hexval(s.p[i + 2]);
            if (hi < 0 || lo < 0)
                return -EBADMSG;
            ch = (char)(hi * 16 + lo);
            if (ch == '\0' && has_nul)
                *has_nul = true;
            i += 2;
        }
        if (n >= cap)
            return -EMSGSIZE;
        dst[n++] = ch;
    }
    *outlen = n;
    return 0;
}

static void note_param(struct sip_uri *u, const struct sip_param *prm)
{
    struct slice n = prm->name;
    if (SLICE_IS(n, "transport"))
        u->transport = prm->value;
    else if (SLICE_IS(n, "user"))
        u->user_param = prm->value;
    else if (SLICE_IS(n, "method"))
        u->method = prm->value;
    else if (SLICE_IS(n, "maddr"))
        u->maddr = prm->value;
    else if (SLICE_IS(n, "ttl"))
        u->ttl = prm->value;
    else if (SLICE_IS(n, "lr"))
        u->lr = true;
}

/* uri-parameters: ;pname[=pvalue] with paramchar bytes (RFC 3261 §19.1.1). */
static int parse_uri_params(struct sip_uri *u, struct slice params)
{
    struct sip_param_iter it;
    struct sip_param prm;
    int rc;
    sip_param_iter_init(&it, params);
    while ((rc = sip_param_next(&it, &prm)) > 0) {
        const char *bad = check_chars(prm.name, CC_PARAM, &u->anomalies);
        if (!bad && slice_present(prm.value))
            bad = check_chars(prm.value, CC_PARAM, &u->anomalies);
        if (bad)
            return uri_fail(u, bad, "bad URI parameter", -EBADMSG);
        note_param(u, &prm);
    }
    if (rc < 0)
        return uri_fail(u, it.p, rc == -EMSGSIZE ? "too many URI parameters" : "bad URI parameter",
                        rc);
    if (slice_present(u->ttl)) {
        uint64_t v;
        if (sip_parse_uint(u->ttl, SIP_MAX_TTL, &v) < 0)
            return uri_fail(u, u->ttl.p, "bad ttl parameter", -EBADMSG);
    }
    return 0;
}

/* headers: hname=hvalue *("&" hname=hvalue) (RFC 3261 §19.1.1). */
static int parse_uri_headers(struct sip_uri *u, struct slice h)
{
    const char *p = h.p, *end = h.p + h.len;
    unsigned n = 0;
    while (p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        if (!eq || eq == p)
            return uri_fail(u, p, "bad URI header", -EBADMSG);
        const char *bad = check_chars(slice_range(p, eq), CC_HNV, &u->anomalies);
        if (!bad)
            bad = check_chars(slice_range(eq + 1, amp), CC_HNV, &u->anomalies);
        if (bad)
            return uri_fail(u, bad, "bad URI header", -EBADMSG);
        if (++n > SIP_MAX_URI_HEADERS)
            return uri_fail(u, p, "too many URI headers", -EMSGSIZE);
        if (amp == end)
            break;
        p = amp + 1;
    }
    return 0;
}

/* The hostport of a SIP URI ends at ';' or '?'. */
SIP_HOT static int parse_sip(struct sip_uri *u, const char *p, const char *end)
{
    /*
     * Fast path for "user@": when the run of user characters stops at an '@', that '@' is
     * the first one ('@' and ':' are not user characters; an escape is "%" HEX HEX) and
     * there is no password, exactly what the general path below finds. The run stops at
     * '%' too: without an escape every byte is a user character already and check_chars()
     * would have nothing to add; a user with escapes takes the general path.
     */
    const char *x = p;
    while (x < end && CC_IS(*x, CC_USER) && *x != '%')
        x++;
    if (x > p && x < end && *x == '@') {
        u->user = slice_range(p, x);
        p = x + 1;
        goto host;
    }
    /* userinfo: the only unescaped '@' of a valid SIP URI ends it (user may hold ';' '?'). */
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uend = colon ? colon : at;
        if (uend == p)
            return uri_fail(u, p, "empty user", -EBADMSG);
        u->user = slice_range(p, uend);
        const char *bad = check_chars(u->user, CC_USER, &u->anomalies);
        if (bad)
            return uri_fail(u, bad, "bad user", -EBADMSG);
        if (colon) {
            u->password = slice_range(colon + 1, at);
            bad = check_chars(u->password, CC_PASS, &u->anomalies);
            if (bad)
                return uri_fail(u, bad, "bad password", -EBADMSG);
        }
        p = at + 1;
    }
host:;
    const char *hp = p;
    uint16_t port;
    if (p < end && *p != '[') {
        /*
         * Fast path: host characters, then optionally ':' and digits, then the end, ';' or
         * '?'. That stop is the first ';' or '?' (none of the bytes before it is one) and
         * the ':' is the first one, so this is what the general path below computes.
         */
#if defined(__SSE2__)
        const char *he = span_host_vec(p, end), *pe = he;
#else
        const char *he = span_class(p, end, CC_HOST), *pe = he;
#endif
        if (pe < end && *pe == ':')
            pe = span_class(pe + 1, end, CC_DIGIT);
        if (pe == end || *pe == ';' || *pe == '?') {
            if (sip_host_at(hp, he, pe, &u->host, &u->host_type, &port) < 0)
                return uri_fail(u, hp, "bad host or port", -EBADMSG);
            p = pe;
            goto port;
        }
    }
    if (p < end && *p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            return uri_fail(u, p, "unterminated IPv6 reference", -EBADMSG);
        p = rb + 1;
    }
    p = skip_blocks(p, end, ';', '?', '?', false);
    while (p < end && *p != ';' && *p != '?')
        p++;
    if (sip_hostport_parse(slice_range(hp, p), &u->host, &u->host_type, &port) < 0)
        return uri_fail(u, hp, "bad host or port", -EBADMSG);
port:
    u->port = port;
    if (port) {
        const char *c = hp + (u->host_type == SIP_HOST_IPV6 ? u->host.len + 2 : u->host.len);
        u->port_str = slice_range(c + 1, p);
    }
    const char *q = p; /* the '?' that starts the headers, or end */
    if (p < end && *p != '?') {
        q = memchr(p, '?', (size_t)(end - p));
        if (!q)
            q = end;
    }
    if (p < q) {
        u->params = slice_range(p, q);
        int rc = parse_uri_params(u, u->params);
        if (rc < 0)
            return rc;
    }
    if (q < end) {
        u->headers = slice_range(q + 1, end);
        return parse_uri_headers(u, u->headers);
    }
    return 0;
}

static int parse_tel(struct sip_uri *u, const char *p, const char *end)
{
    /* RFC 3966: telephone-subscriber = global-number / local-number, then ;params. */
    const char *semi = memchr(p, ';', (size_t)(end - p));
    if (!semi)
        semi = end;
    if (semi == p)
        return uri_fail(u, p, "empty telephone number", -EBADMSG);
    u->user = slice_range(p, semi);
    const char *bad = check_chars(u->user, CC_TEL, &u->anomalies);
    if (bad)
        return uri_fail(u, bad, "bad telephone number", -EBADMSG);
    if (semi < end) {
        u->params = slice_range(semi, end);
        return parse_uri_params(u, u->params);
    }
    return 0;
}

static enum sip_uri_scheme scheme_of(struct slice n)
{
    /* Case-insensitive (RFC 3261 §19.1.4) without a strlen per candidate. */
    char a = n.len >= 3 ? slice_lower_ch(n.p[0]) : 0;
    char b = a ? slice_lower_ch(n.p[1]) : 0;
    char c = a ? slice_lower_ch(n.p[2]) : 0;
    if (a == 's' && b == 'i' && c == 'p') {
        if (n.len == 3)
            return SIP_URI_SIP;
        if (n.len == 4 && slice_lower_ch(n.p[3]) == 's')
            return SIP_URI_SIPS;
    } else if (n.len == 3 && a == 't' && b == 'e' && c == 'l') {
        return SIP_URI_TEL;
    }
    return SIP_URI_OTHER;
}

SIP_HOT int sip_uri_parse(struct sip_uri *u, struct slice s)
{
    zero_struct(u, sizeof(*u));
    u->raw = s;
    if (!s.p || s.len == 0)
        return uri_fail(u, s.p, "empty URI", -EBADMSG);
    if (s.len > SIP_MAX_URI_LEN)
        return uri_fail(u, s.p, "URI too long", -EMSGSIZE);
    const char *p = s.p, *end = s.p + s.len;
    /* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    if (!CC_IS(*p, CC_ALPHA))
        return uri_fail(u, p, "bad URI scheme", -EBADMSG);
    if (s.len > 4 && memcmp(p, "sip:", 4) == 0) {
        /* The usual scheme, lower case: what the general path finds, without its loops. */
        p += 3;
        u->scheme_name = slice_make(s.p, 3);
        u->scheme = SIP_URI_SIP;
    } else {
        while (p < end && (CC_IS(*p, CC_ALPHA | CC_DIGIT) || *p == '+' || *p == '-' || *p == '.'))
            p++;
        if (p >= end || *p != ':')
            return uri_fail(u, p, "bad URI scheme", -EBADMSG);
        u->scheme_name = slice_range(s.p, p);
        u->scheme = scheme_of(u->scheme_name);
        for (size_t i = 0; i < u->scheme_name.len; i++)
            if (u->scheme_name.p[i] >= 'A' && u->scheme_name.p[i] <= 'Z')
                u->anomalies |= ANOM_BIT(SIP_ANOM_SCHEME_CASE);
    }
    u->opaque = slice_range(p + 1, end);
    p++;
    if (p >= end)
        return uri_fail(u, p, "empty URI after scheme", -EBADMSG);
    switch (u->scheme) {
    case SIP_URI_SIP:
    case SIP_URI_SIPS:
        return parse_sip(u, p, end);
    case SIP_URI_TEL:
        return parse_tel(u, p, end);
    default:
        u->anomalies |= ANOM_BIT(SIP_ANOM_UNKNOWN_SCHEME);
        /* Kept opaque, but no whitespace, quotes, brackets or control bytes. */
        for (const char *q = p; q < end; q++)
            if (CC_IS(*q, CC_LWS | CC_CTRL) || *q == '"' || *q == '<' || *q == '>')
                return uri_fail(u, q, "bad character in URI", -EBADMSG);
        return 0;
    }
}
