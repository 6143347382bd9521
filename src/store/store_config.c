/* The "store" configuration section (docs/detection.md). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "pbxguard/core/config.h"
#include "pbxguard/store/store.h"

struct store_in {
    const char *path;
    int64_t batch_ms, batch_max, queue_max, events_max, events_age_ms;
    uint64_t evidence_max;
    int sync;
};

int store_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const char *const sync_words[] = {"full", "normal", NULL};
    static const struct cfg_field fields[] = {
        CFG_FIELD(struct store_in, path, "path", STRING),
        CFG_FIELD_RANGE(struct store_in, batch_ms, "batch_interval", DURATION, 1, 60000),
        CFG_FIELD_RANGE(struct store_in, batch_max, "batch_max", INT, 1, 1000000),
        CFG_FIELD_RANGE(struct store_in, queue_max, "queue_max", INT, 1, 10000000),
        CFG_FIELD_RANGE(struct store_in, events_max, "events_max", INT, 0, INT64_MAX),
        CFG_FIELD_RANGE(struct store_in, events_age_ms, "events_max_age", DURATION, 0,
                        3650LL * 86400000),
        CFG_FIELD_RANGE(struct store_in, evidence_max, "evidence_max", SIZE, 0, 1 << 20),
        CFG_FIELD_ENUM(struct store_in, sync, "synchronous", sync_words),
    };
    struct store_config *c = calloc(1, sizeof(*c));
    struct store_in in;
    int rc;

    if (!c)
        return -ENOMEM;
    store_config_defaults(c);
    in.path = NULL;
    in.batch_ms = c->batch_ms;
    in.batch_max = c->batch_max;
    in.queue_max = c->queue_max;
    in.events_max = (int64_t)c->events_max;
    in.events_age_ms = c->events_max_age_ms;
    in.evidence_max = c->evidence_max;
    in.sync = 0;
    rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), &in, d);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->path = in.path;
    c->batch_ms = in.batch_ms;
    c->batch_max = (unsigned)in.batch_max;
    c->queue_max = (unsigned)in.queue_max;
    c->events_max = (uint64_t)in.events_max;
    c->events_max_age_ms = in.events_age_ms;
    c->evidence_max = (size_t)in.evidence_max;
    c->sync_full = in.sync == 0;
    *out = c;
    return 0;
}

void store_config_free(void *obj)
{
    free(obj);
}
