/*
 * The `fraud:` YAML section -> struct fraud_policy. The section is walked by hand rather
 * than bound with cfg_bind because most of it is nested maps and lists of domain values
 * (classes, regions, prefixes, money). Every node is checked and every error reported;
 * unknown keys are errors so that a typo never silently weakens the policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/fraud/config.h"

struct ctx {
    struct cfg_diag *d;
    int rc;
};

static void fail(struct ctx *c, const struct cfg_node *n, const char *msg, const char *arg)
{
    char q[80];
    if (arg)
        cfg_error(c->d, n, "%s '%s'", msg, arg);
    else if (n && cfg_node_kind(n) == CFG_NODE_SCALAR)
        cfg_error(c->d, n, "%s (got %s)", msg, cfg_quote(n, q, sizeof(q)));
    else
        cfg_error(c->d, n, "%s", msg);
    c->rc = -EINVAL;
}

/* Reports keys of map that are not in keys[]. Returns false if map is not a map. */
static bool check_map(struct ctx *c, const struct cfg_node *map, const char *const *keys)
{
    if (!map)
        return false;
    if (cfg_node_kind(map) != CFG_NODE_MAP) {
        if (cfg_node_kind(map) != CFG_NODE_NULL)
            fail(c, map, "expected a map", NULL);
        return false;
    }
    for (size_t i = 0; i < cfg_node_count(map); i++) {
        const struct cfg_node *k = cfg_node_key_at(map, i);
        bool known = false;
        for (size_t j = 0; keys[j]; j++)
            if (strcmp(cfg_node_str(k), keys[j]) == 0)
                known = true;
        if (!known)
            fail(c, k, "unknown key", cfg_node_str(k));
    }
    return true;
}

static void track(struct ctx *c, int rc)
{
    if (rc < 0 && rc != -ENOENT)
        c->rc = rc == -ENOMEM ? -ENOMEM : -EINVAL;
}

static void get_u32(struct ctx *c, const struct cfg_node *map, const char *key, uint32_t max,
                    uint32_t *out)
{
    int64_t v;
    int rc = cfg_parse_int(cfg_map_get(map, key), c->d, 0, max, &v);
    track(c, rc);
    if (rc == 0)
        *out = (uint32_t)v;
}

static void get_secs(struct ctx *c, const struct cfg_node *map, const char *key, uint32_t *out)
{
    int64_t ms;
    int rc = cfg_parse_duration_ms(cfg_map_get(map, key), c->d, 0, 366LL * 86400 * 1000, &ms);
    track(c, rc);
    if (rc == 0)
        *out = (uint32_t)(ms / 1000);
}

static void get_bool(struct ctx *c, const struct cfg_node *map, const char *key, bool *out)
{
    track(c, cfg_parse_bool(cfg_map_get(map, key), c->d, out));
}

static void get_str(struct ctx *c, const struct cfg_node *map, const char *key, char *dst,
                    size_t cap)
{
    const char *s;
    int rc = cfg_parse_string(cfg_map_get(map, key), c->d, cap - 1, &s);
    track(c, rc);
    if (rc == 0)
        slice_copy_cstr(slice_cstr(s), dst, cap);
}

/* "12", "0.05", "1.5" -> milli-units. */
static int parse_money(struct ctx *c, const struct cfg_node *n, uint64_t *out)
{
    const char *s = cfg_node_str(n);
    uint64_t whole = 0, frac = 0;
    unsigned fd = 0;
    bool dot = false, any = false;
    if (!s) {
        fail(c, n, "expected an amount", NULL);
        return -EINVAL;
    }
    for (const char *p = s; *p; p++) {
        if (*p == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*p < '0' || *p > '9' || whole > 1000000000000ULL || fd >= 3) {
            fail(c, n, "expected an amount with at most 3 decimals", NULL);
            return -EINVAL;
        }
        any = true;
        if (dot) {
            frac = frac * 10 + (uint64_t)(*p - '0');
            fd++;
        } else {
            whole = whole * 10 + (uint64_t)(*p - '0');
        }
    }
    if (!any) {
        fail(c, n, "expected an amount", NULL);
        return -EINVAL;
    }
    while (fd < 3) {
        frac *= 10;
        fd++;
    }
    *out = whole * 1000 + frac;
    return 0;
}

