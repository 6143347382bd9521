/*
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39,
 * §25.1): From, To, Contact, Route, Record-Route, Path and friends.
 */
#include <errno.h>
#include <string.h>

#include "pbxguard/sip/headers.h"
#include "sip_util.h"

static int header_params(struct sip_name_addr *na, struct slice params)
{
    struct sip_param_iter it;
    struct sip_param prm;
    int rc;
    sip_param_iter_init(&it, params);
    while ((rc = sip_param_next(&it, &prm)) > 0) {
        if (SLICE_IS(prm.name, "tag")) {
            if (!slice_present(prm.value) || !is_token(prm.value))
                return -EBADMSG;
            na->tag = prm.value;
        } else if (SLICE_IS(prm.name, "expires")) {
            uint64_t v;
            if (sip_parse_uint(prm.value, SIP_MAX_EXPIRES, &v) < 0)
                return -EBADMSG;
            na->expires = prm.value;
        } else if (SLICE_IS(prm.name, "q")) {
            unsigned q;
            if (sip_parse_qvalue(prm.value, &q) < 0)
                return -EBADMSG;
            na->q = prm.value;
        } else if (!is_token(prm.name)) {
            return -EBADMSG;
        }
    }
    return rc;
}

/* The parse proper; *uri_done tells whether sip_uri_parse() wrote na->uri. */
SIP_HOT static int parse_name_addr(struct sip_name_addr *na, struct slice item, bool *uri_done)
{
    struct slice s = trim_lws(item);
    int rc;
    if (!s.p || s.len == 0)
        return -EBADMSG;
    const char *p = s.p, *end = s.p + s.len;
    if (s.len == 1 && *p == '*') {
        na->star = true;
        return 0;
    }
    const char *lt = NULL;
    if (*p == '"') {
        const char *q = skip_quoted(p, end);
        if (!q)
            return -EBADMSG;
        na->display = slice_range(p, q);
        p = skip_lws(q, end);
        if (p >= end || *p != '<')
            return -EBADMSG;
        lt = p;
    } else {
        /* display-name = *(token LWS): tokens and whitespace up to '<', else addr-spec. */
        const char *q = p;
        while (q < end && (CC_IS(*q, CC_TOKEN) || CC_IS(*q, CC_LWS)))
            q++;
        if (q < end && *q == '<') {
            lt = q;
            struct slice d = trim_lws(slice_range(p, q));
            if (d.len)
                na->display = d;
        }
    }
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            return -EBADMSG;
        na->bracketed = true;
        na->uri_raw = slice_range(lt + 1, gt);
        p = skip_lws(gt + 1, end);
        if (p < end && *p != ';')
            return -EBADMSG;
    } else {
        /* RFC 3261 §20.10: in addr-spec form a ';' starts header parameters, and a URI
         * with ',' '?' or ';' must be written as name-addr. */
        const char *q = p;
        while (q < end && *q != ';' && !CC_IS(*q, CC_LWS))
            q++;
        na->uri_raw = slice_range(p, q);
        if (memchr(p, '?', (size_t)(q - p)))
            return -EBADMSG;
        p = skip_lws(q, end);
        if (p < end && *p != ';')
            return -EBADMSG;
    }
    rc = sip_uri_parse(&na->uri, na->uri_raw);
    *uri_done = true;
    na->anomalies |= na->uri.anomalies;
    if (rc < 0)
        return rc;
    if (p < end) {
        na->params = slice_range(p, end);
        rc = header_params(na, na->params);
        if (rc < 0)
            return rc;
    }
    return 0;
}

SIP_HOT int sip_name_addr_parse(struct sip_name_addr *na, struct slice item)
{
    /*
     * Every field is written on every return, as by a memset of *na, but the URI (the
     * bulk of the struct) only once: sip_uri_parse() writes all of it when it runs.
     */
    bool uri_done = false;
    na->star = false;
    na->bracketed = false;
    na->display = SLICE_NULL;
    na->uri_raw = SLICE_NULL;
    na->params = SLICE_NULL;
    na->tag = SLICE_NULL;
    na->expires = SLICE_NULL;
    na->q = SLICE_NULL;
    na->anomalies = 0;
    int rc = parse_name_addr(na, item, &uri_done);
    if (!uri_done)
        zero_struct(&na->uri, sizeof(na->uri));
    return rc;
}

int sip_msg_name_addr(const struct sip_msg *m, enum sip_hdr_id id, unsigned i,
                      struct sip_name_addr *na)
{
    struct slice item;
    int rc = sip_msg_value(m, id, i, &item);
    if (rc < 0)
        return rc;
    return sip_name_addr_parse(na, item);
}

/* From and To are single-valued: the whole value is one name-addr (no comma split). */
static int single(const struct sip_msg *m, enum sip_hdr_id id, struct sip_name_addr *na)
{
    /* sip_msg_parse() already parsed both; a copy is far cheaper than a second parse. */
    if (id == SIP_HDR_FROM && (m->cached & SIP_CACHE_FROM)) {
        *na = m->from;
        return 0;
    }
    if (id == SIP_HDR_TO && (m->cached & SIP_CACHE_TO)) {
        *na = m->to;
        return 0;
    }
    const struct sip_hdr *h = sip_msg_hdr(m, id, 0);
    if (!h)
        return -ENOENT;
    return sip_name_addr_parse(na, h->value);
}

int sip_msg_from(const struct sip_msg *m, struct sip_name_addr *na)
{
    return single(m, SIP_HDR_FROM, na);
}

int sip_msg_to(const struct sip_msg *m, struct sip_name_addr *na)
{
    return single(m, SIP_HDR_TO, na);
}

int sip_msg_contact(const struct sip_msg *m, unsigned i, struct sip_name_addr *na)
{
    /* Validated by sip_msg_parse() from the same bytes: the copy equals a fresh parse. */
    if (i < m->ncontacts) {
        *na = m->contacts[i];
        return 0;
    }
    /* A cache with room to spare holds every Contact value of the message. */
    if (m->cached && m->ncontacts < SIP_MSG_CONTACT_CACHE)
        return -ENOENT;
    return sip_msg_name_addr(m, SIP_HDR_CONTACT, i, na);
}

const struct sip_name_addr *sip_msg_from_get(const struct sip_msg *m)
{
    return (m->cached & SIP_CACHE_FROM) ? &m->from : NULL;
}

const struct sip_name_addr *sip_msg_to_get(const struct sip_msg *m)
{
    return (m->cached & SIP_CACHE_TO) ? &m->to : NULL;
}

const struct sip_name_addr *sip_msg_contact_get(const struct sip_msg *m, unsigned i)
{
    return i < m->ncontacts ? &m->contacts[i] : NULL;
}
