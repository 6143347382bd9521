/* The "events" section; see pbxguard/core/event.h and docs/configuration.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"

/* "off", "stdout", or an absolute file path. */
static int bind_destination(const struct cfg_node *n, struct cfg_diag *d, void *dst)
{
    struct ev_config *c = (struct ev_config *)((char *)dst - offsetof(struct ev_config, dest));
    const char *s;
    char q[96];
    int rc = cfg_parse_string(n, d, 1024, &s);
    if (rc)
        return rc;
    if (strcmp(s, "off") == 0) {
        c->dest = EV_DEST_OFF;
    } else if (strcmp(s, "stdout") == 0) {
        c->dest = EV_DEST_STDOUT;
    } else if (s[0] == '/') {
        c->dest = EV_DEST_FILE;
        c->path = s;
    } else {
        cfg_error(d, n, "expected off, stdout or an absolute file path, got '%s'",
                  cfg_quote(n, q, sizeof(q)));
        return -EINVAL;
    }
    return 0;
}

int ev_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        {.key = "destination",
         .type = CFG_T_CUSTOM,
         .offset = offsetof(struct ev_config, dest),
         .custom = bind_destination},
        CFG_FIELD_RANGE(struct ev_config, rotate_size, "rotate_size", SIZE, 0, 1ll << 40),
        CFG_FIELD_RANGE(struct ev_config, rotate_keep, "rotate_keep", INT, 1, 100),
        CFG_FIELD_RANGE(struct ev_config, flush_interval_ms, "flush_interval", DURATION, 10, 60000),
        CFG_FIELD(struct ev_config, fsync, "fsync", BOOL),
        CFG_FIELD_RANGE(struct ev_config, raw_max, "raw_excerpt", SIZE, 0, EV_RAW_MAX),
    };
    struct ev_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->dest = EV_DEST_FILE;
    c->path = "/var/log/pbxguard/events.jsonl";
    c->rotate_size = 64ull << 20;
    c->rotate_keep = 5;
    c->flush_interval_ms = 1000;
    c->fsync = false;
    c->raw_max = 1024;
    int rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), c, d);
    const struct cfg_node *rs = cfg_map_get(section, "rotate_size");
    if (rc == 0 && c->rotate_size != 0 && c->rotate_size < 65536) {
        /* a tiny cap would rotate on nearly every flush and churn the directory */
        cfg_error(d, rs, "must be 0 (never rotate) or at least 64K");
        rc = -EINVAL;
    }
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ev_config_free(void *obj)
{
    free(obj);
}
