/*
 * The real `pbxguard gateway` binary as a child process of a loopback test: a private
 * --data-dir holding the configuration file, start-up, readiness through a UDP listener,
 * and a bounded SIGTERM shutdown.
 */
#ifndef PBXGUARD_TESTS_PROXY_GW_FIXTURE_H
#define PBXGUARD_TESTS_PROXY_GW_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct gw_fixture {
    char dir[64];   /* the --data-dir, created by gw_fixture_init */
    char conf[128]; /* dir/pbxguard.yaml */
    pid_t pid;      /* the gateway, 0 before gw_fixture_start */
};

/* Creates a fresh directory /tmp/pbxguard-<tag>-XXXXXX. Returns 0 or -errno. */
int gw_fixture_init(struct gw_fixture *gw, const char *tag);

/* Writes the configuration file from a printf format. Returns 0 or -errno. */
int gw_fixture_write_config(const struct gw_fixture *gw, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Starts `bin gateway -c CONF --data-dir DIR` followed by the NULL-terminated extra
 * arguments (borrowed, may be NULL). Returns the pid (also in gw->pid) or -1. */
pid_t gw_fixture_start(struct gw_fixture *gw, const char *bin, const char *const *extra);

/* Resends an OPTIONS from the client socket cl (port cl_port) to gw_port until the upstream
 * socket up sees one, at most 50 times; then drops the answers that reached cl. */
bool gw_fixture_wait_ready(int cl, uint16_t cl_port, int up, uint16_t gw_port);

/* SIGTERM, then waits up to timeout_ms for the exit (SIGKILL past it). *status gets the wait
 * status. Returns true when the gateway exited within the bound. */
bool gw_fixture_stop(struct gw_fixture *gw, int timeout_ms, int *status);

/* Removes the files in the directory and the directory. Returns 0 or -errno. */
int gw_fixture_remove(const struct gw_fixture *gw);

/* A free loopback port for type (SOCK_DGRAM or SOCK_STREAM). Returns 0 or -errno. */
int gw_free_port(int type, uint16_t *port);

#endif
