/* Snapshots of a validated configuration and their swap on reload; see config.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

struct cfg_snapshot {
    atomic_uint refs;
    uint64_t generation;
    struct cfg_doc *doc;
    const struct cfg_section *table; /* borrowed: tables are static */
    size_t n;
    void **objs; /* one per table entry */
};

static void snapshot_destroy(struct cfg_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->objs && i < s->n; i++)
        if (s->objs[i] && s->table[i].free)
            s->table[i].free(s->objs[i]);
    free(s->objs);
    cfg_doc_free(s->doc);
    free(s);
}

/* Loads every section of the table from doc; takes ownership of doc. */
static int build_snapshot(struct cfg_doc *doc, const struct cfg_section *table, size_t n,
                          struct cfg_diag *d, struct cfg_snapshot **out)
{
    int rc = 0;
    struct cfg_snapshot *s = calloc(1, sizeof(*s));
    if (!s) {
        cfg_doc_free(doc);
        return -ENOMEM;
    }
    atomic_init(&s->refs, 1);
    s->doc = doc;
    s->table = table;
    s->n = n;
    s->objs = calloc(n ? n : 1, sizeof(*s->objs));
    if (!s->objs) {
        rc = -ENOMEM;
        goto out;
    }
    const struct cfg_node *root = doc->root;
    /* A top-level key that no subsystem registered is a mistake, never silently ignored. */
    for (size_t i = 0; i < cfg_node_count(root); i++) {
        const struct cfg_node *key = cfg_node_key_at(root, i);
        bool known = false;
        for (size_t j = 0; j < n && !known; j++)
            known = strcmp(cfg_node_str(key), table[j].name) == 0;
        if (!known) {
            cfg_error(d, key, "unknown section");
            rc = -EINVAL;
        }
    }
    /* Every section is validated even after an error, so one run reports everything. */
    for (size_t j = 0; j < n; j++) {
        int lrc = table[j].load(cfg_map_get(root, table[j].name), d, &s->objs[j]);
        if (lrc == -ENOMEM) {
            rc = lrc;
            goto out;
        }
        if (lrc && !rc)
            rc = -EINVAL;
        if (lrc && !cfg_diag_errors(d))
            cfg_error(d, cfg_map_get(root, table[j].name), "section '%s' rejected", table[j].name);
    }
out:
    if (rc) {
        snapshot_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

int cfg_snapshot_load_buf(const char *name, const char *buf, size_t len,
                          const struct cfg_section *table, size_t n, struct cfg_diag *d,
                          struct cfg_snapshot **out)
{
    struct cfg_doc *doc = NULL;
    int rc = cfg_doc_load_buf(name, buf, len, d, &doc);
    if (rc == 0)
        rc = build_snapshot(doc, table, n, d, out);
    cfg_diag_sort(d);
    return rc;
}

int cfg_snapshot_load_file(const char *path, const struct cfg_section *table, size_t n,
                           struct cfg_diag *d, struct cfg_snapshot **out)
{
    struct cfg_doc *doc = NULL;
    int rc = cfg_doc_load_file(path, d, &doc);
    if (rc == 0)
        rc = build_snapshot(doc, table, n, d, out);
    cfg_diag_sort(d);
    return rc;
}

struct cfg_snapshot *cfg_snapshot_ref(struct cfg_snapshot *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void cfg_snapshot_unref(struct cfg_snapshot *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        snapshot_destroy(s);
}

const void *cfg_snapshot_section(const struct cfg_snapshot *s, const char *name)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->table[i].name, name) == 0)
            return s->objs[i];
    return NULL;
}

const char *cfg_snapshot_source(const struct cfg_snapshot *s)
{
    return s ? s->doc->name : "";
}

uint64_t cfg_snapshot_generation(const struct cfg_snapshot *s)
{
    return s ? s->generation : 0;
}

void cfg_live_init(struct cfg_live *l)
{
    pthread_mutex_init(&l->lock, NULL);
    l->current = NULL;
    l->generation = 0;
}

void cfg_live_fini(struct cfg_live *l)
{
    cfg_snapshot_unref(l->current);
    l->current = NULL;
    pthread_mutex_destroy(&l->lock);
}

void cfg_live_publish(struct cfg_live *l, struct cfg_snapshot *s)
{
    pthread_mutex_lock(&l->lock);
    struct cfg_snapshot *old = l->current;
    if (s)
        s->generation = ++l->generation;
    l->current = s;
    pthread_mutex_unlock(&l->lock);
    /* Readers holding the old one keep it alive until they let go. */
    cfg_snapshot_unref(old);
}

struct cfg_snapshot *cfg_live_acquire(struct cfg_live *l)
{
    pthread_mutex_lock(&l->lock);
    struct cfg_snapshot *s = cfg_snapshot_ref(l->current);
    pthread_mutex_unlock(&l->lock);
    return s;
}

int cfg_live_reload(struct cfg_live *l, const char *path, const struct cfg_section *table, size_t n,
                    struct cfg_diag *d)
{
    struct cfg_snapshot *s = NULL;
    int rc = cfg_snapshot_load_file(path, table, n, d, &s);
    if (rc)
        return rc; /* the current snapshot is untouched */
    cfg_live_publish(l, s);
    return 0;
}
