/* Number normalisation, classification, trie and time-zone tests (table-driven). */
#include <errno.h>
#include <stdlib.h>

#include "pbxguard/fraud/number.h"
#include "pbxguard/fraud/ranges.h"
#include "pbxguard/fraud/trie.h"
#include "pbxguard/fraud/tz.h"
#include "test.h"

struct norm_case {
    const char *plan;
    const char *outside;
    const char *in;
    enum fraud_num_kind kind;
    const char *digits;
    unsigned flags_set; /* these flags must be set */
};

static const struct norm_case norm_cases[] = {
    /* NANP with 9 for an outside line */
    {"US", "9", "2125551234", FRAUD_NUM_E164, "+12125551234", 0},
    {"US", "9", "12125551234", FRAUD_NUM_E164, "+12125551234", FRAUD_NUMF_NATIONAL_PREFIX},
    {"US", "9", "+12125551234", FRAUD_NUM_E164, "+12125551234", FRAUD_NUMF_PLUS},
    {"US", "9", "9175551234", FRAUD_NUM_E164, "+19175551234", 0},
    {"US", "9", "912125551234", FRAUD_NUM_E164, "+12125551234", FRAUD_NUMF_OUTSIDE_LINE},
    {"US", "9", "011442079460000", FRAUD_NUM_E164, "+442079460000",
     FRAUD_NUMF_INTL_PREFIX | FRAUD_NUMF_INTERNATIONAL},
    {"US", "9", "9011442079460000", FRAUD_NUM_E164, "+442079460000",
     FRAUD_NUMF_OUTSIDE_LINE | FRAUD_NUMF_INTL_PREFIX},
    {"US", "9", "9011+442079460000", FRAUD_NUM_E164, "+442079460000",
     FRAUD_NUMF_OUTSIDE_LINE | FRAUD_NUMF_MANGLED},
    {"US", "9", "++442079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_MANGLED},
    {"US", "9", "011011442079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_MANGLED},
    {"US", "9", "1010222011442079460000", FRAUD_NUM_E164, "+442079460000",
     FRAUD_NUMF_CARRIER_SELECT | FRAUD_NUMF_INTL_PREFIX},
    {"US", "9", "91010222011442079460000", FRAUD_NUM_E164, "+442079460000",
     FRAUD_NUMF_OUTSIDE_LINE | FRAUD_NUMF_CARRIER_SELECT},
    {"US", "9", "101028818765550123", FRAUD_NUM_E164, "+18765550123", FRAUD_NUMF_CARRIER_SELECT},
    {"US", "9", "+1 (212) 555-1234", FRAUD_NUM_E164, "+12125551234", FRAUD_NUMF_SEPARATORS},
    {"US", "9", "+12125551234;phone-context=example.com", FRAUD_NUM_E164, "+12125551234", 0},
    {"US", "9", "911", FRAUD_NUM_EMERGENCY, "911", 0},
    {"US", "9", "9911", FRAUD_NUM_EMERGENCY, "911", FRAUD_NUMF_OUTSIDE_LINE},
    {"US", "9", "112", FRAUD_NUM_EMERGENCY, "112", 0},
    {"US", "9", "1001", FRAUD_NUM_INTERNAL, "1001", 0},
    {"US", "9", "*97", FRAUD_NUM_INTERNAL, "*97", 0},
    {"US", "9", "2125551234#", FRAUD_NUM_E164, "+12125551234", 0},
    {"US", "9", "abc", FRAUD_NUM_INVALID, "", 0},
    {"US", "9", "", FRAUD_NUM_INVALID, "", 0},
    {"US", "9", "+0123456789", FRAUD_NUM_INVALID, "", 0},
    {"US", "9", "+1234567890123456", FRAUD_NUM_INVALID, "", 0},
    {"US", "9", "12%0d%0a", FRAUD_NUM_INVALID, "", 0},
    /* United Kingdom, no outside line */
    {"GB", "", "02079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_NATIONAL_PREFIX},
    {"GB", "", "0+442079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_MANGLED},
    {"GB", "", "00442079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_INTL_PREFIX},
    {"GB", "", "0033142685300", FRAUD_NUM_E164, "+33142685300", FRAUD_NUMF_INTERNATIONAL},
    {"GB", "", "00+33142685300", FRAUD_NUM_E164, "+33142685300", FRAUD_NUMF_MANGLED},
    {"GB", "", "+00442079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_MANGLED},
    {"GB", "", "999", FRAUD_NUM_EMERGENCY, "999", 0},
    {"GB", "", "112", FRAUD_NUM_EMERGENCY, "112", 0},
    {"GB", "", "2001", FRAUD_NUM_INTERNAL, "2001", 0},
    /* UK with 9 for an outside line, as many PBXs are set up */
    {"GB", "9", "902079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_OUTSIDE_LINE},
    {"GB", "9", "9999", FRAUD_NUM_EMERGENCY, "999", FRAUD_NUMF_OUTSIDE_LINE},
    {"GB", "9", "900+33142685300", FRAUD_NUM_E164, "+33142685300", FRAUD_NUMF_MANGLED},
    /* Germany: Call-by-Call 010xx carrier selection */
    {"DE", "", "01033004930123456", FRAUD_NUM_E164, "+4930123456", FRAUD_NUMF_CARRIER_SELECT},
    {"DE", "", "110", FRAUD_NUM_EMERGENCY, "110", 0},
    /* Australia: 0011 international prefix, 000 emergency */
    {"AU", "", "0011442079460000", FRAUD_NUM_E164, "+442079460000", FRAUD_NUMF_INTL_PREFIX},
    {"AU", "", "000", FRAUD_NUM_EMERGENCY, "000", 0},
};

static void test_normalise(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(norm_cases); i++) {
        const struct norm_case *c = &norm_cases[i];
        struct fraud_dialplan plan;
        struct fraud_number num;
        CHECK_INT(fraud_dialplan_preset(&plan, c->plan), 0);
        slice_copy_cstr(slice_cstr(c->outside), plan.outside_line, sizeof(plan.outside_line));
        int rc = fraud_number_normalise(&plan, slice_cstr(c->in), &num);
        if (num.kind != c->kind || strcmp(num.digits, c->digits) != 0 ||
            (num.flags & c->flags_set) != c->flags_set) {
            TEST_FAIL_AT("case %zu %s '%s': got %s '%s' flags %#x rc %d", i, c->plan, c->in,
                         fraud_num_kind_name(num.kind), num.digits, num.flags, rc);
        } else {
            test_passed_count++;
        }
        CHECK_INT(rc == 0, c->kind != FRAUD_NUM_INVALID);
    }
    /* Too long for any plan */
    {
        struct fraud_dialplan plan;
        struct fraud_number num;
        char big[200];
        memset(big, '1', sizeof(big));
        fraud_dialplan_init(&plan);
        CHECK_INT(fraud_number_normalise(&plan, slice_make(big, sizeof(big)), &num), -EMSGSIZE);
        CHECK_INT(num.kind, FRAUD_NUM_INVALID);
        CHECK_INT(fraud_dialplan_preset(&plan, "XX"), -ENOENT);
    }
}

static void test_trie(void)
{
    struct fraud_trie t;
    uint32_t v = 0;
    size_t len = 0;
    CHECK_INT(fraud_trie_init(&t), 0);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr("+44"), 1), 0);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr("4490"), 2), 0);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr("44909"), 3), 0);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr("44a"), 3), -EINVAL);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr(""), 3), -EINVAL);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr("1234567890123456789012345"), 3), -EINVAL);
    CHECK_INT(fraud_trie_lookup(&t, slice_cstr("+442079460000"), &v, &len), 0);
    CHECK_INT(v, 1);
    CHECK_INT(len, 2);
    CHECK_INT(fraud_trie_lookup(&t, slice_cstr("+449098790000"), &v, &len), 0);
    CHECK_INT(v, 3);
    CHECK_INT(len, 5);
    CHECK_INT(fraud_trie_lookup(&t, slice_cstr("+4490"), &v, &len), 0);
    CHECK_INT(v, 2);
    CHECK_INT(fraud_trie_lookup(&t, slice_cstr("+33"), &v, &len), -ENOENT);
    CHECK_INT(fraud_trie_insert(&t, slice_cstr("44"), 7), 0); /* replaces */
    CHECK_INT(fraud_trie_lookup(&t, slice_cstr("447"), &v, NULL), 0);
    CHECK_INT(v, 7);
    CHECK_INT(t.n_values, 3);
    fraud_trie_fini(&t);
    fraud_trie_fini(&t); /* idempotent */
}

