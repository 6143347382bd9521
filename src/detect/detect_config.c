/*
 * The "detect" configuration section: defaults and the YAML loader. Every key and default
 * is documented in docs/detection.md; keep the two in step.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"
#include "pbxguard/core/config.h"

static void rule(struct det_rule_cfg *r, enum det_action a, int status)
{
    r->enabled = true;
    r->action = a;
    r->reject_status = status;
}

void det_config_defaults(struct det_config *c)
{
    memset(c, 0, sizeof(*c));
    c->memory_max = 64ull << 20;
    c->v6_prefix = 64;
    c->trust_ms = 3600 * 1000;
    c->trust_factor = 4;
    c->signatures = NULL; /* the shipped file, see det_engine_new */

    rule(&c->scanner, DET_BAN, 403);
    c->scanner_threshold = 100;
    c->sweep_targets = 8;

    rule(&c->bruteforce, DET_BAN, 403);
    c->bf_src_failures = 8;
    c->bf_window_ms = 5 * 60 * 1000;
    rule(&c->account, DET_REJECT, 403);
    c->bf_acct_failures = 20;
    c->bf_acct_sources = 4;
    c->bf_protect_ms = 15 * 60 * 1000;

    rule(&c->enumeration, DET_BAN, 403);
    c->enum_users = 10;
    c->enum_window_ms = 10 * 60 * 1000;
    rule(&c->canary, DET_BAN, 403);
    c->shield = true;

    rule(&c->flood, DET_DROP, 503);
    static const unsigned rate[5] = {50, 20, 10, 20, 30}, burst[5] = {200, 100, 40, 100, 100};
    memcpy(c->flood_rate, rate, sizeof(rate));
    memcpy(c->flood_burst, burst, sizeof(burst));
    c->flood_ban_after = 400;
    c->flood_window_ms = 60 * 1000;
    c->admit_rate = 300;
    c->admit_burst = 600;
    c->global_rate = 5000;
    c->global_burst = 10000;
    c->retry_after_s = 5;

    rule(&c->malformed, DET_BAN, 400);
    c->malformed_reject = 3;
    c->malformed_ban = 20;
    c->malformed_window_ms = 60 * 1000;
    c->anomaly_mask = (1ull << SIP_ANOM_ESCAPED_NUL) | (1ull << SIP_ANOM_CTRL_CHAR) |
                      (1ull << SIP_ANOM_DUP_SINGLETON) | (1ull << SIP_ANOM_CL_MISMATCH);

    rule(&c->spoof, DET_REJECT, 403);
    c->strip_identity = true;

    rule(&c->regan, DET_ALERT, 403);
    c->max_kmh = 1000;
    c->new_country_ms = 30LL * 24 * 3600 * 1000;
}

static const char *const action_words[] = {"pass", "alert", "drop", "reject", "ban", NULL};

/* Staging struct for cfg_bind: int64 for every integer key. */
struct rule_in {
    bool enabled;
    int action;
    int64_t status;
};

static int bind_rule(const struct cfg_node *sec, const char *key, struct det_rule_cfg *r,
                     const struct cfg_field *extra, size_t nextra, void *extra_dst,
                     struct cfg_diag *d)
{
    const struct cfg_node *n = cfg_map_get(sec, key);
    struct rule_in in = {r->enabled, (int)r->action, r->reject_status};
    static const struct cfg_field base[] = {
        CFG_FIELD(struct rule_in, enabled, "enabled", BOOL),
        CFG_FIELD_ENUM(struct rule_in, action, "action", action_words),
        CFG_FIELD_RANGE(struct rule_in, status, "reject_status", INT, 400, 699),
    };
    int rc = 0;

