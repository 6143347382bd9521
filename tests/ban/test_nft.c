/*
 * Kernel enforcement in network namespaces the test creates: an "attacker" namespace and a
 * "victim" namespace joined by a veth pair. Real UDP datagrams (IPv4 and IPv6) from the
 * attacker reach the victim until pbxguard's nftables table bans the source, are dropped by
 * the kernel while banned, and pass again after unban or timeout expiry. Needs root (CI runs
 * integration tests as root); exits 77 (skipped) otherwise.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbxguard/ban/nft.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/detect/detect.h"
#include "pbxguard/store/store.h"
#include "test.h"

static char ns_a[32], ns_v[32];

static int sh(const char *fmt, ...) PBX_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int enter(const char *ns)
{
    char path[64];
    int fd, rc;
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = setns(fd, CLONE_NEWNET);
    close(fd);
    return rc;
}

static int udp(int family, const char *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        inet_pton(AF_INET, addr, &s->sin_addr);
        len = sizeof(*s);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &s->sin6_addr);
        len = sizeof(*s);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0)
        return -1;
    return fd;
}

/* Sends one datagram from tx to dst and reports whether rx got it within wait_ms. */
static bool delivered(int tx, int rx, int family, const char *dst, int wait_ms)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char buf[64];
    struct pollfd p = {.fd = rx, .events = POLLIN};

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(5060);
        inet_pton(AF_INET, dst, &s->sin_addr);
        len = sizeof(*s);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(5060);
        inet_pton(AF_INET6, dst, &s->sin6_addr);
        len = sizeof(*s);
    }
    while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ; /* drain */
    if (sendto(tx, "OPTIONS", 7, 0, (struct sockaddr *)&ss, len) != 7)
        return false;
    return poll(&p, 1, wait_ms) == 1 && recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0;
}

/* Readiness: retries (bounded) until a datagram gets through. */
static bool path_open(int tx, int rx, int family, const char *dst)
{
    for (int i = 0; i < 30; i++)
        if (delivered(tx, rx, family, dst, 100))
            return true;
    return false;
}

/* Several sends, none delivered. */
static bool path_closed(int tx, int rx, int family, const char *dst)
{
    for (int i = 0; i < 4; i++)
        if (delivered(tx, rx, family, dst, 100))
            return false;
    return true;
}

/* The daemon's start-up pieces: ban table, engine, store, nftables with the default hook. */
struct daemon {
    struct ban_table *bans;
    struct det_engine *e;
    struct store *s;
    struct ban_nft *n;
};

static int daemon_up(struct daemon *d, const char *db)
{
    struct ban_config bc;
    struct det_config dc;
    struct store_config sc;
    int rc;

    memset(d, 0, sizeof(*d));
    ban_config_defaults(&bc);
    bc.capacity = 256;
    det_config_defaults(&dc);
    dc.memory_max = 1u << 20;
    dc.signatures = "";
    store_config_defaults(&sc);
    sc.path = db;
    if ((rc = ban_table_new(&bc, &d->bans)) ||
        (rc = det_engine_new(&dc, d->bans, NULL, NULL, 0, &d->e)) ||
        (rc = store_open(&sc, &d->s)) || (rc = ban_nft_open("pbxguard_t", &d->n)))
        return rc;
    det_attach_default_hook(d->e, d->s, d->n);
    return 0;
}

static void daemon_down(struct daemon *d)
{
    det_engine_free(d->e);
    store_close(d->s);
    ban_nft_close(d->n, true);
    ban_table_free(d->bans);
}

/* A daemon bans the attacker, commits, and is killed with SIGKILL; the restarted one must
 * restore the ban from the store into memory and into the kernel. */
