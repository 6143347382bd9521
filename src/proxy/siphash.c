/* SipHash-2-4, written from the reference description (64-bit output). */
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void round2(struct siphash *s, uint64_t m)
{
    s->v3 ^= m;
    for (int i = 0; i < 2; i++) {
        s->v0 += s->v1;
        s->v1 = ROTL(s->v1, 13);
        s->v1 ^= s->v0;
        s->v0 = ROTL(s->v0, 32);
        s->v2 += s->v3;
        s->v3 = ROTL(s->v3, 16);
        s->v3 ^= s->v2;
        s->v0 += s->v3;
        s->v3 = ROTL(s->v3, 21);
        s->v3 ^= s->v0;
        s->v2 += s->v1;
        s->v1 = ROTL(s->v1, 17);
        s->v1 ^= s->v2;
        s->v2 = ROTL(s->v2, 32);
    }
    s->v0 ^= m;
}

void siphash_init(struct siphash *s, const uint8_t key[16])
{
    uint64_t k0 = load64(key), k1 = load64(key + 8);
    s->v0 = 0x736f6d6570736575ull ^ k0;
    s->v1 = 0x646f72616e646f6dull ^ k1;
    s->v2 = 0x6c7967656e657261ull ^ k0;
    s->v3 = 0x7465646279746573ull ^ k1;
    s->tail = 0;
    s->ntail = 0;
    s->total = 0;
}

void siphash_update(struct siphash *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->total += len;
    while (len > 0 && s->ntail > 0) {
        s->tail |= (uint64_t)*p++ << (8 * s->ntail);
        len--;
        if (++s->ntail == 8) {
            round2(s, s->tail);
            s->tail = 0;
            s->ntail = 0;
        }
    }
    while (len >= 8) {
        round2(s, load64(p));
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        s->tail |= (uint64_t)*p++ << (8 * s->ntail);
        s->ntail++;
        len--;
    }
}

uint64_t siphash_final(struct siphash *s)
{
    uint64_t b = (s->total & 0xff) << 56 | s->tail;
    round2(s, b);
    s->v2 ^= 0xff;
    for (int i = 0; i < 2; i++)
        round2(s, 0); /* two rounds each: 4 finalisation rounds */
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

void siphash_field(struct siphash *s, const void *data, size_t len)
{
    uint8_t l[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    siphash_update(s, l, sizeof(l));
    if (len)
        siphash_update(s, data, len);
}
