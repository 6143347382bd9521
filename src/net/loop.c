/*
 * epoll event loop: fd watches indexed by fd number, a binary min-heap of caller-owned
 * timers, and one signalfd for every signal handled.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/net/loop.h"

#define LOOP_MAX_EVENTS 256
#define LOOP_MAX_SIGNAL 65

struct fd_watch {
    net_fd_fn fn;
    void *ctx;
    uint32_t gen; /* bumped on every add, so stale events for a reused fd number are dropped */
    bool used;
};

struct sig_watch {
    net_signal_fn fn;
    void *ctx;
};

struct net_loop {
    int epfd;
    bool stop;
    int64_t now_ms;
    uint64_t timer_seq;

    struct fd_watch *fds;
    size_t fds_cap;

    struct net_timer **heap;
    size_t heap_len, heap_cap;

    int sigfd;
    sigset_t sigmask;    /* signals routed to the signalfd */
    sigset_t saved_mask; /* thread mask before the first net_loop_signal() */
    bool saved_mask_valid;
    struct sig_watch sigs[LOOP_MAX_SIGNAL];
};

int net_loop_new(struct net_loop **out)
{
    struct net_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int err = -errno;
        free(l);
        return err;
    }
    l->sigfd = -1;
    sigemptyset(&l->sigmask);
    l->now_ms = clock_mono_ms();
    *out = l;
    return 0;
}

void net_loop_free(struct net_loop *l)
{
    if (!l)
        return;
    if (l->sigfd >= 0)
        close(l->sigfd);
    if (l->saved_mask_valid)
        sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
    for (size_t i = 0; i < l->heap_len; i++)
        l->heap[i]->heap_idx = SIZE_MAX;
    close(l->epfd);
    free(l->fds);
    free(l->heap);
    free(l);
}

static int ensure_fd_slot(struct net_loop *l, int fd)
{
    if ((size_t)fd < l->fds_cap)
        return 0;
    size_t cap = l->fds_cap ? l->fds_cap : 64;
    while (cap <= (size_t)fd)
        cap *= 2;
    struct fd_watch *nf = realloc(l->fds, cap * sizeof(*nf));
    if (!nf)
        return -ENOMEM;
    memset(nf + l->fds_cap, 0, (cap - l->fds_cap) * sizeof(*nf));
    l->fds = nf;
    l->fds_cap = cap;
    return 0;
}

static uint64_t pack(int fd, uint32_t gen)
{
    return ((uint64_t)gen << 32) | (uint32_t)fd;
}

int net_loop_add_fd(struct net_loop *l, int fd, uint32_t events, net_fd_fn fn, void *ctx)
{
    if (fd < 0 || !fn)
        return -EINVAL;
    int rc = ensure_fd_slot(l, fd);
    if (rc < 0)
        return rc;
    struct fd_watch *w = &l->fds[fd];
    if (w->used)
        return -EEXIST;
    w->gen++;
    struct epoll_event ev = {.events = events, .data.u64 = pack(fd, w->gen)};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    w->fn = fn;
    w->ctx = ctx;
    w->used = true;
    return 0;
}

int net_loop_mod_fd(struct net_loop *l, int fd, uint32_t events)
{
    if (fd < 0 || (size_t)fd >= l->fds_cap || !l->fds[fd].used)
        return -ENOENT;
    struct epoll_event ev = {.events = events, .data.u64 = pack(fd, l->fds[fd].gen)};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    return 0;
}

void net_loop_del_fd(struct net_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->fds_cap || !l->fds[fd].used)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->fds[fd].used = false;
    l->fds[fd].fn = NULL;
    /* A later add of the same fd number gets a new generation, so events still queued in
     * this iteration for the old registration are recognised as stale. */
    l->fds[fd].gen++;
}

/* ---- timers: binary min-heap keyed by (due_ms, seq) ---- */

static bool timer_before(const struct net_timer *a, const struct net_timer *b)
{
    if (a->due_ms != b->due_ms)
        return a->due_ms < b->due_ms;
    return a->seq < b->seq;
}

static void heap_set(struct net_loop *l, size_t i, struct net_timer *t)
{
    l->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(struct net_loop *l, size_t i)
{
    struct net_timer *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, l->heap[parent]))
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, t);
}

