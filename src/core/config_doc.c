/*
 * YAML -> immutable node tree. libyaml's event parser drives a recursive builder whose depth
 * is capped, so hostile input cannot exhaust the stack; aliases are expanded into copies
 * counted against CFG_MAX_NODES, which is what stops "billion laughs".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config_internal.h"
#include "pbxguard/core/escape.h"

#define ARENA_BLOCK 65536u
#define MAX_ANCHORS 256u

void *cfg_doc_alloc(struct cfg_doc *doc, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    struct cfg_arena_block *b = doc->blocks;
    if (!b || b->size - b->used < size) {
        size_t bsize = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = calloc(1, sizeof(*b) + bsize);
        if (!b)
            return NULL;
        b->size = bsize;
        b->next = doc->blocks;
        doc->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

char *cfg_doc_strdup(struct cfg_doc *doc, const char *s, size_t len)
{
    char *p = cfg_doc_alloc(doc, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void *cfg_alloc(const struct cfg_node *any, size_t size)
{
    return any ? cfg_doc_alloc(any->doc, size) : NULL;
}

void cfg_doc_free(struct cfg_doc *doc)
{
    if (!doc)
        return;
    struct cfg_arena_block *b = doc->blocks;
    while (b) {
        struct cfg_arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(doc->name);
    free(doc);
}

const struct cfg_node *cfg_doc_root(const struct cfg_doc *doc)
{
    return doc ? doc->root : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors */

enum cfg_kind cfg_node_kind(const struct cfg_node *n)
{
    return n ? n->kind : CFG_NODE_NULL;
}

const char *cfg_kind_name(enum cfg_kind k)
{
    switch (k) {
    case CFG_NODE_NULL:
        return "null";
    case CFG_NODE_SCALAR:
        return "scalar";
    case CFG_NODE_MAP:
        return "map";
    case CFG_NODE_SEQ:
        return "sequence";
    }
    return "?";
}

const char *cfg_node_file(const struct cfg_node *n)
{
    return n ? n->doc->name : "";
}

unsigned cfg_node_line(const struct cfg_node *n)
{
    return n ? n->line : 0;
}

unsigned cfg_node_column(const struct cfg_node *n)
{
    return n ? n->column : 0;
}

const char *cfg_node_path(const struct cfg_node *n)
{
    return n ? n->path : "";
}

const char *cfg_node_str(const struct cfg_node *n)
{
    return n && n->kind == CFG_NODE_SCALAR ? n->str : NULL;
}

size_t cfg_node_len(const struct cfg_node *n)
{
    return n && n->kind == CFG_NODE_SCALAR ? n->len : 0;
}

bool cfg_node_quoted(const struct cfg_node *n)
{
    return n && n->quoted;
}

size_t cfg_node_count(const struct cfg_node *n)
{
    return n && (n->kind == CFG_NODE_MAP || n->kind == CFG_NODE_SEQ) ? n->count : 0;
}

const struct cfg_node *cfg_node_at(const struct cfg_node *n, size_t i)
{
    return i < cfg_node_count(n) ? n->items[i] : NULL;
}

const struct cfg_node *cfg_node_key_at(const struct cfg_node *n, size_t i)
{
    return n && n->kind == CFG_NODE_MAP && i < n->count ? n->keys[i] : NULL;
}

