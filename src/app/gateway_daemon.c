/* Daemon lifecycle of `pbxguard gateway`; see gateway_daemon.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/capability.h>

#include "gateway_daemon.h"

int gw_daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    (void)dup2(fd, STDIN_FILENO);
    (void)dup2(fd, STDOUT_FILENO);
    (void)dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return 0;
}

int gw_pidfile_write(const char *path)
{
    char buf[32];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    int rc = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
    close(fd);
    return rc;
}

int gw_datadir_prepare(const char *dir, long uid, long gid)
{
    struct stat st;
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return -errno;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (geteuid() == 0 && uid >= 0 && (st.st_uid != (uid_t)uid || st.st_gid != (gid_t)gid))
        if (chown(dir, (uid_t)uid, (gid_t)gid) < 0)
            return -errno;
    return 0;
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        got += (size_t)n;
    }
    return 0;
}

int gw_flow_key_load(const char *dir, long uid, long gid, struct flow_key *k, bool *persistent)
{
    char path[4096];
    uint8_t secret[32];
    int rc;
    *persistent = false;
    if (!dir || snprintf(path, sizeof(path), "%s/flow.key", dir) >= (int)sizeof(path))
        return flow_key_init_random(k);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        rc = read_full(fd, secret, sizeof(secret));
        close(fd);
        if (rc == 0 && flow_key_init_secret(k, secret, sizeof(secret)) == 0) {
            *persistent = true;
            explicit_bzero(secret, sizeof(secret));
            return 0;
        }
        return flow_key_init_random(k);
    }
    if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret))
        return flow_key_init_random(k);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        if (write(fd, secret, sizeof(secret)) == (ssize_t)sizeof(secret))
            *persistent = true;
        if (geteuid() == 0 && uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0)
            *persistent = false;
        close(fd);
        if (!*persistent)
            (void)unlink(path);
    }
    rc = flow_key_init_secret(k, secret, sizeof(secret));
    explicit_bzero(secret, sizeof(secret));
    return rc;
}

int gw_lookup_account(const char *user, const char *group, long *uid, long *gid)
{
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return -ENOENT;
    *uid = (long)pw->pw_uid;
    *gid = (long)pw->pw_gid;
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr)
            return -ENOENT;
        *gid = (long)gr->gr_gid;
    }
    return 0;
}

int gw_drop_privileges(long uid, long gid)
{
    /* CAP_NET_BIND_SERVICE: listeners re-created on reload may use ports below 1024;
     * CAP_NET_ADMIN: the ban subsystem programs nftables. Nothing else survives. */
    static const cap_value_t keep[] = {CAP_NET_BIND_SERVICE, CAP_NET_ADMIN};
    gid_t g = (gid_t)gid;
    int rc = 0;
    cap_t caps = NULL;

    if (geteuid() != 0)
        return 0;
    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
        return -errno;
    if (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 ||
        setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) {
        rc = -errno;
        goto out;
    }
    caps = cap_init();
    if (!caps) {
        rc = -ENOMEM;
        goto out;
    }
    if (cap_set_flag(caps, CAP_PERMITTED, 2, keep, CAP_SET) < 0 ||
        cap_set_flag(caps, CAP_EFFECTIVE, 2, keep, CAP_SET) < 0 || cap_set_proc(caps) < 0) {
        rc = -errno;
        goto out;
    }
    /* Regaining root must be impossible. */
    if (setuid(0) == 0) {
        rc = -EPERM;
        goto out;
    }
out:
    if (caps)
        cap_free(caps);
    (void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    return rc;
}

int gw_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    if (!path || !*path)
        return 0;
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
        return -EINVAL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t r = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    int rc = r < 0 ? -errno : 0;
    close(fd);
    return rc;
}
