/*
 * Minimal SDP reader (RFC 4566: v o s c t m a lines) for the security checks that need
 * media addresses and ports. Allocation-free; slices point into the body (see msg.h).
 * Thread-safe on const input. Unknown line types are skipped.
 */
#ifndef PBXGUARD_SIP_SDP_H
#define PBXGUARD_SIP_SDP_H

#include <stdbool.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/sip/limits.h"

enum sip_sdp_addrtype {
    SIP_SDP_ADDR_NONE = 0,
    SIP_SDP_ADDR_IP4,
    SIP_SDP_ADDR_IP6,
    SIP_SDP_ADDR_OTHER,
};

/* c=<nettype> <addrtype> <connection-address> */
struct sip_sdp_conn {
    struct slice nettype;  /* "IN" */
    struct slice addrtype; /* "IP4" / "IP6" */
    enum sip_sdp_addrtype type;
    struct slice addr; /* may carry "/ttl" or "/n" suffixes, kept as written */
};

struct sip_sdp_media {
    struct slice media; /* "audio" */
    uint16_t port;
    uint16_t nports;          /* "port/n", 1 when absent */
    struct slice proto;       /* "RTP/AVP" */
    struct slice fmts;        /* "0 8 101"; walk with sip_sdp_word_next() */
    struct sip_sdp_conn conn; /* media-level c=, type NONE when absent */
    struct slice attrs;       /* the a= lines of this media section, for sip_sdp_attr() */
};

struct sip_sdp {
    struct slice version; /* v= value, must be "0" */
    struct slice origin;  /* whole o= value */
    struct slice o_username;
    struct slice o_sess_id;
    struct slice o_sess_version;
    struct sip_sdp_conn o_addr; /* from o=: nettype, addrtype, address */
    struct slice session_name;
    struct slice timing;      /* t= value */
    struct sip_sdp_conn conn; /* session-level c=, type NONE when absent */
    struct slice attrs;       /* session-level a= lines */
    struct sip_sdp_media media[SIP_MAX_SDP_MEDIA];
    unsigned nmedia;
};

/*
 * Parses body as SDP. Returns 0, -EBADMSG (no v=0 first line, malformed o/c/m line),
 * -EMSGSIZE (more than SIP_MAX_SDP_MEDIA m= lines or SIP_MAX_SDP_LINES lines).
 * Accepts CRLF or bare LF line ends.
 */
PBX_WUR int sip_sdp_parse(struct sip_sdp *s, struct slice body);

/* Next space-separated word of *rest (format lists): 1 with *word, 0 at end. */
int sip_sdp_word_next(struct slice *rest, struct slice *word);

/*
 * Finds the n-th "a=name" or "a=name:value" line in attrs (a .attrs slice).
 * Returns true with *value (absent for a flag attribute) when found.
 */
bool sip_sdp_attr(struct slice attrs, const char *name, unsigned n, struct slice *value);

/* Effective connection of media i: media-level c= or the session-level one. */
const struct sip_sdp_conn *sip_sdp_media_conn(const struct sip_sdp *s, unsigned i);

#endif
