/*
 * Configuration: one YAML file -> an immutable node tree -> validated section structs held
 * by a reference-counted snapshot.
 *
 * Stages
 *   1. cfg_doc_load_*: libyaml parses the file into a tree of maps, sequences and scalars.
 *      Every node carries its file, 1-based line and column and its key path
 *      ("gateway.listen[1]"). Duplicate keys, non-scalar keys, anchors/aliases beyond a cap,
 *      too deep / too many nodes / too large input, non-UTF-8 and multi-document streams are
 *      rejected here.
 *   2. Section loaders: each subsystem validates its own top-level section into its own struct
 *      (see cfg_section_load_fn), usually with cfg_bind() and a cfg_field table. Strings bound
 *      from the tree are borrowed from the document, which lives as long as the snapshot.
 *   3. cfg_snapshot: holds the document and one pointer per registered section. Immutable once
 *      built; shared by reference count; swapped as a whole on reload (struct cfg_live).
 *
 * Errors are collected in a struct cfg_diag as "file:line:column: path: reason", several per
 * pass (capped), so one run of check-config shows every mistake it can.
 *
 * Thread-safety: loading uses only its own document and diag, so separate loads may run in
 * separate threads; a loaded snapshot is immutable and may be read from any thread. See
 * struct cfg_live for publication. docs/internals/config.md has the full guide.
 */
#ifndef PBXGUARD_CORE_CONFIG_H
#define PBXGUARD_CORE_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"

/* Hard caps on the input. Exceeding one is an error at the offending node. */
#define CFG_MAX_FILE_SIZE (4u * 1024 * 1024) /* bytes of YAML */
#define CFG_MAX_DEPTH 32u                    /* nesting of maps/sequences */
#define CFG_MAX_NODES 100000u                /* nodes after alias expansion */
#define CFG_MAX_ALIASES 64u                  /* alias references ("*name") per document */
#define CFG_MAX_SCALAR 8192u                 /* bytes in one scalar */
#define CFG_MAX_PATH 256u                    /* bytes of a key path, longer ones are cut */
#define CFG_MAX_ERRORS 50u                   /* errors kept per cfg_diag; more are counted */

/* ------------------------------------------------------------------------------------------ */
/* Diagnostics */

struct cfg_diag_entry {
    char *file;      /* owned; "" when unknown */
    unsigned line;   /* 1-based; 0 when unknown */
    unsigned column; /* 1-based; 0 when unknown */
    char *reason;    /* owned; "path: reason" or just "reason"; printable ASCII/UTF-8 */
};

struct cfg_diag {
    struct cfg_diag_entry entries[CFG_MAX_ERRORS];
    unsigned count;   /* entries stored */
    unsigned dropped; /* errors past CFG_MAX_ERRORS, counted but not stored */
};

/* Caller storage. cfg_diag_fini frees the messages; init/fini pairs may be repeated. */
void cfg_diag_init(struct cfg_diag *d);
void cfg_diag_fini(struct cfg_diag *d);
/* Total errors seen (stored + dropped). */
unsigned cfg_diag_errors(const struct cfg_diag *d);

/*
 * Records an error at a position. file may be NULL. The message is formatted with printf
 * rules; values that came from the file must be quoted with cfg_quote() (or esc_untrusted) so
 * the report stays one line per error. Never fails: on allocation failure the entry is kept
 * with a fixed "out of memory" reason.
 */
void cfg_diag_add(struct cfg_diag *d, const char *file, unsigned line, unsigned column,
                  const char *fmt, ...) PBX_PRINTF(5, 6);

/* Orders the entries by line and column (stable; entries without a position first). The
 * snapshot loaders call it, so errors come out in file order. */
void cfg_diag_sort(struct cfg_diag *d);

/* Prints every entry as "file:line:column: reason\n" (plus a count of dropped ones). */
void cfg_diag_print(const struct cfg_diag *d, FILE *out);

/* ------------------------------------------------------------------------------------------ */
/* Node tree */

enum cfg_kind {
    CFG_NODE_NULL, /* "~", "null", or an empty plain value ("key:") */
    CFG_NODE_SCALAR,
    CFG_NODE_MAP,
    CFG_NODE_SEQ,
};

struct cfg_node; /* opaque; immutable once the document is loaded */
struct cfg_doc;  /* owns every node, string and cfg_alloc() block */

