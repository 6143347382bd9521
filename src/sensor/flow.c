/*
 * In-order TCP stream rebuilding. The table is a flat array searched linearly: inspect
 * and tests keep it small; the live sensor will put a seeded hash in front of the same
 * slots when it needs thousands of flows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sensor/flow.h"

struct flow_table {
    struct flow_limits lim;
    struct flow *flows;
    unsigned nflows;
    uint64_t next_id;
    struct flow_stats stats;
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
    t->flows = calloc(t->lim.max_flows, sizeof(*t->flows));
    if (!t->flows)
        goto out;
    *out = t;
    t = NULL;
    rc = 0;
out:
    flow_table_free(t);
    return rc;
}

static void flow_release(struct flow *f)
{
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
    free(t);
}

/* Drops buffered bytes and consumer state: what follows is unrelated to what came before. */
static void flow_reset(const struct flow_table *t, struct flow *f, uint32_t seq)
{
    f->off = 0;
    f->len = 0;
    f->next_seq = seq;
    f->resets++;
    if (f->user)
        memset(f->user, 0, t->lim.user_size);
}

static void remove_at(struct flow_table *t, unsigned i)
{
    flow_release(&t->flows[i]);
    t->flows[i] = t->flows[t->nflows - 1];
    memset(&t->flows[t->nflows - 1], 0, sizeof(t->flows[0]));
    t->nflows--;
}

static struct flow *lookup(struct flow_table *t, const struct pkt_info *pi)
{
    for (unsigned i = 0; i < t->nflows; i++) {
        struct flow *f = &t->flows[i];
        if (pbx_addr_eq(&f->src, &pi->src, true) && pbx_addr_eq(&f->dst, &pi->dst, true))
            return f;
    }
    return NULL;
}

static struct flow *create(struct flow_table *t, const struct pkt_info *pi)
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
    if (f->len + n > t->lim.max_buffer)
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

int flow_tcp_input(struct flow_table *t, const struct pkt_info *pi, struct flow **out)
{
    if (!t || !pi || !out || pi->kind != PKT_TCP)
        return -EINVAL;
    *out = NULL;
    t->stats.segments++;
    struct flow *f = lookup(t, pi);
    if (!f) {
        f = create(t, pi);
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
    return 0;
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
