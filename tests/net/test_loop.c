/* Event loop: timer order, cancel, periodic timers, fd readiness, signals via signalfd. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/net/loop.h"
#include "test.h"

#define N_TIMERS 200

struct rec {
    int order[N_TIMERS + 8];
    int n;
};

struct tctx {
    struct rec *rec;
    int tag;
};

static void on_timer(void *ctx, struct net_timer *t)
{
    struct tctx *c = ctx;
    if (c->rec->n < (int)PBX_ARRAY_SIZE(c->rec->order))
        c->rec->order[c->rec->n++] = c->tag;
}

/* A stepping fake clock: the loop sees time move only when the test says so. */
static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
    return fake_now;
}

static void test_timer_order(void)
{
    struct net_loop *l = NULL;
    clock_override(NULL, fake_clock, NULL);
    fake_now = 1000;
    CHECK_INT(net_loop_new(&l), 0);
    static struct net_timer timers[N_TIMERS];
    static struct tctx ctxs[N_TIMERS];
    struct rec rec = {0};
    /* Pseudo-random delays with many ties; ties must fire in arming order. */
    unsigned seed = 12345;
    uint32_t delay[N_TIMERS];
    for (int i = 0; i < N_TIMERS; i++) {
        seed = seed * 1103515245u + 12345u;
        delay[i] = (seed >> 16) % 50;
        ctxs[i] = (struct tctx){&rec, i};
        net_timer_init(&timers[i], on_timer, &ctxs[i]);
        CHECK_INT(net_timer_add(l, &timers[i], delay[i], 0), 0);
    }
    /* Cancel every 7th: they must never fire. */
    for (int i = 0; i < N_TIMERS; i += 7)
        net_timer_cancel(l, &timers[i]);
    CHECK(!net_timer_armed(&timers[0]));
    for (int step = 0; step <= 50; step++) {
        fake_now = 1000 + step;
        CHECK(net_loop_run_once(l, 0) >= 0);
    }
    int expected = 0;
    for (int i = 0; i < N_TIMERS; i++)
        if (i % 7 != 0)
            expected++;
    CHECK_INT(rec.n, expected);
    bool ordered = true;
    for (int i = 1; i < rec.n; i++) {
        int a = rec.order[i - 1], b = rec.order[i];
        if (delay[a] > delay[b] || (delay[a] == delay[b] && a > b))
            ordered = false;
    }
    CHECK(ordered);
    CHECK_INT(net_loop_timer_count(l), 0);
    net_loop_free(l);
    clock_override(NULL, NULL, NULL);
}

static void test_periodic(void)
{
    struct net_loop *l = NULL;
    clock_override(NULL, fake_clock, NULL);
    fake_now = 0;
    CHECK_INT(net_loop_new(&l), 0);
    struct rec rec = {0};
    struct tctx c = {&rec, 1};
    struct net_timer t;
    net_timer_init(&t, on_timer, &c);
    CHECK_INT(net_timer_add(l, &t, 10, 10), 0);
    for (int step = 1; step <= 55; step++) {
        fake_now = step;
        CHECK(net_loop_run_once(l, 0) >= 0);
    }
    CHECK_INT(rec.n, 5); /* 10, 20, 30, 40, 50 */
    CHECK(net_timer_armed(&t));
    net_timer_cancel(l, &t);
    CHECK(!net_timer_armed(&t));
    net_loop_free(l);
    clock_override(NULL, NULL, NULL);
}

struct fdctx {
    int hits;
    struct net_loop *l;
};

static void on_fd(void *ctx, int fd, uint32_t events)
{
    struct fdctx *c = ctx;
    char buf[16];
    if (read(fd, buf, sizeof(buf)) > 0)
        c->hits++;
}

static void on_sig(void *ctx, int signo)
{
    int *got = ctx;
    *got = signo;
}

static void test_fd_and_signal(void)
{
    struct net_loop *l = NULL;
    CHECK_INT(net_loop_new(&l), 0);
    int p[2];
    CHECK_INT(pipe(p), 0);
    struct fdctx c = {0, l};
    CHECK_INT(net_loop_add_fd(l, p[0], EPOLLIN, on_fd, &c), 0);
    CHECK_INT(net_loop_add_fd(l, p[0], EPOLLIN, on_fd, &c), -EEXIST);
    CHECK_INT(write(p[1], "x", 1), 1);
    CHECK(net_loop_run_once(l, 1000) >= 1);
    CHECK_INT(c.hits, 1);
    net_loop_del_fd(l, p[0]);
    CHECK_INT(write(p[1], "y", 1), 1);
    CHECK_INT(net_loop_run_once(l, 10), 0);
    CHECK_INT(c.hits, 1);

    int got = 0;
    CHECK_INT(net_loop_signal(l, SIGUSR1, on_sig, &got), 0);
    CHECK_INT(raise(SIGUSR1), 0);
    for (int i = 0; i < 100 && !got; i++)
        CHECK(net_loop_run_once(l, 10) >= 0);
    CHECK_INT(got, SIGUSR1);
    net_loop_free(l);
    close(p[0]);
    close(p[1]);
}

static void on_stop(void *ctx, struct net_timer *t)
{
    net_loop_stop(ctx);
}

static void test_run_stop(void)
{
    struct net_loop *l = NULL;
    CHECK_INT(net_loop_new(&l), 0);
    struct net_timer t;
    net_timer_init(&t, on_stop, l);
    CHECK_INT(net_timer_add(l, &t, 5, 0), 0);
    int64_t t0 = clock_mono_ms();
    CHECK_INT(net_loop_run(l), 0);
    int64_t dt = clock_mono_ms() - t0;
    CHECK(dt >= 4 && dt < 1000);
    net_loop_free(l);
}

int main(void)
{
    test_timer_order();
    test_periodic();
    test_fd_and_signal();
    test_run_stop();
    return test_finish();
}
