/*
 * Digest credentials and challenges (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1;
 * RFC 2617 §3.2). auth-params are "name=value" pairs separated by commas; values are
 * tokens or quoted strings (commas inside quotes do not separate).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "sip_util.h"

void sip_auth_iter_init(struct sip_auth_iter *it, struct slice params)
{
    if (!params.p) {
        /* Absent: an empty walk (NULL + 0 would be undefined behaviour). */
        it->p = it->end = NULL;
        it->n = 0;
        return;
    }
    it->p = params.p;
    it->end = params.p + params.len;
    it->n = 0;
}

int sip_auth_param_next(struct sip_auth_iter *it, struct slice *name, struct slice *value)
{
    const char *p = skip_lws(it->p, it->end), *end = it->end;
    if (p >= end)
        return 0;
    if (it->n > 0) {
        if (*p != ',')
            return -EBADMSG;
        p = skip_lws(p + 1, end);
        if (p >= end)
            return -EBADMSG;
    }
    if (it->n >= SIP_MAX_AUTH_PARAMS)
        return -EMSGSIZE;
    const char *n = p;
    while (p < end && CC_IS(*p, CC_TOKEN))
        p++;
    if (p == n)
        return -EBADMSG;
    *name = slice_range(n, p);
    p = skip_lws(p, end);
    if (p >= end || *p != '=')
        return -EBADMSG;
    p = skip_lws(p + 1, end);
    if (p < end && *p == '"') {
        const char *q = skip_quoted(p, end);
        if (!q)
            return -EBADMSG;
        *value = slice_range(p + 1, q - 1);
        p = q;
    } else {
        const char *v = p;
        /* Tokens; some stacks send unquoted URIs (uri=sip:x@y), so allow ':' '@' '/'. */
        while (p < end && *p != ',' && !CC_IS(*p, CC_LWS) && *p != '"')
            p++;
        if (p == v)
            return -EBADMSG;
        *value = slice_range(v, p);
    }
    it->p = p;
    it->n++;
    return 1;
}

struct known {
    struct slice name; /* lower case */
    size_t off;
};

static const struct known known_params[] = {
    {SLICE_LIT("username"), offsetof(struct sip_digest, username)},
    {SLICE_LIT("realm"), offsetof(struct sip_digest, realm)},
    {SLICE_LIT("nonce"), offsetof(struct sip_digest, nonce)},
    {SLICE_LIT("uri"), offsetof(struct sip_digest, uri)},
    {SLICE_LIT("response"), offsetof(struct sip_digest, response)},
    {SLICE_LIT("algorithm"), offsetof(struct sip_digest, algorithm)},
    {SLICE_LIT("cnonce"), offsetof(struct sip_digest, cnonce)},
    {SLICE_LIT("opaque"), offsetof(struct sip_digest, opaque)},
    {SLICE_LIT("qop"), offsetof(struct sip_digest, qop)},
    {SLICE_LIT("nc"), offsetof(struct sip_digest, nc)},
    {SLICE_LIT("stale"), offsetof(struct sip_digest, stale)},
    {SLICE_LIT("domain"), offsetof(struct sip_digest, domain)},
};

int sip_digest_parse(struct sip_digest *d, struct slice value)
{
    memset(d, 0, sizeof(*d));
    struct slice v = trim_lws(value);
    if (!v.p || v.len == 0)
        return -EBADMSG;
    const char *p = v.p, *end = v.p + v.len;
    const char *s = p;
    while (p < end && CC_IS(*p, CC_TOKEN))
        p++;
    if (p == s || (p < end && !CC_IS(*p, CC_LWS)))
        return -EBADMSG;
    d->scheme = slice_range(s, p);
    d->params = slice_range(skip_lws(p, end), end);
    bool digest = SLICE_IS(d->scheme, "digest");

    struct sip_auth_iter it;
    struct slice n, val;
    int rc;
    sip_auth_iter_init(&it, d->params);
    while ((rc = sip_auth_param_next(&it, &n, &val)) > 0) {
        d->nparams++;
        if (!digest)
            continue;
        for (unsigned i = 0; i < PBX_ARRAY_SIZE(known_params); i++) {
            if (!eq_lower(n, known_params[i].name.p, known_params[i].name.len))
                continue;
            struct slice *dst = (struct slice *)((char *)d + known_params[i].off);
            if (slice_present(*dst))
                d->dup_param = true;
            *dst = val;
            break;
        }
    }
    if (rc < 0) {
        /* Other schemes may carry token68 (RFC 7235 §2.1); only Digest must parse. */
        if (!digest && rc == -EBADMSG) {
            d->nparams = 0;
            return 0;
        }
        return rc;
    }
    d->stale_true = SLICE_IS(d->stale, "true");
    return 0;
}

int sip_msg_digest(const struct sip_msg *m, enum sip_hdr_id id, unsigned n, struct sip_digest *d)
{
    if (id != SIP_HDR_AUTHORIZATION && id != SIP_HDR_PROXY_AUTHORIZATION &&
        id != SIP_HDR_WWW_AUTHENTICATE && id != SIP_HDR_PROXY_AUTHENTICATE)
        return -EINVAL;
    const struct sip_hdr *h = sip_msg_hdr(m, id, n);
    if (!h)
        return -ENOENT;
    return sip_digest_parse(d, h->value);
}

int sip_qop_next(struct slice *rest, struct slice *tok)
{
    if (!rest->p)
        return 0;
    const char *p = rest->p, *end = rest->p + rest->len;
    while (p < end && (*p == ',' || CC_IS(*p, CC_LWS)))
        p++;
    if (p >= end) {
        *rest = slice_make(end, 0);
        return 0;
    }
    const char *t = p;
    while (p < end && *p != ',' && !CC_IS(*p, CC_LWS))
        p++;
    *tok = slice_range(t, p);
    *rest = slice_range(p, end);
    return 1;
}
