/* The "geo" configuration section (docs/detection.md). The country policy itself is in
 * detect.geo, next to the rules that use it. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "pbxguard/core/config.h"
#include "pbxguard/geo/geo.h"

int geo_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        CFG_FIELD(struct geo_config, database, "database", STRING),
    };
    struct geo_config *g = calloc(1, sizeof(*g));
    int rc;

    if (!g)
        return -ENOMEM;
    rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), g, d);
    if (rc != 0) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void geo_config_free(void *obj)
{
    free(obj);
}
