/*
 * In-order TCP stream rebuilding. Flows live in a dense array (removal moves the last flow
 * into the hole) indexed by a chained hash table keyed with SipHash under a random
 * per-table key, so crafted addresses cannot pile up in one chain. Choosing the flow to
 * evict when the table is full is a linear scan: it happens once per new flow at most and
 * keeps the table free of a separate LRU list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/core/siphash.h"
#include "pbxguard/sensor/flow.h"

#define NO_FLOW UINT32_MAX

struct flow_held {
    uint32_t seq;
    uint32_t len;
    uint8_t *data;
};

struct flow_table {
    struct flow_limits lim;
    struct flow *flows;
    unsigned nflows;
    uint64_t next_id;
    struct flow_stats stats;
    uint8_t key[PBX_SIPHASH_KEY_LEN];
    uint32_t mask;    /* buckets - 1 */
    uint32_t *bucket; /* first flow index per bucket, NO_FLOW if empty */
    uint32_t *next;   /* next flow index in the same chain, per flow */
    uint64_t *hash;   /* per flow */
};

int flow_table_new(const struct flow_limits *lim, struct flow_table **out)
{
    int rc = -ENOMEM;
    if (!out)
        return -EINVAL;
    struct flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        goto out;
    if (lim)
        t->lim = *lim;
    if (!t->lim.max_flows)
        t->lim.max_flows = 1024;
    if (!t->lim.max_buffer)
        t->lim.max_buffer = 131072;
    if (t->lim.idle_us <= 0)
        t->lim.idle_us = 300 * 1000000LL;
    if (t->lim.max_flows > (1u << 24)) {
        rc = -EINVAL;
        goto out;
    }
    size_t nb = 16;
    while (nb < 2 * (size_t)t->lim.max_flows)
        nb *= 2;
    t->mask = (uint32_t)(nb - 1);
    t->flows = calloc(t->lim.max_flows, sizeof(*t->flows));
    t->bucket = malloc(nb * sizeof(*t->bucket));
    t->next = calloc(t->lim.max_flows, sizeof(*t->next));
    t->hash = calloc(t->lim.max_flows, sizeof(*t->hash));
    if (!t->flows || !t->bucket || !t->next || !t->hash)
        goto out;
    for (size_t i = 0; i < nb; i++)
        t->bucket[i] = NO_FLOW;
    if (pbx_siphash_keygen(t->key) < 0) {
        /* No getrandom(): a clock-derived key still differs per run, which is what matters
         * for offline use; the live sensor refuses to start without entropy. */
        int64_t now = clock_mono_ms() ^ clock_wall_ms();
        memcpy(t->key, &now, sizeof(now));
    }
    *out = t;
    t = NULL;
    rc = 0;
out:
    flow_table_free(t);
    return rc;
}

static void drop_held(struct flow *f)
{
    for (unsigned i = 0; i < f->nheld; i++)
        free(f->held[i].data);
    f->nheld = 0;
    f->held_bytes = 0;
}

static void flow_release(struct flow *f)
{
    drop_held(f);
    free(f->held);
    free(f->buf);
    free(f->user);
    memset(f, 0, sizeof(*f));
}

void flow_table_free(struct flow_table *t)
{
    if (!t)
        return;
    if (t->flows)
        for (unsigned i = 0; i < t->nflows; i++)
            flow_release(&t->flows[i]);
    free(t->flows);
    free(t->bucket);
    free(t->next);
    free(t->hash);
    free(t);
}

/* Drops buffered bytes and consumer state: what follows is unrelated to what came before. */
static void flow_reset(const struct flow_table *t, struct flow *f, uint32_t seq)
{
    f->off = 0;
    f->len = 0;
    f->next_seq = seq;
    f->resets++;
    drop_held(f);
    if (f->user)
        memset(f->user, 0, t->lim.user_size);
}

static size_t put_addr(uint8_t *p, const struct pbx_addr *a)
{
    p[0] = (uint8_t)a->family;
    p[1] = (uint8_t)(a->port >> 8);
    p[2] = (uint8_t)a->port;
    if (a->family == AF_INET6)
        memcpy(p + 3, &a->ip.v6, 16);
    else
        memcpy(p + 3, &a->ip.v4, 4);
    return 19;
}

