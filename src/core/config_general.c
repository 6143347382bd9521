/* The "general" section; see pbxguard/core/general.h and docs/configuration.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/general.h"

/* POSIX portable user/group names: what useradd accepts by default. */
static int check_account_name(const char *v, char *why, size_t cap)
{
    size_t n = strlen(v);
    if (n > 32) {
        snprintf(why, cap, "name longer than 32 characters");
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        bool ok = (c >= 'a' && c <= 'z') || c == '_' ||
                  (i > 0 && ((c >= '0' && c <= '9') || c == '-' || (c == '$' && i == n - 1)));
        if (!ok) {
            snprintf(why, cap, "'%.40s' is not a valid user or group name", v);
            return -EINVAL;
        }
    }
    return 0;
}

static int check_abs_path(const char *v, char *why, size_t cap)
{
    if (v[0] != '/') {
        snprintf(why, cap, "must be an absolute path");
        return -EINVAL;
    }
    return 0;
}

int general_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        {.key = "data_dir",
         .type = CFG_T_STRING,
         .offset = offsetof(struct general_config, data_dir),
         .max = 1024,
         .check = check_abs_path},
        {.key = "user",
         .type = CFG_T_STRING,
         .offset = offsetof(struct general_config, user),
         .check = check_account_name},
        {.key = "group",
         .type = CFG_T_STRING,
         .offset = offsetof(struct general_config, group),
         .check = check_account_name},
        CFG_FIELD(struct general_config, shadow_mode, "shadow_mode", BOOL),
    };
    struct general_config *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->data_dir = "/var/lib/pbxguard";
    int rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), g, d);
    if (rc) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void general_config_free(void *obj)
{
    free(obj);
}

const struct general_config *general_config_get(const struct cfg_snapshot *s)
{
    return cfg_snapshot_section(s, "general");
}
