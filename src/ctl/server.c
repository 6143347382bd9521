/*
 * Control socket server (see include/pbxguard/ctl/ctl.h): listener + up to CTL_MAX_CONNS
 * connections in a private epoll set, line-framed requests, length-prefixed replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_int.h"

struct conn {
    int fd;
    uid_t uid;
    pid_t pid;
    char in[CTL_LINE_MAX + 1];
    size_t in_len;
    char *out;
    size_t out_len, out_off;
    bool closing; /* close once out is flushed */
    bool denied;  /* peer failed the credential check: answer its request with an error */
};

struct command {
    char name[32];
    const char *help;
    ctl_handler_fn fn;
    void *ctx;
};

struct ctl_server {
    int ep;
    int lfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct conn conns[CTL_MAX_CONNS];
    struct command cmds[CTL_MAX_COMMANDS];
    size_t ncmds;
};

/* ---- reply buffer ---- */

void ctl_out_init(struct ctl_out *o, bool json)
{
    memset(o, 0, sizeof(*o));
    o->json_mode = json;
    json_init_dynamic(&o->json, CTL_REPLY_MAX);
}

void ctl_out_fini(struct ctl_out *o)
{
    json_fini(&o->json);
    free(o->text);
}

void ctl_printf(struct ctl_out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->overflow)
        return;
    for (;;) {
        size_t room = o->cap - o->len;
        va_start(ap, fmt);
        n = vsnprintf(o->text ? o->text + o->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            o->len += (size_t)n;
            return;
        }
        size_t want = o->cap ? o->cap * 2 : 1024;
        while (want < o->len + (size_t)n + 1)
            want *= 2;
        if (want > CTL_REPLY_MAX) {
            o->overflow = true;
            return;
        }
        char *p = realloc(o->text, want);
        if (!p) {
            o->overflow = true;
            return;
        }
        o->text = p;
        o->cap = want;
    }
}

struct json_writer *ctl_json(struct ctl_out *o)
{
    return &o->json;
}

const char *ctl_out_body(struct ctl_out *o, size_t *len)
{
    if (o->json_mode && json_len(&o->json) > 0) {
        if (json_error(&o->json) != 0) {
            *len = 0;
            return "";
        }
        *len = json_len(&o->json);
        return json_cstr(&o->json);
    }
    *len = o->len;
    return o->text ? o->text : "";
}

/* ---- server ---- */

int ctl_server_fd(const struct ctl_server *s)
{
    return s->ep;
}

const char *ctl_server_path(const struct ctl_server *s)
{
    return s->path;
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int ctl_server_open(const char *data_dir, struct ctl_server **out)
{
    struct ctl_server *s;
    struct sockaddr_un sa;
    int rc, n;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->ep = s->lfd = -1;
    for (size_t i = 0; i < CTL_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    n = snprintf(s->path, sizeof(s->path), "%s/%s", data_dir, CTL_SOCKET_NAME);
    if (n < 0 || (size_t)n >= sizeof(s->path)) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, s->path, (size_t)n + 1);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->ep < 0 || s->lfd < 0) {
        rc = -errno;
        goto out;
    }
    /* A socket file left by a killed daemon would make bind fail. */
    struct stat st;
    if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(s->path);
    /* umask keeps the socket from ever being wider than 0660, even briefly. */
    mode_t old = umask(0117);
    rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc != 0 || chmod(s->path, 0660) != 0 || listen(s->lfd, 16) != 0) {
        rc = -errno;
        goto out;
    }
    if ((rc = ep_add(s->ep, s->lfd, EPOLLIN, UINT64_MAX)) != 0)
        goto out;
    *out = s;
    return 0;
out:
    if (s->lfd >= 0)
        unlink(s->path);
    ctl_server_close(s);
    return rc;
}

