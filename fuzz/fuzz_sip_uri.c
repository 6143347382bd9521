/*
 * URI parser (sip, sips, tel, other schemes), parameter walker, %-unescaping and
 * host:port parsing on raw bytes.
 * fuzz-requires: pbx_sip
 */
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/sip/limits.h"
#include "pbxguard/sip/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(struct slice s)
{
    for (size_t i = 0; i < s.len; i++)
        sink += (uint8_t)s.p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = slice_make(data, size);
    struct sip_uri u;
    char buf[SIP_MAX_URI_LEN];
    size_t n;
    bool nul;
    int rc = sip_uri_parse(&u, in);
    if (rc != 0 && !u.err_reason)
        __builtin_trap();
    touch(u.user);
    touch(u.password);
    touch(u.host);
    touch(u.params);
    touch(u.headers);
    touch(u.opaque);
    touch(u.transport);
    touch(u.maddr);
    struct sip_param_iter it;
    struct sip_param p;
    /* Absent slices are passed on purpose: the walkers must treat them as empty. */
    sip_param_iter_init(&it, u.params);
    while (sip_param_next(&it, &p) == 1) {
        touch(p.name);
        touch(p.value);
    }
    sip_param_iter_init(&it, in);
    while (sip_param_next(&it, &p) == 1)
        touch(sip_unquote(p.value));
    if (sip_param_find(in, "tag", &p))
        touch(p.value);
    if (sip_unescape(in, buf, sizeof(buf), &n, &nul) == 0 && n > sizeof(buf))
        __builtin_trap();
    struct slice host;
    enum sip_host_type ht;
    uint16_t port;
    if (sip_hostport_parse(in, &host, &ht, &port) == 0)
        touch(host);
    return 0;
}
