/*
 * Control socket: a server in this process (its own thread, like the gateway's loop) and
 * the client library and the real `pbxguard ctl` binary against it: ban/allow/lockdown/top/
 * status round trips in text and JSON, an extension command registered by another
 * subsystem, protocol errors, and the SO_PEERCRED check against an unprivileged peer.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/ctl/ctl.h"
#include "pbxguard/detect/detect.h"
#include "test.h"

static char dir[64];
static struct ctl_server *srv;
static atomic_bool stop;
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;

static void *loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        struct pollfd p = {.fd = ctl_server_fd(srv), .events = POLLIN};
        if (poll(&p, 1, 50) == 1) {
            pthread_mutex_lock(&engine_lock);
            if (ctl_server_handle(srv) != 0)
                fprintf(stderr, "ctl_server_handle failed\n");
            pthread_mutex_unlock(&engine_lock);
        }
    }
    return NULL;
}

/* An "account" command as the fraud engine would register it. */
static char locked[64];
static int cmd_account(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    (void)ctx;
    if (r->argc != 3 || (strcmp(r->argv[1], "lock") && strcmp(r->argv[1], "unlock"))) {
        ctl_printf(o, "usage: account lock|unlock USER\n");
        return -EINVAL;
    }
    snprintf(locked, sizeof(locked), "%s", r->argv[1][0] == 'l' ? r->argv[2] : "");
    ctl_printf(o, "%s %s\n", r->argv[1], r->argv[2]);
    return 0;
}

static int reloads;
static int cmd_reload(const struct ctl_req *r, struct ctl_out *o, void *ctx)
{
    (void)r;
    (void)ctx;
    reloads++;
    ctl_printf(o, "reloaded\n");
    return 0;
}

static bool call(bool json, char **body, int n, ...)
{
    const char *argv[16];
    va_list ap;
    bool ok = false;
    size_t len;

    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    *body = NULL;
    int rc = ctl_call(dir, n, argv, json, 2000, body, &len, &ok);
    if (rc != 0) {
        TEST_FAIL_AT("ctl_call: %s", strerror(-rc));
        return false;
    }
    if (getenv("DEBUG_CTL"))
        fprintf(stderr, "%s -> %s: %s", argv[0], ok ? "ok" : "err", *body);
    return ok;
}

