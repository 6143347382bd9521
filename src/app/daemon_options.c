/* Command-line options shared by the long-running subcommands; see daemon_options.h. */
#include <errno.h>
#include <string.h>

#include "daemon_options.h"

/* Room for the shared long options plus a subcommand's own, and the terminating entry. */
#define LONGOPTS_MAX 32u
#define SHORTOPTS_MAX 64u

static const struct option shared_longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"data-dir", required_argument, NULL, DAEMON_OPT_DATA_DIR},
    {"help", no_argument, NULL, 'h'},
};

int daemon_opts_parse(const struct daemon_cmdline *cl, int argc, char **argv,
                      struct daemon_opts *out)
{
    struct option longopts[LONGOPTS_MAX];
    char shortopts[SHORTOPTS_MAX];
    size_t n = PBX_ARRAY_SIZE(shared_longopts);
    int c, rc;

    memcpy(longopts, shared_longopts, sizeof(shared_longopts));
    for (const struct option *o = cl->longopts; o && o->name; o++) {
        if (n >= LONGOPTS_MAX - 1)
            return -EMSGSIZE;
        longopts[n++] = *o;
    }
    memset(&longopts[n], 0, sizeof(longopts[n]));
    if ((size_t)snprintf(shortopts, sizeof(shortopts), "c:h%s", cl->shortopts) >= sizeof(shortopts))
        return -EMSGSIZE;

    out->config = NULL;
    out->data_dir = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            out->config = optarg;
            break;
        case DAEMON_OPT_DATA_DIR:
            out->data_dir = optarg;
            break;
        case 'h':
            cl->usage(stdout);
            return 1;
        case '?':
            cl->usage(stderr);
            return -EINVAL;
        default:
            if ((rc = cl->opt(c, optarg, cl->ctx)) < 0)
                return rc;
            break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pbxguard %s: unexpected argument '%s'\n", cl->prog, argv[optind]);
        return -EINVAL;
    }
    return 0;
}
