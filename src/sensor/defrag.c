/*
 * Fragment reassembly in a fixed table. Each pending datagram keeps a sorted list of the
 * byte ranges it has received; the datagram is complete when the list is one range from 0
 * to the end announced by the last fragment (More-Fragments clear).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sensor/defrag.h"

#define DEFRAG_MAX_BYTES 65535u

struct piece {
    uint32_t start;
    uint32_t end; /* exclusive */
};

struct pending {
    bool used;
    uint8_t version;
    uint8_t proto;
    uint32_t id;
    struct pbx_addr src;
    struct pbx_addr dst;
    int64_t first_us;
    uint32_t total; /* 0 until the last fragment was seen */
    unsigned npieces;
    struct piece pieces[PBX_DEFRAG_MAX_PIECES];
    uint8_t *buf;
    size_t cap;
};

struct ip_defrag {
    struct ip_defrag_limits lim;
    struct pending *slots;
    uint8_t *out; /* last reassembled datagram, valid until the next call */
    struct ip_defrag_stats stats;
};

int ip_defrag_new(const struct ip_defrag_limits *lim, struct ip_defrag **out)
{
    int rc = -ENOMEM;
    if (!out)
        return -EINVAL;
    struct ip_defrag *d = calloc(1, sizeof(*d));
    if (!d)
        goto out;
    if (lim)
        d->lim = *lim;
    if (!d->lim.max_datagrams)
        d->lim.max_datagrams = 64;
    if (!d->lim.max_datagram || d->lim.max_datagram > DEFRAG_MAX_BYTES)
        d->lim.max_datagram = DEFRAG_MAX_BYTES;
    if (d->lim.timeout_us <= 0)
        d->lim.timeout_us = 30 * 1000000LL;
    d->slots = calloc(d->lim.max_datagrams, sizeof(*d->slots));
    d->out = malloc(d->lim.max_datagram);
    if (!d->slots || !d->out)
        goto out;
    *out = d;
    d = NULL;
    rc = 0;
out:
    ip_defrag_free(d);
    return rc;
}

static void slot_clear(struct pending *s)
{
    uint8_t *buf = s->buf;
    size_t cap = s->cap;
    memset(s, 0, sizeof(*s));
    /* Keep the buffer for the next datagram in this slot. */
    s->buf = buf;
    s->cap = cap;
}

void ip_defrag_free(struct ip_defrag *d)
{
    if (!d)
        return;
    if (d->slots)
        for (unsigned i = 0; i < d->lim.max_datagrams; i++)
            free(d->slots[i].buf);
    free(d->slots);
    free(d->out);
    free(d);
}

void ip_defrag_expire(struct ip_defrag *d, int64_t now_us)
{
    for (unsigned i = 0; i < d->lim.max_datagrams; i++) {
        struct pending *s = &d->slots[i];
        if (s->used && now_us - s->first_us > d->lim.timeout_us) {
            slot_clear(s);
            d->stats.timeouts++;
        }
    }
}

static bool same_key(const struct pending *s, const struct pkt_info *f)
{
    return s->used && s->version == f->ip_version && s->id == f->frag_id &&
           (f->ip_version == 6 || s->proto == f->proto) && pbx_addr_eq(&s->src, &f->src, false) &&
           pbx_addr_eq(&s->dst, &f->dst, false);
}

static struct pending *find_or_add(struct ip_defrag *d, const struct pkt_info *f)
{
    struct pending *free_slot = NULL;
    struct pending *oldest = NULL;
    for (unsigned i = 0; i < d->lim.max_datagrams; i++) {
        struct pending *s = &d->slots[i];
        if (same_key(s, f))
            return s;
        if (!s->used && !free_slot)
            free_slot = s;
        if (s->used && (!oldest || s->first_us < oldest->first_us))
            oldest = s;
    }
    if (!free_slot) {
        /* Full: the oldest pending datagram is the least likely to complete. */
        slot_clear(oldest);
        d->stats.evicted++;
        free_slot = oldest;
    }
    free_slot->used = true;
    free_slot->version = f->ip_version;
    free_slot->proto = f->proto;
    free_slot->id = f->frag_id;
    free_slot->src = f->src;
    free_slot->dst = f->dst;
    free_slot->src.port = 0;
    free_slot->dst.port = 0;
    free_slot->first_us = f->ts_us;
    return free_slot;
}

