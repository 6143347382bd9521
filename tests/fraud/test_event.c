/* Fraud decisions reach the security event stream with their rule, action and evidence. */
#include <stdlib.h>

#include "pbxguard/fraud/event.h"
#include "pbxguard/fraud/tz.h"
#include "test.h"

static char last_line[EV_LINE_MAX];
static unsigned lines;

static void on_event(const struct ev_record *r, const char *line, size_t len, void *ctx)
{
    (void)r;
    (void)ctx;
    if (len >= sizeof(last_line))
        len = sizeof(last_line) - 1;
    memcpy(last_line, line, len);
    last_line[len] = '\0';
    lines++;
}

int main(void)
{
    struct fraud_policy *p = fraud_policy_new();
    struct fraud_engine *e = NULL;
    struct fraud_decision d;
    char err[128];
    int64_t now = (fraud_days_from_civil(2026, 11, 23) * 86400 + 10 * 3600) * 1000;

    for (int r = 0; r < FRAUD_RULE_COUNT; r++) {
        char want[64];
        snprintf(want, sizeof(want), "fraud.%s", fraud_rule_name((enum fraud_rule)r));
        CHECK_STR(fraud_event_rule((enum fraud_rule)r), want);
    }
    CHECK(p != NULL);
    CHECK_INT(fraud_dialplan_preset(&p->plan, "GB"), 0);
    slice_copy_cstr(slice_cstr("data/fraud/ranges.txt"), p->ranges_file, sizeof(p->ranges_file));
    p->actions[FRAUD_RULE_HIGH_RISK] = FRAUD_ACT_QUARANTINE;
    CHECK_INT(fraud_engine_new(p, &e, err, sizeof(err)), 0);
    CHECK_INT(ev_subscribe(on_event, NULL), 0);

    struct fraud_call_ctx ctx = {SLICE_LIT("1001\r\nforged"), SLICE_LIT("198.51.100.7:5060"),
                                 SLICE_LIT("00537234567"), now};
    CHECK_INT(fraud_check_invite(e, &ctx, &d), 0);
    CHECK_INT(d.action, FRAUD_ACT_QUARANTINE);
    fraud_event_decision(&d, &ctx, SLICE_LIT("abc@host"), "gateway", false);
    CHECK_INT(lines, 1);
    CHECK(strstr(last_line, "\"type\":\"fraud.invite\"") != NULL);
    CHECK(strstr(last_line, "\"rule\":\"fraud.high_risk\"") != NULL);
    CHECK(strstr(last_line, "\"action\":\"lock\"") != NULL);
    CHECK(strstr(last_line, "\"severity\":\"critical\"") != NULL);
    CHECK(strstr(last_line, "+537234567") != NULL);
    CHECK(strstr(last_line, "high_risk: ") != NULL);
    /* The account name's CR LF cannot split the line. */
    CHECK(strchr(last_line, '\n') == last_line + strlen(last_line) - 1);
    CHECK(strstr(last_line, "\r") == NULL);

    /* A plain allow emits nothing. */
    struct fraud_call_ctx ok = {SLICE_LIT("1002"), SLICE_NULL, SLICE_LIT("02079460000"), now};
    CHECK_INT(fraud_check_invite(e, &ok, &d), 0);
    CHECK_INT(fraud_event_decision(&d, &ok, SLICE_NULL, "gateway", false), 0);
    CHECK_INT(lines, 1);

    struct fraud_alert al = {FRAUD_RULE_DURATION,
                             FRAUD_ACT_ALERT,
                             "1002",
                             "call-9",
                             "+4420",
                             now,
                             "call running for 14401s (limit 14400s)"};
    fraud_event_alert(&al, "gateway", true);
    CHECK_INT(lines, 2);
    CHECK(strstr(last_line, "\"type\":\"fraud.call\"") != NULL);
    CHECK(strstr(last_line, "fraud.max_duration") != NULL);
    CHECK(strstr(last_line, "\"shadow\":true") != NULL);

    CHECK_INT(ev_unsubscribe(on_event, NULL), 0);
    fraud_engine_free(e);
    fraud_policy_free(p);
    return test_finish();
}
