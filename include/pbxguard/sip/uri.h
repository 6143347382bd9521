/*
 * SIP/SIPS/tel URI parsing (RFC 3261 §19.1, RFC 3966) and generic ";name=value"
 * parameter walking (URI parameters and header parameters share the walker).
 *
 * Everything here is allocation-free and works on borrowed slices: every output slice
 * points into the input, which must outlive the result and is never modified.
 * No function needs NUL-terminated input. All functions are thread-safe (no shared state).
 */
#ifndef PBXGUARD_SIP_URI_H
#define PBXGUARD_SIP_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

enum sip_uri_scheme {
    SIP_URI_OTHER = 0, /* absolute URI with another scheme: kept, see .opaque */
    SIP_URI_SIP,
    SIP_URI_SIPS,
    SIP_URI_TEL,
};

enum sip_host_type {
    SIP_HOST_NONE = 0,
    SIP_HOST_NAME, /* hostname (syntax checked, not resolved) */
    SIP_HOST_IPV4,
    SIP_HOST_IPV6, /* .host excludes the brackets of the IPv6reference */
};

/* One parameter; .value is absent (p == NULL) for a bare flag such as ";lr". */
struct sip_param {
    struct slice name;
    struct slice value; /* raw; a quoted-string value keeps its quotes */
};

/*
 * Walker over ";a=b;c;d=\"q;v\"" lists. Respects quoted strings (with backslash
 * escapes) and skips LWS (including CRLF folds) around names, '=' and ';'.
 */
struct sip_param_iter {
    const char *p;
    const char *end;
    unsigned n; /* parameters returned so far (capped at SIP_MAX_PARAMS) */
};

/*
 * A parsed URI. For sip/sips: user, password, host, port, params, headers.
 * For tel: .user is the number (global or local), .params the parameters.
 * For other schemes only .scheme_name and .opaque (after ':') are filled.
 */
struct sip_uri {
    enum sip_uri_scheme scheme;
    enum sip_host_type host_type;
    uint16_t port;            /* 0 when absent */
    struct slice raw;         /* the whole URI as given */
    struct slice scheme_name; /* as written, e.g. "SIP" */
    struct slice user;        /* still %-escaped; may contain ';' (user params) */
    struct slice password;    /* absent unless "user:password@" */
    struct slice host;        /* hostname / IPv4 / IPv6 without brackets */
    struct slice port_str;    /* digits, absent when no port */
    struct slice params;      /* from the first ';' after the host, ';' included */
    struct slice headers;     /* after '?', '?' excluded */
    struct slice opaque;      /* everything after "scheme:" */
    /* Well-known URI parameters, found while parsing (raw values, absent if missing). */
    struct slice transport;
    struct slice user_param;
    struct slice method;
    struct slice maddr;
    struct slice ttl;
    bool lr;
    uint64_t anomalies; /* SIP_ANOM_* bits seen (see msg.h), e.g. SIP_ANOM_ESCAPED_NUL */
    /* On failure: offset into .raw and a static reason. */
    size_t err_off;
    const char *err_reason;
};

/*
 * Parses one URI from s (no surrounding '<' '>' and no header parameters: the caller
 * splits name-addr / addr-spec first, see sip_name_addr_parse()).
 * Returns 0, -EBADMSG (syntax; u->err_off / u->err_reason say where and why), or
 * -EMSGSIZE (longer than SIP_MAX_URI_LEN or more than SIP_MAX_PARAMS parameters).
 * u is fully written on every return (fields found before an error stay valid).
 */
PBX_WUR int sip_uri_parse(struct sip_uri *u, struct slice s);

/* Starts a walk over s, which may begin with ';' or directly with a name. */
void sip_param_iter_init(struct sip_param_iter *it, struct slice s);

/*
 * Returns 1 with *out filled, 0 at the end, -EBADMSG on a syntax error (empty name,
 * unterminated quote), -EMSGSIZE after SIP_MAX_PARAMS parameters.
 * The walk stops at the end of the slice only; callers pass exactly the parameter text.
 */
PBX_WUR int sip_param_next(struct sip_param_iter *it, struct sip_param *out);

/*
 * Finds the first parameter named name (ASCII case-insensitive) in the parameter text
 * params. Returns true and fills *out when found; false when absent or on a syntax error.
 */
bool sip_param_find(struct slice params, const char *name, struct sip_param *out);

/*
 * Removes the quotes of a quoted-string (and nothing else: backslash escapes stay).
 * Returns s unchanged when it is not quoted.
 */
struct slice sip_unquote(struct slice s);

/*
 * %-decodes s into dst (cap bytes, not NUL-terminated), writing the decoded length to
 * *outlen. Returns 0, -EBADMSG on a malformed escape, -EMSGSIZE when dst is too small.
 * Sets *has_nul (if non-NULL) when an escaped NUL (%00) was decoded.
 */
PBX_WUR int sip_unescape(struct slice s, char *dst, size_t cap, size_t *outlen, bool *has_nul);

/*
 * Parses a host[:port] as used in URIs and Via sent-by: hostname, IPv4 or
 * "[IPv6]". Returns 0 or -EBADMSG. *port is 0 when absent; port 0 is refused.
 */
PBX_WUR int sip_hostport_parse(struct slice s, struct slice *host, enum sip_host_type *type,
                               uint16_t *port);

#endif
