/*
 * Start-up pieces shared by the long-running subcommands: one place decides how a missing
 * configuration file falls back to the defaults and how a rejection is reported.
 */
#include <stdio.h>

#include "config_sections.h"
#include "daemon_common.h"

int daemon_config_load(const char *prog, const char *path, struct cfg_snapshot **out)
{
    struct cfg_diag d;
    struct cfg_snapshot *s = NULL;
    int rc;

    cfg_diag_init(&d);
    if (path)
        rc = app_config_load(path, &d, &s);
    else
        rc = cfg_snapshot_load_buf("(built-in defaults)", "", 0, app_config_sections,
                                   app_config_sections_count, &d, &s);
    if (rc < 0) {
        fprintf(stderr, "pbxguard %s: configuration rejected:\n", prog);
        cfg_diag_print(&d, stderr);
        goto out;
    }
    *out = s;
    rc = 0;
out:
    cfg_diag_fini(&d);
    return rc;
}
