/*
 * Evidence ring: excerpts of recent messages that triggered a hit, tagged by a keyed hash of
 * their source, so a ban can hand the ban hook the messages that led to it.
 */
#include <string.h>

#include "det_int.h"

static uint64_t src_tag(const struct det_engine *e, const struct pbx_addr *a)
{
    uint8_t key[DET_SRC_KEY];
    struct pbx_addr masked;
    uint64_t h;

    det_src_key(e, a, key, &masked);
    h = pbx_siphash13(e->key, key, sizeof(key));
    return h ? h : 1;
}

/* Remembers an excerpt of the message behind a hit (requests and responses alike). */
void det_note(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    size_t n;

    if (!mc->m || !mc->m->buf || mc->ring_done)
        return;
    mc->ring_done = true;
    n = mc->m->len < DET_EVIDENCE_EXCERPT ? mc->m->len : DET_EVIDENCE_EXCERPT;
    e->ring[e->ring_next].src = src_tag(e, &mc->ctx->src);
    e->ring[e->ring_next].len = (uint16_t)n;
    memcpy(e->ring[e->ring_next].text, mc->m->buf, n);
    e->ring_next = (e->ring_next + 1) % DET_EVIDENCE_RING;
}

/* Up to DET_EVIDENCE_MAX bytes: the source's remembered excerpts, oldest first, each ended by
 * a separator line. */
size_t det_evidence_collect(const struct det_engine *e, const struct pbx_addr *a, char *out)
{
    static const char sep[] = "\n--\n";
    uint64_t tag = src_tag(e, a);
    size_t n = 0;

    for (unsigned k = 0; k < DET_EVIDENCE_RING; k++) {
        unsigned i = (e->ring_next + k) % DET_EVIDENCE_RING;
        size_t l = e->ring[i].len;
        if (e->ring[i].src != tag || l == 0)
            continue;
        if (n + l + sizeof(sep) - 1 > DET_EVIDENCE_MAX) {
            /* Keep the newest: drop what was collected so far when it no longer fits. */
            if (l + sizeof(sep) - 1 > DET_EVIDENCE_MAX)
                continue;
            n = 0;
        }
        memcpy(out + n, e->ring[i].text, l);
        n += l;
        memcpy(out + n, sep, sizeof(sep) - 1);
        n += sizeof(sep) - 1;
    }
    return n;
}
