/*
 * Event sink: a buffered JSON-lines writer plus a subscriber list. See pbxguard/core/event.h
 * for the contract and docs/internals/events.md for the design.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbxguard/core/event.h"

struct subscriber {
    ev_subscriber_fn fn;
    void *ctx;
};

static struct {
    pthread_mutex_t lock;
    enum ev_dest dest;
    int fd;
    char path[1024];
    uint64_t rotate_size;
    int64_t rotate_keep;
    bool fsync;
    uint64_t file_size;
    size_t len;
    struct subscriber subs[EV_MAX_SUBSCRIBERS];
    unsigned n_subs;
    struct ev_stats stats;
    char buf[EV_BUFFER_SIZE];
} es = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .dest = EV_DEST_OFF,
    .fd = -1,
};

static atomic_uint_fast64_t next_seq = 1;
static atomic_size_t raw_max = 1024;

int ev_subscribe(ev_subscriber_fn fn, void *ctx)
{
    int rc = -ENOSPC;
    if (!fn)
        return -EINVAL;
    pthread_mutex_lock(&es.lock);
    if (es.n_subs < EV_MAX_SUBSCRIBERS) {
        es.subs[es.n_subs++] = (struct subscriber){fn, ctx};
        rc = 0;
    }
    pthread_mutex_unlock(&es.lock);
    return rc;
}

int ev_unsubscribe(ev_subscriber_fn fn, void *ctx)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&es.lock);
    for (unsigned i = 0; i < es.n_subs; i++) {
        if (es.subs[i].fn == fn && es.subs[i].ctx == ctx) {
            memmove(&es.subs[i], &es.subs[i + 1], (es.n_subs - i - 1) * sizeof(es.subs[0]));
            es.n_subs--;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&es.lock);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int open_sink_file(const char *path, uint64_t *size)
{
    struct stat st;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    *size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return fd;
}

/* path.N-1 -> path.N ... path -> path.1, then a fresh path. Called with the lock held. */
static int rotate_locked(void)
{
    char from[1100], to[1100];
    if (es.fsync)
        fsync(es.fd);
    close(es.fd);
    es.fd = -1;
    for (int64_t i = es.rotate_keep; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", es.path);
        else
            snprintf(from, sizeof(from), "%s.%lld", es.path, (long long)(i - 1));
        snprintf(to, sizeof(to), "%s.%lld", es.path, (long long)i);
        if (rename(from, to) != 0 && errno != ENOENT)
            es.stats.last_errno = errno;
    }
    int fd = open_sink_file(es.path, &es.file_size);
    if (fd < 0) {
        es.stats.last_errno = -fd;
        return fd;
    }
    es.fd = fd;
    es.stats.rotations++;
    return 0;
}

/* Writes the buffer out; lines that cannot be written are counted as dropped. */
static int flush_locked(bool do_fsync)
{
    int rc = 0;
    if (es.len == 0 || es.dest == EV_DEST_OFF) {
        es.len = 0;
        goto sync;
    }
    if (es.dest == EV_DEST_FILE && es.rotate_size && es.file_size > 0 &&
        es.file_size + es.len > es.rotate_size)
        rc = rotate_locked();
    if (es.fd < 0) {
        rc = rc ? rc : -EBADF;
    } else {
        rc = write_all(es.fd, es.buf, es.len);
        if (rc == 0)
            es.file_size += es.len;
    }
    if (rc) {
        /* count whole lines lost */
        for (size_t i = 0; i < es.len; i++)
            if (es.buf[i] == '\n') {
                es.stats.dropped++;
                es.stats.written--;
            }
        es.stats.last_errno = -rc;
    }
    es.len = 0;
sync:
    if (do_fsync && es.fsync && es.dest == EV_DEST_FILE && es.fd >= 0)
        fsync(es.fd);
    return rc;
}

int ev_open(const struct ev_config *cfg)
{
    int fd = -1;
    uint64_t size = 0;
    if (!cfg)
        return -EINVAL;
    if (cfg->dest == EV_DEST_FILE) {
        if (!cfg->path || strlen(cfg->path) >= sizeof(es.path))
            return -EINVAL;
        fd = open_sink_file(cfg->path, &size);
        if (fd < 0)
            return fd;
    } else if (cfg->dest == EV_DEST_STDOUT) {
        fd = STDOUT_FILENO;
    }
    pthread_mutex_lock(&es.lock);
    (void)flush_locked(true);
    if (es.dest == EV_DEST_FILE && es.fd >= 0)
        close(es.fd);
    es.fd = fd;
    es.dest = cfg->dest;
    es.file_size = size;
    snprintf(es.path, sizeof(es.path), "%s", cfg->dest == EV_DEST_FILE ? cfg->path : "");
    es.rotate_size = cfg->rotate_size;
    es.rotate_keep = cfg->rotate_keep > 0 ? cfg->rotate_keep : 1;
    es.fsync = cfg->fsync;
    pthread_mutex_unlock(&es.lock);
    atomic_store(&raw_max, cfg->raw_max);
    return 0;
}

void ev_close(void)
{
    pthread_mutex_lock(&es.lock);
    (void)flush_locked(true);
    if (es.dest == EV_DEST_FILE && es.fd >= 0) {
        fsync(es.fd);
        close(es.fd);
    }
    es.fd = -1;
    es.dest = EV_DEST_OFF;
    pthread_mutex_unlock(&es.lock);
}

int ev_emit(const struct ev_record *r)
{
    char line[EV_LINE_MAX];
    int rc = 0;
    if (!r || !r->type)
        return -EINVAL;
    uint64_t seq = atomic_fetch_add(&next_seq, 1);
    int len = ev_format(r, seq, atomic_load(&raw_max), line, sizeof(line));
    if (len < 0)
        return len;

    pthread_mutex_lock(&es.lock);
    es.stats.emitted++;
    for (unsigned i = 0; i < es.n_subs; i++)
        es.subs[i].fn(r, line, (size_t)len, es.subs[i].ctx);
    if (es.dest != EV_DEST_OFF) {
        if (es.len + (size_t)len > sizeof(es.buf))
            (void)flush_locked(false);
        if (es.len + (size_t)len > sizeof(es.buf)) {
            es.stats.dropped++;
            rc = -ENOBUFS;
        } else {
            memcpy(es.buf + es.len, line, (size_t)len);
            es.len += (size_t)len;
            es.stats.written++;
            /* stdout is usually read live; files get batched writes */
            if (es.len > sizeof(es.buf) / 2 || es.dest == EV_DEST_STDOUT)
                (void)flush_locked(false);
        }
    }
    pthread_mutex_unlock(&es.lock);
    return rc;
}

int ev_flush(void)
{
    pthread_mutex_lock(&es.lock);
    int rc = flush_locked(true);
    pthread_mutex_unlock(&es.lock);
    return rc;
}

void ev_stats_get(struct ev_stats *out)
{
    pthread_mutex_lock(&es.lock);
    *out = es.stats;
    pthread_mutex_unlock(&es.lock);
}
