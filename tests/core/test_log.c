/* Diagnostic log: levels, file destination, one line per call whatever the message holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/core/escape.h"
#include "pbxguard/core/log.h"
#include "test.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[16384];
    size_t n = 0;
    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static unsigned count_char(const char *s, char c)
{
    unsigned n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

int main(void)
{
    char tmpl[] = "/tmp/pbx-log-XXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0);
    close(fd);

    struct log_config cfg = {.level = LOG_LEVEL_WARN, .dest = LOG_DEST_FILE, .path = tmpl};
    CHECK_INT(log_configure(&cfg), 0);
    CHECK(log_enabled(LOG_LEVEL_ERROR));
    CHECK(!log_enabled(LOG_LEVEL_INFO));
    log_info("not shown");
    log_warn("shown %d", 1);
    log_error("also shown");
    /* an unescaped message with CR/LF still yields a single line */
    log_write(LOG_LEVEL_WARN, "a\r\nb");
    /* the escape helper renders attacker bytes visibly */
    static const char ua[] = "evil\r\n2026-01-01T00:00:00.000Z info forged";
    struct esc_buf b;
    log_warn("user agent %s", esc_s(&b, slice_make(ua, sizeof(ua) - 1)));
    /* an over-long message is cut with a marker, still one line */
    char *big = malloc(LOG_LINE_MAX * 2);
    if (big) {
        memset(big, 'x', LOG_LINE_MAX * 2 - 1);
        big[LOG_LINE_MAX * 2 - 1] = '\0';
        log_error("%s", big);
        free(big);
    }
    log_close();

    const char *text = slurp(tmpl);
    CHECK(text != NULL);
    if (text) {
        CHECK_INT(count_char(text, '\n'), 5);
        CHECK(strstr(text, "not shown") == NULL);
        CHECK(strstr(text, "Z warn shown 1\n") != NULL);
        CHECK(strstr(text, "Z error also shown\n") != NULL);
        CHECK(strstr(text, "Z warn a  b\n") != NULL);
        CHECK(strstr(text, "user agent evil\\r\\n2026-01-01T00:00:00.000Z info forged\n") != NULL);
        CHECK(strstr(text, "xxx\xe2\x80\xa6\n") != NULL);
        /* every line starts with a timestamp */
        for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
            CHECK(p[4] == '-' && p[10] == 'T');
            if (!strchr(p, '\n'))
                break;
        }
    }
    CHECK_STR(log_level_name(LOG_LEVEL_DEBUG), "debug");
    log_set_level(LOG_LEVEL_DEBUG);
    CHECK_INT(log_get_level(), LOG_LEVEL_DEBUG);

    struct log_config badcfg = {.dest = LOG_DEST_FILE, .path = "/nonexistent-dir/x.log"};
    CHECK(log_configure(&badcfg) < 0);
    unlink(tmpl);
    return test_finish();
}
