/*
 * Typed header accessors (lazy: called on demand on a parsed struct sip_msg) and the
 * comma-list walker they share. All are allocation-free; every slice points into the
 * message buffer (see msg.h for ownership). All are thread-safe on a const message.
 * Return convention: 0 on success, -ENOENT when the header/value is absent,
 * -EBADMSG when it is malformed, -EMSGSIZE when a cap of limits.h is exceeded.
 */
#ifndef PBXGUARD_SIP_HEADERS_H
#define PBXGUARD_SIP_HEADERS_H

#include <stdbool.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/sip/msg.h"
#include "pbxguard/sip/uri.h"

/*
 * Walker over one header value's comma-separated items. Commas inside quoted strings
 * (with backslash escapes) and inside <...> do not split. Items are trimmed of LWS
 * (including CRLF folds); empty items are skipped.
 */
struct sip_list_iter {
    const char *p;
    const char *end;
    unsigned n;
};

void sip_list_iter_init(struct sip_list_iter *it, struct slice value);

/* Returns 1 with *item set, 0 at the end, -EBADMSG (unterminated quote or '<'),
 * -EMSGSIZE after SIP_MAX_LIST_VALUES items. */
PBX_WUR int sip_list_next(struct sip_list_iter *it, struct slice *item);

/* Walker over every comma item of every header with one id, in message order. */
struct sip_value_iter {
    const struct sip_msg *m;
    unsigned hdr; /* index into m->hdrs, SIP_HDR_END when done */
    struct sip_list_iter li;
};

void sip_value_iter_init(struct sip_value_iter *it, const struct sip_msg *m, enum sip_hdr_id id);

/* Same return convention as sip_list_next(). */
PBX_WUR int sip_value_next(struct sip_value_iter *it, struct slice *item);

/* The n-th comma item across all headers with this id: 0, -ENOENT, -EBADMSG. */
PBX_WUR int sip_msg_value(const struct sip_msg *m, enum sip_hdr_id id, unsigned n,
                          struct slice *item);

/* Via (RFC 3261 §20.42): struct sip_via is defined in msg.h. */

/* Parses one via-parm (a single comma item). 0 or -EBADMSG / -EMSGSIZE. */
PBX_WUR int sip_via_parse(struct sip_via *v, struct slice item);

/* i-th Via value of the message (0 = topmost). 0, -ENOENT, -EBADMSG, -EMSGSIZE. */
PBX_WUR int sip_msg_via(const struct sip_msg *m, unsigned i, struct sip_via *v);

/* CSeq (RFC 3261 §20.16). */
struct sip_cseq {
    uint32_t num; /* 0..2^31-1 */
    enum sip_method method;
    struct slice method_name;
};

/* 0, -EBADMSG (syntax, number >= 2^31). */
PBX_WUR int sip_cseq_parse(struct sip_cseq *c, struct slice value);
PBX_WUR int sip_msg_cseq(const struct sip_msg *m, struct sip_cseq *c);

/* name-addr / addr-spec: struct sip_name_addr is defined in msg.h. */

/* Parses one item. 0, -EBADMSG, -EMSGSIZE. na->uri errors propagate. */
PBX_WUR int sip_name_addr_parse(struct sip_name_addr *na, struct slice item);

PBX_WUR int sip_msg_from(const struct sip_msg *m, struct sip_name_addr *na);
PBX_WUR int sip_msg_to(const struct sip_msg *m, struct sip_name_addr *na);
/* i-th Contact value across Contact headers. "*" gives na->star and an empty URI. */
PBX_WUR int sip_msg_contact(const struct sip_msg *m, unsigned i, struct sip_name_addr *na);
/*
 * Borrowing forms of the above for the values a successful sip_msg_parse() validated and
 * kept (msg.h: from, to, via0, contacts[]): a pointer into *m, valid while m is neither
 * parsed again nor freed, so the hot path copies nothing. NULL when the parse failed or
 * the value is absent; sip_msg_contact_get() also returns NULL for i >= m->ncontacts, so
 * a caller that may meet more than SIP_MSG_CONTACT_CACHE values falls back to
 * sip_msg_contact() (which returns the same values).
 */
const struct sip_name_addr *sip_msg_from_get(const struct sip_msg *m);
const struct sip_name_addr *sip_msg_to_get(const struct sip_msg *m);
const struct sip_via *sip_msg_via0_get(const struct sip_msg *m);
const struct sip_name_addr *sip_msg_contact_get(const struct sip_msg *m, unsigned i);
/* i-th value of any name-addr list header (Route, Record-Route, Path, ...). */
PBX_WUR int sip_msg_name_addr(const struct sip_msg *m, enum sip_hdr_id id, unsigned i,
                              struct sip_name_addr *na);

/*
 * Parses an unsigned decimal (no sign, no spaces) of at most SIP_MAX_NUM_DIGITS digits
 * and <= max. Returns 0, -EBADMSG (empty, non-digit), -ERANGE (above max).
 */
PBX_WUR int sip_parse_uint(struct slice s, uint64_t max, uint64_t *out);

/* Expires header (delta-seconds). 0, -ENOENT, -EBADMSG, -ERANGE. */
PBX_WUR int sip_msg_expires(const struct sip_msg *m, uint32_t *out);

/* Contact q value "0.5" -> 500 (thousandths, 0..1000). 0 or -EBADMSG. */
PBX_WUR int sip_parse_qvalue(struct slice s, unsigned *milli);

/* Call-ID, User-Agent, Server: trimmed value of the first occurrence, or absent. */
struct slice sip_msg_call_id(const struct sip_msg *m);
struct slice sip_msg_user_agent(const struct sip_msg *m);
struct slice sip_msg_server(const struct sip_msg *m);

/*
 * Copies value into dst (cap bytes, NUL-terminated) with CRLF folds and runs of
 * whitespace collapsed to one space. Returns the length written (truncated if short).
 */
size_t sip_value_unfold(struct slice value, char *dst, size_t cap);

#endif
