/* The fraud: YAML section: every key reaches the policy; mistakes are reported at
 * file:line:column. */
#include <errno.h>
#include <stdlib.h>

#include "pbxguard/core/config.h"
#include "pbxguard/fraud/config.h"
#include "pbxguard/fraud/engine.h"
#include "test.h"

static int load(const char *yaml, struct fraud_policy **out, struct cfg_diag *d)
{
    struct cfg_doc *doc = NULL;
    void *obj = NULL;
    int rc = cfg_doc_load_buf("t.yaml", yaml, strlen(yaml), d, &doc);
    if (rc == 0) {
        const struct cfg_node *root = cfg_doc_root(doc);
        rc = fraud_config_load(root ? cfg_map_get(root, "fraud") : NULL, d, &obj);
    }
    cfg_doc_free(doc);
    *out = obj;
    return rc;
}

static bool diag_has(const struct cfg_diag *d, unsigned line, unsigned col, const char *text)
{
    for (unsigned i = 0; i < d->count; i++)
        if (d->entries[i].line == line && d->entries[i].column == col &&
            strstr(d->entries[i].reason, text))
            return true;
    for (unsigned i = 0; i < d->count; i++)
        fprintf(stderr, "  diag: %u:%u: %s\n", d->entries[i].line, d->entries[i].column,
                d->entries[i].reason);
    return false;
}

static void test_full(void)
{
    const char *yaml = "fraud:\n"
                       "  ranges_file: data/fraud/ranges.txt\n"
                       "  dialplan:\n"
                       "    preset: US\n"
                       "    outside_line: \"9\"\n"
                       "    emergency: [\"911\", \"112\"]\n"
                       "  high_risk:\n"
                       "    defaults: false\n"
                       "    extra: [\"+1876\", CU]\n"
                       "  schedule:\n"
                       "    timezone: America/New_York\n"
                       "    business_hours: {sat: \"10:00-14:00\", sun: closed}\n"
                       "    holidays: [\"07-04\", \"2026-11-26\"]\n"
                       "  rates:\n"
                       "    classes: {international: 0.25, premium: 3}\n"
                       "    prefixes: {\"+44\": 0.035}\n"
                       "  groups:\n"
                       "    default:\n"
                       "      allow: [national, mobile, tollfree]\n"
                       "      limits: {concurrent: 4, max_duration: 2h, end_at_max_duration: true,"
                       " spend_per_day: 12.5}\n"
                       "    sales:\n"
                       "      allow: [national, mobile, international]\n"
                       "      off_hours: [national]\n"
                       "      countries: [CA, GB, FR]\n"
                       "  accounts:\n"
                       "    - {match: \"sales-*\", group: sales}\n"
                       "  actions: {high_risk: quarantine, first_international: allow}\n"
                       "  reject: {status: 603, reason: Declined}\n"
                       "  detectors:\n"
                       "    sequential: {run: 6, window: 5m}\n"
                       "    short_burst: {calls: 3, max_duration: 10s, window: 1h,"
                       " prefix_digits: 5, classes: [premium]}\n"
                       "    first_international: false\n"
                       "    spike: {min_calls: 50, factor: 8, learn_hours: 48, alpha: 0.2}\n"
                       "  tables: {max_accounts: 500, max_calls: 200, setup_timeout: 2m}\n";
    struct cfg_diag d;
    struct fraud_policy *p = NULL;
    size_t gi;

    cfg_diag_init(&d);
    CHECK_INT(load(yaml, &p, &d), 0);
    cfg_diag_print(&d, stderr);
    if (!p) {
        cfg_diag_fini(&d);
        return;
    }
    CHECK_STR(p->plan.country_code, "1");
    CHECK_STR(p->plan.outside_line, "9");
    CHECK_INT(p->plan.n_emergency, 2);
    CHECK(!p->default_high_risk);
    CHECK_INT(p->n_high_risk, 2);
    CHECK_STR(p->schedule.timezone, "America/New_York");
    CHECK_INT(p->schedule.open[6], 600);
    CHECK_INT(p->schedule.close[0], 0);
    CHECK_INT(p->schedule.open[1], 480); /* untouched default */
    CHECK_INT(p->schedule.n_holidays, 2);
    CHECK_INT(p->class_rates[FRAUD_CLASS_INTERNATIONAL], 250);
    CHECK_INT(p->class_rates[FRAUD_CLASS_PREMIUM], 3000);
    CHECK_INT(p->n_rates, 1);
    CHECK_INT(p->rates[0].per_minute, 35);
    CHECK_INT(p->groups[0].limits.concurrent, 4);
    CHECK_INT(p->groups[0].limits.max_duration_s, 7200);
    CHECK(p->groups[0].limits.end_at_max_duration);
    CHECK_INT(p->groups[0].limits.spend_per_day, 12500);
    CHECK(!(p->groups[0].allowed_classes & FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNATIONAL)));
    CHECK(p->groups[0].allowed_classes & FRAUD_CLASS_BIT(FRAUD_CLASS_EMERGENCY));
    CHECK_INT(fraud_policy_find_group(p, "sales", &gi), 0);
    CHECK_INT(p->groups[gi].n_countries, 3);
    CHECK_INT(p->groups[gi].offhours_classes, FRAUD_CLASS_BIT(FRAUD_CLASS_NATIONAL) |
                                                  FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNAL) |
                                                  FRAUD_CLASS_BIT(FRAUD_CLASS_EMERGENCY));
    CHECK_INT(p->n_accounts, 1);
    CHECK_INT(p->accounts[0].group, gi);
    CHECK_INT(p->actions[FRAUD_RULE_HIGH_RISK], FRAUD_ACT_QUARANTINE);
    CHECK_INT(p->actions[FRAUD_RULE_FIRST_INTL], FRAUD_ACT_ALLOW);
    CHECK_INT(p->reject_status, 603);
    CHECK_STR(p->reject_reason, "Declined");
    CHECK_INT(p->det.sequential_run, 6);
    CHECK_INT(p->det.sequential_window_s, 300);
    CHECK_INT(p->det.burst_calls, 3);
    CHECK_INT(p->det.burst_prefix_len, 5);
    CHECK(p->det.burst_classes & FRAUD_CLASS_BIT(FRAUD_CLASS_PREMIUM));
    CHECK(!p->det.first_intl);
    CHECK_INT(p->det.spike_min_calls, 50);
    CHECK(p->det.spike_alpha > 0.19 && p->det.spike_alpha < 0.21);
    CHECK_INT(p->max_accounts, 500);
    CHECK_INT(p->setup_timeout_s, 120);
    CHECK(!p->check_unauthenticated); /* no "unauthenticated" group defined */

    /* The loaded policy builds an engine. */
    struct fraud_engine *e = NULL;
    char err[128];
    CHECK_INT(fraud_engine_new(p, &e, err, sizeof(err)), 0);
    fraud_engine_free(e);
    fraud_config_free(p);
    cfg_diag_fini(&d);
}