static bool is_seq(struct ctx *c, const struct cfg_node *n)
{
    if (!n || cfg_node_kind(n) == CFG_NODE_NULL)
        return false;
    if (cfg_node_kind(n) != CFG_NODE_SEQ) {
        fail(c, n, "expected a list", NULL);
        return false;
    }
    return true;
}

static bool digits_only(const char *s, bool allow_x)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (allow_x && *s == 'x')))
            return false;
    return true;
}

static void get_code(struct ctx *c, const struct cfg_node *map, const char *key, char *dst,
                     size_t cap, bool allow_empty)
{
    const struct cfg_node *n = cfg_map_get(map, key);
    const char *s;
    if (!n || cfg_node_kind(n) == CFG_NODE_NULL)
        return;
    s = cfg_node_str(n);
    if (!s || strlen(s) >= cap || (!(allow_empty && !*s) && !digits_only(s, false))) {
        fail(c, n, "expected digits", NULL);
        return;
    }
    slice_copy_cstr(slice_cstr(s), dst, cap);
}

static size_t get_code_list(struct ctx *c, const struct cfg_node *map, const char *key,
                            char (*dst)[FRAUD_PLAN_CODE_MAX], size_t max, bool allow_x, size_t keep)
{
    const struct cfg_node *n = cfg_map_get(map, key);
    size_t k = 0;
    if (!is_seq(c, n))
        return keep;
    if (cfg_node_count(n) > max) {
        fail(c, n, "too many entries", NULL);
        return keep;
    }
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const struct cfg_node *it = cfg_node_at(n, i);
        const char *s = cfg_node_str(it);
        if (!s || strlen(s) >= FRAUD_PLAN_CODE_MAX || !digits_only(s, allow_x)) {
            fail(c, it, allow_x ? "expected digits or 'x'" : "expected digits", NULL);
            continue;
        }
        slice_copy_cstr(slice_cstr(s), dst[k++], FRAUD_PLAN_CODE_MAX);
    }
    return k;
}

static void load_dialplan(struct ctx *c, const struct cfg_node *n, struct fraud_dialplan *plan)
{
    static const char *const keys[] = {"preset",
                                       "region",
                                       "country_code",
                                       "national_prefix",
                                       "international_prefixes",
                                       "outside_line",
                                       "carrier_select",
                                       "emergency",
                                       "extension_min_length",
                                       "extension_max_length",
                                       "national_min_length",
                                       "national_max_length",
                                       NULL};
    const struct cfg_node *pn;
    if (!check_map(c, n, keys))
        return;
    pn = cfg_map_get(n, "preset");
    if (pn && cfg_node_str(pn) && fraud_dialplan_preset(plan, cfg_node_str(pn)) < 0)
        fail(c, pn, "unknown dialling plan preset (US, CA, GB, DE, FR, AU)", NULL);
    get_str(c, n, "region", plan->region, sizeof(plan->region));
    get_code(c, n, "country_code", plan->country_code, sizeof(plan->country_code), false);
    get_code(c, n, "national_prefix", plan->national_prefix, sizeof(plan->national_prefix), true);
    get_code(c, n, "outside_line", plan->outside_line, sizeof(plan->outside_line), true);
    plan->n_intl_prefixes = get_code_list(c, n, "international_prefixes", plan->intl_prefixes,
                                          FRAUD_PLAN_INTL_MAX, false, plan->n_intl_prefixes);
    plan->n_carrier_select = get_code_list(c, n, "carrier_select", plan->carrier_select,
                                           FRAUD_PLAN_CARRIER_MAX, true, plan->n_carrier_select);
    plan->n_emergency = get_code_list(c, n, "emergency", plan->emergency, FRAUD_PLAN_EMERGENCY_MAX,
                                      false, plan->n_emergency);
    get_u32(c, n, "extension_min_length", 15, &plan->ext_min_len);
    get_u32(c, n, "extension_max_length", 15, &plan->ext_max_len);
    get_u32(c, n, "national_min_length", 15, &plan->nsn_min_len);
    get_u32(c, n, "national_max_length", 15, &plan->nsn_max_len);
    if (plan->ext_min_len > plan->ext_max_len)
        fail(c, n, "extension_min_length is above extension_max_length", NULL);
    if (plan->nsn_min_len > plan->nsn_max_len)
        fail(c, n, "national_min_length is above national_max_length", NULL);
    if (plan->nsn_min_len && plan->nsn_min_len <= plan->ext_max_len)
        fail(c, n, "national numbers must be longer than extensions", NULL);
}

