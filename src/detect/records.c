/*
 * Per-source and per-account records: their keys (sources masked to the configured IPv6
 * prefix, long account names cut and hashed), lookups in the bounded tables, the small
 * distinct-value sets detectors keep in them, and the listings ctl reads.
 */
#include <string.h>

#include "det_int.h"
#include "pbxguard/core/clock.h"

uint32_t det_hash32(const struct det_engine *e, struct slice s)
{
    uint32_t h = (uint32_t)pbx_siphash13(e->key, s.p, s.len);
    return h ? h : 1; /* 0 marks an empty set slot */
}

unsigned det_set_add(uint32_t *set, uint8_t *n, unsigned cap, uint32_t h)
{
    for (unsigned i = 0; i < *n; i++)
        if (set[i] == h)
            return *n;
    if (*n < cap)
        set[(*n)++] = h;
    return *n;
}

struct det_acct *det_acct_get(struct det_engine *e, struct slice user, int64_t now, bool create)
{
    uint8_t key[DET_ACCT_KEY];
    struct det_acct *a;
    bool created;

    if (user.len == 0)
        return NULL;
    memset(key, 0, sizeof(key));
    if (user.len < DET_ACCT_KEY - 8) {
        memcpy(key, user.p, user.len);
    } else {
        /* Long names: a prefix plus a keyed hash of the whole name. */
        uint64_t h = pbx_siphash13(e->key, user.p, user.len);
        memcpy(key, user.p, DET_ACCT_KEY - 9);
        memcpy(key + DET_ACCT_KEY - 8, &h, 8);
    }
    a = det_table_get(&e->accts, key, now, create, &created);
    if (a && created)
        slice_copy_cstr(user, a->name, sizeof(a->name));
    return a;
}

void det_src_key(const struct det_engine *e, const struct pbx_addr *in, uint8_t key[DET_SRC_KEY],
                 struct pbx_addr *masked)
{
    struct pbx_addr a = pbx_addr_is_v4mapped(in) ? pbx_addr_unmap(in) : *in;

    memset(key, 0, DET_SRC_KEY);
    if (a.family == AF_INET6)
        a = pbx_addr_mask(&a, e->cfg.v6_prefix);
    a.port = 0;
    key[0] = (uint8_t)a.family;
    if (a.family == AF_INET)
        memcpy(key + 1, &a.ip.v4, 4);
    else
        memcpy(key + 1, &a.ip.v6, 16);
    *masked = a;
}

struct det_src *det_src_get(struct det_engine *e, const struct pbx_addr *a, int64_t now)
{
    uint8_t key[DET_SRC_KEY];
    struct pbx_addr masked;
    bool created;
    struct det_src *s;

    det_src_key(e, a, key, &masked);
    s = det_table_get(&e->srcs, key, now, true, &created);
    if (created)
        s->addr = masked;
    return s;
}

size_t det_top(const struct det_engine *e, struct det_talker *out, size_t max)
{
    size_t n = 0;
    int64_t now = clock_wall_ms();

    if (max == 0)
        return 0;
    for (size_t i = 0; i < e->srcs.cap; i++) {
        const struct det_src *s = det_table_slot((struct det_table *)&e->srcs, i);
        size_t j;
        if (!s)
            continue;
        if (n == max && s->packets <= out[n - 1].packets)
            continue;
        /* Insertion into a short sorted list: max is small (ctl top). */
        j = n < max ? n++ : n - 1;
        while (j > 0 && out[j - 1].packets < s->packets) {
            out[j] = out[j - 1];
            j--;
        }
        out[j].addr = s->addr;
        out[j].packets = s->packets;
        out[j].last_ms = s->last_ms;
        out[j].score = s->score;
        out[j].trusted = s->trusted_until > now;
    }
    return n;
}

bool det_account_protected(struct det_engine *e, const char *user, int64_t now_ms)
{
    struct det_acct *a = det_acct_get(e, slice_cstr(user), now_ms, false);
    return a && a->protected_until > now_ms;
}
