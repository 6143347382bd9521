/*
 * Bounded account and call tables. Both are arrays allocated once at engine creation,
 * indexed by a seeded SipHash of the key (account names and Call-IDs come from the
 * network) and chained through array indices; nothing is allocated per call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fraud_int.h"
#include "pbxguard/core/siphash.h"

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

int fraud_state_init(struct fraud_engine *e)
{
    uint32_t nb;

    if (pbx_siphash_keygen(e->key) != 0) {
        /* Early boot without entropy: fall back to an address-derived key. */
        uint64_t k[2] = {(uint64_t)(uintptr_t)e ^ 0x9e3779b97f4a7c15ULL,
                         (uint64_t)(uintptr_t)&nb * 0xbf58476d1ce4e5b9ULL};
        memcpy(e->key, k, sizeof(e->key));
    }
    e->acct_cap = e->pol.max_accounts ? e->pol.max_accounts : 1;
    e->call_cap = e->pol.max_calls ? e->pol.max_calls : 1;
    e->accts = calloc(e->acct_cap, sizeof(*e->accts));
    e->calls = calloc(e->call_cap, sizeof(*e->calls));
    nb = pow2_at_least(e->acct_cap * 2);
    e->acct_buckets = malloc(nb * sizeof(int32_t));
    e->acct_mask = nb - 1;
    nb = pow2_at_least(e->call_cap * 2);
    e->call_buckets = malloc(nb * sizeof(int32_t));
    e->call_mask = nb - 1;
    if (!e->accts || !e->calls || !e->acct_buckets || !e->call_buckets)
        return -ENOMEM;
    memset(e->acct_buckets, 0xff, (e->acct_mask + 1) * sizeof(int32_t));
    memset(e->call_buckets, 0xff, (e->call_mask + 1) * sizeof(int32_t));
    /* Free lists chain through hnext. */
    for (uint32_t i = 0; i < e->acct_cap; i++)
        e->accts[i].hnext = i + 1 < e->acct_cap ? (int32_t)(i + 1) : -1;
    e->acct_free = 0;
    for (uint32_t i = 0; i < e->call_cap; i++)
        e->calls[i].hnext = i + 1 < e->call_cap ? (int32_t)(i + 1) : -1;
    e->call_free = 0;
    e->lru_head = e->lru_tail = -1;
    e->acct_last = -1;
    e->call_last = -1;
    return 0;
}

void fraud_state_fini(struct fraud_engine *e)
{
    free(e->accts);
    free(e->calls);
    free(e->acct_buckets);
    free(e->call_buckets);
    e->accts = NULL;
    e->calls = NULL;
    e->acct_buckets = e->call_buckets = NULL;
}

static struct slice cut(struct slice s, size_t max)
{
    if (s.len > max)
        s.len = max;
    if (!s.p)
        s = SLICE_LIT("");
    return s;
}

static void lru_unlink(struct fraud_engine *e, int32_t i)
{
    struct acct *a = &e->accts[i];
    if (a->lru_prev >= 0)
        e->accts[a->lru_prev].lru_next = a->lru_next;
    else
        e->lru_head = a->lru_next;
    if (a->lru_next >= 0)
        e->accts[a->lru_next].lru_prev = a->lru_prev;
    else
        e->lru_tail = a->lru_prev;
    a->lru_prev = a->lru_next = -1;
}

static void lru_push_front(struct fraud_engine *e, int32_t i)
{
    struct acct *a = &e->accts[i];
    a->lru_prev = -1;
    a->lru_next = e->lru_head;
    if (e->lru_head >= 0)
        e->accts[e->lru_head].lru_prev = i;
    e->lru_head = i;
    if (e->lru_tail < 0)
        e->lru_tail = i;
}

struct acct *fraud_acct_find(const struct fraud_engine *e, struct slice name)
{
    uint64_t h;
    name = cut(name, FRAUD_ACCOUNT_MAX - 1);
    /* The INVITE check and the call start look up the same account back to back. */
    if (e->acct_last >= 0) {
        const struct acct *a = &e->accts[e->acct_last];
        if (a->used && a->name_len == name.len && memcmp(a->name, name.p, name.len) == 0)
            return (struct acct *)a;
    }
    h = pbx_siphash13(e->key, name.p, name.len);
    for (int32_t i = e->acct_buckets[h & e->acct_mask]; i >= 0; i = e->accts[i].hnext) {
        const struct acct *a = &e->accts[i];
        /* A hash hit is confirmed by comparing the name. */
        if (a->hash == h && a->name_len == name.len && memcmp(a->name, name.p, name.len) == 0) {
            ((struct fraud_engine *)e)->acct_last = i;
            return (struct acct *)a;
        }
    }
    return NULL;
}

static void acct_unhash(struct fraud_engine *e, int32_t idx)
{
    int32_t *pp = &e->acct_buckets[e->accts[idx].hash & e->acct_mask];
    while (*pp >= 0 && *pp != idx)
        pp = &e->accts[*pp].hnext;
    if (*pp == idx)
        *pp = e->accts[idx].hnext;
}

/* Evicts the least recently used account that holds no lock and no live call. The walk
 * is bounded so that a table full of locked accounts costs at most 64 steps. */
