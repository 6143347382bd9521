/*
 * Allocation-failure sweep: the configuration loader, the JSON writer and the diagnostics are
 * run with the Nth allocation failing, for every N, and must fail cleanly (-ENOMEM or a
 * recorded error), never crash or leak (the sanitizer build checks leaks).
 * malloc/calloc/realloc/strdup of the code under test are wrapped at link time
 * (-Wl,--wrap=...); libyaml's own allocations are not, which is fine: it reports them itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/general.h"
#include "pbxguard/core/json.h"
#include "pbxguard/core/log.h"
#include "test.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long fail_at = -1; /* allocation number that fails; -1 never */
static long allocs;

static bool should_fail(void)
{
    return fail_at >= 0 && allocs++ == fail_at;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return should_fail() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}

static const struct cfg_section table[] = {
    {"general", general_config_load, general_config_free},
    {"log", log_config_load, log_config_free},
    {"events", ev_config_load, ev_config_free},
};

static const char yaml_good[] = "general:\n  data_dir: /srv\n  user: pbx\n"
                                "log: {level: debug}\n"
                                "events:\n  destination: stdout\n  rotate_size: 1M\n";
static const char yaml_bad[] = "general:\n  data_dir: x\n  colour: 1\n  colour: 2\n"
                               "log: &a {level: loud}\nevents: *a\nextra: [1, 2]\n";

/* Runs one load with allocation number n failing; returns false once n is past the end. */
static bool run_once(const char *yaml, long n, bool expect_ok)
{
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;
    cfg_diag_init(&d);
    allocs = 0;
    fail_at = n;
    int rc =
        cfg_snapshot_load_buf("oom.yaml", yaml, strlen(yaml), table, PBX_ARRAY_SIZE(table), &d, &s);
    bool hit = allocs > n;
    fail_at = -1;
    if (rc == 0) {
        CHECK(expect_ok);
        CHECK(s != NULL);
    } else {
        CHECK(s == NULL);
        CHECK(rc == -ENOMEM || rc == -EINVAL);
    }
    cfg_snapshot_unref(s);
    cfg_diag_fini(&d);
    return hit;
}

static void sweep(const char *yaml, bool expect_ok)
{
    long n = 0;
    while (run_once(yaml, n, expect_ok) && n < 100000)
        n++;
    CHECK(n > 10); /* the sweep did reach many allocations */
}

static void json_sweep(void)
{
    for (long n = 0; n < 64; n++) {
        struct json_writer w;
        allocs = 0;
        fail_at = n;
        json_init_dynamic(&w, 1 << 20);
        json_arr_begin(&w);
        for (int i = 0; i < 2000; i++)
            json_str(&w, "some text to grow the buffer");
        json_arr_end(&w);
        int rc = json_error(&w);
        fail_at = -1;
        CHECK(rc == 0 || rc == -ENOMEM);
        json_fini(&w);
    }
}

int main(void)
{
    sweep(yaml_good, true);
    sweep(yaml_bad, false);
    json_sweep();
    return test_finish();
}
