/*
 * Command-line options shared by the long-running subcommands (gateway, sensor):
 * -c/--config FILE, --data-dir DIR and -h/--help, parsed in one place so that both read them
 * alike. Each subcommand adds its own options through a table and a callback.
 */
#ifndef PBXGUARD_APP_DAEMON_OPTIONS_H
#define PBXGUARD_APP_DAEMON_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

#include "pbxguard/core/compiler.h"

/* getopt_long values: DAEMON_OPT_DATA_DIR is taken; a subcommand's long-only options use
 * DAEMON_OPT_OWN and above, its short options their character. */
enum { DAEMON_OPT_DATA_DIR = 256, DAEMON_OPT_OWN };

/* The shared options' values, borrowed from argv; NULL when not given. */
struct daemon_opts {
    const char *config;
    const char *data_dir;
};

/* One of the subcommand's own options (val from its table, arg its argument or NULL).
 * Returns 0, or a negative errno after printing the reason to stderr. */
typedef int (*daemon_opt_fn)(int val, const char *arg, void *ctx);
/* Prints the subcommand's usage text to out. */
typedef void (*daemon_usage_fn)(FILE *out);

struct daemon_cmdline {
    const char *prog;              /* subcommand name, for "pbxguard <prog>: ..." messages */
    const char *shortopts;         /* its own short options in getopt syntax ("" for none) */
    const struct option *longopts; /* its own long options, ended by a zeroed entry */
    daemon_opt_fn opt;
    daemon_usage_fn usage;
    void *ctx; /* passed to opt */
};

/*
 * Parses argv (argv[0] is the subcommand name) with the shared options and those of cl.
 * Returns 0 with *out filled, 1 when --help printed the usage to stdout, or a negative errno
 * on a usage error (unknown option: usage on stderr; stray argument or an error from cl->opt:
 * reason on stderr). Options are handled in argv order. Not thread-safe (getopt state).
 */
PBX_WUR int daemon_opts_parse(const struct daemon_cmdline *cl, int argc, char **argv,
                              struct daemon_opts *out);

#endif