    if (!n)
        return 0;
    if (cfg_node_kind(n) != CFG_NODE_MAP) {
        cfg_error(d, n, "expected a map");
        return -EINVAL;
    }
    /* One map holds the common keys and the detector's own: unknown keys are reported here,
     * then each known key is parsed with its typed parser. */
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const struct cfg_node *k = cfg_node_key_at(n, i);
        const char *ks = cfg_node_str(k);
        bool known = false;
        for (size_t j = 0; j < PBX_ARRAY_SIZE(base); j++)
            known |= strcmp(ks, base[j].key) == 0;
        for (size_t j = 0; j < nextra; j++)
            known |= strcmp(ks, extra[j].key) == 0;
        if (!known) {
            cfg_error(d, k, "unknown key");
            rc = -EINVAL;
        }
    }
    for (size_t j = 0; j < PBX_ARRAY_SIZE(base); j++) {
        const struct cfg_node *v = cfg_map_get(n, base[j].key);
        if (!v)
            continue;
        if (j == 0 && cfg_parse_bool(v, d, &in.enabled) != 0)
            rc = -EINVAL;
        if (j == 1 && cfg_parse_enum(v, d, action_words, &in.action) != 0)
            rc = -EINVAL;
        if (j == 2 && cfg_parse_int(v, d, 400, 699, &in.status) != 0)
            rc = -EINVAL;
    }
    for (size_t j = 0; j < nextra; j++) {
        const struct cfg_node *v = cfg_map_get(n, extra[j].key);
        void *dst = (char *)extra_dst + extra[j].offset;
        int r2 = 0;
        if (!v)
            continue;
        switch (extra[j].type) {
        case CFG_T_INT:
            r2 = cfg_parse_int(v, d, extra[j].min, extra[j].max, dst);
            break;
        case CFG_T_DURATION:
            r2 = cfg_parse_duration_ms(v, d, extra[j].min, extra[j].max, dst);
            break;
        case CFG_T_BOOL:
            r2 = cfg_parse_bool(v, d, dst);
            break;
        case CFG_T_STRING:
            r2 = cfg_parse_string(v, d, 0, dst);
            break;
        default:
            break;
        }
        if (r2 != 0)
            rc = -EINVAL;
    }
    r->enabled = in.enabled;
    r->action = (enum det_action)in.action;
    r->reject_status = (int)in.status;
    return rc;
}

/* Integer staging for the detector-specific keys. */
struct det_in {
    int64_t threshold, sweep, src_failures, acct_failures, acct_sources, users;
    int64_t bf_window, protect, enum_window, flood_window, mal_window;
    int64_t ban_after, mal_reject, mal_ban;
    int64_t rate[5], burst[5];
    int64_t admit_rate, admit_burst, global_rate, global_burst, retry_after;
    int64_t max_kmh, new_country;
    bool strip_identity, shield;
    const char *realm;
};

#define I(member, key, lo, hi) CFG_FIELD_RANGE(struct det_in, member, key, INT, lo, hi)
#define D(member, key, lo, hi) CFG_FIELD_RANGE(struct det_in, member, key, DURATION, lo, hi)

static int load_lists(const struct cfg_node *sec, struct det_config *c, struct cfg_diag *d)
{
    const struct cfg_node *n;
    int rc = 0;

    if ((n = cfg_map_get(sec, "canaries"))) {
        if (cfg_node_kind(n) != CFG_NODE_SEQ) {
            cfg_error(d, n, "expected a sequence of user names / numbers");
            return -EINVAL;
        }
        for (size_t i = 0; i < cfg_node_count(n); i++) {
            const char *s;
            if (c->ncanaries >= DET_MAX_CANARIES) {
                cfg_error(d, n, "more than %u canaries", DET_MAX_CANARIES);
                return -EINVAL;
            }
            if (cfg_parse_string(cfg_node_at(n, i), d, DET_NAME_MAX, &s) != 0)
                rc = -EINVAL;
            else
                c->canaries[c->ncanaries++] = s;
        }
    }
    if ((n = cfg_map_get(sec, "pbx_networks"))) {
        for (size_t i = 0; i < cfg_node_count(n); i++) {
            if (c->npbx_nets >= PBX_ARRAY_SIZE(c->pbx_nets)) {
                cfg_error(d, n, "too many networks");
                return -EINVAL;
            }
            if (cfg_parse_cidr(cfg_node_at(n, i), d, &c->pbx_nets[c->npbx_nets]) != 0)
                rc = -EINVAL;
            else
                c->npbx_nets++;
        }
    }
    return rc;
}

