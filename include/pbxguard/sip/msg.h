/*
 * Zero-copy SIP message parser (RFC 3261 §7, §18.3, §20).
 *
 * Ownership: struct sip_msg is caller storage (no heap allocation, ever). Every slice in
 * it, and everything the accessors return, points into the caller's input buffer, which
 * must stay alive and unchanged while the message or any slice taken from it is used.
 * The input is never modified and need not be NUL-terminated.
 *
 * sip_msg_parse() makes one linear pass over the start line and the header lines,
 * classifying every header (name confirmed by a case-insensitive compare of the full
 * name, including compact forms) and parsing only what framing and header-confusion
 * defence need: Request-URI, top Via (and the count of all Via values), CSeq,
 * Content-Length, Max-Forwards, From, To and every Contact. Other typed headers are
 * parsed on demand by the accessors in headers.h, auth.h and sdp.h. No heap allocation.
 *
 * Thread-safety: a parsed message is read-only; any number of threads may call the
 * accessors on it concurrently. Parsing itself touches only *m.
 */
#ifndef PBXGUARD_SIP_MSG_H
#define PBXGUARD_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/uri.h"

enum sip_method {
    SIP_METHOD_UNKNOWN = 0, /* extension method: kept, see sip_msg.method_name */
    SIP_METHOD_INVITE,
    SIP_METHOD_ACK,
    SIP_METHOD_BYE,
    SIP_METHOD_CANCEL,
    SIP_METHOD_REGISTER,
    SIP_METHOD_OPTIONS,
    SIP_METHOD_PRACK,
    SIP_METHOD_SUBSCRIBE,
    SIP_METHOD_NOTIFY,
    SIP_METHOD_PUBLISH,
    SIP_METHOD_INFO,
    SIP_METHOD_REFER,
    SIP_METHOD_MESSAGE,
    SIP_METHOD_UPDATE,
    SIP_METHOD_COUNT
};

/* Known headers. Values are stable within a build only; use sip_hdr_name() for text. */
enum sip_hdr_id {
    SIP_HDR_OTHER = 0, /* unknown/extension header: kept, matched by name */
    SIP_HDR_ACCEPT,
    SIP_HDR_ACCEPT_CONTACT, /* a */
    SIP_HDR_ACCEPT_ENCODING,
    SIP_HDR_ACCEPT_LANGUAGE,
    SIP_HDR_ALERT_INFO,
    SIP_HDR_ALLOW,
    SIP_HDR_ALLOW_EVENTS, /* u */
    SIP_HDR_AUTHENTICATION_INFO,
    SIP_HDR_AUTHORIZATION,
    SIP_HDR_CALL_ID, /* i */
    SIP_HDR_CALL_INFO,
    SIP_HDR_CONTACT, /* m */
    SIP_HDR_CONTENT_DISPOSITION,
    SIP_HDR_CONTENT_ENCODING, /* e */
    SIP_HDR_CONTENT_LANGUAGE,
    SIP_HDR_CONTENT_LENGTH, /* l */
    SIP_HDR_CONTENT_TYPE,   /* c */
    SIP_HDR_CSEQ,
    SIP_HDR_DATE,
    SIP_HDR_ERROR_INFO,
    SIP_HDR_EVENT, /* o */
    SIP_HDR_EXPIRES,
    SIP_HDR_FROM,     /* f */
    SIP_HDR_IDENTITY, /* y */
    SIP_HDR_IN_REPLY_TO,
    SIP_HDR_MAX_FORWARDS,
    SIP_HDR_MIME_VERSION,
    SIP_HDR_MIN_EXPIRES,
    SIP_HDR_MIN_SE,
    SIP_HDR_ORGANIZATION,
    SIP_HDR_P_ASSERTED_IDENTITY,
    SIP_HDR_P_PREFERRED_IDENTITY,
    SIP_HDR_PATH,
    SIP_HDR_PRIORITY,
    SIP_HDR_PRIVACY,
    SIP_HDR_PROXY_AUTHENTICATE,
    SIP_HDR_PROXY_AUTHORIZATION,
    SIP_HDR_PROXY_REQUIRE,
    SIP_HDR_RACK,
    SIP_HDR_REASON,
    SIP_HDR_RECORD_ROUTE,
    SIP_HDR_REFER_TO,       /* r */
    SIP_HDR_REFERRED_BY,    /* b */
    SIP_HDR_REJECT_CONTACT, /* j */
    SIP_HDR_REPLACES,
    SIP_HDR_REPLY_TO,
    SIP_HDR_REQUEST_DISPOSITION, /* d */
    SIP_HDR_REQUIRE,
    SIP_HDR_RETRY_AFTER,
    SIP_HDR_ROUTE,
    SIP_HDR_RSEQ,
    SIP_HDR_SERVER,
    SIP_HDR_SESSION_EXPIRES, /* x */
    SIP_HDR_SUBJECT,         /* s */
    SIP_HDR_SUBSCRIPTION_STATE,
    SIP_HDR_SUPPORTED, /* k */
    SIP_HDR_TIMESTAMP,
    SIP_HDR_TO, /* t */
    SIP_HDR_UNSUPPORTED,
    SIP_HDR_USER_AGENT,
    SIP_HDR_VIA, /* v */
    SIP_HDR_WARNING,
    SIP_HDR_WWW_AUTHENTICATE,
    SIP_HDR_COUNT
};

