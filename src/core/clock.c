#include <time.h>

#include "pbxguard/core/clock.h"

static clock_now_fn wall_override;
static clock_now_fn mono_override;
static void *override_ctx;

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
    return mono_override ? mono_override(override_ctx) : read_clock(CLOCK_MONOTONIC);
}

int64_t clock_wall_ms(void)
{
    return wall_override ? wall_override(override_ctx) : read_clock(CLOCK_REALTIME);
}

void clock_override(clock_now_fn wall, clock_now_fn mono, void *ctx)
{
    wall_override = wall;
    mono_override = mono;
    override_ctx = ctx;
}
