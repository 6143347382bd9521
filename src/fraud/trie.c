/* Digit prefix trie (see pbxguard/fraud/trie.h). Nodes live in one growing array so a
 * lookup touches at most 16 cache lines and the whole trie frees in one call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/fraud/trie.h"

int fraud_trie_init(struct fraud_trie *t)
{
    memset(t, 0, sizeof(*t));
    t->cap_nodes = 256;
    t->nodes = calloc(t->cap_nodes, sizeof(*t->nodes));
    if (!t->nodes)
        return -ENOMEM;
    t->n_nodes = 1; /* the root */
    return 0;
}

void fraud_trie_fini(struct fraud_trie *t)
{
    free(t->nodes);
    memset(t, 0, sizeof(*t));
}

static int new_node(struct fraud_trie *t, uint32_t *idx)
{
    if (t->n_nodes == t->cap_nodes) {
        uint32_t cap = t->cap_nodes * 2;
        struct fraud_trie_node *n;
        if (cap > FRAUD_TRIE_NODES_MAX)
            return -EMSGSIZE;
        n = realloc(t->nodes, (size_t)cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        memset(n + t->cap_nodes, 0, (size_t)(cap - t->cap_nodes) * sizeof(*n));
        t->nodes = n;
        t->cap_nodes = cap;
    }
    *idx = t->n_nodes++;
    return 0;
}

int fraud_trie_insert(struct fraud_trie *t, struct slice digits, uint32_t value)
{
    uint32_t cur = 0;
    size_t i = 0;

    if (!t->nodes || value == UINT32_MAX)
        return -EINVAL;
    if (digits.len && digits.p[0] == '+')
        i = 1;
    if (digits.len <= i || digits.len - i > FRAUD_TRIE_KEY_MAX)
        return -EINVAL;
    for (size_t k = i; k < digits.len; k++)
        if (digits.p[k] < '0' || digits.p[k] > '9')
            return -EINVAL;
    for (; i < digits.len; i++) {
        unsigned d = (unsigned)(digits.p[i] - '0');
        uint32_t next = t->nodes[cur].child[d];
        if (!next) {
            int rc = new_node(t, &next);
            if (rc < 0)
                return rc;
            t->nodes[cur].child[d] = next;
        }
        cur = next;
    }
    if (!t->nodes[cur].value)
        t->n_values++;
    t->nodes[cur].value = value + 1;
    return 0;
}

int fraud_trie_lookup(const struct fraud_trie *t, struct slice digits, uint32_t *value,
                      size_t *match_len)
{
    uint32_t cur = 0, best = 0;
    size_t i = 0, best_len = 0, depth = 0;

    if (!t->nodes)
        return -ENOENT;
    if (digits.len && digits.p[0] == '+')
        i = 1;
    for (; i < digits.len; i++) {
        unsigned d = (unsigned)(digits.p[i] - '0');
        if (d > 9)
            break;
        cur = t->nodes[cur].child[d];
        if (!cur)
            break;
        depth++;
        if (t->nodes[cur].value) {
            best = t->nodes[cur].value;
            best_len = depth;
        }
    }
    if (!best)
        return -ENOENT;
    *value = best - 1;
    if (match_len)
        *match_len = best_len;
    return 0;
}