/*
 * Tolerable oddities, one bit each in sip_msg.anomalies (bit = 1ull << value).
 * The numbering and the names from sip_anomaly_name() are stable: they appear in JSON
 * events and detection rules. Append new ones before SIP_ANOM_COUNT; never renumber.
 */
enum sip_anomaly {
    SIP_ANOM_DUP_SINGLETON = 0,    /* a header allowed once appears more than once */
    SIP_ANOM_CL_MISMATCH,          /* Content-Length differs from the bytes present */
    SIP_ANOM_NO_CL,                /* no Content-Length (tolerated on datagrams) */
    SIP_ANOM_LWS_FOLD,             /* a header value continues on a folded line */
    SIP_ANOM_CSEQ_METHOD_MISMATCH, /* CSeq method differs from the request method */
    SIP_ANOM_UNKNOWN_SCHEME,       /* a URI with a scheme other than sip/sips/tel */
    SIP_ANOM_ESCAPED_NUL,          /* %00 inside a URI */
    SIP_ANOM_BRANCH_NOT_RFC3261,   /* top Via branch lacks the z9hG4bK magic cookie */
    SIP_ANOM_MAXFWD_ZERO,          /* Max-Forwards: 0 */
    SIP_ANOM_TRAILING_DATA,        /* bytes after the body announced by Content-Length */
    SIP_ANOM_BAD_DATE,             /* Date header not in RFC 1123 GMT form */
    SIP_ANOM_UNKNOWN_METHOD,       /* extension method in the request line */
    SIP_ANOM_NO_MAXFWD,            /* request without Max-Forwards (RFC 2543 style) */
    SIP_ANOM_BARE_LF,              /* a line ended by LF without CR */
    SIP_ANOM_WS_BEFORE_COLON,      /* whitespace between a header name and ':' */
    SIP_ANOM_EMPTY_VALUE,          /* header with an empty value */
    SIP_ANOM_CTRL_CHAR,            /* control byte (not HT) inside a header value */
    SIP_ANOM_NON_UTF8,             /* bytes that are not valid UTF-8 in a header value */
    SIP_ANOM_VIA_NO_BRANCH,        /* top Via without a branch parameter */
    SIP_ANOM_RURI_ESCAPED,         /* %-escapes in the Request-URI user or host */
    SIP_ANOM_COMPACT_FORM,         /* a compact header name was used */
    SIP_ANOM_EMPTY_REASON,         /* status line without a reason phrase */
    SIP_ANOM_LEADING_ZEROS,        /* numeric field with leading zeros */
    SIP_ANOM_UNKNOWN_TRANSPORT,    /* Via transport not UDP/TCP/TLS/SCTP/WS/WSS */
    SIP_ANOM_TO_TAG_ON_REQUEST,    /* To tag on REGISTER (never sent inside a dialog) */
    SIP_ANOM_NO_FROM_TAG,          /* From without a tag (RFC 2543 style) */
    SIP_ANOM_LONG_CALL_ID,         /* Call-ID longer than 256 bytes */
    SIP_ANOM_MISSING_HEADER,       /* a header RFC 3261 §8.1.1 requires is absent */
    SIP_ANOM_UNPARSED_HEADER,      /* a known header failed typed parsing (e.g. Expires) */
    SIP_ANOM_BODY_WITHOUT_TYPE,    /* body present but no Content-Type */
    SIP_ANOM_MULTI_CL_VALUES,      /* Content-Length repeated with the same value */
    SIP_ANOM_SCHEME_CASE,          /* URI scheme not in lower case */
    SIP_ANOM_COUNT
};