/* Runs the pbxguard binary; returns its exit status, stdout in out. */
static int run_cli(char *out, size_t cap, const char *const *args)
{
    int p[2], status;
    pid_t pid;
    size_t n = 0;

    if (pipe(p) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        const char *argv[16] = {PBXGUARD_BIN, "ctl", "--data-dir", dir};
        int i = 4;
        for (; *args && i < 15; args++)
            argv[i++] = *args;
        argv[i] = NULL;
        dup2(p[1], 1);
        close(p[0]);
        execv(PBXGUARD_BIN, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    for (;;) {
        ssize_t r = read(p[0], out + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    out[n] = '\0';
    close(p[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
    struct ban_config bc;
    struct ban_table *bans;
    struct det_config cfg;
    struct det_engine *e;
    pthread_t th;
    char *b;

    snprintf(dir, sizeof(dir), "/tmp/pbxctl-%d", (int)getpid());
    /* 0711: the unprivileged peer below may reach the socket path (then SO_PEERCRED decides). */
    if (mkdir(dir, 0711) != 0)
        return 1;
    ban_config_defaults(&bc);
    bc.capacity = 1024;
    det_config_defaults(&cfg);
    cfg.memory_max = 2u << 20;
    if (ban_table_new(&bc, &bans) != 0 || det_engine_new(&cfg, bans, NULL, NULL, 0, &e) != 0)
        return 1;
    CHECK_INT(ctl_server_open(dir, &srv), 0);
    if (!srv)
        return test_finish();
    struct stat st;
    CHECK_INT(stat(ctl_server_path(srv), &st), 0);
    CHECK_INT(st.st_mode & 0777, 0660);
    CHECK_INT(ctl_register_detect(srv, e), 0);
    CHECK_INT(ctl_register(srv, "account", "account lock|unlock USER", cmd_account, NULL), 0);
    CHECK_INT(ctl_register(srv, "reload", "reload the configuration", cmd_reload, NULL), 0);
    CHECK_INT(ctl_register(srv, "Bad Name", "x", cmd_reload, NULL), -EINVAL);
    pthread_create(&th, NULL, loop, NULL);

    /* ban add / list / del, text. */
    CHECK(call(false, &b, 5, "ban", "add", "203.0.113.77", "10m", "manual test"));
    CHECK(b && strstr(b, "banned 203.0.113.77 level 1 expires_in_s 600") != NULL);
    free(b);
    struct pbx_addr a;
    CHECK_INT(pbx_addr_parse("203.0.113.77", 12, &a), 0);
    pthread_mutex_lock(&engine_lock);
    CHECK(!det_admit(e, &a, PBX_TP_UDP, clock_wall_ms()));
    pthread_mutex_unlock(&engine_lock);
    CHECK(call(false, &b, 2, "ban", "list"));
    CHECK(b && strstr(b, "203.0.113.77\tctl\tlevel=1") != NULL && strstr(b, "manual test"));
    free(b);
    /* JSON list. */
    CHECK(call(true, &b, 2, "ban", "list"));
    CHECK(b && b[0] == '[' && strstr(b, "\"scope\":\"203.0.113.77\"") != NULL);
    free(b);
    CHECK(call(false, &b, 3, "ban", "add", "2001:db8:9::/64"));
    free(b);
    CHECK(call(false, &b, 3, "ban", "del", "203.0.113.77"));
    free(b);
    pthread_mutex_lock(&engine_lock);
    CHECK(det_admit(e, &a, PBX_TP_UDP, clock_wall_ms()));
    pthread_mutex_unlock(&engine_lock);
    CHECK(!call(false, &b, 3, "ban", "del", "203.0.113.77"));
    CHECK(b && strstr(b, "not banned"));
    free(b);
    CHECK(!call(false, &b, 3, "ban", "add", "not-an-ip"));
    free(b);

    /* allow-list: an allowed address cannot be banned. */
    CHECK(call(false, &b, 3, "allow", "add", "198.51.100.0/24"));
    free(b);
    CHECK(!call(false, &b, 3, "ban", "add", "198.51.100.9"));
    CHECK(b && strstr(b, "allow-listed"));
    free(b);
    CHECK(call(true, &b, 2, "allow", "list"));
    CHECK(b && strcmp(b, "[\"198.51.100.0/24\"]") == 0);
    free(b);
    CHECK(call(false, &b, 3, "allow", "del", "198.51.100.0/24"));
    free(b);

    /* lockdown, shadow, status, top. */
    CHECK(call(false, &b, 2, "lockdown", "on"));
    free(b);
    pthread_mutex_lock(&engine_lock);
    CHECK(det_lockdown(e));
    pthread_mutex_unlock(&engine_lock);
    CHECK(call(true, &b, 1, "status"));
    CHECK(b && strstr(b, "\"lockdown\":true") && strstr(b, "\"bans_active\":1"));
    free(b);
    CHECK(call(false, &b, 2, "lockdown", "off"));
    free(b);
    pthread_mutex_lock(&engine_lock);
    struct pbx_addr t1;
    CHECK_INT(pbx_addr_parse("192.0.2.1", 9, &t1), 0);
    for (int i = 0; i < 50; i++)
        (void)det_admit(e, &t1, PBX_TP_UDP, clock_wall_ms());
    pthread_mutex_unlock(&engine_lock);
    CHECK(call(false, &b, 2, "top", "5"));
    CHECK(b && strncmp(b, "192.0.2.1\t50", 12) == 0);
    free(b);

    /* Extension commands and errors. */
    CHECK(call(false, &b, 3, "account", "lock", "201"));
    free(b);
    CHECK_STR(locked, "201");
    CHECK(call(false, &b, 1, "reload"));
    free(b);
    CHECK_INT(reloads, 1);
    CHECK(!call(false, &b, 1, "frobnicate"));
    CHECK(b && strstr(b, "unknown command"));
    free(b);
    CHECK(call(false, &b, 1, "help"));
    CHECK(b && strstr(b, "account") && strstr(b, "lockdown"));
    free(b);
    const char *nl[] = {"ban", "add", "1.2.3.4\nstatus"};
    bool ok;
    size_t len;
    CHECK_INT(ctl_call(dir, 3, nl, false, 1000, &b, &len, &ok), -EINVAL);

    /* The real CLI. */
    char out[8192];
    const char *a1[] = {"--json", "status", NULL};
    CHECK_INT(run_cli(out, sizeof(out), a1), 0);
    CHECK(strstr(out, "\"shadow\":false") != NULL);
    const char *a2[] = {"ban", "add", "203.0.113.99", "1h", NULL};
    CHECK_INT(run_cli(out, sizeof(out), a2), 0);
    const char *a3[] = {"ban", "list", NULL};
    CHECK_INT(run_cli(out, sizeof(out), a3), 0);
    CHECK(strstr(out, "203.0.113.99") != NULL);
    const char *a4[] = {"ban", "del", "192.0.2.200", NULL};
    CHECK_INT(run_cli(out, sizeof(out), a4), 1);
    const char *a5[] = {NULL};
    CHECK_INT(run_cli(out, sizeof(out), a5), 2);

    /* An unprivileged peer is refused even when it can reach the socket. */
    if (geteuid() == 0) {
        CHECK_INT(chmod(ctl_server_path(srv), 0666), 0);
        pid_t pid = fork();
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(10);
            const char *s[] = {"status"};
            char *body = NULL;
            bool okk = true;
            size_t l;
            int rc = ctl_call(dir, 1, s, false, 2000, &body, &l, &okk);
            _exit(rc == 0 && !okk && body && strstr(body, "permission denied") ? 0 : 1);
        }
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK_INT(chmod(ctl_server_path(srv), 0660), 0);
    }

    atomic_store(&stop, true);
    pthread_join(th, NULL);
    ctl_server_close(srv);
    CHECK(access(dir, F_OK) == 0);
    char sock[128];
    snprintf(sock, sizeof(sock), "%s/%s", dir, CTL_SOCKET_NAME);
    CHECK(access(sock, F_OK) != 0);
    /* No daemon: exit 3. */
    CHECK_INT(run_cli(out, sizeof(out), a1), 3);
    det_engine_free(e);
    ban_table_free(bans);
    rmdir(dir);
    return test_finish();
}