static void load_classes(struct ctx *c, const struct cfg_node *n, uint32_t *mask)
{
    uint32_t m = 0;
    if (!is_seq(c, n))
        return;
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const struct cfg_node *it = cfg_node_at(n, i);
        int k = fraud_class_from_name(slice_cstr(cfg_node_str(it)));
        if (!cfg_node_str(it) || k < 0) {
            fail(c, it, "unknown destination class", NULL);
            continue;
        }
        m |= FRAUD_CLASS_BIT(k);
    }
    /* Internal and emergency calls are never a fraud policy's business. */
    *mask = m | FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL) | FRAUD_CLASS_BIT(FRAUD_CLASS_EMERGENCY);
}

static void load_limits(struct ctx *c, const struct cfg_node *n, struct fraud_limits *l)
{
    static const char *const keys[] = {
        "calls_per_minute", "concurrent",          "intl_per_hour", "intl_per_day",
        "max_duration",     "end_at_max_duration", "spend_per_day", NULL};
    const struct cfg_node *sp;
    if (!check_map(c, n, keys))
        return;
    get_u32(c, n, "calls_per_minute", 1000000, &l->calls_per_minute);
    get_u32(c, n, "concurrent", 1000000, &l->concurrent);
    get_u32(c, n, "intl_per_hour", 1000000, &l->intl_per_hour);
    get_u32(c, n, "intl_per_day", 1000000, &l->intl_per_day);
    get_secs(c, n, "max_duration", &l->max_duration_s);
    get_bool(c, n, "end_at_max_duration", &l->end_at_max_duration);
    sp = cfg_map_get(n, "spend_per_day");
    if (sp && cfg_node_kind(sp) != CFG_NODE_NULL)
        (void)!parse_money(c, sp, &l->spend_per_day);
}

static void load_group(struct ctx *c, const struct cfg_node *n, struct fraud_group *g)
{
    static const char *const keys[] = {"allow", "off_hours", "countries", "limits", NULL};
    const struct cfg_node *cn;
    if (!check_map(c, n, keys))
        return;
    load_classes(c, cfg_map_get(n, "allow"), &g->allowed_classes);
    load_classes(c, cfg_map_get(n, "off_hours"), &g->offhours_classes);
    cn = cfg_map_get(n, "countries");
    if (is_seq(c, cn)) {
        g->n_countries = 0;
        for (size_t i = 0; i < cfg_node_count(cn); i++) {
            const struct cfg_node *it = cfg_node_at(cn, i);
            int rc = cfg_node_str(it) ? fraud_group_allow_country(g, cfg_node_str(it)) : -EINVAL;
            if (rc == -EMSGSIZE)
                fail(c, it, "too many countries", NULL);
            else if (rc < 0)
                fail(c, it, "expected an ISO 3166 region code such as FR", NULL);
        }
    }
    load_limits(c, cfg_map_get(n, "limits"), &g->limits);
}

static void load_groups(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    if (!n || cfg_node_kind(n) == CFG_NODE_NULL)
        return;
    if (cfg_node_kind(n) != CFG_NODE_MAP) {
        fail(c, n, "expected a map of group names", NULL);
        return;
    }
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const char *name = cfg_node_str(cfg_node_key_at(n, i));
        size_t gi;
        int rc = fraud_policy_find_group(p, name, &gi);
        if (rc < 0)
            rc = fraud_policy_add_group(p, name, &gi);
        if (rc < 0) {
            fail(c, cfg_node_key_at(n, i), rc == -EMSGSIZE ? "too many groups" : "bad group name",
                 name);
            continue;
        }
        load_group(c, cfg_node_at(n, i), &p->groups[gi]);
    }
}

