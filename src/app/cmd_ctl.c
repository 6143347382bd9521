/*
 * pbxguard ctl [--data-dir DIR | -c CONFIG] [--json] [--timeout MS] COMMAND [ARG...]
 * Talks to a running daemon over <data_dir>/pbxguard.sock (docs/ctl.md).
 * Exit status: 0 ok, 1 the daemon refused or the command failed, 2 usage or configuration
 * error, 3 no daemon reachable (socket missing, refused, timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config_sections.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/general.h"
#include "pbxguard/ctl/ctl.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: pbxguard ctl [--data-dir DIR | -c CONFIG] [--json] [--timeout MS] COMMAND "
                 "[ARG...]\n"
                 "\n"
                 "Commands (the daemon lists what it supports with 'help'):\n"
                 "  status                              engine status and counters\n"
                 "  ban list | ban add ADDR[/64] [DURATION] [REASON...] | ban del ADDR[/64]\n"
                 "  allow list | allow add CIDR | allow del CIDR\n"
                 "  account lock|unlock USER            (when the fraud engine is running)\n"
                 "  lockdown on|off    shadow on|off    top [N]    reload    help\n"
                 "\n"
                 "The daemon is found through the same data directory as the gateway\n"
                 "(--data-dir, or general.data_dir of CONFIG; default /var/lib/pbxguard).\n"
                 "Exit status: 0 ok, 1 command failed, 2 usage, 3 daemon not reachable.\n");
}

static int parse_ms(const char *s, int *out)
{
    long long v = 0;
    if (!*s)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > 3600000)
            return -EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (v == 0 || v > 3600000)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

int cmd_ctl(int argc, char **argv)
{
    const char *dir = NULL, *config = NULL;
    bool json = false;
    int timeout = 5000, i, rc, status = 0;
    struct cfg_snapshot *snap = NULL;
    char *body = NULL;
    size_t len = 0;
    bool ok = false;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            if (parse_ms(argv[++i], &timeout) != 0) {
                fprintf(stderr, "ctl: bad --timeout\n");
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (!dir && config) {
        struct cfg_diag d;
        cfg_diag_init(&d);
        rc = app_config_load(config, &d, &snap);
        if (rc != 0) {
            cfg_diag_print(&d, stderr);
            cfg_diag_fini(&d);
            return 2;
        }
        cfg_diag_fini(&d);
        dir = general_config_get(snap)->data_dir;
    }
    if (!dir)
        dir = "/var/lib/pbxguard";
    rc = ctl_call(dir, argc - i, (const char *const *)(argv + i), json, timeout, &body, &len, &ok);
    if (rc != 0) {
        fprintf(stderr, "ctl: %s/%s: %s\n", dir, CTL_SOCKET_NAME,
                rc == -EINVAL ? "invalid argument (newline or line too long)" : strerror(-rc));
        status = rc == -EINVAL ? 2 : 3;
        goto out;
    }
    if (ok) {
        fwrite(body, 1, len, stdout);
        if (len && body[len - 1] != '\n')
            fputc('\n', stdout);
    } else {
        fprintf(stderr, "ctl: %s", body);
        if (!len || body[len - 1] != '\n')
            fputc('\n', stderr);
        status = 1;
    }
out:
    free(body);
    if (snap)
        cfg_snapshot_unref(snap);
    return status;
}
