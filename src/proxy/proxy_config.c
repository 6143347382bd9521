/* The "gateway:" section loader; keys are documented in man/pbxguard.yaml.5. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/proxy/config.h"

static const struct gateway_listen default_listen[2] = {
    {.ep = {.transport = PBX_TP_UDP, .addr = {.family = AF_INET, .port = 5060}},
     .sides = PROXY_SIDE_BOTH},
    {.ep = {.transport = PBX_TP_TCP, .addr = {.family = AF_INET, .port = 5060}},
     .sides = PROXY_SIDE_BOTH},
};

void gateway_config_defaults(struct gateway_config *g)
{
    memset(g, 0, sizeof(*g));
    g->listen = default_listen;
    g->n_listen = PBX_ARRAY_SIZE(default_listen);
    proxy_settings_default(&g->proxy);
    g->health_interval_ms = 10000;
    g->health_timeout_ms = 2000;
    g->drain_timeout_ms = 5000;
}

static const char *const side_words[] = {"outside", "inside", "both", NULL};
static const char *const expose_words[] = {"strip", "replace", "keep", NULL};

/*
 * A listener or upstream item is either a bare endpoint scalar (stored in *ep, which lies
 * inside raw) or a map bound into raw by fields. Returns 0 or a negative errno (reported in d).
 */
PBX_WUR static int bind_item(const struct cfg_node *it, const struct cfg_field *fields,
                             size_t n_fields, void *raw, struct pbx_endpoint *ep,
                             struct cfg_diag *d)
{
    if (cfg_node_kind(it) == CFG_NODE_SCALAR)
        return cfg_parse_endpoint(it, d, ep);
    return cfg_bind(it, fields, n_fields, raw, d);
}

struct listen_raw {
    struct pbx_endpoint ep;
    int side;
    const char *advertise;
};

static int load_listen(const struct cfg_node *seq, struct cfg_diag *d, struct gateway_config *g)
{
    static const struct cfg_field fields[] = {
        {.key = "uri",
         .type = CFG_T_ENDPOINT,
         .offset = offsetof(struct listen_raw, ep),
         .flags = CFG_REQUIRED},
        CFG_FIELD_ENUM(struct listen_raw, side, "side", side_words),
        {.key = "advertise",
         .type = CFG_T_STRING,
         .offset = offsetof(struct listen_raw, advertise),
         .max = 64},
    };
    size_t n = cfg_node_count(seq);
    int bad = 0;
    if (n == 0 || n > GATEWAY_MAX_LISTEN) {
        cfg_error(d, seq, "between 1 and %u listeners expected", GATEWAY_MAX_LISTEN);
        return -EINVAL;
    }
    struct gateway_listen *arr = cfg_alloc(seq, n * sizeof(*arr));
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct cfg_node *it = cfg_node_at(seq, i);
        struct listen_raw r = {.side = 2};
        if (bind_item(it, fields, PBX_ARRAY_SIZE(fields), &r, &r.ep, d) < 0) {
            bad = 1;
            continue;
        }
        arr[i].ep = r.ep;
        arr[i].sides = r.side == 0   ? PROXY_SIDE_OUTSIDE
                       : r.side == 1 ? PROXY_SIDE_INSIDE
                                     : PROXY_SIDE_BOTH;
        if (r.advertise &&
            pbx_addr_parse(r.advertise, strlen(r.advertise), &arr[i].advertise) < 0) {
            cfg_error(d, cfg_map_get(it, "advertise"), "not an IP address (with optional port)");
            bad = 1;
        }
    }
    g->listen = arr;
    g->n_listen = n;
    return bad ? -EINVAL : 0;
}

struct upstream_raw {
    struct pbx_endpoint ep;
    int64_t priority;
    bool tcp_fallback;
};

static int load_upstreams(const struct cfg_node *seq, struct cfg_diag *d, struct gateway_config *g)
{
    static const struct cfg_field fields[] = {
        {.key = "uri",
         .type = CFG_T_ENDPOINT,
         .offset = offsetof(struct upstream_raw, ep),
         .flags = CFG_REQUIRED},
        CFG_FIELD_RANGE(struct upstream_raw, priority, "priority", INT, 0, 1000),
        CFG_FIELD(struct upstream_raw, tcp_fallback, "tcp_fallback", BOOL),
    };
    size_t n = cfg_node_count(seq);
    int bad = 0;
    if (n > GATEWAY_MAX_UPSTREAMS) {
        cfg_error(d, seq, "at most %u upstreams", GATEWAY_MAX_UPSTREAMS);
        return -EINVAL;
    }
    if (n == 0)
        return 0;
    struct gateway_upstream *arr = cfg_alloc(seq, n * sizeof(*arr));
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct cfg_node *it = cfg_node_at(seq, i);
        struct upstream_raw r = {.priority = 1};
        if (bind_item(it, fields, PBX_ARRAY_SIZE(fields), &r, &r.ep, d) < 0) {
            bad = 1;
            continue;
        }
        if (r.ep.addr.family == 0 || r.ep.addr.port == 0) {
            cfg_error(d, it, "upstream needs an IP address and port");
            bad = 1;
        }
        arr[i].ep = r.ep;
        arr[i].priority = (int)r.priority;
        arr[i].tcp_fallback = r.tcp_fallback;
    }
    g->upstreams = arr;
    g->n_upstreams = n;
    return bad ? -EINVAL : 0;
}