/* Via (RFC 3261 §20.42): one via-parm. */
struct sip_via {
    struct slice protocol;  /* "SIP" */
    struct slice version;   /* "2.0" */
    struct slice transport; /* "UDP", "TCP", "TLS", "SCTP", "WS", "WSS", other tokens */
    struct slice host;      /* without IPv6 brackets */
    enum sip_host_type host_type;
    uint16_t port;       /* 0 when absent */
    struct slice params; /* from the first ';', ';' included */
    struct slice branch;
    struct slice received;
    struct slice maddr;
    struct slice ttl; /* raw; 0..255 checked */
    bool has_rport;
    uint16_t rport; /* 0 when rport has no value */
    uint64_t anomalies;
};

/*
 * name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route,
 * Path, Reply-To, Refer-To, P-Asserted-Identity...). In the addr-spec form (no '<'),
 * the first ';' after the URI starts the header parameters (RFC 3261 §20.10).
 */
struct sip_name_addr {
    bool star;            /* Contact: * */
    bool bracketed;       /* '<' uri '>' form */
    struct slice display; /* as written: quoted (with quotes) or tokens; absent if none */
    struct slice uri_raw;
    struct sip_uri uri;
    struct slice params; /* header params, from the first ';', ';' included */
    struct slice tag;
    struct slice expires; /* raw */
    struct slice q;       /* raw */
    uint64_t anomalies;
};

struct sip_hdr {
    struct slice name;  /* as written (not confirmed ASCII-lowercased) */
    struct slice value; /* trimmed; may contain CRLF folds (accessors skip them) */
    uint16_t id;        /* enum sip_hdr_id */
    uint16_t next;      /* index of the next header with the same id, SIP_HDR_END if none */
    uint32_t off;       /* byte offset of the line in the message */
    uint8_t compact;    /* name was a compact form */
    uint8_t folded;     /* value spans folded lines */
};

#define SIP_HDR_END 0xffffu

#define SIP_CACHE_FROM 1u
#define SIP_CACHE_TO 2u
#define SIP_CACHE_VIA0 4u

/*
 * Values a successful parse keeps for the accessors: the first SIP_MSG_VIA_CACHE Via value
 * slices (sip_msg_via() then needs no comma-list walk) and the first SIP_MSG_CONTACT_CACHE
 * Contact values, which the parser validates anyway (sip_msg_contact() copies them).
 */
#define SIP_MSG_VIA_CACHE 8u
#define SIP_MSG_CONTACT_CACHE 4u

/* Parse flags. */
#define SIP_PARSE_DATAGRAM 0u /* RFC 3261 §18.3: body = rest of datagram, CL optional */
#define SIP_PARSE_STREAM 1u   /* one framed message: Content-Length mandatory and exact */
#define SIP_PARSE_STRICT 2u   /* treat CL mismatch and duplicate singletons as errors */

struct sip_msg {
    const uint8_t *buf;
    size_t len;     /* bytes handed to sip_msg_parse() */
    size_t msg_len; /* bytes that belong to the message (headers + body per CL) */
    size_t hdr_len; /* start line + headers + blank line */
    bool is_request;

    /* Request line */
    enum sip_method method;
    struct slice method_name;
    struct slice ruri_raw;
    struct sip_uri ruri;
    struct slice version; /* "SIP/2.0" as written */

    /* Status line */
    int status; /* 100..699, 0 for requests */
    struct slice reason;

    /* Headers in order of appearance. */
    struct sip_hdr hdrs[SIP_MAX_HEADERS];
    uint16_t nhdrs;
    uint16_t first[SIP_HDR_COUNT]; /* first index per id, SIP_HDR_END if absent */
    uint16_t last[SIP_HDR_COUNT];  /* last index per id, valid where first[id] is not END */
    uint16_t count[SIP_HDR_COUNT];

    /* Parsed eagerly. */
    int64_t content_length; /* -1 when absent */
    int max_forwards;       /* -1 when absent */
    uint32_t cseq_num;      /* valid when CSeq present (count[SIP_HDR_CSEQ] > 0) */
    enum sip_method cseq_method;
    struct slice cseq_method_name;
    unsigned via_count; /* Via values across all Via lines */
    struct slice call_id;
    struct slice body; /* present (maybe empty) when parsing reached the body */