enum cfg_kind cfg_node_kind(const struct cfg_node *n);
/* "map", "sequence", "scalar" or "null", for messages. */
const char *cfg_kind_name(enum cfg_kind k);
/* Position of the node's value; file name as given to the loader. Never NULL. */
const char *cfg_node_file(const struct cfg_node *n);
unsigned cfg_node_line(const struct cfg_node *n);
unsigned cfg_node_column(const struct cfg_node *n);
/* Key path: "" for the root, "general", "gateway.listen[1]", "detect.rules[0].name". */
const char *cfg_node_path(const struct cfg_node *n);

/* Scalar text, NUL-terminated, valid UTF-8 without NUL bytes; NULL for non-scalars. */
const char *cfg_node_str(const struct cfg_node *n);
/* Scalar length in bytes (0 for non-scalars). */
size_t cfg_node_len(const struct cfg_node *n);
/* True if the scalar was quoted in the file ('x' or "x"): quoted "null" is a string. */
bool cfg_node_quoted(const struct cfg_node *n);

/* Number of entries of a map or items of a sequence; 0 otherwise. */
size_t cfg_node_count(const struct cfg_node *n);
/* i-th sequence item or i-th map value (file order); NULL if out of range. */
const struct cfg_node *cfg_node_at(const struct cfg_node *n, size_t i);
/* i-th map key (a scalar node, positioned at the key); NULL if out of range / not a map. */
const struct cfg_node *cfg_node_key_at(const struct cfg_node *n, size_t i);
/* Value of key in a map; NULL if absent or n is not a map. Keys are compared exactly. */
const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key);

/*
 * Records an error at node n: "file:line:column: <path>: <formatted reason>". n may be NULL
 * (no position, no path).
 */
void cfg_error(struct cfg_diag *d, const struct cfg_node *n, const char *fmt, ...) PBX_PRINTF(3, 4);

/*
 * Quotes a scalar for an error message: escaped (no control bytes), capped at 64 bytes.
 * Returns buf. cap >= 16.
 */
const char *cfg_quote(const struct cfg_node *n, char *buf, size_t cap);

/*
 * Zeroed memory that lives exactly as long as the node's document (and so the snapshot).
 * For section loaders that build arrays from the tree. Returns NULL on allocation failure.
 * Only valid while the document is being loaded (single-threaded).
 */
void *cfg_alloc(const struct cfg_node *any, size_t size);

/*
 * Parses YAML into a document. name is used in positions (normally the path). The buffer is
 * borrowed for the call only. Errors go to d. Returns 0 and *out (owned, cfg_doc_free), or
 * -EINVAL (syntax/structure errors in d), -EMSGSIZE (a cap; also in d), -ENOMEM, or for the
 * file variant -errno from open/read, -EISDIR / -ENOTSUP for a directory / other non-regular
 * file (also recorded in d without position).
 * An empty document (or only comments) yields a document whose root is NULL.
 */
PBX_WUR int cfg_doc_load_buf(const char *name, const char *buf, size_t len, struct cfg_diag *d,
                             struct cfg_doc **out);
PBX_WUR int cfg_doc_load_file(const char *path, struct cfg_diag *d, struct cfg_doc **out);
void cfg_doc_free(struct cfg_doc *doc);
/* Root mapping, or NULL for an empty document. */
const struct cfg_node *cfg_doc_root(const struct cfg_doc *doc);

/* ------------------------------------------------------------------------------------------ */
/* Typed scalar parsers. Each reports its own error at n and returns -EINVAL; writes *out only
 * on success. A NULL node (absent key) is -ENOENT with no error recorded. */

/* true/false, yes/no, on/off (lower case). */
PBX_WUR int cfg_parse_bool(const struct cfg_node *n, struct cfg_diag *d, bool *out);
/* Decimal integer (optional sign, no leading '+'), min <= v <= max. */
PBX_WUR int cfg_parse_int(const struct cfg_node *n, struct cfg_diag *d, int64_t min, int64_t max,
                          int64_t *out);
/* "250ms", "30s", "10m", "1h", "7d", or a plain number of seconds; result in ms. */
PBX_WUR int cfg_parse_duration_ms(const struct cfg_node *n, struct cfg_diag *d, int64_t min_ms,
                                  int64_t max_ms, int64_t *out_ms);
/* "512", "64K", "64M", "1G" (binary multiples, optional trailing "B"/"iB"); bytes. */
PBX_WUR int cfg_parse_size(const struct cfg_node *n, struct cfg_diag *d, uint64_t min, uint64_t max,
                           uint64_t *out);
