/* SipHash-2-4 and -1-3, straight from the reference description (https://131002.net/siphash/). */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "pbxguard/core/siphash.h"

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    /* One unaligned load; a byte loop here was most of the hash's cost. */
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = rotl64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = rotl64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = rotl64(v2, 32);                                                                       \
    } while (0)

/* SipHash-c-d: c compression rounds per 8-byte block, d finalisation rounds. */
static inline uint64_t siphash_cd(const uint8_t key[PBX_SIPHASH_KEY_LEN], const void *data,
                                  size_t len, unsigned c, unsigned d)
{
    const uint8_t *in = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0;
    uint64_t v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0;
    uint64_t v3 = 0x7465646279746573ull ^ k1;
    size_t full = len & ~(size_t)7;

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        for (unsigned r = 0; r < c; r++)
            SIPROUND;
        v0 ^= m;
    }
    /* Last block: remaining bytes plus the length byte in the top position. */
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)in[full + i] << (8u * i);
    v3 ^= b;
    for (unsigned r = 0; r < c; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (unsigned r = 0; r < d; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t pbx_siphash24(const uint8_t key[PBX_SIPHASH_KEY_LEN], const void *data, size_t len)
{
    return siphash_cd(key, data, len, 2, 4);
}

uint64_t pbx_siphash13(const uint8_t key[PBX_SIPHASH_KEY_LEN], const void *data, size_t len)
{
    return siphash_cd(key, data, len, 1, 3);
}

int pbx_siphash_keygen(uint8_t key[PBX_SIPHASH_KEY_LEN])
{
    uint8_t tmp[PBX_SIPHASH_KEY_LEN];
    size_t got = 0;

    while (got < sizeof(tmp)) {
        ssize_t n = getrandom(tmp + got, sizeof(tmp) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    memcpy(key, tmp, sizeof(tmp));
    return 0;
}
