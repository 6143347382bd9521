/*
 * Keyed hash of a sequence of fields (stateless branches, loop detection, local To tags)
 * on top of the core SipHash-1-3, so the project has one SipHash implementation.
 * Fields are gathered into a small buffer and hashed in one call; for the common case
 * (everything fits) the result is SipHash-1-3 of the concatenation. Longer inputs are folded:
 * when the buffer is full its digest becomes the first 8 bytes of the next round, which keeps
 * the state bounded whatever the field sizes. Private to proxy; no thread-safety concerns
 * (caller storage, pure).
 */
#ifndef PBXGUARD_PROXY_KEYHASH_H
#define PBXGUARD_PROXY_KEYHASH_H

#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/siphash.h"

#define PX_KH_BUF 512u

struct px_khash {
    const uint8_t *key; /* borrowed: PBX_SIPHASH_KEY_LEN bytes, alive until px_kh_final() */
    size_t len;
    uint8_t buf[PX_KH_BUF];
};

void px_kh_init(struct px_khash *h, const uint8_t key[PBX_SIPHASH_KEY_LEN]);
/* Appends len bytes (data may be NULL when len is 0). */
void px_kh_put(struct px_khash *h, const void *data, size_t len);
/* Appends a 4-byte little-endian length, then the bytes: ("ab","c") and ("a","bc") differ. */
void px_kh_field(struct px_khash *h, const void *data, size_t len);
uint64_t px_kh_final(const struct px_khash *h);

#endif