static int32_t evict_one(struct fraud_engine *e)
{
    int32_t i = e->lru_tail;
    for (unsigned steps = 0; i >= 0 && steps < 64; steps++, i = e->accts[i].lru_prev) {
        struct acct *a = &e->accts[i];
        if (a->locked || a->live)
            continue;
        lru_unlink(e, i);
        acct_unhash(e, i);
        a->used = false;
        if (e->acct_last == i)
            e->acct_last = -1;
        e->n_accts--;
        e->stats.accounts_evicted++;
        return i;
    }
    return -1;
}

static uint32_t group_of(const struct fraud_policy *p, const char *name, size_t len)
{
    for (size_t r = 0; r < p->n_accounts; r++) {
        const char *pat = p->accounts[r].pattern, *star = strchr(pat, '*');
        if (!star) {
            if (strlen(pat) == len && memcmp(pat, name, len) == 0)
                return (uint32_t)p->accounts[r].group;
            continue;
        }
        size_t pre = (size_t)(star - pat), post = strlen(star + 1);
        if (len >= pre + post && memcmp(name, pat, pre) == 0 &&
            memcmp(name + len - post, star + 1, post) == 0)
            return (uint32_t)p->accounts[r].group;
    }
    return 0;
}

struct acct *fraud_acct_get(struct fraud_engine *e, struct slice name)
{
    struct acct *a = fraud_acct_find(e, name);
    int32_t idx;
    uint64_t h;

    if (a) {
        idx = (int32_t)(a - e->accts);
        lru_unlink(e, idx);
        lru_push_front(e, idx);
        return a;
    }
    name = cut(name, FRAUD_ACCOUNT_MAX - 1);
    if (e->acct_free >= 0) {
        idx = e->acct_free;
        e->acct_free = e->accts[idx].hnext;
    } else {
        idx = evict_one(e);
        if (idx < 0)
            return NULL;
    }
    a = &e->accts[idx];
    memset(a, 0, sizeof(*a));
    memcpy(a->name, name.p, name.len);
    a->name_len = name.len;
    a->used = true;
    a->group = group_of(&e->pol, a->name, a->name_len);
    a->rate_win = a->ih_win = a->day = a->sp_hour = a->sp_flagged_hour = INT64_MIN;
    h = pbx_siphash13(e->key, a->name, a->name_len);
    a->hash = h;
    a->hnext = e->acct_buckets[h & e->acct_mask];
    e->acct_buckets[h & e->acct_mask] = idx;
    lru_push_front(e, idx);
    e->n_accts++;
    return a;
}

struct call *fraud_call_find(const struct fraud_engine *e, struct slice id)
{
    uint64_t h;
    id = cut(id, FRAUD_CALL_ID_MAX - 1);
    /* A call is usually answered right after it was started. */
    if (e->call_last >= 0) {
        const struct call *c = &e->calls[e->call_last];
        if (c->used && c->id_len == id.len && memcmp(c->id, id.p, id.len) == 0)
            return (struct call *)c;
    }
    h = pbx_siphash13(e->key, id.p, id.len);
    for (int32_t i = e->call_buckets[h & e->call_mask]; i >= 0; i = e->calls[i].hnext) {
        const struct call *c = &e->calls[i];
        if (c->hash == h && c->id_len == id.len && memcmp(c->id, id.p, id.len) == 0)
            return (struct call *)c;
    }
    return NULL;
}

int fraud_call_insert(struct fraud_engine *e, struct slice id, struct call **out)
{
    struct call *c;
    int32_t idx;
    uint64_t h;

    id = cut(id, FRAUD_CALL_ID_MAX - 1);
    h = pbx_siphash13(e->key, id.p, id.len);
    for (int32_t i = e->call_buckets[h & e->call_mask]; i >= 0; i = e->calls[i].hnext) {
        const struct call *o = &e->calls[i];
        if (o->hash == h && o->id_len == id.len && memcmp(o->id, id.p, id.len) == 0)
            return -EEXIST;
    }
    if (e->call_free < 0)
        return -ENOSPC;
    idx = e->call_free;
    c = &e->calls[idx];
    e->call_free = c->hnext;
    memset(c, 0, sizeof(*c));
    memcpy(c->id, id.p, id.len);
    c->id_len = id.len;
    c->used = true;
    c->hash = h;
    c->hnext = e->call_buckets[h & e->call_mask];
    e->call_buckets[h & e->call_mask] = idx;
    e->n_calls++;
    e->call_last = idx;
    *out = c;
    return 0;
}

void fraud_call_remove(struct fraud_engine *e, struct call *c)
{
    int32_t idx = (int32_t)(c - e->calls);
    int32_t *pp = &e->call_buckets[c->hash & e->call_mask];
    while (*pp >= 0 && *pp != idx)
        pp = &e->calls[*pp].hnext;
    if (*pp == idx)
        *pp = c->hnext;
    if (c->acct >= 0 && e->accts[c->acct].live)
        e->accts[c->acct].live--;
    c->used = false;
    if (e->call_last == idx)
        e->call_last = -1;
    c->hnext = e->call_free;
    e->call_free = idx;
    e->n_calls--;
}
