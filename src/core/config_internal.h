/* Private layout of the configuration node tree, shared by the config_*.c files. */
#ifndef PBXGUARD_CORE_CONFIG_INTERNAL_H
#define PBXGUARD_CORE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pbxguard/core/config.h"

struct cfg_arena_block {
    struct cfg_arena_block *next;
    size_t used, size;
    max_align_t data[];
};

struct cfg_node {
    enum cfg_kind kind;
    bool quoted;
    unsigned line, column;
    const char *path;
    const char *str; /* scalars: NUL-terminated text */
    size_t len;
    size_t count;                  /* map entries / sequence items */
    const struct cfg_node **items; /* sequence items or map values */
    const struct cfg_node **keys;  /* map keys (scalar nodes) */
    struct cfg_doc *doc;
};

struct cfg_doc {
    char *name;
    struct cfg_node *root;
    struct cfg_arena_block *blocks;
    size_t nodes; /* nodes created, aliases expanded */
};

/* Arena allocation owned by the document; zeroed; NULL on failure. */
void *cfg_doc_alloc(struct cfg_doc *doc, size_t size);
char *cfg_doc_strdup(struct cfg_doc *doc, const char *s, size_t len);

#endif
