/* Policy defaults, builder and names (see pbxguard/fraud/policy.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/fraud/policy.h"

static const char *const action_names[] = {
    [FRAUD_ACT_ALLOW] = "allow",           [FRAUD_ACT_ALERT] = "alert",
    [FRAUD_ACT_REJECT] = "reject",         [FRAUD_ACT_LOCK] = "lock",
    [FRAUD_ACT_QUARANTINE] = "quarantine",
};

static const char *const rule_names[FRAUD_RULE_COUNT] = {
    [FRAUD_RULE_LOCKDOWN] = "lockdown",
    [FRAUD_RULE_ACCOUNT_LOCKED] = "account_locked",
    [FRAUD_RULE_NUMBER_INVALID] = "number_invalid",
    [FRAUD_RULE_NUMBER_MANGLED] = "number_mangled",
    [FRAUD_RULE_CLASS] = "class_forbidden",
    [FRAUD_RULE_COUNTRY] = "country_forbidden",
    [FRAUD_RULE_HIGH_RISK] = "high_risk",
    [FRAUD_RULE_OFF_HOURS] = "off_hours",
    [FRAUD_RULE_RATE] = "calls_per_minute",
    [FRAUD_RULE_CONCURRENT] = "concurrent",
    [FRAUD_RULE_INTL_HOUR] = "intl_per_hour",
    [FRAUD_RULE_INTL_DAY] = "intl_per_day",
    [FRAUD_RULE_DURATION] = "max_duration",
    [FRAUD_RULE_SPEND] = "spend_per_day",
    [FRAUD_RULE_SEQUENTIAL] = "sequential",
    [FRAUD_RULE_SHORT_BURST] = "short_burst",
    [FRAUD_RULE_FIRST_INTL] = "first_international",
    [FRAUD_RULE_SPIKE] = "spike",
    [FRAUD_RULE_STATE_FULL] = "state_full",
};

const char *fraud_action_name(enum fraud_action a)
{
    return (unsigned)a < PBX_ARRAY_SIZE(action_names) ? action_names[a] : "allow";
}

int fraud_action_from_name(struct slice name)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(action_names); i++)
        if (slice_eq_cstr(name, action_names[i]))
            return (int)i;
    return -1;
}

const char *fraud_rule_name(enum fraud_rule r)
{
    return (unsigned)r < FRAUD_RULE_COUNT ? rule_names[r] : "none";
}

int fraud_rule_from_name(struct slice name)
{
    for (int i = 0; i < FRAUD_RULE_COUNT; i++)
        if (slice_eq_cstr(name, rule_names[i]))
            return i;
    return -1;
}

static void group_defaults(struct fraud_group *g, const char *name)
{
    memset(g, 0, sizeof(*g));
    slice_copy_cstr(slice_cstr(name), g->name, sizeof(g->name));
    g->offhours_classes =
        FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL) | FRAUD_CLASS_BIT(FRAUD_CLASS_EMERGENCY) |
        FRAUD_CLASS_BIT(FRAUD_CLASS_NATIONAL) | FRAUD_CLASS_BIT(FRAUD_CLASS_MOBILE) |
        FRAUD_CLASS_BIT(FRAUD_CLASS_TOLLFREE);
    g->allowed_classes = g->offhours_classes | FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNATIONAL);
    g->limits.calls_per_minute = 10;
    g->limits.concurrent = 10;
    g->limits.intl_per_hour = 20;
    g->limits.intl_per_day = 100;
    g->limits.max_duration_s = 4 * 3600;
}

struct fraud_policy *fraud_policy_new(void)
{
    struct fraud_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    fraud_dialplan_init(&p->plan);
    p->default_high_risk = true;
    slice_copy_cstr(slice_cstr("UTC"), p->schedule.timezone, sizeof(p->schedule.timezone));
    for (unsigned d = 1; d <= 5; d++) {
        p->schedule.open[d] = 8 * 60;
        p->schedule.close[d] = 18 * 60;
    }
    group_defaults(&p->groups[0], "default");
    p->n_groups = 1;
    for (int r = 0; r < FRAUD_RULE_COUNT; r++)
        p->actions[r] = FRAUD_ACT_REJECT;
    p->actions[FRAUD_RULE_NUMBER_MANGLED] = FRAUD_ACT_ALERT;
    p->actions[FRAUD_RULE_DURATION] = FRAUD_ACT_ALERT;
    p->actions[FRAUD_RULE_FIRST_INTL] = FRAUD_ACT_ALERT;
    p->actions[FRAUD_RULE_SPIKE] = FRAUD_ACT_ALERT;
    p->actions[FRAUD_RULE_SEQUENTIAL] = FRAUD_ACT_REJECT;
    p->actions[FRAUD_RULE_SHORT_BURST] = FRAUD_ACT_REJECT;
    p->reject_status = 403;
    p->check_unauthenticated = false;
    slice_copy_cstr(slice_cstr("unauthenticated"), p->unauth_group, sizeof(p->unauth_group));
    slice_copy_cstr(slice_cstr("Forbidden"), p->reject_reason, sizeof(p->reject_reason));
    p->det.sequential_run = 4;
    p->det.sequential_window_s = 600;
    p->det.burst_calls = 5;
    p->det.burst_max_s = 15;
    p->det.burst_window_s = 900;
    p->det.burst_prefix_len = 6;
    p->det.burst_classes =
        FRAUD_CLASS_BIT(FRAUD_CLASS_PREMIUM) | FRAUD_CLASS_BIT(FRAUD_CLASS_SHARED_COST) |
        FRAUD_CLASS_BIT(FRAUD_CLASS_NONGEO) | FRAUD_CLASS_BIT(FRAUD_CLASS_SATELLITE) |
        FRAUD_CLASS_BIT(FRAUD_CLASS_HIGH_RISK) | FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNATIONAL);
    p->det.first_intl = true;
    p->det.spike_min_calls = 20;
    p->det.spike_learn_hours = 24;
    p->det.spike_factor = 5.0;
    p->det.spike_alpha = 0.1;
    p->max_accounts = 10000;
    p->max_calls = 10000;
    p->setup_timeout_s = 180;
    return p;
}

void fraud_policy_free(struct fraud_policy *p)
{
    free(p);
}

int fraud_policy_find_group(const struct fraud_policy *p, const char *name, size_t *idx)
{
    for (size_t i = 0; i < p->n_groups; i++)
        if (strcmp(p->groups[i].name, name) == 0) {
            *idx = i;
            return 0;
        }
    return -ENOENT;
}

int fraud_policy_add_group(struct fraud_policy *p, const char *name, size_t *idx)
{
    size_t i;
    if (!name[0] || strlen(name) >= FRAUD_NAME_MAX)
        return -EINVAL;
    if (fraud_policy_find_group(p, name, &i) == 0)
        return -EEXIST;
    if (p->n_groups == FRAUD_GROUPS_MAX)
        return -EMSGSIZE;
    group_defaults(&p->groups[p->n_groups], name);
    *idx = p->n_groups++;
    return 0;
}

int fraud_group_allow_country(struct fraud_group *g, const char *region)
{
    size_t n = strlen(region);
    if (n < 2 || n > 3)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!((region[i] >= 'A' && region[i] <= 'Z') || (region[i] >= '0' && region[i] <= '9')))
            return -EINVAL;
    if (g->n_countries == FRAUD_COUNTRIES_MAX)
        return -EMSGSIZE;
    memcpy(g->countries[g->n_countries++], region, n + 1);
    return 0;
}

int fraud_policy_add_account(struct fraud_policy *p, const char *pattern, size_t group)
{
    const char *star = strchr(pattern, '*');
    if (!pattern[0] || strlen(pattern) >= sizeof(p->accounts[0].pattern) || group >= p->n_groups ||
        (star && strchr(star + 1, '*')))
        return -EINVAL;
    if (p->n_accounts == FRAUD_ACCOUNT_RULES_MAX)
        return -EMSGSIZE;
    slice_copy_cstr(slice_cstr(pattern), p->accounts[p->n_accounts].pattern,
                    sizeof(p->accounts[0].pattern));
    p->accounts[p->n_accounts++].group = group;
    return 0;
}

static bool digits_prefix(const char *s)
{
    size_t n = strlen(s), i = s[0] == '+' ? 1 : 0;
    if (n <= i || n - i > FRAUD_TRIE_KEY_MAX)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int fraud_policy_add_rate(struct fraud_policy *p, const char *prefix, uint32_t per_minute)
{
    if (!digits_prefix(prefix))
        return -EINVAL;
    if (p->n_rates == FRAUD_RATES_MAX)
        return -EMSGSIZE;
    slice_copy_cstr(slice_cstr(prefix), p->rates[p->n_rates].prefix, sizeof(p->rates[0].prefix));
    p->rates[p->n_rates++].per_minute = per_minute;
    return 0;
}

static int two_digits(const char *s, unsigned *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -EINVAL;
    *v = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return 0;
}

int fraud_policy_add_holiday(struct fraud_policy *p, const char *date)
{
    static const uint8_t mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct fraud_holiday h = {0};
    unsigned m, d, y1, y2;
    size_t n = strlen(date);
    if (n == 10 && date[4] == '-' && date[7] == '-') {
        if (two_digits(date, &y1) || two_digits(date + 2, &y2) || y1 * 100 + y2 < 1970)
            return -EINVAL;
        h.year = (int16_t)(y1 * 100 + y2);
        date += 5;
    } else if (n != 5) {
        return -EINVAL;
    }
    if (date[2] != '-' || two_digits(date, &m) || two_digits(date + 3, &d) || m < 1 || m > 12 ||
        d < 1 || d > mdays[m - 1])
        return -EINVAL;
    if (p->schedule.n_holidays == FRAUD_HOLIDAYS_MAX)
        return -EMSGSIZE;
    h.month = (uint8_t)m;
    h.day = (uint8_t)d;
    p->schedule.holidays[p->schedule.n_holidays++] = h;
    return 0;
}

int fraud_policy_add_high_risk(struct fraud_policy *p, const char *entry)
{
    size_t n = strlen(entry);
    if (entry[0] == '+' ? !digits_prefix(entry) : (n < 2 || n > 3))
        return -EINVAL;
    if (n >= sizeof(p->high_risk[0]))
        return -EINVAL;
    if (p->n_high_risk == FRAUD_HIGH_RISK_MAX)
        return -EMSGSIZE;
    memcpy(p->high_risk[p->n_high_risk++], entry, n + 1);
    return 0;
}

static int hhmm(const char *s, unsigned *min)
{
    unsigned h, m;
    if (two_digits(s, &h) || s[2] != ':' || two_digits(s + 3, &m) || m > 59 || h * 60 + m > 24 * 60)
        return -EINVAL;
    *min = h * 60 + m;
    return 0;
}

int fraud_policy_set_hours(struct fraud_policy *p, unsigned wday, const char *range)
{
    unsigned a, b;
    if (wday > 6)
        return -EINVAL;
    if (strcmp(range, "closed") == 0) {
        p->schedule.open[wday] = p->schedule.close[wday] = 0;
        return 0;
    }
    if (strlen(range) != 11 || range[5] != '-' || hhmm(range, &a) || hhmm(range + 6, &b) || a >= b)
        return -EINVAL;
    p->schedule.open[wday] = (uint16_t)a;
    p->schedule.close[wday] = (uint16_t)b;
    return 0;
}
