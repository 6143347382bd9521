/*
 * Single-threaded epoll event loop with millisecond timers and signalfd signals.
 *
 * One loop runs on one thread; no function here is thread-safe. Callbacks run on the loop's
 * thread from inside net_loop_run()/net_loop_run_once() and may add, modify or delete fds and
 * timers (including their own) freely.
 *
 * Timers live in caller storage (struct net_timer, embedded in the owner's object) and sit in a
 * binary min-heap ordered by due time, then by arming order: add and cancel are O(log n) and
 * never allocate once the heap has grown to its high-water mark. Timers due at the same
 * millisecond fire in the order they were armed.
 */
#ifndef PBXGUARD_NET_LOOP_H
#define PBXGUARD_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"

struct net_loop;
struct net_timer;

/* fd readiness: events is a mask of EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP. */
typedef void (*net_fd_fn)(void *ctx, int fd, uint32_t events);
/* A timer fired. A one-shot timer is already disarmed; a periodic one is already re-armed. */
typedef void (*net_timer_fn)(void *ctx, struct net_timer *t);
/* A signal registered with net_loop_signal() arrived (delivered through a signalfd). */
typedef void (*net_signal_fn)(void *ctx, int signo);

/* Caller-owned timer. Treat the fields as private; initialise with net_timer_init(). */
struct net_timer {
    int64_t due_ms;     /* loop time when it fires */
    uint64_t seq;       /* arming order, breaks ties between equal due times */
    uint32_t period_ms; /* 0 = one-shot */
    size_t heap_idx;    /* position in the heap; SIZE_MAX when not armed */
    net_timer_fn fn;
    void *ctx;
};

/* Creates a loop (epoll fd, timer heap). Returns 0, -ENOMEM, or -errno from epoll_create1. */
PBX_WUR int net_loop_new(struct net_loop **out);
/* Closes the epoll fd and any signalfd and restores the signal mask. Registered fds are not
 * closed (their owners close them). Armed timers are forgotten. NULL is a no-op. */
void net_loop_free(struct net_loop *l);

/*
 * Watches fd (borrowed; the caller closes it after net_loop_del_fd) for events.
 * Level-triggered. Returns 0, -EEXIST if fd is already watched, -ENOMEM, or -errno.
 */
PBX_WUR int net_loop_add_fd(struct net_loop *l, int fd, uint32_t events, net_fd_fn fn, void *ctx);
/* Changes the event mask of a watched fd. Returns 0, -ENOENT, or -errno. */
PBX_WUR int net_loop_mod_fd(struct net_loop *l, int fd, uint32_t events);
/* Stops watching fd. Safe to call from any callback, including fd's own; events already
 * collected for fd in the current iteration are dropped. Unknown fds are ignored. */
void net_loop_del_fd(struct net_loop *l, int fd);

/* Prepares a disarmed timer. */
void net_timer_init(struct net_timer *t, net_timer_fn fn, void *ctx);
/*
 * Arms (or re-arms) t to fire delay_ms from now (the loop time is refreshed first), then every
 * period_ms if period_ms > 0. t is borrowed and must stay valid until it fires (one-shot) or is
 * cancelled. Returns 0 or -ENOMEM (heap growth; the timer stays disarmed).
 */
PBX_WUR int net_timer_add(struct net_loop *l, struct net_timer *t, uint32_t delay_ms,
                          uint32_t period_ms);
/* Disarms t; a no-op when it is not armed. O(log n). */
void net_timer_cancel(struct net_loop *l, struct net_timer *t);
bool net_timer_armed(const struct net_timer *t);
/* Number of armed timers. */
size_t net_loop_timer_count(const struct net_loop *l);

/*
 * Delivers signo through a signalfd: the signal is blocked for the calling thread and fn runs
 * from the loop. One handler per signal; a second call replaces the handler.
 * Returns 0, -EINVAL, or -errno.
 */
PBX_WUR int net_loop_signal(struct net_loop *l, int signo, net_signal_fn fn, void *ctx);

/* The loop's cached monotonic time in ms (clock_mono_ms(), refreshed every iteration). */
int64_t net_loop_now_ms(const struct net_loop *l);
/* Refreshes the cached time from clock_mono_ms() and returns it. */
int64_t net_loop_update_time(struct net_loop *l);

/*
 * Runs one iteration: waits at most timeout_ms (-1 = until the next timer or event) for fd
 * events, dispatches them, then fires due timers. Returns the number of fd events dispatched
 * (>= 0) or -errno from epoll_wait (-EINTR is reported as 0).
 */
PBX_WUR int net_loop_run_once(struct net_loop *l, int timeout_ms);
/* Runs until net_loop_stop(). Returns 0 or -errno. */
PBX_WUR int net_loop_run(struct net_loop *l);
/* Makes net_loop_run() return after the current iteration. Callable from any callback. */
void net_loop_stop(struct net_loop *l);
bool net_loop_stopped(const struct net_loop *l);

#endif