/* One of words (NULL-terminated list, exact match); *out is the index. */
PBX_WUR int cfg_parse_enum(const struct cfg_node *n, struct cfg_diag *d, const char *const *words,
                           int *out);
/* Any scalar of 1..max_len bytes (0 = CFG_MAX_SCALAR); *out borrows from the document. */
PBX_WUR int cfg_parse_string(const struct cfg_node *n, struct cfg_diag *d, size_t max_len,
                             const char **out);
/* "udp:0.0.0.0:5060" etc. via pbx_endpoint_parse. */
PBX_WUR int cfg_parse_endpoint(const struct cfg_node *n, struct cfg_diag *d,
                               struct pbx_endpoint *out);
/* "192.0.2.0/24", "2001:db8::/32" or a bare address, via pbx_cidr_parse. */
PBX_WUR int cfg_parse_cidr(const struct cfg_node *n, struct cfg_diag *d, struct pbx_cidr *out);

/* ------------------------------------------------------------------------------------------ */
/* Table-driven binding of a map into a struct */

enum cfg_type {
    CFG_T_STRING,    /* const char * (borrowed from the document); max = max length (0: cap) */
    CFG_T_BOOL,      /* bool */
    CFG_T_INT,       /* int64_t in [min, max] */
    CFG_T_DURATION,  /* int64_t milliseconds in [min, max] ms */
    CFG_T_SIZE,      /* uint64_t bytes in [min, max] */
    CFG_T_ENUM,      /* int index into words */
    CFG_T_STRLIST,   /* struct cfg_strlist; max = max items (0: unbounded up to node cap) */
    CFG_T_ENDPOINT,  /* struct pbx_endpoint */
    CFG_T_ENDPOINTS, /* struct cfg_endpoints; max = max items */
    CFG_T_CIDRLIST,  /* struct cfg_cidrlist; max = max items */
    CFG_T_MAP,       /* const struct cfg_node * to a map, for the loader to walk itself */
    CFG_T_SEQ,       /* const struct cfg_node * to a sequence */
    CFG_T_CUSTOM,    /* converted by field->custom */
};

struct cfg_strlist {
    const char *const *items; /* cfg_alloc()'d array of borrowed strings */
    size_t count;
};

struct cfg_endpoints {
    const struct pbx_endpoint *items; /* cfg_alloc()'d */
    size_t count;
};

struct cfg_cidrlist {
    const struct pbx_cidr *items; /* cfg_alloc()'d */
    size_t count;
};

/*
 * Extra validation of a string value (CFG_T_STRING, each CFG_T_STRLIST item): return 0 to
 * accept, or a negative errno after writing a short reason (no trailing period) into why.
 */
typedef int (*cfg_check_fn)(const char *value, char *why, size_t why_cap);
/* Full conversion for CFG_T_CUSTOM: n is the value node, dst points at the field. Report
 * errors with cfg_error(d, n, ...) and return negative errno. */
typedef int (*cfg_custom_fn)(const struct cfg_node *n, struct cfg_diag *d, void *dst);

#define CFG_REQUIRED 0x1u /* missing (or null) key is an error */
#define CFG_NONEMPTY 0x2u /* STRING: at least 1 byte (the default); lists: at least 1 item */

struct cfg_field {
    const char *key;
    enum cfg_type type;
    size_t offset; /* offsetof(struct your_config, member) */
    unsigned flags;
    int64_t min, max;         /* ranges, see enum cfg_type */
    const char *const *words; /* CFG_T_ENUM: NULL-terminated */
    cfg_check_fn check;       /* optional, strings */
    cfg_custom_fn custom;     /* CFG_T_CUSTOM */
};

/* Convenience initialisers: CFG_FIELD(struct general_config, data_dir, "data_dir", STRING) */
#define CFG_FIELD(st, member, key_, type_)                                                         \
    {                                                                                              \
        .key = (key_), .type = CFG_T_##type_, .offset = offsetof(st, member)                       \
    }
#define CFG_FIELD_RANGE(st, member, key_, type_, min_, max_)                                       \
    {                                                                                              \
        .key = (key_), .type = CFG_T_##type_, .offset = offsetof(st, member), .min = (min_),       \
        .max = (max_)                                                                              \
    }
