/*
 * Bounded record table: one pool allocated up front, chained index of 32-bit slot numbers,
 * CLOCK eviction. Keys are hashed with a per-table random SipHash key and every hit is
 * confirmed by comparing the full key, so crafted keys can neither collide on purpose nor be
 * mistaken for one another.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "det_int.h"

#define NIL UINT32_MAX

struct det_hdr {
    uint32_t next;
    uint8_t used;
    uint8_t ref;
};

#define HDR_SIZE ((sizeof(struct det_hdr) + 7u) & ~(size_t)7u)

static struct det_hdr *hdr_at(const struct det_table *t, size_t i)
{
    return (struct det_hdr *)(void *)(t->pool + i * t->stride);
}

static void *rec_of(struct det_hdr *h)
{
    return (unsigned char *)h + HDR_SIZE;
}

int det_table_init(struct det_table *t, size_t rec_size, size_t key_len, size_t bytes,
                   det_pinned_fn pinned)
{
    size_t stride = (HDR_SIZE + rec_size + 7u) & ~(size_t)7u;
    size_t cap, nb = 1;

    memset(t, 0, sizeof(*t));
    /* Index costs 4 bytes per bucket with up to 2 buckets per record. */
    cap = bytes / (stride + 8);
    if (cap < 16 || cap > (1u << 26))
        return -EINVAL;
    while (nb < cap)
        nb <<= 1;
    t->buckets = malloc(nb * sizeof(*t->buckets));
    t->pool = calloc(cap, stride);
    if (!t->buckets || !t->pool) {
        det_table_fini(t);
        return -ENOMEM;
    }
    /* NIL is all ones: one memset instead of a loop over (possibly) millions of buckets. */
    memset(t->buckets, 0xff, nb * sizeof(*t->buckets));
    t->mask = (uint32_t)(nb - 1);
    t->cap = cap;
    t->stride = stride;
    t->rec_size = rec_size;
    t->key_len = key_len;
    t->pinned = pinned;
    t->last = NIL;
    if (pbx_siphash_keygen(t->key) != 0) {
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t->pool;
        memcpy(t->key, &x, sizeof(x));
    }
    return 0;
}

void det_table_fini(struct det_table *t)
{
    free(t->buckets);
    free(t->pool);
    t->buckets = NULL;
    t->pool = NULL;
}

size_t det_table_mem(const struct det_table *t)
{
    return t->cap * t->stride + ((size_t)t->mask + 1) * sizeof(*t->buckets);
}

/*
 * Keys are fixed-length and zero-padded (an IPv4 source uses 5 of 20 bytes, a short user
 * name a few of 48): the padding is left out of the hash. Two distinct keys never trim to
 * the same bytes (the length is fixed), so this is still a seeded hash of the whole key,
 * at a third of the cost, and every hit is still confirmed on the full key.
 */
static uint32_t bucket_of(const struct det_table *t, const void *key)
{
    const unsigned char *k = key;
    size_t n = t->key_len;

    while (n > 0 && k[n - 1] == 0)
        n--;
    return (uint32_t)pbx_siphash13(t->key, k, n) & t->mask;
}

static void unlink_slot(struct det_table *t, uint32_t idx)
{
    struct det_hdr *h = hdr_at(t, idx);
    uint32_t *pp = &t->buckets[bucket_of(t, rec_of(h))];

    while (*pp != NIL && *pp != idx)
        pp = &hdr_at(t, *pp)->next;
    if (*pp == idx)
        *pp = h->next;
    memset(h, 0, t->stride);
    t->used--;
    t->evictions++;
}

/* CLOCK: second chance for recently used records; pinned ones are skipped while others
 * remain, so protection state outlives a flood of new keys. */
static uint32_t victim(struct det_table *t, int64_t now)
{
    for (size_t n = 0; n < 3 * t->cap; n++) {
        size_t i = t->hand;
        struct det_hdr *h = hdr_at(t, i);

        t->hand = (t->hand + 1) % t->cap;
        if (!h->used)
            return (uint32_t)i;
        if (h->ref) {
            h->ref = 0;
            continue;
        }
        if (t->pinned && n < 2 * t->cap && t->pinned(rec_of(h), now))
            continue;
        unlink_slot(t, (uint32_t)i);
        return (uint32_t)i;
    }
    /* Everything pinned and referenced: take the slot under the hand. */
    uint32_t i = (uint32_t)t->hand;
    t->hand = (t->hand + 1) % t->cap;
    unlink_slot(t, i);
    return i;
}

void *det_table_get(struct det_table *t, const void *key, int64_t now_ms, bool create,
                    bool *created)
{
    uint32_t b, idx;
    struct det_hdr *h;

    if (created)
        *created = false;
    if (!create && t->used == 0)
        return NULL;
    /* The same record is usually asked for several times per message (admission, then the
     * detectors): the last hit is checked first, on the full key, before any hashing. */
    if (t->last < t->cap) {
        h = hdr_at(t, t->last);
        if (h->used && memcmp(rec_of(h), key, t->key_len) == 0) {
            h->ref = 1;
            return rec_of(h);
        }
    }
    b = bucket_of(t, key);
    for (idx = t->buckets[b]; idx != NIL; idx = h->next) {
        h = hdr_at(t, idx);
        if (memcmp(rec_of(h), key, t->key_len) == 0) {
            h->ref = 1;
            t->last = idx;
            return rec_of(h);
        }
    }
    if (!create)
        return NULL;
    if (t->used < t->cap) {
        /* Free slots are found by the same hand, so fill order stays cheap. */
        do {
            idx = (uint32_t)t->hand;
            t->hand = (t->hand + 1) % t->cap;
        } while (hdr_at(t, idx)->used);
    } else {
        idx = victim(t, now_ms);
    }
    h = hdr_at(t, idx);
    memset(h, 0, t->stride);
    h->used = 1;
    h->ref = 1;
    memcpy(rec_of(h), key, t->key_len);
    h->next = t->buckets[b];
    t->buckets[b] = idx;
    t->used++;
    t->last = idx;
    if (created)
        *created = true;
    return rec_of(h);
}

void *det_table_slot(struct det_table *t, size_t i)
{
    struct det_hdr *h;

    if (i >= t->cap)
        return NULL;
    h = hdr_at(t, i);
    return h->used ? rec_of(h) : NULL;
}

bool det_bucket_take(struct det_bucket *b, int64_t now, unsigned rate, unsigned burst,
                     unsigned factor)
{
    int64_t cap = (int64_t)burst * factor * 1000;
    int64_t r = (int64_t)rate * factor;

    if (rate == 0)
        return true; /* 0 = unlimited */
    if (!b->init) {
        b->init = 1;
        b->milli = cap;
        b->last = now;
    } else if (now > b->last) {
        /* rate tokens per second = rate milli-tokens per millisecond. The elapsed time is
         * capped (any gap past ~3 h refills completely anyway) so the product cannot
         * overflow. */
        int64_t dt = now - b->last < 10000000 ? now - b->last : 10000000;
        b->milli += dt * r;
        if (b->milli > cap)
            b->milli = cap;
        b->last = now;
    }
    if (b->milli >= 1000) {
        b->milli -= 1000;
        return true;
    }
    return false;
}
