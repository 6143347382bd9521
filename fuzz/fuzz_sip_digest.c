/*
 * Digest credentials / challenge parser (Authorization, WWW-Authenticate values) and its
 * auth-param and qop walkers.
 * fuzz-requires: pbx_sip
 */
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/sip/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(struct slice s)
{
    for (size_t i = 0; i < s.len; i++)
        sink += (uint8_t)s.p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sip_digest d;
    struct slice in = slice_make(data, size);
    if (sip_digest_parse(&d, in) != 0)
        return 0;
    touch(d.scheme);
    touch(d.username);
    touch(d.realm);
    touch(d.nonce);
    touch(d.uri);
    touch(d.response);
    touch(d.algorithm);
    touch(d.cnonce);
    touch(d.opaque);
    touch(d.nc);
    touch(d.stale);
    touch(d.domain);
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
    return 0;
}