#define CFG_FIELD_ENUM(st, member, key_, words_)                                                   \
    {                                                                                              \
        .key = (key_), .type = CFG_T_ENUM, .offset = offsetof(st, member), .words = (words_)       \
    }

/*
 * Binds the keys of map into dst using fields. Keys present overwrite the field; absent or
 * null keys leave it untouched (fill defaults before calling); a key not in fields is an
 * error ("unknown key"). map may be NULL (section absent): only CFG_REQUIRED is checked.
 * A non-map node is an error. Every problem is reported to d; the whole map is checked even
 * after an error. Returns 0, or -EINVAL if any error was recorded, or -ENOMEM.
 */
PBX_WUR int cfg_bind(const struct cfg_node *map, const struct cfg_field *fields, size_t nfields,
                     void *dst, struct cfg_diag *d);

/* ------------------------------------------------------------------------------------------ */
/* Sections and snapshots */

/*
 * A subsystem's section loader. section is the value of its top-level key, or NULL when the
 * file does not have the section: the loader must then produce its embedded defaults.
 * On success it sets *out to an object it allocated (may borrow strings from the document)
 * and returns 0. On failure it reports to d, frees what it allocated, and returns -EINVAL
 * (or -ENOMEM). It must not keep pointers to d, and must not touch global state: the new
 * configuration may still be rejected.
 */
typedef int (*cfg_section_load_fn)(const struct cfg_node *section, struct cfg_diag *d, void **out);
/* Frees what the loader returned; called with NULL is a no-op. */
typedef void (*cfg_section_free_fn)(void *obj);

struct cfg_section {
    const char *name; /* top-level key */
    cfg_section_load_fn load;
    cfg_section_free_fn free;
};

struct cfg_snapshot; /* opaque, immutable, reference-counted */

/*
 * Loads and validates a whole configuration against a section table. Every section in the
 * table is loaded (absent ones with defaults); a top-level key not in the table is an error.
 * All sections are validated even after an error so that every problem is reported.
 * Returns 0 and *out (reference count 1), or a negative errno with the reasons in d.
 */
PBX_WUR int cfg_snapshot_load_file(const char *path, const struct cfg_section *table, size_t n,
                                   struct cfg_diag *d, struct cfg_snapshot **out);
PBX_WUR int cfg_snapshot_load_buf(const char *name, const char *buf, size_t len,
                                  const struct cfg_section *table, size_t n, struct cfg_diag *d,
                                  struct cfg_snapshot **out);

/* Reference counting; thread-safe. unref of the last reference frees sections and document. */
struct cfg_snapshot *cfg_snapshot_ref(struct cfg_snapshot *s);
void cfg_snapshot_unref(struct cfg_snapshot *s);

/* The object a section loader returned, or NULL if name is not in the table. */
const void *cfg_snapshot_section(const struct cfg_snapshot *s, const char *name);
/* File the snapshot was loaded from. */
const char *cfg_snapshot_source(const struct cfg_snapshot *s);
/* Generation number: 1 for the first snapshot published into a cfg_live, then +1 per swap. */
uint64_t cfg_snapshot_generation(const struct cfg_snapshot *s);

/*
 * The running configuration, swappable on SIGHUP.
 *
 * Contract: a reload builds and validates a complete new snapshot first; only if that
 * succeeds is it published, atomically, and the old one released (it is freed once the last
 * reader drops its reference). A bad reload changes nothing: the old snapshot stays current
 * and the errors are returned. Readers take a reference with cfg_live_acquire(), use it for
 * as long as they need a consistent view (e.g. one packet, one timer run), and release it.
 * All functions are thread-safe; acquire is a mutex-protected pointer copy + atomic increment.
 */
struct cfg_live {
    pthread_mutex_t lock;
    struct cfg_snapshot *current;
    uint64_t generation;
};

void cfg_live_init(struct cfg_live *l);
/* Releases the current snapshot. */
void cfg_live_fini(struct cfg_live *l);
/* Takes ownership of s (one reference) and makes it current; releases the previous one. */
void cfg_live_publish(struct cfg_live *l, struct cfg_snapshot *s);
/* New reference to the current snapshot, or NULL if none was published. */
struct cfg_snapshot *cfg_live_acquire(struct cfg_live *l);
/* Loads path against table; publishes on success; on failure keeps the old one. */
PBX_WUR int cfg_live_reload(struct cfg_live *l, const char *path, const struct cfg_section *table,
                            size_t n, struct cfg_diag *d);

#endif
