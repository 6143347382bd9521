/*
 * SipHash-2-4 (Aumasson & Bernstein), streaming: a keyed hash for values derived from
 * attacker-controlled bytes (stateless branches, To tags, load sharing). Private to proxy.
 */
#ifndef PBXGUARD_PROXY_SIPHASH_H
#define PBXGUARD_PROXY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash {
    uint64_t v0, v1, v2, v3;
    uint64_t tail; /* pending bytes, little-endian */
    size_t ntail;
    uint64_t total;
};

void siphash_init(struct siphash *s, const uint8_t key[16]);
void siphash_update(struct siphash *s, const void *data, size_t len);
uint64_t siphash_final(struct siphash *s);

/* Updates with a length prefix, so ("ab","c") and ("a","bc") hash differently. */
void siphash_field(struct siphash *s, const void *data, size_t len);

#endif