static uint64_t key_hash(const struct flow_table *t, const struct pkt_info *pi)
{
    uint8_t k[38] = {0};
    size_t n = put_addr(k, &pi->src);
    n += put_addr(k + n, &pi->dst);
    return pbx_siphash13(t->key, k, n);
}

static void link_flow(struct flow_table *t, uint32_t i)
{
    uint32_t b = (uint32_t)t->hash[i] & t->mask;
    t->next[i] = t->bucket[b];
    t->bucket[b] = i;
}

static void unlink_flow(struct flow_table *t, uint32_t i)
{
    uint32_t *pp = &t->bucket[(uint32_t)t->hash[i] & t->mask];
    while (*pp != i)
        pp = &t->next[*pp];
    *pp = t->next[i];
}

static void remove_at(struct flow_table *t, unsigned i)
{
    uint32_t last = t->nflows - 1;
    unlink_flow(t, i);
    flow_release(&t->flows[i]);
    if (i != last) {
        unlink_flow(t, last);
        t->flows[i] = t->flows[last];
        t->hash[i] = t->hash[last];
        link_flow(t, i);
        memset(&t->flows[last], 0, sizeof(t->flows[0]));
    }
    t->nflows--;
}

static struct flow *lookup(struct flow_table *t, const struct pkt_info *pi, uint64_t h)
{
    for (uint32_t i = t->bucket[(uint32_t)h & t->mask]; i != NO_FLOW; i = t->next[i]) {
        struct flow *f = &t->flows[i];
        if (t->hash[i] == h && pbx_addr_eq(&f->src, &pi->src, true) &&
            pbx_addr_eq(&f->dst, &pi->dst, true))
            return f;
    }
    return NULL;
}

static struct flow *create(struct flow_table *t, const struct pkt_info *pi, uint64_t h)
{
    if (t->nflows == t->lim.max_flows) {
        unsigned lru = 0;
        for (unsigned i = 1; i < t->nflows; i++)
            if (t->flows[i].last_us < t->flows[lru].last_us)
                lru = i;
        remove_at(t, lru);
        t->stats.evicted++;
    }
    struct flow *f = &t->flows[t->nflows];
    memset(f, 0, sizeof(*f));
    if (t->lim.user_size) {
        f->user = calloc(1, t->lim.user_size);
        if (!f->user)
            return NULL;
    }
    t->hash[t->nflows] = h;
    link_flow(t, t->nflows);
    t->nflows++;
    f->src = pi->src;
    f->dst = pi->dst;
    f->id = ++t->next_id;
    f->first_us = pi->ts_us;
    f->last_us = pi->ts_us;
    /* A SYN consumes one sequence number; mid-stream pickup starts at this segment. */
    f->next_seq = pi->tcp_seq + ((pi->tcp_flags & PKT_TCP_SYN) ? 1u : 0u);
    t->stats.flows++;
    return f;
}

static int append(const struct flow_table *t, struct flow *f, const uint8_t *p, size_t n)
{
    if (f->len + f->held_bytes + n > t->lim.max_buffer)
        return -EMSGSIZE;
    if (f->off && f->off + f->len + n > f->cap) {
        memmove(f->buf, f->buf + f->off, f->len);
        f->off = 0;
    }
    if (f->off + f->len + n > f->cap) {
        size_t ncap = f->cap ? f->cap : 4096;
        while (ncap < f->len + n)
            ncap *= 2;
        if (ncap > t->lim.max_buffer)
            ncap = t->lim.max_buffer;
        uint8_t *nb = realloc(f->buf, ncap);
        if (!nb)
            return -ENOMEM;
        f->buf = nb;
        f->cap = ncap;
    }
    memcpy(f->buf + f->off + f->len, p, n);
    f->len += n;
    f->bytes += n;
    return 0;
}

/* Keeps a copy of a segment that arrived before the bytes preceding it. */
static bool hold(struct flow_table *t, struct flow *f, uint32_t seq, const uint8_t *p, size_t n)
{
    if (f->nheld == FLOW_MAX_HELD || f->len + f->held_bytes + n > t->lim.max_buffer)
        return false;
    if (!f->held) {
        f->held = calloc(FLOW_MAX_HELD, sizeof(*f->held));
        if (!f->held)
            return false;
    }
    uint8_t *copy = malloc(n);
    if (!copy)
        return false;
    memcpy(copy, p, n);
    f->held[f->nheld++] = (struct flow_held){.seq = seq, .len = (uint32_t)n, .data = copy};
    f->held_bytes += n;
    t->stats.held++;
    return true;
}