/* Inserts [start,end) into the sorted, disjoint, merged piece list. */
static int add_piece(struct pending *s, uint32_t start, uint32_t end, const uint8_t *data)
{
    unsigned i = 0;
    /* Overlaps are accepted only when the bytes are identical (duplicates). */
    for (unsigned k = 0; k < s->npieces; k++) {
        uint32_t a = start > s->pieces[k].start ? start : s->pieces[k].start;
        uint32_t b = end < s->pieces[k].end ? end : s->pieces[k].end;
        if (a < b && memcmp(s->buf + a, data + (a - start), b - a) != 0)
            return -EBADMSG;
    }
    while (i < s->npieces && s->pieces[i].end < start)
        i++;
    /* pieces[i] is the first that touches or follows [start,end). */
    unsigned j = i;
    uint32_t ns = start, ne = end;
    while (j < s->npieces && s->pieces[j].start <= end) {
        if (s->pieces[j].start < ns)
            ns = s->pieces[j].start;
        if (s->pieces[j].end > ne)
            ne = s->pieces[j].end;
        j++;
    }
    unsigned merged = j - i;
    if (merged == 0) {
        if (s->npieces == PBX_DEFRAG_MAX_PIECES)
            return -EMSGSIZE;
        memmove(&s->pieces[i + 1], &s->pieces[i], (s->npieces - i) * sizeof(s->pieces[0]));
        s->npieces++;
    } else if (merged > 1) {
        memmove(&s->pieces[i + 1], &s->pieces[j], (s->npieces - j) * sizeof(s->pieces[0]));
        s->npieces -= merged - 1;
    }
    s->pieces[i].start = ns;
    s->pieces[i].end = ne;
    memcpy(s->buf + start, data, end - start);
    return 0;
}

int ip_defrag_add(struct ip_defrag *d, const struct pkt_info *frag, struct pkt_info *out)
{
    if (!d || !frag || !out || frag->kind != PKT_FRAGMENT)
        return -EINVAL;
    d->stats.fragments++;
    ip_defrag_expire(d, frag->ts_us);

    struct pending *s = find_or_add(d, frag);
    uint64_t start = frag->frag_off;
    uint64_t end = start + frag->payload_len;
    int rc;

    /* RFC 791/8200: every fragment but the last carries a multiple of 8 bytes. */
    if (frag->frag_more && (frag->payload_len % 8 != 0 || frag->payload_len == 0)) {
        rc = -EBADMSG;
        goto drop;
    }
    if (end > d->lim.max_datagram) {
        d->stats.oversize++;
        rc = -EMSGSIZE;
        goto drop;
    }
    if (!frag->frag_more) {
        if (s->total && s->total != end) {
            rc = -EBADMSG;
            goto drop;
        }
        s->total = (uint32_t)end;
    }
    if (s->total && end > s->total) {
        rc = -EBADMSG;
        goto drop;
    }
    if (s->npieces && s->pieces[s->npieces - 1].end > s->total && s->total) {
        rc = -EBADMSG;
        goto drop;
    }
    if (end > s->cap) {
        /* Grow to the announced end only: small datagrams keep small buffers. */
        size_t ncap = end < 2048 ? 2048 : (size_t)end;
        uint8_t *nb = realloc(s->buf, ncap);
        if (!nb) {
            rc = -ENOMEM;
            goto drop;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    rc = add_piece(s, (uint32_t)start, (uint32_t)end, frag->payload);
    if (rc < 0) {
        if (rc == -EBADMSG)
            d->stats.overlaps++;
        else
            d->stats.oversize++;
        goto drop;
    }
    if (!s->total || s->npieces != 1 || s->pieces[0].start != 0 || s->pieces[0].end != s->total)
        return -EAGAIN;

    memcpy(d->out, s->buf, s->total);
    *out = *frag;
    out->kind = PKT_OTHER_IP;
    out->frag_id = 0;
    out->frag_off = 0;
    out->frag_more = false;
    out->payload = NULL;
    out->payload_len = 0;
    uint8_t proto = s->proto;
    size_t total = s->total;
    slot_clear(s);
    d->stats.reassembled++;
    return pkt_decode_ip_payload(out, proto, d->out, total);

drop:
    slot_clear(s);
    return rc;
}

const struct ip_defrag_stats *ip_defrag_stats(const struct ip_defrag *d)
{
    return &d->stats;
}

unsigned ip_defrag_pending(const struct ip_defrag *d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < d->lim.max_datagrams; i++)
        n += d->slots[i].used;
    return n;
}