    /*
     * Typed results of the eager checks, valid when the bit of `cached` is set (only after
     * a successful parse). sip_msg_from(), sip_msg_to() and sip_msg_via(m, 0, ...) return
     * copies of them instead of parsing again.
     */
    unsigned cached; /* SIP_CACHE_* bits */
    struct sip_name_addr from;
    struct sip_name_addr to;
    struct sip_via via0;
    /* Also valid only after a successful parse (both counts are 0 otherwise). */
    uint8_t nvia_items; /* min(via_count, SIP_MSG_VIA_CACHE) */
    uint8_t ncontacts;  /* min(Contact values, SIP_MSG_CONTACT_CACHE) */
    struct slice via_items[SIP_MSG_VIA_CACHE];
    struct sip_name_addr contacts[SIP_MSG_CONTACT_CACHE];

    uint64_t anomalies; /* bit (1ull << enum sip_anomaly) */

    /* Failure point: offset into buf and a static reason; NULL reason on success. */
    size_t err_off;
    const char *err_reason;
};

/*
 * Parses the message in buf[0..len). flags: SIP_PARSE_DATAGRAM or SIP_PARSE_STREAM,
 * optionally | SIP_PARSE_STRICT.
 * Returns 0 on success; -EBADMSG when malformed; -EMSGSIZE when a cap of limits.h was hit;
 * -EAGAIN (stream mode only) when the header section or body is incomplete; -EINVAL on
 * bad arguments. On any error m->err_off and m->err_reason (static string) tell where
 * and why, and everything parsed before the failure stays readable (best effort, for
 * logging). buf must outlive m. Datagram mode follows RFC 3261 §18.3: a body shorter
 * than Content-Length is an error (SIP_ANOM_CL_MISMATCH is set too), a longer one is
 * truncated to Content-Length and flagged SIP_ANOM_TRAILING_DATA. Stream mode requires
 * Content-Length; bytes past it are flagged SIP_ANOM_TRAILING_DATA and left out of
 * msg_len. With SIP_PARSE_STRICT, duplicate singleton headers and trailing bytes are errors.
 * Conflicting duplicates of Call-ID, CSeq, From, To or Content-Length are always errors:
 * two components reading different copies is a header-confusion attack.
 * A message lacking Via, From, To, Call-ID or CSeq is refused (RFC 3261 §8.1.1), and so is
 * one whose top Via, From, To or any Contact value is malformed, or whose Contact mixes
 * "*" with other values. Reentrant: no global state; m is fully reset first.
 */
PBX_WUR int sip_msg_parse(struct sip_msg *m, const uint8_t *buf, size_t len, unsigned flags);

/* The n-th (0-based) header with this id, or NULL. O(n) in occurrences. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id, unsigned n);

/* Number of headers with this id. */
unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id);

/* The n-th header's value, or an absent slice. */
struct slice sip_msg_hdr_value(const struct sip_msg *m, enum sip_hdr_id id, unsigned n);

/*
 * The n-th header whose name matches name (case-insensitive; a known header's long or
 * compact name finds both forms), or NULL. name need not be NUL-terminated.
 */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct slice name, unsigned n);

/*
 * Classifies a header name (long or compact form). Table lookup followed by a full
 * case-insensitive compare: a name is never taken as known on a partial or hashed match.
 * Sets *compact (if non-NULL) when the compact form matched.
 */
enum sip_hdr_id sip_hdr_lookup(struct slice name, bool *compact);

/* Canonical long name ("Call-ID"), "" for SIP_HDR_OTHER or out of range. */
const char *sip_hdr_name(enum sip_hdr_id id);

/* Method from its token (case-sensitive per RFC 3261 §7.1); SIP_METHOD_UNKNOWN otherwise. */
enum sip_method sip_method_lookup(struct slice token);

/* Upper-case method name, "" for SIP_METHOD_UNKNOWN. */
const char *sip_method_name(enum sip_method m);

/* Stable snake_case name of an anomaly ("dup_singleton"), "unknown" when out of range. */
const char *sip_anomaly_name(enum sip_anomaly a);

/*
 * Writes the names of the bits set in set, comma-separated, NUL-terminated into dst
 * (cap bytes). Returns the length written (truncated at a name boundary if short).
 */
size_t sip_anomaly_fmt(uint64_t set, char *dst, size_t cap);

static inline bool sip_msg_has_anomaly(const struct sip_msg *m, enum sip_anomaly a)
{
    return (m->anomalies >> (unsigned)a) & 1u;
}

#endif