const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key)
{
    if (!map || map->kind != CFG_NODE_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < map->count; i++)
        if (map->keys[i]->len == klen && memcmp(map->keys[i]->str, key, klen) == 0)
            return map->items[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Builder */

struct anchor {
    char *name;
    const struct cfg_node *node;
};

struct builder {
    yaml_parser_t parser;
    struct cfg_doc *doc;
    struct cfg_diag *diag;
    const char *buf;
    size_t len;
    struct anchor anchors[MAX_ANCHORS];
    unsigned n_anchors;
    unsigned n_aliases;
    int err; /* first fatal error; parsing stops */
};

static void berror(struct builder *b, unsigned line, unsigned column, int err, const char *fmt, ...)
    PBX_PRINTF(5, 6);

static void berror(struct builder *b, unsigned line, unsigned column, int err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cfg_diag_add(b->diag, b->doc->name, line, column, "%s", msg);
    if (err && !b->err)
        b->err = err;
}

/* Path of a child: parent + ".key" or "[i]"; cut at CFG_MAX_PATH. */
static const char *child_path(struct builder *b, const char *parent, const char *key, size_t idx)
{
    char tmp[CFG_MAX_PATH];
    char kbuf[96];
    if (key) {
        esc_untrusted(kbuf, sizeof(kbuf), key, strlen(key), 48, ESC_TEXT);
        snprintf(tmp, sizeof(tmp), "%s%s%s", parent, *parent ? "." : "", kbuf);
    } else {
        snprintf(tmp, sizeof(tmp), "%s[%zu]", parent, idx);
    }
    return cfg_doc_strdup(b->doc, tmp, strlen(tmp));
}

static struct cfg_node *new_node(struct builder *b, enum cfg_kind kind, const yaml_mark_t *m,
                                 const char *path)
{
    if (b->doc->nodes >= CFG_MAX_NODES) {
        berror(b, (unsigned)m->line + 1, (unsigned)m->column + 1, -EMSGSIZE,
               "too many nodes (limit %u, aliases included)", CFG_MAX_NODES);
        return NULL;
    }
    struct cfg_node *n = cfg_doc_alloc(b->doc, sizeof(*n));
    if (!n || !path) {
        if (!b->err)
            b->err = -ENOMEM;
        return NULL;
    }
    b->doc->nodes++;
    n->kind = kind;
    n->line = (unsigned)m->line + 1;
    n->column = (unsigned)m->column + 1;
    n->path = path;
    n->doc = b->doc;
    return n;
}

static bool next_event(struct builder *b, yaml_event_t *ev)
{
    if (yaml_parser_parse(&b->parser, ev))
        return true;

    const yaml_parser_t *p = &b->parser;
    unsigned line, col;
    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset; turn it into line:column. */
        line = 1;
        col = 1;
        for (size_t i = 0; i < p->problem_offset && i < b->len; i++) {
            if (b->buf[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)b->buf[i] & 0xc0) != 0x80) {
                col++;
            }
        }
        berror(b, line, col, -EINVAL, "%s", p->problem ? p->problem : "invalid input");
        return false;
    }
    line = (unsigned)p->problem_mark.line + 1;
    col = (unsigned)p->problem_mark.column + 1;
    size_t off = p->problem_mark.index;
    /* libyaml's message for a tab is generic; say what it is. */
    bool tab = off < b->len && b->buf[off] == '\t';
    if (tab)
        berror(b, line, col, -EINVAL, "tab character where YAML needs spaces");
    else if (p->context)
        berror(b, line, col, -EINVAL, "%s %s", p->problem ? p->problem : "syntax error",
               p->context);
    else
        berror(b, line, col, -EINVAL, "%s", p->problem ? p->problem : "syntax error");
    return false;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 &&
            (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 || memcmp(v, "NULL", 4) == 0));
}

static const struct cfg_node *copy_tree(struct builder *b, const struct cfg_node *src,
                                        const char *path, const yaml_mark_t *m, unsigned depth);

static void add_anchor(struct builder *b, const unsigned char *name, const struct cfg_node *n,
                       const yaml_mark_t *m)
{
    if (!name || !n)
        return;
    if (b->n_anchors >= MAX_ANCHORS) {
        berror(b, (unsigned)m->line + 1, (unsigned)m->column + 1, -EMSGSIZE,
               "too many anchors (limit %u)", MAX_ANCHORS);
        return;
    }
    const char *s = (const char *)name;
    char *copy = cfg_doc_strdup(b->doc, s, strlen(s));
    if (!copy) {
        b->err = -ENOMEM;
        return;
    }
    /* A redefined anchor shadows the earlier one (YAML 1.2 §7.1). */
    b->anchors[b->n_anchors].name = copy;
    b->anchors[b->n_anchors].node = n;
    b->n_anchors++;
}

