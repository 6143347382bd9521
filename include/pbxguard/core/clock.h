/*
 * Time source for every subsystem. Tests inject a fixed or stepping clock so that rate
 * windows, ban expiry and schedules never depend on real time passing.
 * Not thread-safe to override while other threads read it; set it once at start-up.
 */
#ifndef PBXGUARD_CORE_CLOCK_H
#define PBXGUARD_CORE_CLOCK_H

#include <stdint.h>

typedef int64_t (*clock_now_fn)(void *ctx);

/* Monotonic milliseconds, for intervals and timers. */
int64_t clock_mono_ms(void);
/* Wall-clock milliseconds since the epoch, for records, expiry and schedules. */
int64_t clock_wall_ms(void);

/* Replace the wall and monotonic clocks (NULL restores the system clocks). */
void clock_override(clock_now_fn wall, clock_now_fn mono, void *ctx);

#endif