static void load_accounts(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    static const char *const keys[] = {"match", "group", NULL};
    if (!is_seq(c, n))
        return;
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const struct cfg_node *it = cfg_node_at(n, i), *m, *g;
        size_t gi;
        if (!check_map(c, it, keys)) {
            if (cfg_node_kind(it) == CFG_NODE_NULL)
                fail(c, it, "expected {match, group}", NULL);
            continue;
        }
        m = cfg_map_get(it, "match");
        g = cfg_map_get(it, "group");
        if (!m || !cfg_node_str(m) || !g || !cfg_node_str(g)) {
            fail(c, it, "needs both match and group", NULL);
            continue;
        }
        if (fraud_policy_find_group(p, cfg_node_str(g), &gi) < 0) {
            fail(c, g, "no such group", cfg_node_str(g));
            continue;
        }
        int rc = fraud_policy_add_account(p, cfg_node_str(m), gi);
        if (rc < 0)
            fail(c, m,
                 rc == -EMSGSIZE ? "too many account rules"
                                 : "pattern must be a name with at most one '*'",
                 NULL);
    }
}

static void load_schedule(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    static const char *const keys[] = {"timezone", "business_hours", "holidays", NULL};
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
    const struct cfg_node *bh, *hol;
    if (!check_map(c, n, keys))
        return;
    get_str(c, n, "timezone", p->schedule.timezone, sizeof(p->schedule.timezone));
    bh = cfg_map_get(n, "business_hours");
    if (check_map(c, bh, days)) {
        for (unsigned w = 0; w < 7; w++) {
            const struct cfg_node *dn = cfg_map_get(bh, days[w]);
            if (!dn)
                continue;
            if (!cfg_node_str(dn) || fraud_policy_set_hours(p, w, cfg_node_str(dn)) < 0)
                fail(c, dn, "expected \"HH:MM-HH:MM\" or closed", NULL);
        }
    }
    hol = cfg_map_get(n, "holidays");
    if (is_seq(c, hol)) {
        for (size_t i = 0; i < cfg_node_count(hol); i++) {
            const struct cfg_node *it = cfg_node_at(hol, i);
            int rc = cfg_node_str(it) ? fraud_policy_add_holiday(p, cfg_node_str(it)) : -EINVAL;
            if (rc == -EMSGSIZE)
                fail(c, it, "too many holidays", NULL);
            else if (rc < 0)
                fail(c, it, "expected MM-DD or YYYY-MM-DD", NULL);
        }
    }
}

static void load_rates(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    static const char *const keys[] = {"classes", "prefixes", NULL};
    const struct cfg_node *cl, *px;
    if (!check_map(c, n, keys))
        return;
    cl = cfg_map_get(n, "classes");
    if (cl && cfg_node_kind(cl) == CFG_NODE_MAP) {
        for (size_t i = 0; i < cfg_node_count(cl); i++) {
            const struct cfg_node *k = cfg_node_key_at(cl, i);
            int cls = fraud_class_from_name(slice_cstr(cfg_node_str(k)));
            uint64_t v;
            if (cls < 0) {
                fail(c, k, "unknown destination class", cfg_node_str(k));
                continue;
            }
            if (parse_money(c, cfg_node_at(cl, i), &v) == 0)
                p->class_rates[cls] = (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v);
        }
    } else if (cl && cfg_node_kind(cl) != CFG_NODE_NULL) {
        fail(c, cl, "expected a map of class: price per minute", NULL);
    }
    px = cfg_map_get(n, "prefixes");
    if (px && cfg_node_kind(px) == CFG_NODE_MAP) {
        for (size_t i = 0; i < cfg_node_count(px); i++) {
            const struct cfg_node *k = cfg_node_key_at(px, i);
            uint64_t v;
            if (parse_money(c, cfg_node_at(px, i), &v) < 0)
                continue;
            int rc = fraud_policy_add_rate(p, cfg_node_str(k),
                                           (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v));
            if (rc < 0)
                fail(c, k, rc == -EMSGSIZE ? "too many rates" : "expected a prefix like +4490",
                     NULL);
        }
    } else if (px && cfg_node_kind(px) != CFG_NODE_NULL) {
        fail(c, px, "expected a map of prefix: price per minute", NULL);
    }
}

