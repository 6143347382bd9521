/* The "sensor" configuration section (include/pbxguard/sensor/config.h, docs/sensor.md). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/sensor/config.h"

struct sensor_in {
    const char *interface;
    const struct cfg_node *pbx;
    const char *filter;
    uint64_t buffer_size, flow_buffer;
    bool promiscuous, enforce;
    int64_t max_flows, max_fragments, stats_ms;
};

void sensor_config_defaults(struct sensor_config *c)
{
    memset(c, 0, sizeof(*c));
    c->filter = SENSOR_DEFAULT_FILTER;
    c->buffer_size = 16u << 20;
    c->promiscuous = true;
    c->enforce = true;
    c->max_flows = 4096;
    c->flow_buffer = 128u << 10;
    c->max_fragments = 256;
    c->stats_interval_ms = 60000;
}

/* sensor.pbx: a sequence of "ADDR" / "ADDR:PORT" / "[V6]:PORT". */
static int load_pbx(const struct cfg_node *seq, struct cfg_diag *d, struct sensor_config *c)
{
    int rc = 0;

    if (!seq)
        return 0;
    if (cfg_node_count(seq) > SENSOR_MAX_PBX) {
        cfg_error(d, seq, "at most %u addresses", SENSOR_MAX_PBX);
        return -EINVAL;
    }
    for (size_t i = 0; i < cfg_node_count(seq); i++) {
        const struct cfg_node *n = cfg_node_at(seq, i);
        const char *s = cfg_node_str(n);
        char q[80];
        if (!s || sensor_pbx_parse(s, &c->pbx[c->npbx]) != 0) {
            cfg_error(d, n, "%s is not an IP address with an optional port",
                      s ? cfg_quote(n, q, sizeof(q)) : "value");
            rc = -EINVAL;
            continue;
        }
        c->npbx++;
    }
    return rc;
}

int sensor_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        CFG_FIELD(struct sensor_in, interface, "interface", STRING),
        CFG_FIELD(struct sensor_in, pbx, "pbx", SEQ),
        CFG_FIELD(struct sensor_in, filter, "filter", STRING),
        CFG_FIELD_RANGE(struct sensor_in, buffer_size, "buffer_size", SIZE, 64u << 10, 1u << 30),
        CFG_FIELD(struct sensor_in, promiscuous, "promiscuous", BOOL),
        CFG_FIELD(struct sensor_in, enforce, "enforce", BOOL),
        CFG_FIELD_RANGE(struct sensor_in, max_flows, "max_flows", INT, 16, 1 << 20),
        CFG_FIELD_RANGE(struct sensor_in, flow_buffer, "flow_buffer", SIZE, 65536, 16u << 20),
        CFG_FIELD_RANGE(struct sensor_in, max_fragments, "max_fragments", INT, 1, 65536),
        CFG_FIELD_RANGE(struct sensor_in, stats_ms, "stats_interval", DURATION, 0, 86400000),
    };
    struct sensor_config *c = calloc(1, sizeof(*c));
    struct sensor_in in;
    int rc;

    if (!c)
        return -ENOMEM;
    sensor_config_defaults(c);
    memset(&in, 0, sizeof(in));
    in.filter = c->filter;
    in.buffer_size = c->buffer_size;
    in.flow_buffer = c->flow_buffer;
    in.promiscuous = c->promiscuous;
    in.enforce = c->enforce;
    in.max_flows = c->max_flows;
    in.max_fragments = c->max_fragments;
    in.stats_ms = c->stats_interval_ms;
    rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), &in, d);
    if (load_pbx(in.pbx, d, c) != 0 && rc == 0)
        rc = -EINVAL;
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->interface = in.interface;
    c->filter = in.filter;
    c->buffer_size = in.buffer_size;
    c->promiscuous = in.promiscuous;
    c->enforce = in.enforce;
    c->max_flows = (unsigned)in.max_flows;
    c->flow_buffer = (size_t)in.flow_buffer;
    c->max_fragments = (unsigned)in.max_fragments;
    c->stats_interval_ms = in.stats_ms;
    *out = c;
    return 0;
}

void sensor_config_free(void *obj)
{
    free(obj);
}
