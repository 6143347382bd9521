/*
 * Digit prefix trie: longest-prefix match of a digit string to a 32-bit value. Used for
 * destination classes, countries, rates and the high-risk list. Built once at load time,
 * then read-only: lookups on a built trie are thread-safe, inserts are not.
 */
#ifndef PBXGUARD_FRAUD_TRIE_H
#define PBXGUARD_FRAUD_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

/* Longest key accepted, in digits (an E.164 number has at most 15). */
#define FRAUD_TRIE_KEY_MAX 24
/* Hard cap on nodes, so a hostile data or config file cannot exhaust memory. */
#define FRAUD_TRIE_NODES_MAX (1u << 22)

struct fraud_trie_node {
    uint32_t child[10]; /* index of the child node, 0 = none (node 0 is the root) */
    uint32_t value;     /* stored value + 1, 0 = no value at this node */
};

struct fraud_trie {
    struct fraud_trie_node *nodes; /* owned */
    uint32_t n_nodes, cap_nodes;
    uint32_t n_values;
};

/* Initialises an empty trie (caller storage). -ENOMEM on allocation failure. */
PBX_WUR int fraud_trie_init(struct fraud_trie *t);
/* Frees what the trie owns; safe on a zeroed or already finalised trie. */
void fraud_trie_fini(struct fraud_trie *t);

/*
 * Stores `value` (must be < UINT32_MAX) at `digits` (borrowed, '0'-'9' only, 1 to
 * FRAUD_TRIE_KEY_MAX digits; a leading '+' is skipped), replacing any value already there.
 * Errors: -EINVAL bad key, -EMSGSIZE node cap reached, -ENOMEM.
 */
PBX_WUR int fraud_trie_insert(struct fraud_trie *t, struct slice digits, uint32_t value);

/*
 * Longest stored prefix of `digits` (a leading '+' is skipped; matching stops at the
 * first non-digit). Returns 0 and writes *value and *match_len (digits matched, may be
 * NULL), or -ENOENT when no prefix is stored.
 */
PBX_WUR int fraud_trie_lookup(const struct fraud_trie *t, struct slice digits, uint32_t *value,
                              size_t *match_len);

#endif