/* Appends every held segment that the stream has now reached, in sequence order. */
static int release_held(struct flow_table *t, struct flow *f)
{
    bool progress = true;
    while (progress && f->nheld) {
        progress = false;
        for (unsigned i = 0; i < f->nheld; i++) {
            struct flow_held h = f->held[i];
            int32_t delta = (int32_t)(h.seq - f->next_seq);
            if (delta > 0)
                continue;
            f->held[i] = f->held[--f->nheld];
            f->held_bytes -= h.len;
            size_t seen = (size_t)(-(int64_t)delta);
            int rc = 0;
            if (seen < h.len) {
                rc = append(t, f, h.data + seen, h.len - seen);
                if (rc == 0)
                    f->next_seq += (uint32_t)(h.len - seen);
            }
            free(h.data);
            if (rc < 0)
                return rc;
            progress = true;
            break;
        }
    }
    return 0;
}

int flow_tcp_input(struct flow_table *t, const struct pkt_info *pi, struct flow **out)
{
    if (!t || !pi || !out || pi->kind != PKT_TCP)
        return -EINVAL;
    *out = NULL;
    t->stats.segments++;
    uint64_t h = key_hash(t, pi);
    struct flow *f = lookup(t, pi, h);
    if (!f) {
        f = create(t, pi, h);
        if (!f)
            return -ENOMEM;
    } else if (pi->tcp_flags & PKT_TCP_SYN) {
        /* A new SYN on a known 4-tuple is a new connection reusing the ports. */
        flow_reset(t, f, pi->tcp_seq + 1);
        f->resets--;
        f->closed = false;
    }
    f->last_us = pi->ts_us;
    *out = f;
    if (pi->tcp_flags & (PKT_TCP_FIN | PKT_TCP_RST))
        f->closed = true;

    const uint8_t *p = pi->payload;
    size_t n = pi->payload_len;
    if (n == 0)
        return 0;
    uint32_t seq = pi->tcp_seq + ((pi->tcp_flags & PKT_TCP_SYN) ? 1u : 0u);
    /* Serial-number arithmetic (RFC 1982): the signed difference tells old from new. */
    int32_t delta = (int32_t)(seq - f->next_seq);
    if (delta < 0) {
        size_t seen = (size_t)(-(int64_t)delta);
        t->stats.retransmits++;
        if (seen >= n)
            return 0;
        p += seen;
        n -= seen;
        seq = f->next_seq;
    } else if (delta > 0) {
        if (hold(t, f, seq, p, n))
            return 0;
        t->stats.gaps++;
        flow_reset(t, f, seq);
    }
    int rc = append(t, f, p, n);
    if (rc == -EMSGSIZE) {
        t->stats.overflows++;
        flow_reset(t, f, seq + (uint32_t)n);
        return rc;
    }
    if (rc < 0)
        return rc;
    f->next_seq += (uint32_t)n;
    rc = release_held(t, f);
    if (rc == -EMSGSIZE) {
        t->stats.overflows++;
        flow_reset(t, f, f->next_seq);
    }
    return rc;
}

const uint8_t *flow_data(const struct flow *f, size_t *len)
{
    *len = f->len;
    return f->buf ? f->buf + f->off : NULL;
}

void flow_consume(struct flow *f, size_t n)
{
    if (n > f->len)
        n = f->len;
    f->off += n;
    f->len -= n;
    if (f->len == 0)
        f->off = 0;
}

void *flow_user(const struct flow *f)
{
    return f->user;
}

void flow_table_foreach(struct flow_table *t, flow_visit_fn fn, void *ctx)
{
    for (unsigned i = 0; i < t->nflows; i++)
        fn(&t->flows[i], ctx);
}

void flow_table_expire(struct flow_table *t, int64_t now_us)
{
    for (unsigned i = 0; i < t->nflows;) {
        if (now_us - t->flows[i].last_us > t->lim.idle_us) {
            remove_at(t, i);
            t->stats.expired++;
        } else {
            i++;
        }
    }
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
    return &t->stats;
}

unsigned flow_table_count(const struct flow_table *t)
{
    return t->nflows;
}
