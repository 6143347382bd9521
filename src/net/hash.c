/*
 * Connection-table hashing: the core SipHash-1-3 keyed with a per-instance random key, so a
 * remote party cannot choose addresses that pile into one bucket of the connection tables.
 */
#include <string.h>

#include "net_internal.h"
#include "pbxguard/core/siphash.h"

uint64_t net_hash_addr(const struct net *n, const struct pbx_addr *a, bool with_port)
{
    /* Hash a canonical byte string, never the struct (padding bytes are unspecified). */
    uint8_t key[1 + 16 + 2];
    size_t len = 0;
    key[len++] = (uint8_t)a->family;
    if (a->family == AF_INET) {
        memcpy(key + len, &a->ip.v4, 4);
        len += 4;
    } else {
        memcpy(key + len, &a->ip.v6, 16);
        len += 16;
    }
    if (with_port) {
        key[len++] = (uint8_t)(a->port >> 8);
        key[len++] = (uint8_t)a->port;
    }
    return pbx_siphash13(n->hash_key, key, len);
}