struct class_case {
    const char *plan;
    const char *in;
    enum fraud_class class;
    const char *region;
    bool international, high_risk;
};

static const struct class_case class_cases[] = {
    {"GB", "02079460000", FRAUD_CLASS_NATIONAL, "GB", false, false},
    {"GB", "07400123456", FRAUD_CLASS_MOBILE, "GB", false, false},
    {"GB", "09098790123", FRAUD_CLASS_PREMIUM, "GB", false, false},
    {"GB", "08001111", FRAUD_CLASS_TOLLFREE, "GB", false, false},
    {"GB", "07012345678", FRAUD_CLASS_NONGEO, "GB", false, false},
    {"GB", "00870772000000", FRAUD_CLASS_SATELLITE, "001", true, false},
    {"GB", "+881612345678", FRAUD_CLASS_SATELLITE, "001", true, false},
    {"GB", "+882161234567", FRAUD_CLASS_NONGEO, "001", true, false},
    {"GB", "+883510001234", FRAUD_CLASS_NONGEO, "001", true, false},
    {"GB", "+979123456789", FRAUD_CLASS_PREMIUM, "001", true, false},
    {"GB", "0033142685300", FRAUD_CLASS_INTERNATIONAL, "FR", true, false},
    {"GB", "0033899123456", FRAUD_CLASS_PREMIUM, "FR", true, false},
    {"GB", "+5372345678", FRAUD_CLASS_HIGH_RISK, "CU", true, true},
    {"GB", "+18765550123", FRAUD_CLASS_HIGH_RISK, "JM", true, true},
    {"GB", "999", FRAUD_CLASS_EMERGENCY, "", false, false},
    {"GB", "2001", FRAUD_CLASS_INTERNAL, "", false, false},
    {"GB", "hello", FRAUD_CLASS_UNKNOWN, "", false, false},
    /* NANP: +1 876 is Jamaica, not the home country, though the country code is shared */
    {"US", "18765550123", FRAUD_CLASS_HIGH_RISK, "JM", true, true},
    {"US", "2125551234", FRAUD_CLASS_NATIONAL, "US", false, false},
    {"US", "011442079460000", FRAUD_CLASS_INTERNATIONAL, "GB", true, false},
    {"US", "01137120012345", FRAUD_CLASS_HIGH_RISK, "LV", true, true},
};

