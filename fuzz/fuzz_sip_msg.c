/*
 * SIP message parser in every mode, then every lazy accessor on the result, so the
 * typed parsers (Via, CSeq, name-addr, Contact lists, digest, SDP, URIs, parameters) run
 * on whatever the message parser let through.
 * fuzz-requires: pbx_sip
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"
#include "pbxguard/sip/sdp.h"
#include "pbxguard/sip/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(struct slice s)
{
    /* Reading every byte lets ASan check that each slice stays inside the input. */
    for (size_t i = 0; i < s.len; i++)
        sink += (uint8_t)s.p[i];
}

static void walk_params(struct slice params)
{
    struct sip_param_iter it;
    struct sip_param p;
    sip_param_iter_init(&it, params);
    while (sip_param_next(&it, &p) == 1) {
        touch(p.name);
        touch(p.value);
        touch(sip_unquote(p.value));
    }
}

static void walk_uri(const struct sip_uri *u)
{
    char buf[SIP_MAX_URI_LEN];
    size_t n;
    bool nul;
    touch(u->user);
    touch(u->host);
    touch(u->password);
    touch(u->headers);
    touch(u->opaque);
    walk_params(u->params);
    if (sip_unescape(u->user, buf, sizeof(buf), &n, &nul) == 0)
        sink += n;
    struct sip_uri again;
    if (slice_present(u->raw) && sip_uri_parse(&again, u->raw) == 0)
        sink += again.port;
}

static void walk_name_addr(const struct sip_name_addr *na)
{
    unsigned q;
    touch(na->display);
    touch(na->tag);
    walk_params(na->params);
    walk_uri(&na->uri);
    if (slice_present(na->q) && sip_parse_qvalue(na->q, &q) == 0)
        sink += q;
}

static void walk_digest(const struct sip_msg *m, enum sip_hdr_id id)
{
    for (unsigned n = 0; n < 4; n++) {
        struct sip_digest d;
        if (sip_msg_digest(m, id, n, &d) == -ENOENT)
            break;
        touch(d.username);
        touch(d.realm);
        touch(d.nonce);
        touch(d.uri);
        struct sip_auth_iter it;
        struct slice name, value, tok, rest = d.qop;
        /* Absent slices are passed on purpose: the walkers must treat them as empty. */
        sip_auth_iter_init(&it, d.params);
        while (sip_auth_param_next(&it, &name, &value) == 1) {
            touch(name);
            touch(value);
        }
        while (sip_qop_next(&rest, &tok) == 1)
            touch(tok);
    }
}

static void walk_sdp(struct slice body)
{
    struct sip_sdp s;
    if (sip_sdp_parse(&s, body) != 0)
        return;
    touch(s.origin);
    touch(s.conn.addr);
    for (unsigned i = 0; i < s.nmedia; i++) {
        struct slice rest = s.media[i].fmts, w, v;
        while (sip_sdp_word_next(&rest, &w) == 1)
            touch(w);
        for (unsigned k = 0; k < 4 && sip_sdp_attr(s.media[i].attrs, "rtpmap", k, &v); k++)
            touch(v);
        const struct sip_sdp_conn *c = sip_sdp_media_conn(&s, i);
        if (c)
            touch(c->addr);
    }
}

static void walk_msg(const struct sip_msg *m)
{
    struct sip_via via;
    struct sip_cseq cseq;
    struct sip_name_addr na;
    uint32_t exp;
    char buf[512];

    walk_uri(&m->ruri);
    for (unsigned i = 0; i <= m->via_count && i <= SIP_MAX_VIA; i++) {
        if (sip_msg_via(m, i, &via) != 0)
            break;
        touch(via.host);
        touch(via.branch);
        walk_params(via.params);
    }
    if (sip_msg_cseq(m, &cseq) == 0)
        sink += cseq.num;
    if (sip_msg_from(m, &na) == 0)
        walk_name_addr(&na);
    if (sip_msg_to(m, &na) == 0)
        walk_name_addr(&na);
    for (unsigned i = 0; i < SIP_MAX_LIST_VALUES + 1; i++) {
        if (sip_msg_contact(m, i, &na) != 0)
            break;
        walk_name_addr(&na);
    }
    static const enum sip_hdr_id lists[] = {SIP_HDR_ROUTE, SIP_HDR_RECORD_ROUTE, SIP_HDR_PATH,
                                            SIP_HDR_P_ASSERTED_IDENTITY, SIP_HDR_REFER_TO};
    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
        for (unsigned i = 0; i < 8; i++) {
            if (sip_msg_name_addr(m, lists[k], i, &na) != 0)
                break;
            walk_name_addr(&na);
        }
    walk_digest(m, SIP_HDR_AUTHORIZATION);
    walk_digest(m, SIP_HDR_PROXY_AUTHORIZATION);
    walk_digest(m, SIP_HDR_WWW_AUTHENTICATE);
    walk_digest(m, SIP_HDR_PROXY_AUTHENTICATE);
    if (sip_msg_expires(m, &exp) == 0)
        sink += exp;
    touch(sip_msg_call_id(m));
    touch(sip_msg_user_agent(m));
    touch(sip_msg_server(m));
    for (unsigned i = 0; i < m->nhdrs; i++) {
        const struct sip_hdr *h = sip_msg_hdr_by_name(m, m->hdrs[i].name, 0);
        if (h)
            sink += sip_value_unfold(h->value, buf, sizeof(buf));
    }
    struct sip_value_iter it;
    struct slice item;
    sip_value_iter_init(&it, m, SIP_HDR_SUPPORTED); /* often absent: an empty walk */
    while (sip_value_next(&it, &item) == 1)
        touch(item);
    if (slice_present(m->body) && m->body.len)
        walk_sdp(m->body);
    sink += sip_anomaly_fmt(m->anomalies, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned modes[] = {SIP_PARSE_DATAGRAM, SIP_PARSE_STREAM,
                                     SIP_PARSE_DATAGRAM | SIP_PARSE_STRICT};
    static struct sip_msg m;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        int rc = sip_msg_parse(&m, data, size, modes[k]);
        if (rc == 0) {
            if (m.msg_len > size || m.hdr_len > m.msg_len || m.err_reason)
                __builtin_trap();
            walk_msg(&m);
        } else if (!m.err_reason || m.err_off > size) {
            /* Every rejection must say where and why. */
            __builtin_trap();
        }
    }
    return 0;
}