static const struct cfg_node *find_anchor(struct builder *b, const char *name)
{
    for (unsigned i = b->n_anchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

static const struct cfg_node *build(struct builder *b, yaml_event_t *ev, const char *path,
                                    unsigned depth);

/* Grows a temporary pointer array. */
static bool push_ptr(const struct cfg_node ***arr, size_t *n, size_t *cap, const struct cfg_node *v)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        const struct cfg_node **na = realloc(*arr, nc * sizeof(*na));
        if (!na)
            return false;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = v;
    return true;
}

static const struct cfg_node **freeze(struct builder *b, const struct cfg_node **tmp, size_t n)
{
    if (n == 0)
        return NULL;
    const struct cfg_node **out = cfg_doc_alloc(b->doc, n * sizeof(*out));
    if (!out) {
        b->err = -ENOMEM;
        return NULL;
    }
    memcpy(out, tmp, n * sizeof(*out));
    return out;
}

static int cmp_key(const void *pa, const void *pb, void *ctx)
{
    const struct cfg_node **keys = ctx;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const struct cfg_node *ka = keys[a], *kb = keys[b];
    size_t n = ka->len < kb->len ? ka->len : kb->len;
    int c = memcmp(ka->str, kb->str, n);
    if (c)
        return c;
    if (ka->len != kb->len)
        return ka->len < kb->len ? -1 : 1;
    return a < b ? -1 : (a > b);
}

/* Reports every key that repeats an earlier one, in file order. */
static void check_duplicates(struct builder *b, const struct cfg_node *map)
{
    size_t n = map->count;
    if (n < 2)
        return;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (map->keys[i]->len == map->keys[j]->len &&
                    memcmp(map->keys[i]->str, map->keys[j]->str, map->keys[i]->len) == 0) {
                    cfg_error(b->diag, map->keys[i], "duplicate key (first at line %u)",
                              map->keys[j]->line);
                    break;
                }
        return;
    }
    /* Large maps: sort indexes by key so the check stays O(n log n) on hostile input. */
    size_t *idx = malloc(n * sizeof(*idx));
    bool *dup = calloc(n, sizeof(*dup));
    size_t *first = malloc(n * sizeof(*first));
    if (!idx || !dup || !first) {
        b->err = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof(*idx), cmp_key, (void *)map->keys);
    for (size_t i = 1; i < n; i++) {
        const struct cfg_node *a = map->keys[idx[i - 1]], *k = map->keys[idx[i]];
        if (a->len == k->len && memcmp(a->str, k->str, k->len) == 0) {
            dup[idx[i]] = true;
            first[idx[i]] = dup[idx[i - 1]] ? first[idx[i - 1]] : idx[i - 1];
        }
    }
    for (size_t i = 0; i < n; i++)
        if (dup[i])
            cfg_error(b->diag, map->keys[i], "duplicate key (first at line %u)",
                      map->keys[first[i]]->line);
out:
    free(idx);
    free(dup);
    free(first);
}

static const struct cfg_node *build_scalar(struct builder *b, yaml_event_t *ev, const char *path)
{
    const yaml_mark_t *m = &ev->start_mark;
    bool null = is_null_scalar(ev);
    struct cfg_node *n = new_node(b, null ? CFG_NODE_NULL : CFG_NODE_SCALAR, m, path);
    if (!n)
        return NULL;
    size_t len = ev->data.scalar.length;
    if (len > CFG_MAX_SCALAR) {
        berror(b, n->line, n->column, 0, "%s%svalue too long (%zu bytes, limit %u)", path,
               *path ? ": " : "", len, CFG_MAX_SCALAR);
        len = 0;
    }
    const char *v = (const char *)ev->data.scalar.value;
    if (memchr(v, '\0', len)) {
        /* "\0" escapes in double-quoted scalars would silently cut C strings */
        berror(b, n->line, n->column, 0, "%s%sNUL character in value", path, *path ? ": " : "");
        len = 0;
    }
    n->str = cfg_doc_strdup(b->doc, v, len);
    n->len = len;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if (!n->str) {
        b->err = -ENOMEM;
        return NULL;
    }
    add_anchor(b, ev->data.scalar.anchor, n, m);
    return n;
}

