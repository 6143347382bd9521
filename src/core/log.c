/* Diagnostic log; see pbxguard/core/log.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "pbxguard/core/clock.h"
#include "pbxguard/core/log.h"

#define ELLIPSIS "\xe2\x80\xa6"

static struct {
    pthread_mutex_t lock; /* guards dest/fd/path changes against writers */
    atomic_int level;
    enum log_dest dest;
    int fd; /* file destination, -1 otherwise */
    char path[1024];
    char ident[64];
} lg = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .level = LOG_LEVEL_INFO,
    .dest = LOG_DEST_STDERR,
    .fd = -1,
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *log_level_name(enum log_level level)
{
    return (unsigned)level < PBX_ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

void log_set_level(enum log_level level)
{
    atomic_store(&lg.level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&lg.level);
}

bool log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&lg.level);
}

static int open_log_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    return fd < 0 ? -errno : fd;
}

int log_configure(const struct log_config *cfg)
{
    int fd = -1;
    if (cfg->dest == LOG_DEST_FILE) {
        if (!cfg->path)
            return -EINVAL;
        fd = open_log_file(cfg->path);
        if (fd < 0)
            return fd;
    }
    pthread_mutex_lock(&lg.lock);
    if (lg.fd >= 0)
        close(lg.fd);
    if (lg.dest == LOG_DEST_SYSLOG)
        closelog();
    lg.fd = fd;
    lg.dest = cfg->dest;
    snprintf(lg.path, sizeof(lg.path), "%s", cfg->path ? cfg->path : "");
    snprintf(lg.ident, sizeof(lg.ident), "%s", cfg->ident ? cfg->ident : "pbxguard");
    if (lg.dest == LOG_DEST_SYSLOG)
        openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    pthread_mutex_unlock(&lg.lock);
    log_set_level(cfg->level);
    return 0;
}

int log_reopen(void)
{
    int rc = 0;
    pthread_mutex_lock(&lg.lock);
    if (lg.dest == LOG_DEST_FILE) {
        int fd = open_log_file(lg.path);
        if (fd < 0) {
            rc = fd;
        } else {
            close(lg.fd);
            lg.fd = fd;
        }
    }
    pthread_mutex_unlock(&lg.lock);
    return rc;
}

void log_close(void)
{
    pthread_mutex_lock(&lg.lock);
    if (lg.fd >= 0)
        close(lg.fd);
    if (lg.dest == LOG_DEST_SYSLOG)
        closelog();
    lg.fd = -1;
    lg.dest = LOG_DEST_STDERR;
    pthread_mutex_unlock(&lg.lock);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report a failing log */
        p += w;
        n -= (size_t)w;
    }
}

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char line[LOG_LINE_MAX];
    size_t off = 0;

    if (!log_enabled(level) || (unsigned)level >= PBX_ARRAY_SIZE(prio))
        return;
    int saved_errno = errno; /* callers may log strerror(errno) after us */

    int64_t ms = clock_wall_ms();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(ms % 1000), log_level_name(level));
    size_t head = n > 0 ? (size_t)n : 0;
    off = head;
    n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
    if (n < 0)
        n = 0;
    /* Leave room for the "…" marker and the newline when the message is cut. */
    if ((size_t)n >= sizeof(line) - off - 1) {
        off = sizeof(line) - 1 - 1 - 3;
        while (off > head && ((unsigned char)line[off] & 0xc0) == 0x80)
            off--; /* do not split a UTF-8 sequence */
        memcpy(line + off, ELLIPSIS, 3);
        off += 3;
    } else {
        off += (size_t)n;
    }
    /* A newline inside the message would forge a second line: replace it. */
    for (size_t i = head; i < off; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[off++] = '\n';

    pthread_mutex_lock(&lg.lock);
    switch (lg.dest) {
    case LOG_DEST_SYSLOG:
        syslog(prio[level], "%.*s", (int)(off - head - 1), line + head);
        break;
    case LOG_DEST_FILE:
        if (lg.fd >= 0) {
            write_all(lg.fd, line, off);
            break;
        }
        /* fall through */
    case LOG_DEST_STDERR:
        write_all(STDERR_FILENO, line, off);
        break;
    }
    pthread_mutex_unlock(&lg.lock);
    errno = saved_errno;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

#define LOG_FN(name, lvl)                                                                          \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vwrite(lvl, fmt, ap);                                                                  \
        va_end(ap);                                                                                \
    }

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