struct health_raw {
    int64_t interval, timeout, fails, oks;
};

struct expose_raw {
    int mode[PROXY_EXPOSE_COUNT];
    const char *text;
};

static int check_printable(const char *v, char *why, size_t cap)
{
    for (const char *s = v; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            snprintf(why, cap, "only printable ASCII is allowed");
            return -EINVAL;
        }
    return 0;
}

struct tls_raw {
    const char *cert, *key, *ca;
    bool verify_client;
};

struct limits_raw {
    int64_t max_conns, per_source, idle, handshake;
};

struct top_raw {
    const struct cfg_node *listen, *upstreams, *health, *expose, *tls, *limits;
    uint64_t udp_max;
    int64_t retry_after;
    bool force_rport, record_route, path;
    int64_t drain;
    const char *pid_file;
};

static int check_abs(const char *v, char *why, size_t cap)
{
    if (v[0] != '/') {
        snprintf(why, cap, "must be an absolute path");
        return -EINVAL;
    }
    return 0;
}

int gateway_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field top[] = {
        CFG_FIELD(struct top_raw, listen, "listen", SEQ),
        CFG_FIELD(struct top_raw, upstreams, "upstreams", SEQ),
        CFG_FIELD(struct top_raw, health, "health", MAP),
        CFG_FIELD(struct top_raw, expose, "expose", MAP),
        CFG_FIELD(struct top_raw, tls, "tls", MAP),
        CFG_FIELD(struct top_raw, limits, "limits", MAP),
        CFG_FIELD_RANGE(struct top_raw, udp_max, "udp_max_size", SIZE, 512, 65000),
        CFG_FIELD_RANGE(struct top_raw, retry_after, "retry_after", DURATION, 0, 86400000),
        CFG_FIELD(struct top_raw, force_rport, "force_rport", BOOL),
        CFG_FIELD(struct top_raw, record_route, "record_route", BOOL),
        CFG_FIELD(struct top_raw, path, "path", BOOL),
        CFG_FIELD_RANGE(struct top_raw, drain, "drain_timeout", DURATION, 0, 300000),
        {.key = "pid_file",
         .type = CFG_T_STRING,
         .offset = offsetof(struct top_raw, pid_file),
         .max = 1024,
         .check = check_abs},
    };
    static const struct cfg_field health[] = {
        CFG_FIELD_RANGE(struct health_raw, interval, "interval", DURATION, 0, 3600000),
        CFG_FIELD_RANGE(struct health_raw, timeout, "timeout", DURATION, 100, 60000),
        CFG_FIELD_RANGE(struct health_raw, fails, "failures_to_down", INT, 1, 100),
        CFG_FIELD_RANGE(struct health_raw, oks, "successes_to_up", INT, 1, 100),
    };
    static const struct cfg_field expose[] = {
        CFG_FIELD_ENUM(struct expose_raw, mode[PROXY_EXPOSE_USER_AGENT], "user_agent",
                       expose_words),
        CFG_FIELD_ENUM(struct expose_raw, mode[PROXY_EXPOSE_SERVER], "server", expose_words),
        CFG_FIELD_ENUM(struct expose_raw, mode[PROXY_EXPOSE_ORGANIZATION], "organization",
                       expose_words),
        CFG_FIELD_ENUM(struct expose_raw, mode[PROXY_EXPOSE_WARNING], "warning", expose_words),
        {.key = "replace_with",
         .type = CFG_T_STRING,
         .offset = offsetof(struct expose_raw, text),
         .max = PROXY_EXPOSE_TEXT_MAX - 1,
         .check = check_printable},
    };
    static const struct cfg_field tls[] = {
        {.key = "cert",
         .type = CFG_T_STRING,
         .offset = offsetof(struct tls_raw, cert),
         .max = 1024},
        {.key = "key", .type = CFG_T_STRING, .offset = offsetof(struct tls_raw, key), .max = 1024},
        {.key = "ca", .type = CFG_T_STRING, .offset = offsetof(struct tls_raw, ca), .max = 1024},
        CFG_FIELD(struct tls_raw, verify_client, "verify_client", BOOL),
    };
    static const struct cfg_field limits[] = {
        CFG_FIELD_RANGE(struct limits_raw, max_conns, "max_connections", INT, 1, 1000000),
        CFG_FIELD_RANGE(struct limits_raw, per_source, "max_connections_per_source", INT, 1,
                        100000),
        CFG_FIELD_RANGE(struct limits_raw, idle, "idle_timeout", DURATION, 1000, 86400000),
        CFG_FIELD_RANGE(struct limits_raw, handshake, "handshake_timeout", DURATION, 100, 600000),
    };
    struct gateway_config *g = calloc(1, sizeof(*g));
    int rc = 0;
    if (!g)
        return -ENOMEM;
    gateway_config_defaults(g);
    struct top_raw t = {.udp_max = g->proxy.udp_max,
                        .retry_after = (int64_t)g->proxy.retry_after_s * 1000,
                        .force_rport = g->proxy.force_rport,
                        .record_route = g->proxy.record_route,
                        .path = g->proxy.add_path,
                        .drain = g->drain_timeout_ms};
    rc = cfg_bind(section, top, PBX_ARRAY_SIZE(top), &t, d);
    if (rc == -ENOMEM)
        goto out;
    int bad = rc < 0;
    g->proxy.udp_max = (unsigned)t.udp_max;
    g->proxy.retry_after_s = (unsigned)(t.retry_after / 1000);
    g->proxy.force_rport = t.force_rport;
    g->proxy.record_route = t.record_route;
    g->proxy.add_path = t.path;
    g->drain_timeout_ms = t.drain;
    g->pid_file = t.pid_file;
    if (t.listen && (rc = load_listen(t.listen, d, g)) < 0) {
        if (rc == -ENOMEM)
            goto out;
        bad = 1;
    }
    if (t.upstreams && (rc = load_upstreams(t.upstreams, d, g)) < 0) {
        if (rc == -ENOMEM)
            goto out;
        bad = 1;
    }
    struct health_raw h = {g->health_interval_ms, g->health_timeout_ms, g->proxy.fails_to_down,
                           g->proxy.oks_to_up};
    if (t.health && cfg_bind(t.health, health, PBX_ARRAY_SIZE(health), &h, d) < 0)
        bad = 1;
    g->health_interval_ms = h.interval;
    g->health_timeout_ms = h.timeout;
    g->proxy.fails_to_down = (unsigned)h.fails;
    g->proxy.oks_to_up = (unsigned)h.oks;
    struct expose_raw e;
    for (int i = 0; i < PROXY_EXPOSE_COUNT; i++)
        e.mode[i] = (int)g->proxy.expose[i].mode;
    e.text = NULL;
    if (t.expose && cfg_bind(t.expose, expose, PBX_ARRAY_SIZE(expose), &e, d) < 0)
        bad = 1;
    for (int i = 0; i < PROXY_EXPOSE_COUNT; i++) {
        g->proxy.expose[i].mode = (enum proxy_expose_mode)e.mode[i];
        if (e.text)
            snprintf(g->proxy.expose[i].text, PROXY_EXPOSE_TEXT_MAX, "%s", e.text);
    }
    struct tls_raw tr = {0};
    if (t.tls && cfg_bind(t.tls, tls, PBX_ARRAY_SIZE(tls), &tr, d) < 0)
        bad = 1;
    g->tls_cert = tr.cert;
    g->tls_key = tr.key;
    g->tls_ca = tr.ca;
    g->tls_verify_client = tr.verify_client;
    struct limits_raw lr = {0};
    if (t.limits && cfg_bind(t.limits, limits, PBX_ARRAY_SIZE(limits), &lr, d) < 0)
        bad = 1;
    g->max_connections = lr.max_conns;
    g->max_connections_per_source = lr.per_source;
    g->idle_timeout_ms = lr.idle;
    g->handshake_timeout_ms = lr.handshake;
    for (size_t i = 0; i < g->n_listen; i++) {
        if (g->listen[i].ep.transport == PBX_TP_TLS && (!g->tls_cert || !g->tls_key)) {
            cfg_error(d, t.listen ? t.listen : section,
                      "a tls listener needs gateway.tls.cert and gateway.tls.key");
            bad = 1;
            break;
        }
    }
    rc = bad ? -EINVAL : 0;
out:
    if (rc < 0) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void gateway_config_free(void *obj)
{
    free(obj);
}