static const struct cfg_node *build_seq(struct builder *b, yaml_event_t *ev, const char *path,
                                        unsigned depth)
{
    const yaml_mark_t m = ev->start_mark;
    unsigned char *anchor = ev->data.sequence_start.anchor;
    struct cfg_node *n = new_node(b, CFG_NODE_SEQ, &m, path);
    const struct cfg_node **tmp = NULL;
    size_t cnt = 0, cap = 0;

    ev->data.sequence_start.anchor = NULL; /* keep it past yaml_event_delete */
    while (n && !b->err) {
        yaml_event_t item;
        if (!next_event(b, &item))
            break;
        if (item.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&item);
            n->count = cnt;
            n->items = freeze(b, tmp, cnt);
            add_anchor(b, anchor, n, &m);
            break;
        }
        const struct cfg_node *child = build(b, &item, child_path(b, path, NULL, cnt), depth + 1);
        yaml_event_delete(&item);
        if (!child || !push_ptr(&tmp, &cnt, &cap, child)) {
            if (!b->err)
                b->err = -ENOMEM;
            break;
        }
    }
    free(tmp);
    free(anchor);
    return b->err ? NULL : n;
}

static const struct cfg_node *build_map(struct builder *b, yaml_event_t *ev, const char *path,
                                        unsigned depth)
{
    const yaml_mark_t m = ev->start_mark;
    unsigned char *anchor = ev->data.mapping_start.anchor;
    struct cfg_node *n = new_node(b, CFG_NODE_MAP, &m, path);
    const struct cfg_node **keys = NULL, **vals = NULL;
    size_t nk = 0, capk = 0, nv = 0, capv = 0;

    ev->data.mapping_start.anchor = NULL;
    while (n && !b->err) {
        yaml_event_t kev;
        if (!next_event(b, &kev))
            break;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            n->count = nk;
            n->keys = freeze(b, keys, nk);
            n->items = freeze(b, vals, nv);
            if (!b->err)
                check_duplicates(b, n);
            add_anchor(b, anchor, n, &m);
            break;
        }
        const char *kpath;
        const struct cfg_node *key;
        if (kev.type == YAML_SCALAR_EVENT && !is_null_scalar(&kev)) {
            kpath = child_path(b, path, (const char *)kev.data.scalar.value, 0);
            key = build_scalar(b, &kev, kpath ? kpath : "");
        } else {
            /* Complex or empty keys have no use in a configuration; parse and refuse. */
            unsigned kl = (unsigned)kev.start_mark.line + 1;
            unsigned kc = (unsigned)kev.start_mark.column + 1;
            kpath = child_path(b, path, "?", 0);
            key = build(b, &kev, kpath ? kpath : "", depth + 1);
            if (key)
                berror(b, kl, kc, 0, "%s%skeys must be non-empty scalars", path, *path ? ": " : "");
            key = NULL;
        }
        yaml_event_delete(&kev);
        if (b->err)
            break;
        yaml_event_t vev;
        if (!next_event(b, &vev))
            break;
        const struct cfg_node *val = build(b, &vev, kpath ? kpath : "", depth + 1);
        yaml_event_delete(&vev);
        if (!val)
            break;
        if (key && key->kind == CFG_NODE_SCALAR) {
            if (!push_ptr(&keys, &nk, &capk, key) || !push_ptr(&vals, &nv, &capv, val)) {
                b->err = -ENOMEM;
                break;
            }
        }
    }
    free(keys);
    free(vals);
    free(anchor);
    return b->err ? NULL : n;
}