static void conn_close(struct ctl_server *s, struct conn *c)
{
    if (c->fd < 0)
        return;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

void ctl_server_close(struct ctl_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < CTL_MAX_CONNS; i++)
        conn_close(s, &s->conns[i]);
    if (s->lfd >= 0) {
        close(s->lfd);
        unlink(s->path);
    }
    if (s->ep >= 0)
        close(s->ep);
    free(s);
}

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 31)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || n[i] == '_' || n[i] == '-'))
            return false;
    return true;
}

int ctl_register(struct ctl_server *s, const char *name, const char *help, ctl_handler_fn fn,
                 void *ctx)
{
    if (!name_ok(name) || !fn)
        return -EINVAL;
    for (size_t i = 0; i < s->ncmds; i++) {
        if (strcmp(s->cmds[i].name, name) == 0) {
            s->cmds[i].help = help;
            s->cmds[i].fn = fn;
            s->cmds[i].ctx = ctx;
            return 0;
        }
    }
    if (s->ncmds >= CTL_MAX_COMMANDS)
        return -ENOSPC;
    struct command *c = &s->cmds[s->ncmds++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->help = help;
    c->fn = fn;
    c->ctx = ctx;
    return 0;
}

/* Queues "<ok|err> <len>\n<body>" on the connection. */
static void reply(struct conn *c, bool ok, const char *body, size_t len)
{
    char head[32];
    int n = snprintf(head, sizeof(head), "%s %zu\n", ok ? "ok" : "err", len);
    char *p = realloc(c->out, c->out_len + (size_t)n + len);

    if (!p) {
        c->closing = true;
        return;
    }
    c->out = p;
    memcpy(c->out + c->out_len, head, (size_t)n);
    memcpy(c->out + c->out_len + (size_t)n, body, len);
    c->out_len += (size_t)n + len;
}

static void help(struct ctl_server *s, struct ctl_out *o)
{
    if (o->json_mode) {
        struct json_writer *w = ctl_json(o);
        json_arr_begin(w);
        for (size_t i = 0; i < s->ncmds; i++) {
            json_obj_begin(w);
            json_kv_str(w, "command", s->cmds[i].name);
            json_kv_str(w, "help", s->cmds[i].help);
            json_obj_end(w);
        }
        json_arr_end(w);
        return;
    }
    for (size_t i = 0; i < s->ncmds; i++)
        ctl_printf(o, "%-10s %s\n", s->cmds[i].name, s->cmds[i].help ? s->cmds[i].help : "");
}

static void dispatch(struct ctl_server *s, struct conn *c, char *line)
{
    if (c->denied) {
        static const char deny[] = "permission denied\n";
        reply(c, false, deny, sizeof(deny) - 1);
        c->closing = true;
        return;
    }
    struct ctl_req req;
    struct ctl_out o;
    int rc = -ENOENT;
    size_t len;
    const char *body;

    memset(&req, 0, sizeof(req));
    req.uid = c->uid;
    req.pid = c->pid;
    /* Split on blanks (no quoting: arguments never contain spaces except free-text reasons,
     * which handlers rebuild from the remaining words). The line is our own copy. */
    bool format_seen = false;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
        /* Only the first word selects the format ("text" or "json"). */
        if (!format_seen) {
            format_seen = true;
            if (strcmp(word, "json") == 0 || strcmp(word, "text") == 0) {
                req.json = word[0] == 'j';
                continue;
            }
        }
        if (req.argc == (int)CTL_MAX_ARGS) {
            req.argc++;
            break;
        }
        req.argv[req.argc++] = word;
    }
    ctl_out_init(&o, req.json);
    if (req.argc == 0) {
        rc = -EINVAL;
        ctl_printf(&o, "empty request\n");
    } else if (req.argc > (int)CTL_MAX_ARGS) {
        rc = -E2BIG;
        ctl_printf(&o, "too many arguments\n");
    } else if (strcmp(req.argv[0], "help") == 0) {
        help(s, &o);
        rc = 0;
    } else {
        size_t i;
        for (i = 0; i < s->ncmds; i++) {
            if (strcmp(s->cmds[i].name, req.argv[0]) == 0) {
                rc = s->cmds[i].fn(&req, &o, s->cmds[i].ctx);
                break;
            }
        }
        if (i == s->ncmds)
            ctl_printf(&o, "unknown command '%.32s' (try: help)\n", req.argv[0]);
    }
    if (o.overflow) {
        rc = -EMSGSIZE;
        o.len = 0;
        o.json_mode = false;
        o.overflow = false;
        ctl_printf(&o, "reply too large\n");
    }
    if (rc != 0 && o.json_mode && json_len(&o.json) == 0) {
        /* Errors are text even in JSON mode when the handler wrote text. */
        o.json_mode = false;
    }
    body = ctl_out_body(&o, &len);
    reply(c, rc == 0, body, len);
    ctl_out_fini(&o);
}

