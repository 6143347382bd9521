/*
 * Every cap the SIP parser and stream framer enforce, in one place. A message that
 * exceeds one of them is refused with -EMSGSIZE (never truncated silently), and the
 * caps bound the memory and CPU an attacker can make one message cost.
 */
#ifndef PBXGUARD_SIP_LIMITS_H
#define PBXGUARD_SIP_LIMITS_H

/* Whole message (start line + headers + body). RFC 3261 §18.1.1 keeps UDP far below. */
#define SIP_MAX_MSG_SIZE 65535u
/* Start line + header section, up to and including the blank line. */
#define SIP_MAX_HDR_SECTION 16384u
/* Body bytes (Content-Length values above this are refused). */
#define SIP_MAX_BODY_SIZE 49152u
/* One physical or folded logical header line. */
#define SIP_MAX_LINE_LEN 8192u
/* Header fields per message (each line counts once; comma lists count once). */
#define SIP_MAX_HEADERS 96u
/* Header name length. */
#define SIP_MAX_HDR_NAME_LEN 128u
/* Via values per message (all Via lines and comma values). Max-Forwards starts at 70. */
#define SIP_MAX_VIA 70u
/* Request-URI and any URI handed to sip_uri_parse(). */
#define SIP_MAX_URI_LEN 2048u
/* Hostname length (RFC 1035 §2.3.4) and the IPv6 text inside brackets. */
#define SIP_MAX_HOSTNAME_LEN 255u
#define SIP_MAX_IPV6_TEXT_LEN 63u
/* Max-Forwards (RFC 3261 §20.22) and URI/Via ttl values. */
#define SIP_MAX_MAXFWD 255u
#define SIP_MAX_TTL 255u
/* Call-IDs longer than this are flagged SIP_ANOM_LONG_CALL_ID (not refused). */
#define SIP_LONG_CALL_ID 256u
/* Method token length. */
#define SIP_MAX_METHOD_LEN 64u
/* Reason phrase length. */
#define SIP_MAX_REASON_LEN 256u
/* Parameters in one URI or one header value (;name=value). */
#define SIP_MAX_PARAMS 32u
/* URI headers (?h=v&h=v). */
#define SIP_MAX_URI_HEADERS 16u
/* Comma-separated values walked in one header line. */
#define SIP_MAX_LIST_VALUES 64u
/* Digest auth-params in one credentials/challenge value. */
#define SIP_MAX_AUTH_PARAMS 32u
/* Decimal digits accepted in Content-Length, Expires, CSeq, Max-Forwards. */
#define SIP_MAX_NUM_DIGITS 10u
/* RFC 3261 §8.1.1.5: CSeq sequence number is < 2^31. */
#define SIP_MAX_CSEQ 2147483647u
/* Expires / Min-Expires / contact expires values above this are refused. */
#define SIP_MAX_EXPIRES 4294967295u
/* SDP: media descriptions, lines, attribute lines considered. */
#define SIP_MAX_SDP_MEDIA 16u
#define SIP_MAX_SDP_LINES 256u
/*
 * Stream callers: CRLF keep-alives to accept back to back within one read before treating
 * the peer as abusive. The framer returns keep-alives one by one and does not enforce it,
 * since an idle registered flow legitimately sends pings for hours between messages.
 */
#define SIP_MAX_KEEPALIVE_RUN 64u

#endif
