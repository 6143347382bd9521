/*
 * Start-up pieces shared by the long-running subcommands: one place decides how a missing
 * configuration file falls back to the defaults and how a rejection is reported.
 */
#include <errno.h>
#include <stdio.h>

#include "config_sections.h"
#include "daemon_common.h"
#include "pbxguard/core/log.h"
#include "pbxguard/detect/runtime.h"

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

void reload_bans(struct det_runtime *rt, const struct ban_section *old,
                 const struct ban_section *new_, const char *prog)
{
    char note[128];
    int rc = det_runtime_reload_bans(rt, old, new_, note, sizeof(note));
    if (rc == -ENOSPC)
        log_error("%s: reload: ban.allow does not fit in the allow-list; some networks are "
                  "not trusted",
                  prog);
    else if (rc > 0)
        log_warn("%s: reload: %s changed; that part applies after a restart", prog, note);
}
