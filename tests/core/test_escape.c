/* The escape helper: nothing an attacker sends can forge a line or break a JSON string. */
#include <string.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/escape.h"
#include "test.h"

static const char *esc(const char *in, size_t len, size_t max_in, enum esc_mode m)
{
    static char out[512];
    esc_untrusted(out, sizeof(out), in, len, max_in, m);
    return out;
}

#define E(lit, mode) esc(lit, sizeof(lit) - 1, 1000, mode)

struct esc_case {
    const char *in;
    size_t len;
    const char *json;
    const char *text;
};

#define C(lit, j, t)                                                                               \
    {                                                                                              \
        lit, sizeof(lit) - 1, j, t                                                                 \
    }

static const struct esc_case cases[] = {
    C("plain", "plain", "plain"),
    C("", "", ""),
    C("a\"b\\c", "a\\\"b\\\\c", "a\\\"b\\\\c"),
    C("x\r\ny\tz", "x\\r\\ny\\tz", "x\\r\\ny\\tz"),
    C("\x00\x01\x1f\x7f", "\\u0000\\u0001\\u001f\\u007f", "\\x00\\x01\\x1f\\x7f"),
    /* valid UTF-8 kept, invalid bytes escaped one by one */
    C("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
    C("\xff\xfe", "\\u00ff\\u00fe", "\\xff\\xfe"),
    C("\xc0\xaf", "\\u00c0\\u00af", "\\xc0\\xaf"),                 /* overlong '/' */
    C("\xed\xa0\x80", "\\u00ed\\u00a0\\u0080", "\\xed\\xa0\\x80"), /* surrogate */
    C("\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080", "\\xf4\\x90\\x80\\x80"),
    C("a\xe2\x82", "a\\u00e2\\u0082", "a\\xe2\\x82"), /* truncated sequence */
    C("\xe2\x80\xa8|\xe2\x80\xa9", "\\u2028|\\u2029", "\\u2028|\\u2029"),
};

static void test_table(void)
{
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        CHECK_STR(esc(cases[i].in, cases[i].len, 1000, ESC_JSON), cases[i].json);
        CHECK_STR(esc(cases[i].in, cases[i].len, 1000, ESC_TEXT), cases[i].text);
        CHECK_INT(esc_measure(cases[i].in, cases[i].len, ESC_JSON), strlen(cases[i].json));
    }
}

static void test_cut(void)
{
    /* input cap */
    CHECK_STR(esc("abcdefgh", 8, 3, ESC_TEXT), "abc\xe2\x80\xa6[+5 bytes]");
    /* never split a UTF-8 sequence: é straddles the cap */
    CHECK_STR(esc("ab\xc3\xa9z", 5, 3, ESC_TEXT), "ab\xe2\x80\xa6[+3 bytes]");
    /* output cap: the marker always fits and the result is NUL-terminated */
    char small[ESC_MIN_CAP + 8];
    char in[100];
    memset(in, '\n', sizeof(in));
    size_t n = esc_untrusted(small, sizeof(small), in, sizeof(in), 1000, ESC_JSON);
    CHECK_INT(n, strlen(small));
    CHECK(n < sizeof(small));
    CHECK(strstr(small, "\xe2\x80\xa6[+") != NULL);
    CHECK(strchr(small, '\n') == NULL);
    /* every escape is whole: the text before the marker is pairs of "\n" */
    const char *mark = strstr(small, "\xe2\x80\xa6");
    CHECK((mark - small) % 2 == 0);
    /* too small a buffer gives an empty string rather than a partial escape */
    char tiny[8];
    CHECK_INT(esc_untrusted(tiny, sizeof(tiny), "abc", 3, 10, ESC_TEXT), 0);
    CHECK_STR(tiny, "");
    /* NULL input with zero length is fine */
    CHECK_INT(esc_untrusted(small, sizeof(small), NULL, 0, 10, ESC_TEXT), 0);
}