static void test_classify(void)
{
    struct fraud_ranges r;
    char err[256];
    CHECK_INT(fraud_ranges_init(&r), 0);
    int rc = fraud_ranges_load(&r, "data/fraud/ranges.txt", err, sizeof(err));
    CHECK_INT(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        fraud_ranges_fini(&r);
        return;
    }
    for (size_t i = 0; fraud_default_high_risk[i]; i++)
        CHECK_INT(fraud_ranges_add_high_risk(&r, fraud_default_high_risk[i]), 0);
    for (size_t i = 0; i < PBX_ARRAY_SIZE(class_cases); i++) {
        const struct class_case *c = &class_cases[i];
        struct fraud_dialplan plan;
        struct fraud_number num;
        struct fraud_dest d;
        CHECK_INT(fraud_dialplan_preset(&plan, c->plan), 0);
        (void)!fraud_number_normalise(&plan, slice_cstr(c->in), &num);
        fraud_classify(&r, &plan, &num, &d);
        if (d.class != c->class || strcmp(d.region, c->region) != 0 ||
            d.international != c->international || d.high_risk != c->high_risk)
            TEST_FAIL_AT("class case %zu %s '%s': got %s region '%s' intl %d hr %d", i, c->plan,
                         c->in, fraud_class_name(d.class), d.region, d.international, d.high_risk);
        else
            test_passed_count++;
    }
    CHECK_INT(fraud_ranges_add(&r, "44", "bogus", "GB"), -EINVAL);
    CHECK_INT(fraud_ranges_add(&r, "44", "cc", "g b"), -EINVAL);
    CHECK_INT(fraud_ranges_add_high_risk(&r, "+12x"), -EINVAL);
    CHECK_INT(fraud_ranges_load(&r, "tests/fraud/no-such-file", err, sizeof(err)), -ENOENT);
    CHECK_INT(fraud_class_from_name(slice_cstr("premium")), FRAUD_CLASS_PREMIUM);
    CHECK_INT(fraud_class_from_name(slice_cstr("nope")), -1);
    fraud_ranges_fini(&r);
}

static void test_bad_ranges_file(void)
{
    struct fraud_ranges r;
    char err[256] = "";
    const char *path = "/tmp/pbxguard-fraud-bad-ranges.txt";
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("# comment\n44 cc GB\n4490 premium\n", f);
    fclose(f);
    CHECK_INT(fraud_ranges_init(&r), 0);
    CHECK_INT(fraud_ranges_load(&r, path, err, sizeof(err)), -EBADMSG);
    CHECK(strstr(err, ":3:") != NULL);
    fraud_ranges_fini(&r);
    remove(path);
}

