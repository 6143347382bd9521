/*
 * Control socket: a Unix stream socket <data_dir>/pbxguard.sock (mode 0660) through which
 * `pbxguard ctl` talks to a running daemon. Protocol in docs/ctl.md:
 *
 *   request:  one line  "<text|json> <command> [arg ...]\n"   (<= CTL_LINE_MAX bytes)
 *   reply:    one line  "<ok|err> <length>\n" then exactly <length> bytes of body
 *
 * Several requests may follow each other on one connection. Peers are checked with
 * SO_PEERCRED: root, the daemon's own user, or members of its group (the socket's group)
 * are served; anyone else gets "err" + "permission denied" and is disconnected.
 *
 * The server is a component for any event loop: ctl_server_fd() is one pollable fd (an
 * internal epoll set holding the listener and the connections); call ctl_server_handle()
 * when it is readable. Nothing blocks: partial reads and writes are buffered per connection.
 * Commands are a table subsystems extend with ctl_register() (detect registers status, ban,
 * allow, lockdown, top; fraud registers account; the gateway registers reload).
 * Not thread-safe: one owner (the loop thread).
 */
#ifndef PBXGUARD_CTL_CTL_H
#define PBXGUARD_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/json.h"

#define CTL_SOCKET_NAME "pbxguard.sock"
#define CTL_LINE_MAX 4096u
#define CTL_MAX_ARGS 32u
#define CTL_REPLY_MAX (1u << 20)
#define CTL_MAX_CONNS 16u
#define CTL_MAX_COMMANDS 32u

/* A reply under construction. Text handlers use ctl_printf; JSON handlers use ctl_json(). */
struct ctl_out;
void ctl_printf(struct ctl_out *o, const char *fmt, ...) PBX_PRINTF(2, 3);
struct json_writer *ctl_json(struct ctl_out *o);

struct ctl_req {
    int argc; /* argv[0] is the command name */
    const char *argv[CTL_MAX_ARGS];
    bool json; /* the client asked for JSON */
    uid_t uid; /* peer credentials */
    pid_t pid;
};

/*
 * A command. Returns 0 (reply "ok") or a negative errno (reply "err"); either way what it
 * wrote to out is the body (for errors: a one-line message). Runs on the loop thread: it
 * must be quick.
 */
typedef int (*ctl_handler_fn)(const struct ctl_req *req, struct ctl_out *out, void *ctx);

struct ctl_server;

/*
 * Creates <data_dir>/pbxguard.sock (removing a stale socket file first), mode 0660.
 * Returns 0, -ENAMETOOLONG, -ENOMEM or -errno from socket/bind/listen/epoll.
 */
PBX_WUR int ctl_server_open(const char *data_dir, struct ctl_server **out);
/* Unlinks the socket and closes every connection. NULL is a no-op. */
void ctl_server_close(struct ctl_server *s);
/* The pollable fd (EPOLLIN) to add to the owner's loop. */
int ctl_server_fd(const struct ctl_server *s);
/* Accepts, reads, dispatches, writes what it can without blocking. Returns 0 or -errno. */
PBX_WUR int ctl_server_handle(struct ctl_server *s);
/* Registers (or replaces) a command. name: [a-z_-]{1,31}; help: one line, static.
 * -EINVAL, -ENOSPC. */
PBX_WUR int ctl_register(struct ctl_server *s, const char *name, const char *help,
                         ctl_handler_fn fn, void *ctx);
/* Path of the socket (for logs). */
const char *ctl_server_path(const struct ctl_server *s);

/*
 * Client: connects to <data_dir>/pbxguard.sock, sends argv as one request, waits up to
 * timeout_ms for the reply. *body is malloc'd and NUL-terminated (caller frees), *ok tells
 * ok/err. Returns 0, -EINVAL (argument with a newline or too long a line), -ECONNREFUSED /
 * -ENOENT (no daemon), -ETIMEDOUT, -EPROTO (bad reply), -ENOMEM.
 */
PBX_WUR int ctl_call(const char *data_dir, int argc, const char *const *argv, bool json,
                     int timeout_ms, char **body, size_t *len, bool *ok);

struct det_engine;
/*
 * Registers the detection engine's commands: status, ban, allow, lockdown, top, shadow.
 * The engine is borrowed and must outlive the server (or be unregistered by closing it).
 */
PBX_WUR int ctl_register_detect(struct ctl_server *s, struct det_engine *e);

/* Parses a duration "90", "90s", "10m", "1h", "2d", "permanent" (-1). -EINVAL otherwise. */
PBX_WUR int ctl_parse_duration(const char *s, int64_t *ms);

#endif