static void sift_down(struct net_loop *l, size_t i)
{
    struct net_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && timer_before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!timer_before(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

void net_timer_init(struct net_timer *t, net_timer_fn fn, void *ctx)
{
    memset(t, 0, sizeof(*t));
    t->heap_idx = SIZE_MAX;
    t->fn = fn;
    t->ctx = ctx;
}

bool net_timer_armed(const struct net_timer *t)
{
    return t->heap_idx != SIZE_MAX;
}

void net_timer_cancel(struct net_loop *l, struct net_timer *t)
{
    size_t i = t->heap_idx;
    if (i == SIZE_MAX || i >= l->heap_len || l->heap[i] != t)
        return;
    t->heap_idx = SIZE_MAX;
    l->heap_len--;
    if (i == l->heap_len)
        return;
    heap_set(l, i, l->heap[l->heap_len]);
    /* The moved element may belong above or below its new position. */
    if (i > 0 && timer_before(l->heap[i], l->heap[(i - 1) / 2]))
        sift_up(l, i);
    else
        sift_down(l, i);
}

static int insert_timer(struct net_loop *l, struct net_timer *t)
{
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        struct net_timer **nh = realloc(l->heap, cap * sizeof(*nh));
        if (!nh)
            return -ENOMEM;
        l->heap = nh;
        l->heap_cap = cap;
    }
    t->seq = l->timer_seq++;
    l->heap[l->heap_len] = t;
    t->heap_idx = l->heap_len++;
    sift_up(l, t->heap_idx);
    return 0;
}

int net_timer_add(struct net_loop *l, struct net_timer *t, uint32_t delay_ms, uint32_t period_ms)
{
    net_timer_cancel(l, t);
    /* Callers outside a callback may arm after a long pause; never count from stale time. */
    net_loop_update_time(l);
    t->due_ms = l->now_ms + delay_ms;
    t->period_ms = period_ms;
    return insert_timer(l, t);
}

size_t net_loop_timer_count(const struct net_loop *l)
{
    return l->heap_len;
}

static void fire_timers(struct net_loop *l)
{
    /* Only timers armed before this pass may fire in it: a callback that re-arms with a
     * zero delay waits for the next iteration instead of spinning here. */
    uint64_t seq_limit = l->timer_seq;
    while (l->heap_len > 0 && !l->stop) {
        struct net_timer *t = l->heap[0];
        if (t->due_ms > l->now_ms || t->seq >= seq_limit)
            break;
        net_timer_cancel(l, t);
        if (t->period_ms > 0) {
            /* Periodic timers keep their cadence; a late loop skips missed ticks. */
            int64_t due = t->due_ms + t->period_ms;
            if (due <= l->now_ms)
                due = l->now_ms + t->period_ms;
            t->due_ms = due;
            if (insert_timer(l, t) < 0)
                t->heap_idx = SIZE_MAX;
        }
        t->fn(t->ctx, t);
    }
}

/* ---- signals ---- */

static void on_signalfd(void *ctx, int fd, uint32_t events)
{
    struct net_loop *l = ctx;
    struct signalfd_siginfo si[8];
    for (int round = 0; round < 16; round++) {
        ssize_t n = read(fd, si, sizeof(si));
        if (n <= 0)
            return;
        for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
            unsigned signo = si[i].ssi_signo;
            if (signo < LOOP_MAX_SIGNAL && l->sigs[signo].fn)
                l->sigs[signo].fn(l->sigs[signo].ctx, (int)signo);
        }
    }
}

int net_loop_signal(struct net_loop *l, int signo, net_signal_fn fn, void *ctx)
{
    if (signo <= 0 || signo >= LOOP_MAX_SIGNAL || !fn || signo == SIGKILL || signo == SIGSTOP)
        return -EINVAL;
    if (!l->saved_mask_valid) {
        if (sigprocmask(SIG_SETMASK, NULL, &l->saved_mask) < 0)
            return -errno;
        l->saved_mask_valid = true;
    }
    sigset_t mask = l->sigmask;
    sigaddset(&mask, signo);
    int fd = signalfd(l->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (l->sigfd < 0) {
        int rc = net_loop_add_fd(l, fd, EPOLLIN, on_signalfd, l);
        if (rc < 0) {
            close(fd);
            return rc;
        }
        l->sigfd = fd;
    }
    /* Block only after the signalfd exists, so the signal is never lost in between. */
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
        return -errno;
    l->sigmask = mask;
    l->sigs[signo].fn = fn;
    l->sigs[signo].ctx = ctx;
    return 0;
}

/* ---- running ---- */

int64_t net_loop_now_ms(const struct net_loop *l)
{
    return l->now_ms;
}

int64_t net_loop_update_time(struct net_loop *l)
{
    int64_t now = clock_mono_ms();
    /* An injected clock may step backwards; loop time never does. */
    if (now > l->now_ms)
        l->now_ms = now;
    return l->now_ms;
}

int net_loop_run_once(struct net_loop *l, int timeout_ms)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    net_loop_update_time(l);
    int wait = timeout_ms;
    if (l->heap_len > 0) {
        int64_t until = l->heap[0]->due_ms - l->now_ms;
        if (until < 0)
            until = 0;
        if (wait < 0 || until < wait)
            wait = until > 86400000 ? 86400000 : (int)until;
    }
    int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, wait);
    if (n < 0) {
        if (errno == EINTR)
            n = 0;
        else
            return -errno;
    }
    net_loop_update_time(l);
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        if ((size_t)fd >= l->fds_cap)
            continue;
        struct fd_watch *w = &l->fds[fd];
        if (!w->used || w->gen != gen)
            continue;
        w->fn(w->ctx, fd, evs[i].events);
    }
    fire_timers(l);
    return n;
}

int net_loop_run(struct net_loop *l)
{
    l->stop = false;
    while (!l->stop) {
        int rc = net_loop_run_once(l, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void net_loop_stop(struct net_loop *l)
{
    l->stop = true;
}

bool net_loop_stopped(const struct net_loop *l)
{
    return l->stop;
}