int det_config_load(const struct cfg_node *sec, struct cfg_diag *d, void **out)
{
    struct det_config *c = calloc(1, sizeof(*c));
    struct det_in in;
    int rc = 0;
    int64_t v6 = 64, trust_factor, geo_unknown = 0;
    uint64_t mem;

    if (!c)
        return -ENOMEM;
    det_config_defaults(c);
    if (!sec) {
        *out = c;
        return 0;
    }
    if (cfg_node_kind(sec) != CFG_NODE_MAP) {
        cfg_error(d, sec, "expected a map");
        free(c);
        return -EINVAL;
    }
    memset(&in, 0, sizeof(in));
    in.threshold = c->scanner_threshold;
    in.sweep = c->sweep_targets;
    in.src_failures = c->bf_src_failures;
    in.acct_failures = c->bf_acct_failures;
    in.acct_sources = c->bf_acct_sources;
    in.users = c->enum_users;
    in.bf_window = c->bf_window_ms;
    in.protect = c->bf_protect_ms;
    in.enum_window = c->enum_window_ms;
    in.flood_window = c->flood_window_ms;
    in.mal_window = c->malformed_window_ms;
    in.ban_after = c->flood_ban_after;
    in.mal_reject = c->malformed_reject;
    in.mal_ban = c->malformed_ban;
    for (int i = 0; i < 5; i++) {
        in.rate[i] = c->flood_rate[i];
        in.burst[i] = c->flood_burst[i];
    }
    in.admit_rate = c->admit_rate;
    in.admit_burst = c->admit_burst;
    in.global_rate = c->global_rate;
    in.global_burst = c->global_burst;
    in.retry_after = c->retry_after_s;
    in.max_kmh = (int64_t)c->max_kmh;
    in.new_country = c->new_country_ms;
    in.strip_identity = c->strip_identity;
    in.shield = c->shield;
    in.realm = c->shield_realm;
    trust_factor = c->trust_factor;
    mem = c->memory_max;

    static const struct cfg_field top[] = {
        CFG_FIELD(struct det_config, shadow, "shadow", BOOL),
        CFG_FIELD_RANGE(struct det_config, memory_max, "memory_max", SIZE, 1 << 20, 1ll << 40),
        CFG_FIELD_RANGE(struct det_config, trust_ms, "trust_time", DURATION, 0, 7 * 86400000LL),
        CFG_FIELD(struct det_config, signatures, "signatures", STRING),
    };
    static const struct cfg_field f_scanner[] = {I(threshold, "threshold", 1, 10000),
                                                 I(sweep, "sweep_targets", 1, 32)};
    static const struct cfg_field f_bf[] = {I(src_failures, "failures", 1, 100000),
                                            D(bf_window, "window", 1000, 86400000)};
    static const struct cfg_field f_acct[] = {I(acct_failures, "failures", 1, 100000),
                                              I(acct_sources, "sources", 1, 8),
                                              D(protect, "protect_time", 1000, 7 * 86400000LL)};
    static const struct cfg_field f_enum[] = {I(users, "users", 1, 32),
                                              D(enum_window, "window", 1000, 86400000)};
    static const struct cfg_field f_flood[] = {I(rate[0], "rate", 0, 1000000),
                                               I(burst[0], "burst", 1, 1000000),
                                               I(rate[1], "register_rate", 0, 1000000),
                                               I(burst[1], "register_burst", 1, 1000000),
                                               I(rate[2], "invite_rate", 0, 1000000),
                                               I(burst[2], "invite_burst", 1, 1000000),
                                               I(rate[3], "options_rate", 0, 1000000),
                                               I(burst[3], "options_burst", 1, 1000000),
                                               I(rate[4], "other_rate", 0, 1000000),
                                               I(burst[4], "other_burst", 1, 1000000),
                                               I(ban_after, "ban_after", 0, 100000000),
                                               D(flood_window, "window", 1000, 86400000),
                                               I(admit_rate, "packet_rate", 0, 10000000),
                                               I(admit_burst, "packet_burst", 1, 10000000),
                                               I(global_rate, "global_rate", 0, 100000000),
                                               I(global_burst, "global_burst", 1, 100000000),
                                               I(retry_after, "retry_after", 1, 3600)};
    static const struct cfg_field f_mal[] = {I(mal_reject, "reject_after", 0, 100000),
                                             I(mal_ban, "ban_after", 1, 100000),
                                             D(mal_window, "window", 1000, 86400000)};
    static const struct cfg_field f_spoof[] = {
        CFG_FIELD(struct det_in, strip_identity, "strip_identity", BOOL)};
    static const struct cfg_field f_regan[] = {
        I(max_kmh, "max_kmh", 1, 100000),
        D(new_country, "new_country_after", 0, 3650LL * 86400000)};

    /* Top-level scalars; sub-maps are walked below. */
    static const char *const submaps[] = {"scanner",     "bruteforce",   "account",  "enumeration",
                                          "canary",      "shield",       "flood",    "malformed",
                                          "spoofing",    "registration", "canaries", "pbx_networks",
                                          "ipv6_prefix", "trust_factor", "geo",      NULL};
    for (size_t i = 0; i < cfg_node_count(sec); i++) {
        const struct cfg_node *k = cfg_node_key_at(sec, i), *v = cfg_node_at(sec, i);
        const char *ks = cfg_node_str(k);
        bool sub = false;
        for (size_t j = 0; submaps[j]; j++)
            sub |= strcmp(ks, submaps[j]) == 0;
        if (sub)
            continue;
        bool found = false;
        for (size_t j = 0; j < PBX_ARRAY_SIZE(top); j++) {
            if (strcmp(ks, top[j].key) != 0)
                continue;
            found = true;
            void *dst = (char *)c + top[j].offset;
            int r2 = top[j].type == CFG_T_BOOL ? cfg_parse_bool(v, d, dst)
                     : top[j].type == CFG_T_SIZE
                         ? cfg_parse_size(v, d, (uint64_t)top[j].min, (uint64_t)top[j].max, &mem)
                     : top[j].type == CFG_T_DURATION
                         ? cfg_parse_duration_ms(v, d, top[j].min, top[j].max, dst)
                         : cfg_parse_string(v, d, 4096, dst);
            if (r2 != 0)
                rc = -EINVAL;
        }
        if (!found) {
            cfg_error(d, k, "unknown key");
            rc = -EINVAL;
        }
    }
    c->memory_max = mem;
    const struct cfg_node *n;
    if ((n = cfg_map_get(sec, "ipv6_prefix")) && cfg_parse_int(n, d, 32, 128, &v6) != 0)
        rc = -EINVAL;
    if ((n = cfg_map_get(sec, "trust_factor")) && cfg_parse_int(n, d, 1, 100, &trust_factor) != 0)
        rc = -EINVAL;
    if (bind_rule(sec, "scanner", &c->scanner, f_scanner, PBX_ARRAY_SIZE(f_scanner), &in, d) ||
        bind_rule(sec, "bruteforce", &c->bruteforce, f_bf, PBX_ARRAY_SIZE(f_bf), &in, d) ||
        bind_rule(sec, "account", &c->account, f_acct, PBX_ARRAY_SIZE(f_acct), &in, d) ||
        bind_rule(sec, "enumeration", &c->enumeration, f_enum, PBX_ARRAY_SIZE(f_enum), &in, d) ||
        bind_rule(sec, "canary", &c->canary, NULL, 0, &in, d) ||
        bind_rule(sec, "flood", &c->flood, f_flood, PBX_ARRAY_SIZE(f_flood), &in, d) ||
        bind_rule(sec, "malformed", &c->malformed, f_mal, PBX_ARRAY_SIZE(f_mal), &in, d) ||
        bind_rule(sec, "spoofing", &c->spoof, f_spoof, PBX_ARRAY_SIZE(f_spoof), &in, d) ||
        bind_rule(sec, "registration", &c->regan, f_regan, PBX_ARRAY_SIZE(f_regan), &in, d))
        rc = -EINVAL;
    if ((n = cfg_map_get(sec, "shield"))) {
        /* shield has no action: only enabled and realm. */
        for (size_t i = 0; i < cfg_node_count(n); i++) {
            const char *ks = cfg_node_str(cfg_node_key_at(n, i));
            if (strcmp(ks, "enabled") && strcmp(ks, "realm")) {
                cfg_error(d, cfg_node_key_at(n, i), "unknown key");
                rc = -EINVAL;
            }
        }
        if (cfg_map_get(n, "enabled") && cfg_parse_bool(cfg_map_get(n, "enabled"), d, &in.shield))
            rc = -EINVAL;
        if (cfg_map_get(n, "realm") && cfg_parse_string(cfg_map_get(n, "realm"), d, 100, &in.realm))
            rc = -EINVAL;
    }
    if ((n = cfg_map_get(sec, "geo"))) {
        const struct cfg_node *l;
        for (int allow = 0; allow < 2; allow++) {
            if (!(l = cfg_map_get(n, allow ? "allow_countries" : "deny_countries")))
                continue;
            for (size_t i = 0; i < cfg_node_count(l); i++) {
                const struct cfg_node *it = cfg_node_at(l, i);
                if (cfg_node_kind(it) != CFG_NODE_SCALAR ||
                    geo_policy_add(&c->geo, allow, cfg_node_str(it)) != 0) {
                    cfg_error(d, it, "expected a two-letter country code");
                    rc = -EINVAL;
                }
            }
        }
        if ((l = cfg_map_get(n, "deny_unknown"))) {
            bool b;
            if (cfg_parse_bool(l, d, &b) != 0)
                rc = -EINVAL;
            else
                geo_unknown = b;
        }
    }
    c->geo.unknown_deny = geo_unknown != 0;
    if (load_lists(sec, c, d) != 0)
        rc = -EINVAL;
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->v6_prefix = (unsigned)v6;
    c->trust_factor = (unsigned)trust_factor;
    c->scanner_threshold = (int)in.threshold;
    c->sweep_targets = (unsigned)in.sweep;
    c->bf_src_failures = (unsigned)in.src_failures;
    c->bf_acct_failures = (unsigned)in.acct_failures;
    c->bf_acct_sources = (unsigned)in.acct_sources;
    c->enum_users = (unsigned)in.users;
    c->bf_window_ms = in.bf_window;
    c->bf_protect_ms = in.protect;
    c->enum_window_ms = in.enum_window;
    c->flood_window_ms = in.flood_window;
    c->malformed_window_ms = in.mal_window;
    c->flood_ban_after = (unsigned)in.ban_after;
    c->malformed_reject = (unsigned)in.mal_reject;
    c->malformed_ban = (unsigned)in.mal_ban;
    for (int i = 0; i < 5; i++) {
        c->flood_rate[i] = (unsigned)in.rate[i];
        c->flood_burst[i] = (unsigned)in.burst[i];
    }
    c->admit_rate = (unsigned)in.admit_rate;
    c->admit_burst = (unsigned)in.admit_burst;
    c->global_rate = (unsigned)in.global_rate;
    c->global_burst = (unsigned)in.global_burst;
    c->retry_after_s = (int)in.retry_after;
    c->max_kmh = (double)in.max_kmh;
    c->new_country_ms = in.new_country;
    c->strip_identity = in.strip_identity;
    c->shield = in.shield;
    c->shield_realm = in.realm;
    if (c->malformed_reject > c->malformed_ban) {
        cfg_error(d, cfg_map_get(sec, "malformed"), "reject_after must not exceed ban_after");
        free(c);
        return -EINVAL;
    }
    *out = c;
    return 0;
}

void det_config_free(void *obj)
{
    free(obj);
}