static void load_actions(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    if (!n || cfg_node_kind(n) == CFG_NODE_NULL)
        return;
    if (cfg_node_kind(n) != CFG_NODE_MAP) {
        fail(c, n, "expected a map of rule: action", NULL);
        return;
    }
    for (size_t i = 0; i < cfg_node_count(n); i++) {
        const struct cfg_node *k = cfg_node_key_at(n, i), *v = cfg_node_at(n, i);
        int r = fraud_rule_from_name(slice_cstr(cfg_node_str(k)));
        int a = fraud_action_from_name(slice_cstr(cfg_node_str(v)));
        if (r < 0) {
            fail(c, k, "unknown rule", cfg_node_str(k));
            continue;
        }
        if (a < 0) {
            fail(c, v, "expected allow, alert, reject, lock or quarantine", NULL);
            continue;
        }
        if (r == FRAUD_RULE_ACCOUNT_LOCKED || r == FRAUD_RULE_LOCKDOWN) {
            if (a < FRAUD_ACT_REJECT)
                fail(c, v, "a lock or lockdown must at least reject", NULL);
        }
        p->actions[r] = (enum fraud_action)a;
    }
}

static void load_detectors(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    static const char *const keys[] = {"sequential", "short_burst", "first_international", "spike",
                                       NULL};
    static const char *const seq_keys[] = {"run", "window", NULL};
    static const char *const burst_keys[] = {"calls",         "max_duration", "window",
                                             "prefix_digits", "classes",      NULL};
    static const char *const spike_keys[] = {"min_calls", "factor", "learn_hours", "alpha", NULL};
    const struct cfg_node *s;
    if (!check_map(c, n, keys))
        return;
    s = cfg_map_get(n, "sequential");
    if (check_map(c, s, seq_keys)) {
        get_u32(c, s, "run", 1000, &p->det.sequential_run);
        get_secs(c, s, "window", &p->det.sequential_window_s);
    }
    s = cfg_map_get(n, "short_burst");
    if (check_map(c, s, burst_keys)) {
        get_u32(c, s, "calls", 1000, &p->det.burst_calls);
        get_secs(c, s, "max_duration", &p->det.burst_max_s);
        get_secs(c, s, "window", &p->det.burst_window_s);
        get_u32(c, s, "prefix_digits", 15, &p->det.burst_prefix_len);
        load_classes(c, cfg_map_get(s, "classes"), &p->det.burst_classes);
    }
    get_bool(c, n, "first_international", &p->det.first_intl);
    s = cfg_map_get(n, "spike");
    if (check_map(c, s, spike_keys)) {
        int64_t v;
        get_u32(c, s, "min_calls", 1000000, &p->det.spike_min_calls);
        get_u32(c, s, "learn_hours", 100000, &p->det.spike_learn_hours);
        if (cfg_parse_int(cfg_map_get(s, "factor"), c->d, 1, 1000, &v) == 0)
            p->det.spike_factor = (double)v;
        else if (cfg_map_get(s, "factor"))
            c->rc = -EINVAL;
        const struct cfg_node *al = cfg_map_get(s, "alpha");
        if (al) {
            uint64_t milli;
            if (parse_money(c, al, &milli) == 0) {
                if (milli == 0 || milli > 1000)
                    fail(c, al, "alpha must be in (0, 1]", NULL);
                else
                    p->det.spike_alpha = (double)milli / 1000.0;
            }
        }
    }
}

static void load_high_risk(struct ctx *c, const struct cfg_node *n, struct fraud_policy *p)
{
    static const char *const keys[] = {"defaults", "extra", NULL};
    const struct cfg_node *ex;
    if (!check_map(c, n, keys))
        return;
    get_bool(c, n, "defaults", &p->default_high_risk);
    ex = cfg_map_get(n, "extra");
    if (!is_seq(c, ex))
        return;
    for (size_t i = 0; i < cfg_node_count(ex); i++) {
        const struct cfg_node *it = cfg_node_at(ex, i);
        int rc = cfg_node_str(it) ? fraud_policy_add_high_risk(p, cfg_node_str(it)) : -EINVAL;
        if (rc == -EMSGSIZE)
            fail(c, it, "too many high-risk entries", NULL);
        else if (rc < 0)
            fail(c, it, "expected a region (CU) or a prefix (+1876)", NULL);
    }
}

