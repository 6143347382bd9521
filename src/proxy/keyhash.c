/* Field hashing over the core SipHash-1-3 (see keyhash.h). */
#include <string.h>

#include "keyhash.h"

void px_kh_init(struct px_khash *h, const uint8_t key[PBX_SIPHASH_KEY_LEN])
{
    h->key = key;
    h->len = 0;
}

void px_kh_put(struct px_khash *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        if (h->len == PX_KH_BUF) {
            /* Fold: the digest of the full buffer stands for everything so far. */
            uint64_t d = pbx_siphash13(h->key, h->buf, h->len);
            for (unsigned i = 0; i < 8; i++)
                h->buf[i] = (uint8_t)(d >> (8 * i));
            h->len = 8;
        }
        size_t n = PX_KH_BUF - h->len;
        if (n > len)
            n = len;
        memcpy(h->buf + h->len, p, n);
        h->len += n;
        p += n;
        len -= n;
    }
}

void px_kh_field(struct px_khash *h, const void *data, size_t len)
{
    uint8_t l[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    px_kh_put(h, l, sizeof(l));
    px_kh_put(h, data, len);
}

uint64_t px_kh_final(const struct px_khash *h)
{
    return pbx_siphash13(h->key, h->buf, h->len);
}
