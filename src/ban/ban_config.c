/* The "ban" configuration section: escalation steps, history, IPv6 widening, allow-list,
 * nftables. Keys and defaults are documented in docs/detection.md. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/config.h"

struct ban_in {
    int64_t history_ms;
    int64_t widen;
    int64_t capacity;
    struct cfg_cidrlist allow;
    const struct cfg_node *steps;
    const struct cfg_node *nft;
};

static int load_steps(const struct cfg_node *n, struct ban_config *c, struct cfg_diag *d)
{
    size_t count = cfg_node_count(n);

    if (count == 0 || count > BAN_MAX_STEPS) {
        cfg_error(d, n, "steps: 1 to %u durations", BAN_MAX_STEPS);
        return -EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        const struct cfg_node *it = cfg_node_at(n, i);
        if (cfg_node_kind(it) == CFG_NODE_SCALAR && strcmp(cfg_node_str(it), "permanent") == 0) {
            c->steps_ms[i] = -1;
            continue;
        }
        if (cfg_parse_duration_ms(it, d, 1000, 3650LL * 86400000, &c->steps_ms[i]) != 0)
            return -EINVAL;
    }
    c->nsteps = (unsigned)count;
    return 0;
}

int ban_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        CFG_FIELD_RANGE(struct ban_in, history_ms, "history", DURATION, 0, 3650LL * 86400000),
        CFG_FIELD_RANGE(struct ban_in, widen, "ipv6_widen_after", INT, 0, 1000),
        CFG_FIELD_RANGE(struct ban_in, capacity, "capacity", INT, 16, 1 << 24),
        CFG_FIELD_RANGE(struct ban_in, allow, "allow", CIDRLIST, 0, BAN_MAX_ALLOW),
        CFG_FIELD(struct ban_in, steps, "steps", SEQ),
        CFG_FIELD(struct ban_in, nft, "nftables", MAP),
    };
    struct ban_section *b = calloc(1, sizeof(*b));
    struct ban_in in;
    int rc;

    if (!b)
        return -ENOMEM;
    ban_config_defaults(&b->cfg);
    b->nft = true;
    b->table = "pbxguard";
    memset(&in, 0, sizeof(in));
    in.history_ms = b->cfg.history_ms;
    in.widen = b->cfg.v6_widen_after;
    in.capacity = (int64_t)b->cfg.capacity;
    rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), &in, d);
    if (rc == 0 && in.steps)
        rc = load_steps(in.steps, &b->cfg, d);
    if (rc == 0 && in.nft) {
        struct nft_in {
            bool enabled;
            const char *table;
        } nin = {b->nft, b->table};
        static const struct cfg_field nf[] = {
            CFG_FIELD(struct nft_in, enabled, "enabled", BOOL),
            CFG_FIELD_RANGE(struct nft_in, table, "table", STRING, 0, 32),
        };
        rc = cfg_bind(in.nft, nf, PBX_ARRAY_SIZE(nf), &nin, d);
        b->nft = nin.enabled;
        b->table = nin.table;
    }
    if (rc != 0) {
        free(b);
        return rc;
    }
    b->cfg.history_ms = in.history_ms;
    b->cfg.v6_widen_after = (unsigned)in.widen;
    b->cfg.capacity = (size_t)in.capacity;
    b->allow = in.allow.items;
    b->nallow = in.allow.count;
    *out = b;
    return 0;
}

void ban_config_free(void *obj)
{
    free(obj);
}