static const struct cfg_node *build_alias(struct builder *b, yaml_event_t *ev, const char *path,
                                          unsigned depth)
{
    const yaml_mark_t *m = &ev->start_mark;
    const char *name = (const char *)ev->data.alias.anchor;
    if (++b->n_aliases > CFG_MAX_ALIASES) {
        berror(b, (unsigned)m->line + 1, (unsigned)m->column + 1, -EMSGSIZE,
               "too many aliases (limit %u)", CFG_MAX_ALIASES);
        return NULL;
    }
    const struct cfg_node *target = find_anchor(b, name);
    if (!target) {
        char nb[96];
        esc_untrusted(nb, sizeof(nb), name, strlen(name), 48, ESC_TEXT);
        berror(b, (unsigned)m->line + 1, (unsigned)m->column + 1, -EINVAL, "unknown anchor '%s'",
               nb);
        return NULL;
    }
    return copy_tree(b, target, path, m, depth);
}

/* Deep copy for an alias: new paths, same positions (the text is at the anchor). */
static const struct cfg_node *copy_tree(struct builder *b, const struct cfg_node *src,
                                        const char *path, const yaml_mark_t *m, unsigned depth)
{
    if (depth >= CFG_MAX_DEPTH) {
        berror(b, (unsigned)m->line + 1, (unsigned)m->column + 1, -EMSGSIZE,
               "nesting too deep (limit %u)", CFG_MAX_DEPTH);
        return NULL;
    }
    yaml_mark_t pos = {.line = src->line - 1, .column = src->column - 1};
    struct cfg_node *n = new_node(b, src->kind, &pos, path);
    if (!n)
        return NULL;
    n->str = src->str;
    n->len = src->len;
    n->quoted = src->quoted;
    n->count = src->count;
    if (src->count) {
        const struct cfg_node **items = cfg_doc_alloc(b->doc, src->count * sizeof(*items));
        const struct cfg_node **keys =
            src->keys ? cfg_doc_alloc(b->doc, src->count * sizeof(*keys)) : NULL;
        if (!items || (src->keys && !keys)) {
            b->err = -ENOMEM;
            return NULL;
        }
        for (size_t i = 0; i < src->count; i++) {
            const char *cp = src->keys ? child_path(b, path, src->keys[i]->str, 0)
                                       : child_path(b, path, NULL, i);
            if (keys) {
                yaml_mark_t kpos = {.line = src->keys[i]->line - 1,
                                    .column = src->keys[i]->column - 1};
                struct cfg_node *k = new_node(b, CFG_NODE_SCALAR, &kpos, cp);
                if (!k)
                    return NULL;
                k->str = src->keys[i]->str;
                k->len = src->keys[i]->len;
                k->quoted = src->keys[i]->quoted;
                keys[i] = k;
            }
            items[i] = copy_tree(b, src->items[i], cp ? cp : "", m, depth + 1);
            if (!items[i])
                return NULL;
        }
        n->items = items;
        n->keys = keys;
    }
    return n;
}