static void test_defaults(void)
{
    struct cfg_diag d;
    struct fraud_policy *p = NULL;
    cfg_diag_init(&d);
    CHECK_INT(load("general: {}\n", &p, &d), 0);
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->reject_status, 403);
        CHECK(!p->enabled); /* no section: the daemons do not apply a policy */
    }
    fraud_config_free(p);
    p = NULL;
    /* A written section turns the live policy on, unless it says otherwise. */
    CHECK_INT(load("fraud:\n  dialplan: {preset: GB}\n", &p, &d), 0);
    CHECK(p && p->enabled);
    fraud_config_free(p);
    p = NULL;
    CHECK_INT(load("fraud:\n  enabled: false\n", &p, &d), 0);
    CHECK(p && !p->enabled);
    fraud_config_free(p);
    cfg_diag_fini(&d);
}

static void test_errors(void)
{
    const char *yaml = "fraud:\n"                                 /* 1 */
                       "  dialplan:\n"                            /* 2 */
                       "    preset: XX\n"                         /* 3 */
                       "    country_code: \"4a\"\n"               /* 4 */
                       "  schedule:\n"                            /* 5 */
                       "    business_hours: {mon: \"9-5\"}\n"     /* 6 */
                       "    holidays: [\"02-30\"]\n"              /* 7 */
                       "  groups:\n"                              /* 8 */
                       "    default:\n"                           /* 9 */
                       "      allow: [national, premuim]\n"       /* 10 */
                       "      countries: [France]\n"              /* 11 */
                       "  accounts:\n"                            /* 12 */
                       "    - {match: x, group: nobody}\n"        /* 13 */
                       "  actions: {off_hours: ban}\n"            /* 14 */
                       "  rates: {prefixes: {\"+44\": 1.2345}}\n" /* 15 */
                       "  colour: blue\n";                        /* 16 */
    struct cfg_diag d;
    struct fraud_policy *p = NULL;
    cfg_diag_init(&d);
    CHECK_INT(load(yaml, &p, &d), -EINVAL);
    CHECK(p == NULL);
    CHECK(diag_has(&d, 3, 13, "preset"));
    CHECK(diag_has(&d, 4, 19, "digits"));
    CHECK(diag_has(&d, 6, 27, "HH:MM"));
    CHECK(diag_has(&d, 7, 16, "MM-DD"));
    CHECK(diag_has(&d, 10, 25, "class"));
    CHECK(diag_has(&d, 11, 19, "ISO"));
    CHECK(diag_has(&d, 13, 25, "no such group"));
    CHECK(diag_has(&d, 14, 24, "reject"));
    CHECK(diag_has(&d, 15, 29, "decimals"));
    CHECK(diag_has(&d, 16, 3, "unknown key"));
    cfg_diag_fini(&d);
}

/* The unauthenticated check: on when its group exists, `check` overrides, `group` renames. */
static void test_unauthenticated(void)
{
    static const struct {
        const char *yaml;
        bool check;
        const char *group;
    } cases[] = {
        {"  groups: {unauthenticated: {allow: [internal]}}\n", true, "unauthenticated"},
        {"  unauthenticated: {check: true}\n", true, "unauthenticated"},
        {"  groups: {unauthenticated: {allow: [internal]}}\n  unauthenticated: {check: false}\n",
         false, "unauthenticated"},
        {"  groups: {open: {allow: [national]}}\n  unauthenticated: {group: open}\n", true, "open"},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        char yaml[256];
        struct cfg_diag d;
        struct fraud_policy *p = NULL;
        snprintf(yaml, sizeof(yaml), "fraud:\n%s", cases[i].yaml);
        cfg_diag_init(&d);
        CHECK_INT(load(yaml, &p, &d), 0);
        cfg_diag_print(&d, stderr);
        if (p) {
            CHECK_INT(p->check_unauthenticated, cases[i].check);
            CHECK_STR(p->unauth_group, cases[i].group);
        }
        fraud_policy_free(p);
        cfg_diag_fini(&d);
    }
}

int main(void)
{
    test_unauthenticated();
    test_full();
    test_defaults();
    test_errors();
    return test_finish();
}
