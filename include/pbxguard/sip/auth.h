/*
 * Digest credentials (Authorization, Proxy-Authorization; RFC 3261 §20.7, §22.4,
 * RFC 2617 §3.2.2) and challenges (WWW-Authenticate, Proxy-Authenticate; §20.44).
 * Allocation-free; slices point into the message (see msg.h). Thread-safe on const input.
 */
#ifndef PBXGUARD_SIP_AUTH_H
#define PBXGUARD_SIP_AUTH_H

#include <stdbool.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/sip/msg.h"

/*
 * Quoted values are given without their quotes (backslash escapes kept as written);
 * token values as written. Absent parameters are absent slices.
 */
struct sip_digest {
    struct slice scheme; /* "Digest" as written (other schemes parse, fields stay absent) */
    struct slice username;
    struct slice realm;
    struct slice nonce;
    struct slice uri;
    struct slice response;
    struct slice algorithm;
    struct slice cnonce;
    struct slice opaque;
    struct slice qop; /* credentials: one token; challenges: "auth,auth-int" list */
    struct slice nc;
    struct slice stale;  /* challenges */
    struct slice domain; /* challenges */
    struct slice params; /* all auth-params, for sip_auth_param_next() */
    bool stale_true;
    unsigned nparams;
    bool dup_param; /* a parameter name appeared twice (suspicious) */
};

/*
 * Parses `scheme auth-param *("," auth-param)`. Returns 0, -EBADMSG (syntax, e.g. missing
 * '=' or unterminated quote), -EMSGSIZE (more than SIP_MAX_AUTH_PARAMS).
 */
PBX_WUR int sip_digest_parse(struct sip_digest *d, struct slice value);

/* Walker over the auth-params of d->params (name=value pairs, value unquoted). */
struct sip_auth_iter {
    const char *p;
    const char *end;
    unsigned n;
};
void sip_auth_iter_init(struct sip_auth_iter *it, struct slice params);
/* 1 with *name and *value set, 0 at end, -EBADMSG, -EMSGSIZE. */
PBX_WUR int sip_auth_param_next(struct sip_auth_iter *it, struct slice *name, struct slice *value);

/*
 * n-th credentials (id = SIP_HDR_AUTHORIZATION or SIP_HDR_PROXY_AUTHORIZATION) or
 * challenge (SIP_HDR_WWW_AUTHENTICATE or SIP_HDR_PROXY_AUTHENTICATE).
 * Returns 0, -ENOENT, -EBADMSG, -EMSGSIZE, -EINVAL (other id).
 */
PBX_WUR int sip_msg_digest(const struct sip_msg *m, enum sip_hdr_id id, unsigned n,
                           struct sip_digest *d);

/* Next token of a qop list ("auth,auth-int"): 1 with *tok, 0 at end. *rest is advanced. */
int sip_qop_next(struct slice *rest, struct slice *tok);

#endif
