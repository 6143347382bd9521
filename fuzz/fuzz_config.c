/*
 * Configuration loader fuzzing: YAML bytes -> node tree -> every binder type -> snapshot,
 * then the diagnostics as text and JSON. Hostile YAML must give errors, never a crash, a leak,
 * unbounded memory (billion laughs) or unbounded recursion.
 */
/* fuzz-requires: pbx_core */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/general.h"
#include "pbxguard/core/json.h"
#include "pbxguard/core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_config {
    const char *s;
    bool b;
    int64_t i, ms;
    uint64_t sz;
    int e;
    struct cfg_strlist sl;
    struct pbx_endpoint ep;
    struct cfg_endpoints eps;
    struct cfg_cidrlist cidrs;
    const struct cfg_node *map, *seq;
};

static const char *const fz_words[] = {"a", "bb", "ccc", NULL};

static void walk(const struct cfg_node *n, unsigned depth, size_t *acc)
{
    /* touch every accessor so a broken node shows up under ASan */
    *acc += cfg_node_len(n) + cfg_node_line(n) + cfg_node_column(n);
    *acc += (size_t)cfg_node_quoted(n) + (size_t)cfg_node_kind(n);
    const char *p = cfg_node_path(n);
    while (*p)
        *acc += (unsigned char)*p++;
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const struct cfg_node *k = cfg_node_key_at(n, i);
        if (k)
            *acc += cfg_node_len(k) + (cfg_map_get(n, cfg_node_str(k)) != NULL);
        walk(cfg_node_at(n, i), depth + 1, acc);
    }
}

static int fz_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        CFG_FIELD(struct fz_config, s, "s", STRING),
        CFG_FIELD(struct fz_config, b, "b", BOOL),
        CFG_FIELD_RANGE(struct fz_config, i, "i", INT, INT64_MIN, INT64_MAX),
        CFG_FIELD_RANGE(struct fz_config, ms, "ms", DURATION, 0, INT64_MAX),
        CFG_FIELD_RANGE(struct fz_config, sz, "sz", SIZE, 0, INT64_MAX),
        CFG_FIELD_ENUM(struct fz_config, e, "e", fz_words),
        CFG_FIELD_RANGE(struct fz_config, sl, "sl", STRLIST, 0, 100),
        CFG_FIELD(struct fz_config, ep, "ep", ENDPOINT),
        CFG_FIELD_RANGE(struct fz_config, eps, "eps", ENDPOINTS, 0, 100),
        CFG_FIELD_RANGE(struct fz_config, cidrs, "cidrs", CIDRLIST, 0, 100),
        CFG_FIELD(struct fz_config, map, "map", MAP),
        CFG_FIELD(struct fz_config, seq, "seq", SEQ),
    };
    struct fz_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), c, d);
    size_t acc = 0;
    walk(section, 0, &acc);
    for (size_t i = 0; rc == 0 && i < c->sl.count; i++)
        acc += c->sl.items[i][0];
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    /* keep the walk from being optimised away */
    __asm__ volatile("" : : "r"(acc));
    return 0;
}

static void fz_free(void *p)
{
    free(p);
}

static const struct cfg_section table[] = {
    {"general", general_config_load, general_config_free},
    {"log", log_config_load, log_config_free},
    {"events", ev_config_load, ev_config_free},
    {"fz", fz_load, fz_free},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;
    struct json_writer w;

    cfg_diag_init(&d);
    if (cfg_snapshot_load_buf("fuzz.yaml", (const char *)data, size, table, PBX_ARRAY_SIZE(table),
                              &d, &s) == 0) {
        const struct general_config *g = general_config_get(s);
        if (!g || !g->data_dir)
            __builtin_trap();
    } else if (cfg_diag_errors(&d) == 0) {
        __builtin_trap(); /* every rejection must say why */
    }
    json_init_dynamic(&w, 1u << 20);
    json_arr_begin(&w);
    for (unsigned i = 0; i < d.count; i++) {
        json_obj_begin(&w);
        json_kv_uint(&w, "line", d.entries[i].line);
        json_kv_str(&w, "reason", d.entries[i].reason);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    if (json_error(&w) != 0 && json_len(&w) < 1024)
        __builtin_trap(); /* small reports must always format */
    json_fini(&w);
    cfg_snapshot_unref(s);
    cfg_diag_fini(&d);
    return 0;
}