static int flush_out(struct ctl_server *s, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
                                         .data.u64 = (uint64_t)(c - s->conns)};
                epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
                return 0;
            }
            return -errno;
        }
        c->out_off += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(c - s->conns)};
    epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
    return c->closing ? -ECONNRESET : 0;
}

static bool peer_allowed(uid_t uid, gid_t gid)
{
    return uid == 0 || uid == geteuid() || gid == getegid();
}

static void accept_all(struct ctl_server *s)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct ucred cr;
        socklen_t crl = sizeof(cr);
        struct conn *c = NULL;

        if (fd < 0)
            return;
        for (size_t i = 0; i < CTL_MAX_CONNS; i++)
            if (s->conns[i].fd < 0) {
                c = &s->conns[i];
                break;
            }
        if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0) {
            close(fd);
            continue;
        }
        memset(c, 0, sizeof(*c));
        c->fd = fd;
        /* Refused peers get their answer after their request is read, so the close does not
         * turn into a reset that would hide the reason. */
        c->denied = !peer_allowed(cr.uid, cr.gid);
        c->uid = cr.uid;
        c->pid = cr.pid;
        if (ep_add(s->ep, fd, EPOLLIN, (uint64_t)(c - s->conns)) != 0) {
            close(fd);
            c->fd = -1;
        }
    }
}

static void conn_readable(struct ctl_server *s, struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, CTL_LINE_MAX - c->in_len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            conn_close(s, c);
            return;
        }
        if (n < 0)
            break;
        c->in_len += (size_t)n;
        char *nl;
        while ((nl = memchr(c->in, '\n', c->in_len)) != NULL) {
            size_t ll = (size_t)(nl - c->in);
            *nl = '\0';
            if (ll && c->in[ll - 1] == '\r')
                c->in[ll - 1] = '\0';
            dispatch(s, c, c->in);
            if (c->closing) {
                c->in_len = 0;
                break;
            }
            memmove(c->in, nl + 1, c->in_len - ll - 1);
            c->in_len -= ll + 1;
        }
        if (c->in_len >= CTL_LINE_MAX) {
            static const char big[] = "request line too long\n";
            reply(c, false, big, sizeof(big) - 1);
            c->closing = true;
            break;
        }
    }
    if (c->out_len && flush_out(s, c) != 0)
        conn_close(s, c);
}

int ctl_server_handle(struct ctl_server *s)
{
    struct epoll_event evs[CTL_MAX_CONNS + 1];
    int n = epoll_wait(s->ep, evs, (int)PBX_ARRAY_SIZE(evs), 0);

    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == UINT64_MAX) {
            accept_all(s);
            continue;
        }
        struct conn *c = &s->conns[tag];
        if (c->fd < 0)
            continue;
        if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) {
            conn_close(s, c);
            continue;
        }
        if (evs[i].events & EPOLLOUT && flush_out(s, c) != 0) {
            conn_close(s, c);
            continue;
        }
        if (evs[i].events & EPOLLIN)
            conn_readable(s, c);
    }
    return 0;
}