static void test_restart_after_kill9(int tx4, int rx4)
{
    char db[64];
    int p[2];
    pid_t pid;
    char c = 0;
    struct daemon d;
    struct pbx_addr atk;

    snprintf(db, sizeof(db), "/tmp/pbxnft-%d.db", (int)getpid());
    CHECK_INT(pbx_addr_parse("10.213.0.1", 10, &atk), 0);
    CHECK_INT(pipe(p), 0);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (daemon_up(&d, db) != 0)
            _exit(2);
        if (det_ban(d.e, &atk, 0, 3600 * 1000, "det.test", "kill9", clock_wall_ms(), NULL) != 0)
            _exit(3);
        if (store_commit(d.s) < 1)
            _exit(4);
        if (write(p[1], "c", 1) != 1)
            _exit(5);
        for (;;)
            pause(); /* killed here, mid-run */
    }
    close(p[1]);
    CHECK_INT(read(p[0], &c, 1), 1);
    close(p[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* The dead daemon's table is still in the kernel. */
    CHECK(path_closed(tx4, rx4, AF_INET, "10.213.0.2"));
    /* Restart: the table is recreated empty, then the store refills memory and kernel. */
    CHECK_INT(daemon_up(&d, db), 0);
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2"));
    CHECK_INT(det_restore(d.e, d.s, clock_wall_ms()), 1);
    CHECK(ban_check(d.bans, &atk, clock_wall_ms(), NULL));
    CHECK(path_closed(tx4, rx4, AF_INET, "10.213.0.2"));
    /* Operator unban through the engine lifts it in the kernel and in the store. */
    CHECK_INT(det_unban(d.e, &atk, 0, clock_wall_ms()), 0);
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2"));
    CHECK_INT(store_commit(d.s), 1);
    daemon_down(&d);
    CHECK_INT(daemon_up(&d, db), 0);
    CHECK_INT(det_restore(d.e, d.s, clock_wall_ms()), 0);
    daemon_down(&d);
    char path[80];
    unlink(db);
    snprintf(path, sizeof(path), "%s-wal", db);
    unlink(path);
    snprintf(path, sizeof(path), "%s-shm", db);
    unlink(path);
}

static struct ban_entry entry(const char *ip, unsigned prefix, int64_t expires)
{
    struct ban_entry e;
    memset(&e, 0, sizeof(e));
    if (pbx_addr_parse(ip, strlen(ip), &e.addr) != 0)
        abort();
    e.prefix = (uint8_t)prefix;
    e.expires_ms = expires;
    return e;
}

int main(void)
{
    int self, tx4, tx6, rx4, rx6;
    struct ban_nft *n = NULL;
    struct ban_entry e;

    if (geteuid() != 0 || system("ip -V >/dev/null 2>&1") != 0) {
        printf("skipped: needs root and iproute2\n");
        return 77;
    }
    snprintf(ns_a, sizeof(ns_a), "pbxt%da", (int)getpid());
    snprintf(ns_v, sizeof(ns_v), "pbxt%dv", (int)getpid());
    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (sh("ip netns add %s && ip netns add %s", ns_a, ns_v) != 0 ||
        sh("ip -n %s link add ea type veth peer name ev netns %s", ns_a, ns_v) != 0 ||
        sh("ip -n %s addr add 10.213.0.1/24 dev ea && ip -n %s addr add fd00:213::1/64 dev ea "
           "nodad && ip -n %s link set ea up && ip -n %s link set lo up",
           ns_a, ns_a, ns_a, ns_a) != 0 ||
        sh("ip -n %s addr add 10.213.0.2/24 dev ev && ip -n %s addr add fd00:213::2/64 dev ev "
           "nodad && ip -n %s link set ev up && ip -n %s link set lo up",
           ns_v, ns_v, ns_v, ns_v) != 0) {
        TEST_FAIL_AT("namespace setup failed");
        goto out;
    }
    /* Sockets keep the namespace they were created in. */
    CHECK_INT(enter(ns_a), 0);
    tx4 = udp(AF_INET, "10.213.0.1", 0);
    tx6 = udp(AF_INET6, "fd00:213::1", 0);
    CHECK_INT(enter(ns_v), 0);
    rx4 = udp(AF_INET, "10.213.0.2", 5060);
    rx6 = udp(AF_INET6, "fd00:213::2", 5060);
    CHECK(tx4 >= 0 && tx6 >= 0 && rx4 >= 0 && rx6 >= 0);

    /* Control: without pbxguard's table the attacker's packets arrive. */
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2"));
    CHECK(path_open(tx6, rx6, AF_INET6, "fd00:213::2"));

    int rc = ban_nft_open("pbxguard_t", &n);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "nft: %s\n", n ? ban_nft_error(n) : "");
        goto out;
    }
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2")); /* table alone drops nothing */

    /* IPv4: ban with a 1.5 s timeout -> dropped, then passes again after expiry. */
    e = entry("10.213.0.1", 32, 1500);
    CHECK_INT(ban_nft_add(n, &e, 0), 0);
    int64_t t0 = mono_ms();
    CHECK(path_closed(tx4, rx4, AF_INET, "10.213.0.2"));
    bool back = false;
    while (!back && mono_ms() - t0 < 8000)
        back = delivered(tx4, rx4, AF_INET, "10.213.0.2", 200);
    CHECK(back);
    CHECK(mono_ms() - t0 >= 1200);
    /* Permanent ban, then unban. */
    e = entry("10.213.0.1", 32, BAN_PERMANENT);
    CHECK_INT(ban_nft_add(n, &e, 0), 0);
    CHECK(path_closed(tx4, rx4, AF_INET, "10.213.0.2"));
    CHECK_INT(ban_nft_add(n, &e, 0), 0); /* refresh is idempotent */
    CHECK_INT(ban_nft_del(n, &e), 0);
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2"));
    CHECK_INT(ban_nft_del(n, &e), 0); /* deleting an absent element is fine */

    /* IPv6 /128, then the /64 interval set. */
    e = entry("fd00:213::1", 128, 600000);
    CHECK_INT(ban_nft_add(n, &e, 0), 0);
    CHECK(path_closed(tx6, rx6, AF_INET6, "fd00:213::2"));
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2")); /* other family unaffected */
    CHECK_INT(ban_nft_del(n, &e), 0);
    CHECK(path_open(tx6, rx6, AF_INET6, "fd00:213::2"));
    e = entry("fd00:213::", 64, 600000);
    rc = ban_nft_add(n, &e, 0);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "nft: %s\n", ban_nft_error(n));
    CHECK(path_closed(tx6, rx6, AF_INET6, "fd00:213::2"));
    CHECK_INT(ban_nft_add(n, &e, 0), 0);
    CHECK_INT(ban_nft_del(n, &e), 0);
    CHECK(path_open(tx6, rx6, AF_INET6, "fd00:213::2"));

    /* Close removes the table: a new ban table in place of it, then none. */
    e = entry("10.213.0.1", 32, BAN_PERMANENT);
    CHECK_INT(ban_nft_add(n, &e, 0), 0);
    ban_nft_close(n, true);
    n = NULL;
    CHECK(path_open(tx4, rx4, AF_INET, "10.213.0.2"));
    CHECK(sh("ip netns exec %s nft list table inet pbxguard_t >/dev/null 2>&1", ns_v) != 0);

    test_restart_after_kill9(tx4, rx4);
out:
    ban_nft_close(n, true);
    if (self >= 0 && setns(self, CLONE_NEWNET) != 0)
        perror("setns");
    sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_a, ns_v);
    return test_finish();
}
