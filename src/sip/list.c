/*
 * Comma-list walking (RFC 3261 §7.3.1: a header with comma-separated values is
 * equivalent to several header lines) and simple value accessors.
 */
#include <errno.h>
#include <string.h>

#include "pbxguard/sip/headers.h"
#include "scan.h"
#include "sip_util.h"

static const uint8_t list_special[256] = {[','] = 1, ['"'] = 1, ['<'] = 1};

void sip_list_iter_init(struct sip_list_iter *it, struct slice value)
{
    if (!value.p) {
        /* Absent: an empty walk (NULL + 0 would be undefined behaviour). */
        it->p = it->end = NULL;
        it->n = 0;
        return;
    }
    it->p = value.p;
    it->end = value.p + value.len;
    it->n = 0;
}

SIP_HOT int sip_list_next(struct sip_list_iter *it, struct slice *item)
{
    const char *p = it->p, *end = it->end;
    for (;;) {
        p = skip_lws(p, end);
        if (p >= end) {
            it->p = p;
            return 0;
        }
        if (*p != ',')
            break;
        p++; /* empty item: skipped */
    }
    if (it->n >= SIP_MAX_LIST_VALUES)
        return -EMSGSIZE;
    const char *start = p;
    while (p < end) {
        /* Only ',' '"' '<' need attention: whole blocks without them are skipped first. */
        p = skip_blocks(p, end, ',', '"', '<', false);
        while (p < end && !list_special[(unsigned char)*p])
            p++;
        if (p >= end || *p == ',')
            break;
        if (*p == '"') {
            p = skip_quoted(p, end);
            if (!p)
                return -EBADMSG;
            continue;
        }
        const char *q = memchr(p + 1, '>', (size_t)(end - p - 1));
        if (!q)
            return -EBADMSG;
        p = q + 1;
    }
    *item = slice_range(start, rskip_lws(p, start));
    it->p = p < end ? p + 1 : p;
    it->n++;
    return 1;
}

void sip_value_iter_init(struct sip_value_iter *it, const struct sip_msg *m, enum sip_hdr_id id)
{
    it->m = m;
    it->hdr = (unsigned)id < SIP_HDR_COUNT ? m->first[id] : SIP_HDR_END;
    if (it->hdr != SIP_HDR_END)
        sip_list_iter_init(&it->li, m->hdrs[it->hdr].value);
    else
        sip_list_iter_init(&it->li, SLICE_NULL);
}

int sip_value_next(struct sip_value_iter *it, struct slice *item)
{
    while (it->hdr != SIP_HDR_END) {
        int rc = sip_list_next(&it->li, item);
        if (rc != 0)
            return rc;
        const struct sip_hdr *h = &it->m->hdrs[it->hdr];
        it->hdr = h->next;
        if (it->hdr != SIP_HDR_END)
            sip_list_iter_init(&it->li, it->m->hdrs[it->hdr].value);
    }
    return 0;
}

int sip_msg_value(const struct sip_msg *m, enum sip_hdr_id id, unsigned n, struct slice *item)
{
    struct sip_value_iter it;
    int rc;
    sip_value_iter_init(&it, m, id);
    while ((rc = sip_value_next(&it, item)) > 0) {
        if (n == 0)
            return 0;
        n--;
    }
    return rc < 0 ? rc : -ENOENT;
}

static struct slice first_value(const struct sip_msg *m, enum sip_hdr_id id)
{
    unsigned i = m->first[id];
    return i == SIP_HDR_END ? SLICE_NULL : m->hdrs[i].value;
}

struct slice sip_msg_call_id(const struct sip_msg *m)
{
    return first_value(m, SIP_HDR_CALL_ID);
}

struct slice sip_msg_user_agent(const struct sip_msg *m)
{
    return first_value(m, SIP_HDR_USER_AGENT);
}

struct slice sip_msg_server(const struct sip_msg *m)
{
    return first_value(m, SIP_HDR_SERVER);
}

size_t sip_value_unfold(struct slice value, char *dst, size_t cap)
{
    size_t n = 0;
    bool space = false;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < value.len; i++) {
        char ch = value.p[i];
        if (CC_IS(ch, CC_LWS)) {
            space = n > 0;
            continue;
        }
        if (space) {
            if (n + 1 >= cap)
                break;
            dst[n++] = ' ';
            space = false;
        }
        if (n + 1 >= cap)
            break;
        dst[n++] = ch;
    }
    dst[n] = '\0';
    return n;
}
