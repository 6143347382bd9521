/* See gw_fixture.h. */
#include "gw_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "gw_util.h"

#define ARGV_MAX 24

int gw_fixture_init(struct gw_fixture *gw, const char *tag)
{
    memset(gw, 0, sizeof(*gw));
    snprintf(gw->dir, sizeof(gw->dir), "/tmp/pbxguard-%s-XXXXXX", tag);
    if (!mkdtemp(gw->dir)) {
        perror("mkdtemp");
        return -errno;
    }
    snprintf(gw->conf, sizeof(gw->conf), "%s/pbxguard.yaml", gw->dir);
    return 0;
}

int gw_fixture_write_config(const struct gw_fixture *gw, const char *fmt, ...)
{
    va_list ap;
    FILE *f = fopen(gw->conf, "w");
    if (!f) {
        perror("config");
        return -errno;
    }
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    return fclose(f) == 0 ? 0 : -errno;
}

pid_t gw_fixture_start(struct gw_fixture *gw, const char *bin, const char *const *extra)
{
    const char *argv[ARGV_MAX] = {bin, "gateway", "-c", gw->conf, "--data-dir", gw->dir};
    size_t n = 6;
    for (size_t i = 0; extra && extra[i]; i++) {
        if (n + 1 >= ARGV_MAX)
            return -1;
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    gw->pid = fork();
    if (gw->pid == 0) {
        execv(bin, (char *const *)(void *)argv);
        _exit(127);
    }
    return gw->pid;
}

bool gw_fixture_wait_ready(int cl, uint16_t cl_port, int up, uint16_t gw_port)
{
    static char buf[16384], got[16384];
    bool ready = false;
    for (int i = 0; i < 50 && !ready; i++) {
        char cid[32];
        snprintf(cid, sizeof(cid), "ready-%d", i);
        options(buf, sizeof(buf), cl_port, cid);
        send_to(cl, gw_port, buf);
        ready = upstream_wait(up, gw_port, "ready-", got, sizeof(got), 5, NULL, NULL);
    }
    /* Answers to earlier probes may still arrive; later reads must not see them. */
    while (recv_within(cl, got, sizeof(got), 0, NULL))
        ;
    return ready;
}

bool gw_fixture_stop(struct gw_fixture *gw, int timeout_ms, int *status)
{
    bool in_time = true;
    *status = 0;
    if (gw->pid <= 0)
        return false;
    kill(gw->pid, SIGTERM);
    /* A pidfd bounds the wait; without one (old kernels) the wait blocks. */
    int pfd = (int)syscall(SYS_pidfd_open, gw->pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        in_time = poll(&p, 1, timeout_ms) == 1;
        close(pfd);
    }
    if (waitpid(gw->pid, status, pfd >= 0 ? WNOHANG : 0) != gw->pid) {
        kill(gw->pid, SIGKILL);
        waitpid(gw->pid, status, 0);
        in_time = false;
    }
    gw->pid = 0;
    return in_time;
}

int gw_fixture_remove(const struct gw_fixture *gw)
{
    char path[sizeof(gw->dir) + 258]; /* dir, "/", a d_name of up to 255 bytes */
    DIR *d = opendir(gw->dir);
    if (!d)
        return -errno;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", gw->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(gw->dir) == 0 ? 0 : -errno;
}

int gw_free_port(int type, uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        rc = -errno;
    else
        *port = ntohs(sa.sin_port);
    close(fd);
    return rc;
}