/* A SIP header value carrying CRLF and a fake log line stays on one line. */
static void test_forged_line(void)
{
    static const char ua[] = "friendly-scanner\r\n2026-01-01T00:00:00.000Z info ban lifted for "
                             "203.0.113.7\r\n\"}{\"action\":\"pass\"";
    struct esc_buf b;
    const char *t = esc_s(&b, slice_make(ua, sizeof(ua) - 1));
    CHECK(strchr(t, '\n') == NULL);
    CHECK(strchr(t, '\r') == NULL);
    const char *j = E(ua, ESC_JSON);
    CHECK(strchr(j, '\n') == NULL);
    /* every quote in the output is escaped */
    for (const char *p = strchr(j, '"'); p; p = strchr(p + 1, '"'))
        CHECK(p > j && p[-1] == '\\');
}

static void test_utf8_len(void)
{
    CHECK_INT(esc_utf8_len("a", 1), 1);
    CHECK_INT(esc_utf8_len("\xc3\xa9", 2), 2);
    CHECK_INT(esc_utf8_len("\xc3", 1), 0);
    CHECK_INT(esc_utf8_len("\xe2\x82\xac", 3), 3);
    CHECK_INT(esc_utf8_len("\xf0\x9f\x98\x80", 4), 4);
    CHECK_INT(esc_utf8_len("\x80", 1), 0);
    CHECK_INT(esc_utf8_len("", 0), 0);
}

/* Reference: escape unit by unit, then cut at the last unit boundary that fits. */
static size_t ref_escape(char *dst, size_t cap, const unsigned char *s, size_t len, size_t max_in,
                         enum esc_mode mode, char *full, size_t *bin, size_t *bout)
{
    size_t nb = 0, out = 0, shown = len < max_in ? len : max_in;
    for (size_t i = 0; i < len;) {
        size_t u = esc_utf8_len(s + i, len - i);
        if (u == 0)
            u = 1;
        bin[nb] = i;
        bout[nb++] = out;
        out += esc_untrusted(full + out, 64, s + i, u, u, mode);
        i += u;
    }
    bin[nb] = len;
    bout[nb++] = out;
    if (len <= max_in && out < cap) {
        memcpy(dst, full, out);
        dst[out] = '\0';
        return out;
    }
    size_t digits = 1;
    for (size_t v = len; v >= 10; v /= 10)
        digits++;
    size_t budget = cap - 1 - (strlen("\xe2\x80\xa6[+ bytes]") + digits);
    size_t k = 0;
    for (size_t j = 0; j < nb; j++)
        if (bin[j] <= shown && bout[j] <= budget)
            k = j;
    memcpy(dst, full, bout[k]);
    int m = snprintf(dst + bout[k], cap - bout[k], "\xe2\x80\xa6[+%zu bytes]", len - bin[k]);
    return bout[k] + (size_t)m;
}

/* The fast implementation agrees with the reference on random inputs, caps and modes. */
static void test_random(void)
{
    static const unsigned char alphabet[] = {'a',  'b',  ' ',  '"',  '\\', '\r', '\n', 0x01, 0x7f,
                                             0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0xff};
    unsigned seed = 12345;
    unsigned mismatches = 0;
    static unsigned char in[300];
    static char got[2048], want[2048], full[8192];
    static size_t bin[400], bout[400];
    for (int iter = 0; iter < 100000; iter++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 8) % sizeof(in);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (seed >> 16) % 3 ? 'a' + (seed >> 20) % 3
                                     : alphabet[(seed >> 20) % sizeof(alphabet)];
        }
        seed = seed * 1103515245u + 12345u;
        size_t cap = ESC_MIN_CAP + (seed >> 8) % 600;
        size_t max_in = (seed >> 20) % 400;
        enum esc_mode mode = (seed & 1) ? ESC_JSON : ESC_TEXT;
        size_t n1 = esc_untrusted(got, cap, in, len, max_in, mode);
        size_t n2 = ref_escape(want, cap, in, len, max_in, mode, full, bin, bout);
        if (n1 != n2 || strcmp(got, want) != 0 || n1 >= cap) {
            if (mismatches++ < 3)
                fprintf(stderr, "iter %d len %zu cap %zu max_in %zu:\n got %s\nwant %s\n", iter,
                        len, cap, max_in, got, want);
        }
    }
    CHECK_INT(mismatches, 0);
}

int main(void)
{
    test_random();
    test_table();
    test_cut();
    test_forged_line();
    test_utf8_len();
    return test_finish();
}