int fraud_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const char *const keys[] = {
        "enabled",  "ranges_file", "dialplan", "high_risk", "schedule", "rates",           "groups",
        "accounts", "actions",     "reject",   "detectors", "tables",   "unauthenticated", NULL};
    static const char *const reject_keys[] = {"status", "reason", NULL};
    static const char *const table_keys[] = {"max_accounts", "max_calls", "setup_timeout", NULL};
    static const char *const unauth_keys[] = {"check", "group", NULL};
    struct fraud_policy *p = fraud_policy_new();
    struct ctx c = {d, 0};
    const struct cfg_node *n;

    if (!p)
        return -ENOMEM;
    if (section && check_map(&c, section, keys)) {
        /* Writing the section is what turns the live policy on; `enabled: false` keeps a
         * written policy for the offline tools only. */
        p->enabled = true;
        get_bool(&c, section, "enabled", &p->enabled);
        get_str(&c, section, "ranges_file", p->ranges_file, sizeof(p->ranges_file));
        load_dialplan(&c, cfg_map_get(section, "dialplan"), &p->plan);
        load_high_risk(&c, cfg_map_get(section, "high_risk"), p);
        load_schedule(&c, cfg_map_get(section, "schedule"), p);
        load_rates(&c, cfg_map_get(section, "rates"), p);
        load_groups(&c, cfg_map_get(section, "groups"), p);
        load_accounts(&c, cfg_map_get(section, "accounts"), p);
        load_actions(&c, cfg_map_get(section, "actions"), p);
        n = cfg_map_get(section, "reject");
        if (check_map(&c, n, reject_keys)) {
            uint32_t st = (uint32_t)p->reject_status;
            get_u32(&c, n, "status", 699, &st);
            if (st < 400)
                fail(&c, cfg_map_get(n, "status"), "a refusal needs a 4xx-6xx status", NULL);
            p->reject_status = (int)st;
            get_str(&c, n, "reason", p->reject_reason, sizeof(p->reject_reason));
            for (const char *s = p->reject_reason; *s; s++)
                if ((unsigned char)*s < 0x20) {
                    fail(&c, cfg_map_get(n, "reason"), "control characters in reason", NULL);
                    break;
                }
        }
        load_detectors(&c, cfg_map_get(section, "detectors"), p);
        n = cfg_map_get(section, "tables");
        if (check_map(&c, n, table_keys)) {
            get_u32(&c, n, "max_accounts", 10000000, &p->max_accounts);
            get_u32(&c, n, "max_calls", 10000000, &p->max_calls);
            get_secs(&c, n, "setup_timeout", &p->setup_timeout_s);
            if (!p->max_accounts || !p->max_calls)
                fail(&c, n, "table sizes must be at least 1", NULL);
        }
        n = cfg_map_get(section, "unauthenticated");
        if (check_map(&c, n, unauth_keys)) {
            get_str(&c, n, "group", p->unauth_group, sizeof(p->unauth_group));
            if (cfg_map_get(n, "group") && !p->unauth_group[0])
                fail(&c, cfg_map_get(n, "group"), "empty group name", NULL);
        }
        /* Without `check`, defining the group is what turns the check on: the first INVITE
         * of most phones carries no credentials, so refusing by default would stop calls the
         * PBX was about to challenge (docs/fraud.md). */
        size_t gi;
        p->check_unauthenticated = fraud_policy_find_group(p, p->unauth_group, &gi) == 0;
        if (n && cfg_map_get(n, "check"))
            get_bool(&c, n, "check", &p->check_unauthenticated);
    }
    if (c.rc < 0) {
        fraud_policy_free(p);
        return c.rc;
    }
    *out = p;
    return 0;
}

void fraud_config_free(void *obj)
{
    fraud_policy_free(obj);
}

const struct fraud_policy *fraud_config_get(const struct cfg_snapshot *s)
{
    return cfg_snapshot_section(s, "fraud");
}