static int64_t utc(int y, unsigned mo, unsigned d, unsigned h, unsigned mi)
{
    return (fraud_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static void test_tz(void)
{
    struct fraud_tz tz;
    struct fraud_local l;
    int64_t y;
    unsigned m, d;

    CHECK_INT(fraud_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(fraud_days_from_civil(2000, 3, 1), 11017);
    fraud_civil_from_days(20000, &y, &m, &d);
    CHECK_INT(y, 2024);
    CHECK_INT(m, 10);
    CHECK_INT(d, 4);

    CHECK_INT(fraud_tz_load(&tz, "UTC"), 0);
    fraud_tz_local(&tz, utc(2026, 11, 23, 10, 30), &l);
    CHECK_INT(l.wday, 1); /* Monday */
    CHECK_INT(l.minute, 630);
    fraud_tz_fini(&tz);

    CHECK_INT(fraud_tz_load(&tz, "+05:30"), 0);
    fraud_tz_local(&tz, utc(2026, 11, 23, 20, 0), &l);
    CHECK_INT(l.day, 24);
    CHECK_INT(l.minute, 90);
    fraud_tz_fini(&tz);

    CHECK_INT(fraud_tz_load(&tz, "../etc/passwd"), -EINVAL);
    CHECK_INT(fraud_tz_load(&tz, "Nowhere/Atlantis"), -ENOENT);

    /* Europe/London: GMT in winter, BST (+1) from the last Sunday of March. Years past the
     * table's end exercise the POSIX rule in the footer. */
    CHECK_INT(fraud_tz_load(&tz, "Europe/London"), 0);
    CHECK_INT(fraud_tz_offset(&tz, utc(2026, 1, 15, 12, 0) / 1000), 0);
    CHECK_INT(fraud_tz_offset(&tz, utc(2026, 7, 15, 12, 0) / 1000), 3600);
    CHECK_INT(fraud_tz_offset(&tz, utc(2026, 3, 29, 0, 59) / 1000), 0);
    CHECK_INT(fraud_tz_offset(&tz, utc(2026, 3, 29, 1, 0) / 1000), 3600);
    CHECK_INT(fraud_tz_offset(&tz, utc(2090, 7, 1, 0, 0) / 1000), 3600);
    CHECK_INT(fraud_tz_offset(&tz, utc(2090, 12, 1, 0, 0) / 1000), 0);
    CHECK_INT(fraud_tz_to_utc(&tz, utc(2026, 7, 1, 9, 0) / 1000), utc(2026, 7, 1, 8, 0) / 1000);
    fraud_tz_fini(&tz);

    /* America/New_York: EST -5, EDT -4 from the second Sunday of March. */
    CHECK_INT(fraud_tz_load(&tz, "America/New_York"), 0);
    CHECK_INT(fraud_tz_offset(&tz, utc(2026, 1, 15, 12, 0) / 1000), -5 * 3600);
    CHECK_INT(fraud_tz_offset(&tz, utc(2095, 6, 15, 12, 0) / 1000), -4 * 3600);
    fraud_tz_local(&tz, utc(2026, 11, 23, 3, 0), &l);
    CHECK_INT(l.day, 22);
    CHECK_INT(l.wday, 0);
    CHECK_INT(l.minute, 22 * 60);
    fraud_tz_fini(&tz);

    /* Australia/Sydney: southern hemisphere, DST across the new year. */
    CHECK_INT(fraud_tz_load(&tz, "Australia/Sydney"), 0);
    CHECK_INT(fraud_tz_offset(&tz, utc(2095, 1, 15, 0, 0) / 1000), 11 * 3600);
    CHECK_INT(fraud_tz_offset(&tz, utc(2095, 7, 15, 0, 0) / 1000), 10 * 3600);
    fraud_tz_fini(&tz);
}

/* Random dialled strings: whatever comes in, what comes out is well-formed. */
static void test_random_numbers(void)
{
    static const char alphabet[] = "0123456789+*# -().;x9011";
    static const char *const plans[] = {"US", "GB", "DE", "AU"};
    uint64_t x = 0x2545f4914f6cdd1dULL;
    unsigned bad = 0;
    for (int i = 0; i < 200000; i++) {
        struct fraud_dialplan plan;
        struct fraud_number num;
        char in[40];
        size_t len;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        len = x % sizeof(in);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[k] = alphabet[x % (sizeof(alphabet) - 1)];
        }
        if (fraud_dialplan_preset(&plan, plans[i % 4]) < 0)
            bad++;
        plan.outside_line[0] = i % 3 ? '\0' : '9';
        plan.outside_line[1] = '\0';
        int rc = fraud_number_normalise(&plan, slice_make(in, len), &num);
        if ((rc == 0) != (num.kind != FRAUD_NUM_INVALID) || num.len != strlen(num.digits))
            bad++;
        if (num.kind == FRAUD_NUM_E164) {
            if (num.digits[0] != '+' || num.len < 5 || num.len > 16 || num.digits[1] == '0')
                bad++;
            for (size_t k = 1; k < num.len; k++)
                if (num.digits[k] < '0' || num.digits[k] > '9')
                    bad++;
        }
    }
    CHECK_INT(bad, 0);
}

int main(void)
{
    test_random_numbers();
    test_normalise();
    test_trie();
    test_classify();
    test_bad_ranges_file();
    test_tz();
    return test_finish();
}
