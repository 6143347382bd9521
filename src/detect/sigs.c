/*
 * Scanner signature file (data/scanners.yaml, format in docs/detection.md): case-insensitive
 * substrings of User-Agent/Server and of SDP s=/o= fields, each with a tool name and a score.
 * Loaded once per (re)configuration; strings are copied so the YAML document can go.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"
#include "pbxguard/core/config.h"

#define SIGS_MAX 256u
#define SIG_LEN_MAX 64u
#define SIG_NONE UINT16_MAX

enum sig_field { SIG_UA, SIG_SDP_S, SIG_SDP_O, SIG_FIELDS };

#define PAIR_HEADS 4096u

struct sig {
    enum sig_field field;
    char match[SIG_LEN_MAX + 1];
    char folded[SIG_LEN_MAX + 1]; /* match in lower case (slice_lower_ch), compiled at load */
    size_t len;
    char tool[32];
    int score;
    unsigned pair; /* folded first two bytes, (b0 << 8) | b1 (len >= 2) */
    uint16_t next; /* next signature in the same chain (load order) */
};

/*
 * Per field, compiled at load so that a value that matches nothing (nearly every real
 * User-Agent) is rejected in one pass with one bit test per byte: the set of folded byte
 * pairs that start a signature. A pair in the set leads to a short chain of the signatures
 * that start with it (hashed pair; one-byte signatures have a chain per byte and put every
 * pair starting with their byte in the set).
 */
struct sig_index {
    uint64_t pair[65536 / 64];
    uint64_t one[256 / 64];
    uint16_t head1[256];
    uint16_t head2[PAIR_HEADS];
    /* Wu-Manber skip over windows of minlen bytes: how far the window's end may move when
     * its last pair is this one (hashed; a collision keeps the smaller shift). Used when
     * minlen >= 2, i.e. there is no one-byte signature. */
    uint8_t shift[PAIR_HEADS];
    size_t minlen; /* shortest non-empty signature; 0 = none */
};

struct det_sigs {
    struct sig s[SIGS_MAX];
    size_t n;
    struct sig_index idx[SIG_FIELDS];
    unsigned char fold[256]; /* byte -> slice_lower_ch(byte) */
};

static inline bool bit_get(const uint64_t *set, unsigned i)
{
    return (set[i >> 6] >> (i & 63)) & 1u;
}