static const struct cfg_node *build(struct builder *b, yaml_event_t *ev, const char *path,
                                    unsigned depth)
{
    if (!path) {
        b->err = -ENOMEM;
        return NULL;
    }
    if (depth >= CFG_MAX_DEPTH) {
        berror(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1, -EMSGSIZE,
               "nesting too deep (limit %u)", CFG_MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return build_scalar(b, ev, path);
    case YAML_SEQUENCE_START_EVENT:
        return build_seq(b, ev, path, depth);
    case YAML_MAPPING_START_EVENT:
        return build_map(b, ev, path, depth);
    case YAML_ALIAS_EVENT:
        return build_alias(b, ev, path, depth);
    default:
        berror(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1, -EINVAL,
               "unexpected YAML event");
        return NULL;
    }
}

/* Rejects bytes that are not UTF-8 with a position libyaml would not give. */
static bool check_utf8(struct builder *b)
{
    const unsigned char *s = (const unsigned char *)b->buf;
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < b->len;) {
        if (s[i] == 0) {
            berror(b, line, col, -EINVAL, "NUL byte in file");
            return false;
        }
        /* libyaml accepts these; they are never intended and can hide text on a terminal */
        if (s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') {
            berror(b, line, col, -EINVAL, "control character 0x%02x in file", s[i]);
            return false;
        }
        size_t n = esc_utf8_len(s + i, b->len - i);
        if (!n) {
            berror(b, line, col, -EINVAL, "invalid UTF-8 byte 0x%02x", s[i]);
            return false;
        }
        if (s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        i += n;
    }
    return true;
}

int cfg_doc_load_buf(const char *name, const char *buf, size_t len, struct cfg_diag *d,
                     struct cfg_doc **out)
{
    struct builder *b = NULL;
    struct cfg_doc *doc = NULL;
    int rc = 0;
    bool parser_ready = false;

    doc = calloc(1, sizeof(*doc));
    b = calloc(1, sizeof(*b));
    if (!doc || !b) {
        rc = -ENOMEM;
        goto out;
    }
    doc->name = strdup(name ? name : "<config>");
    if (!doc->name) {
        rc = -ENOMEM;
        goto out;
    }
    b->doc = doc;
    b->diag = d;
    b->buf = buf;
    b->len = len;
    if (len > CFG_MAX_FILE_SIZE) {
        cfg_diag_add(d, doc->name, 0, 0, "file too large (%zu bytes, limit %u)", len,
                     CFG_MAX_FILE_SIZE);
        rc = -EMSGSIZE;
        goto out;
    }
    if (!check_utf8(b)) {
        rc = b->err;
        goto out;
    }
    if (!yaml_parser_initialize(&b->parser)) {
        rc = -ENOMEM;
        goto out;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&b->parser, (const unsigned char *)buf, len);
    yaml_parser_set_encoding(&b->parser, YAML_UTF8_ENCODING);

    int docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (!next_event(b, &ev))
            break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            berror(b, (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1, -EINVAL,
                   "more than one YAML document");
            yaml_event_delete(&ev);
            break;
        }
        if (type == YAML_SCALAR_EVENT || type == YAML_SEQUENCE_START_EVENT ||
            type == YAML_MAPPING_START_EVENT || type == YAML_ALIAS_EVENT) {
            const struct cfg_node *root = build(b, &ev, "", 0);
            if (root && root->kind == CFG_NODE_MAP)
                doc->root = (struct cfg_node *)root;
            else if (root && root->kind != CFG_NODE_NULL)
                berror(b, root->line, root->column, -EINVAL,
                       "the configuration must be a map of sections, not a %s",
                       cfg_kind_name(root->kind));
        }
        yaml_event_delete(&ev);
        if (b->err)
            break;
    }
    if (b->err)
        rc = b->err;
    else if (cfg_diag_errors(d))
        rc = -EINVAL;
out:
    if (parser_ready)
        yaml_parser_delete(&b->parser);
    free(b);
    if (rc == 0)
        *out = doc;
    else
        cfg_doc_free(doc);
    return rc;
}

int cfg_doc_load_file(const char *path, struct cfg_diag *d, struct cfg_doc **out)
{
    int fd = -1, rc = 0;
    char *buf = NULL;
    struct stat st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = -errno;
        cfg_diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        /* a directory or a device is a usage mistake, not an invalid configuration */
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -ENOTSUP;
        cfg_diag_add(d, path, 0, 0, "not a regular file");
        goto out;
    }
    if (st.st_size > (off_t)CFG_MAX_FILE_SIZE) {
        rc = -EMSGSIZE;
        cfg_diag_add(d, path, 0, 0, "file too large (%lld bytes, limit %u)", (long long)st.st_size,
                     CFG_MAX_FILE_SIZE);
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            cfg_diag_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    rc = cfg_doc_load_buf(path, buf, got, d, out);
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