static inline void bit_set(uint64_t *set, unsigned i)
{
    set[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline unsigned pair_head(unsigned pair)
{
    return ((pair * 2654435761u) >> 20) & (PAIR_HEADS - 1);
}

/* Appends signature i to the chain at *head (load order kept). */
static void chain(struct det_sigs *s, uint16_t *head, size_t i)
{
    uint16_t *pp = head;

    while (*pp != SIG_NONE)
        pp = &s->s[*pp].next;
    *pp = (uint16_t)i;
}

static void compile(struct det_sigs *s)
{
    for (unsigned c = 0; c < 256; c++)
        s->fold[c] = (unsigned char)slice_lower_ch((char)c);
    for (unsigned f = 0; f < SIG_FIELDS; f++) {
        for (unsigned c = 0; c < 256; c++)
            s->idx[f].head1[c] = SIG_NONE;
        for (unsigned h = 0; h < PAIR_HEADS; h++)
            s->idx[f].head2[h] = SIG_NONE;
    }
    for (size_t i = 0; i < s->n; i++) {
        struct sig *g = &s->s[i];
        struct sig_index *x = &s->idx[g->field];
        unsigned c0;

        g->next = SIG_NONE;
        for (size_t j = 0; j < g->len; j++)
            g->folded[j] = (char)s->fold[(unsigned char)g->match[j]];
        g->folded[g->len] = '\0';
        /* An empty signature never matched: it stays out of the index. */
        if (g->len == 0)
            continue;
        c0 = (unsigned char)g->folded[0];
        if (x->minlen == 0 || g->len < x->minlen)
            x->minlen = g->len;
        if (g->len == 1) {
            bit_set(x->one, c0);
            for (unsigned c1 = 0; c1 < 256; c1++)
                bit_set(x->pair, c0 << 8 | c1);
            chain(s, &x->head1[c0], i);
        } else {
            g->pair = c0 << 8 | (unsigned char)g->folded[1];
            bit_set(x->pair, g->pair);
            chain(s, &x->head2[pair_head(g->pair)], i);
        }
    }
    for (unsigned f = 0; f < SIG_FIELDS; f++) {
        struct sig_index *x = &s->idx[f];
        size_t m = x->minlen;

        if (m < 2)
            continue;
        for (unsigned h = 0; h < PAIR_HEADS; h++)
            x->shift[h] = (uint8_t)(m - 1);
        /* The pair ending at q in a signature's first m bytes: a window ending on it may end
         * m-1-q bytes early. */
        for (size_t i = 0; i < s->n; i++) {
            const struct sig *g = &s->s[i];
            if ((unsigned)g->field != f || g->len == 0)
                continue;
            for (size_t q = 1; q < m; q++) {
                unsigned h =
                    pair_head((unsigned char)g->folded[q - 1] << 8 | (unsigned char)g->folded[q]);
                if (x->shift[h] > m - 1 - q)
                    x->shift[h] = (uint8_t)(m - 1 - q);
            }
        }
    }
}

/* Marks in hit the signatures of x that occur at p (left bytes remain, left >= 1; pair is
 * the folded pair at p when left >= 2). Returns true if any was marked. */
static bool hits_at(const struct det_sigs *s, const struct sig_index *x, const unsigned char *p,
                    size_t left, unsigned pair, uint64_t *hit)
{
    unsigned c0 = s->fold[p[0]];
    bool any = false;

    if (bit_get(x->one, c0)) {
        for (uint16_t k = x->head1[c0]; k != SIG_NONE; k = s->s[k].next) {
            bit_set(hit, k);
            any = true;
        }
    }
    if (left < 2)
        return any;
    for (uint16_t k = x->head2[pair_head(pair)]; k != SIG_NONE; k = s->s[k].next) {
        const struct sig *g = &s->s[k];
        size_t j = 2;

        if (g->pair != pair || g->len > left || bit_get(hit, k))
            continue;
        while (j < g->len && s->fold[p[j]] == (unsigned char)g->folded[j])
            j++;
        if (j == g->len) {
            bit_set(hit, k);
            any = true;
        }
    }
    return any;
}

/* Wu-Manber scan (minlen >= 2): every occurrence starts a window of minlen bytes whose end
 * the shifts never jump over; each window start is looked at once. */
static bool scan_skip(const struct det_sigs *s, const struct sig_index *x, const unsigned char *p,
                      size_t len, uint64_t *hit)
{
    size_t m = x->minlen;
    bool any = false;

    for (size_t end = m - 1; end < len;) {
        unsigned sh = x->shift[pair_head((unsigned)s->fold[p[end - 1]] << 8 | s->fold[p[end]])];
        size_t st;
        unsigned pr;

        if (sh) {
            end += sh;
            continue;
        }
        st = end + 1 - m;
        pr = (unsigned)s->fold[p[st]] << 8 | s->fold[p[st + 1]];
        if (bit_get(x->pair, pr) && hits_at(s, x, p + st, len - st, pr, hit))
            any = true;
        end++;
    }
    return any;
}

/* Byte-by-byte scan, for fields with a one-byte signature. */
static bool scan_pairs(const struct det_sigs *s, const struct sig_index *x, const unsigned char *p,
                       size_t len, uint64_t *hit)
{
    unsigned c0 = s->fold[p[0]], c1;
    bool any = false;

    for (size_t i = 0; i + 1 < len; i++) {
        c1 = s->fold[p[i + 1]];
        if (bit_get(x->pair, c0 << 8 | c1) && hits_at(s, x, p + i, len - i, c0 << 8 | c1, hit))
            any = true;
        c0 = c1;
    }
    /* Last byte: only a one-byte signature fits there. */
    if (bit_get(x->one, c0) && hits_at(s, x, p + len - 1, 1, 0, hit))
        any = true;
    return any;
}

/*
 * Same verdict as testing every signature of the field for a case-insensitive substring
 * and keeping the first one with the highest score (tests/detect/test_sigs.c holds both to
 * it), in one pass over the value.
 */
static int best(const struct det_sigs *s, enum sig_field f, struct slice v, const char **tool)
{
    const struct sig_index *x = &s->idx[f];
    const unsigned char *p = (const unsigned char *)v.p;
    uint64_t hit[SIGS_MAX / 64] = {0};
    bool any;
    int sc = 0;

    if (x->minlen == 0 || v.len < x->minlen)
        return 0; /* no signature fits */
    any = x->minlen >= 2 ? scan_skip(s, x, p, v.len, hit) : scan_pairs(s, x, p, v.len, hit);
    if (!any)
        return 0;
    for (unsigned k = 0; k < s->n; k++) {
        if (bit_get(hit, k) && s->s[k].score > sc) {
            sc = s->s[k].score;
            *tool = s->s[k].tool;
        }
    }
    return sc;
}

static int load_list(const struct cfg_node *seq, enum sig_field field, const char *key,
                     struct det_sigs *out, struct cfg_diag *d)
{
    for (size_t i = 0; i < cfg_node_count(seq); i++) {
        const struct cfg_node *it = cfg_node_at(seq, i);
        const struct cfg_node *m = cfg_map_get(it, key), *t = cfg_map_get(it, "tool"),
                              *sc = cfg_map_get(it, "score");
        const char *ms = NULL, *ts = NULL;
        int64_t score = 100;
        struct sig *s;

        if (cfg_node_kind(it) != CFG_NODE_MAP) {
            cfg_error(d, it, "expected a map");
            return -EINVAL;
        }
        if (cfg_parse_string(m, d, SIG_LEN_MAX, &ms) != 0 || cfg_parse_string(t, d, 31, &ts) != 0) {
            if (!m || !t)
                cfg_error(d, it, "needs '%s' and 'tool'", key);
            return -EINVAL;
        }
        if (sc && cfg_parse_int(sc, d, 1, 1000, &score) != 0)
            return -EINVAL;
        if (out->n >= SIGS_MAX) {
            cfg_error(d, it, "more than %u signatures", SIGS_MAX);
            return -EMSGSIZE;
        }
        s = &out->s[out->n++];
        s->field = field;
        snprintf(s->match, sizeof(s->match), "%s", ms);
        s->len = strlen(s->match);
        snprintf(s->tool, sizeof(s->tool), "%s", ts);
        s->score = (int)score;
    }
    return 0;
}

int det_sigs_load(const char *path, struct det_sigs **out, char *err, size_t errcap)
{
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    struct det_sigs *s = NULL;
    const struct cfg_node *root, *n;
    int rc;

    cfg_diag_init(&d);
    rc = cfg_doc_load_file(path, &d, &doc);
    if (rc != 0)
        goto out;
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    root = cfg_doc_root(doc);
    if (!root || cfg_node_kind(root) != CFG_NODE_MAP) {
        cfg_error(&d, root, "signature file must be a map");
        rc = -EINVAL;
        goto out;
    }
    if ((n = cfg_map_get(root, "user_agent")) && (rc = load_list(n, SIG_UA, "match", s, &d)) != 0)
        goto out;
    if ((n = cfg_map_get(root, "sdp_session_name")) &&
        (rc = load_list(n, SIG_SDP_S, "match", s, &d)) != 0)
        goto out;
    if ((n = cfg_map_get(root, "sdp_origin_user")) &&
        (rc = load_list(n, SIG_SDP_O, "match", s, &d)) != 0)
        goto out;
    compile(s);
    *out = s;
    s = NULL;
out:
    if (rc != 0 && err && errcap) {
        if (d.count)
            snprintf(err, errcap, "%s:%u:%u: %s", d.entries[0].file, d.entries[0].line,
                     d.entries[0].column, d.entries[0].reason);
        else
            snprintf(err, errcap, "%s: %s", path, strerror(-rc));
    }
    free(s);
    cfg_doc_free(doc);
    cfg_diag_fini(&d);
    return rc;
}

void det_sigs_free(struct det_sigs *s)
{
    free(s);
}

int det_sigs_ua(const struct det_sigs *s, struct slice ua, const char **tool)
{
    return best(s, SIG_UA, ua, tool);
}

int det_sigs_sdp(const struct det_sigs *s, struct slice sname, struct slice ouser,
                 const char **tool)
{
    int a = sname.len ? best(s, SIG_SDP_S, sname, tool) : 0;
    const char *t2 = NULL;
    int b = ouser.len ? best(s, SIG_SDP_O, ouser, &t2) : 0;
    if (b > a) {
        *tool = t2;
        return b;
    }
    return a;
}
