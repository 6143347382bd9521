/* The gateway: section loader: defaults, full example, errors with positions. */
#include <errno.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/proxy/config.h"
#include "test.h"

static const struct cfg_section table[] = {
    {"gateway", gateway_config_load, gateway_config_free},
};

static int load(const char *yaml, struct cfg_snapshot **s, struct cfg_diag *d)
{
    cfg_diag_init(d);
    return cfg_snapshot_load_buf("test.yaml", yaml, strlen(yaml), table, 1, d, s);
}

int main(void)
{
    struct cfg_snapshot *s = NULL;
    struct cfg_diag d;
    const struct gateway_config *g;

    /* Absent section: safe defaults. */
    CHECK_INT(load("", &s, &d), 0);
    g = s ? cfg_snapshot_section(s, "gateway") : NULL;
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(g->n_listen, 2);
        CHECK_INT(g->listen[0].ep.transport, PBX_TP_UDP);
        CHECK_INT(g->listen[0].ep.addr.port, 5060);
        CHECK_INT(g->listen[1].ep.transport, PBX_TP_TCP);
        CHECK_INT(g->n_upstreams, 0);
        CHECK_INT(g->health_interval_ms, 10000);
        CHECK_INT(g->proxy.udp_max, 1300);
        CHECK(g->proxy.force_rport && g->proxy.record_route && g->proxy.add_path);
        CHECK_INT(g->proxy.expose[PROXY_EXPOSE_SERVER].mode, PROXY_EXPOSE_STRIP);
    }
    if (s)
        cfg_snapshot_unref(s);
    cfg_diag_fini(&d);

    s = NULL;
    CHECK_INT(load("gateway:\n"
                   "  listen:\n"
                   "    - udp:[::]:5060\n"
                   "    - uri: tls:203.0.113.1:5061\n"
                   "      side: outside\n"
                   "      advertise: 198.51.100.1\n"
                   "    - uri: udp:10.0.0.1:5060\n"
                   "      side: inside\n"
                   "  upstreams:\n"
                   "    - udp:10.0.0.5:5060\n"
                   "    - uri: tcp:10.0.0.6:5070\n"
                   "      priority: 2\n"
                   "      tcp_fallback: true\n"
                   "  health: {interval: 5s, timeout: 500ms, failures_to_down: 2}\n"
                   "  expose: {server: replace, user_agent: keep, replace_with: SBC}\n"
                   "  tls: {cert: /etc/c.pem, key: /etc/k.pem}\n"
                   "  udp_max_size: 1400\n"
                   "  retry_after: 1m\n"
                   "  force_rport: false\n"
                   "  drain_timeout: 2s\n"
                   "  pid_file: /run/pbxguard.pid\n",
                   &s, &d),
              0);
    cfg_diag_print(&d, stderr);
    g = s ? cfg_snapshot_section(s, "gateway") : NULL;
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(g->n_listen, 3);
        CHECK_INT(g->listen[0].ep.addr.family, AF_INET6);
        CHECK_INT(g->listen[0].sides, PROXY_SIDE_BOTH);
        CHECK_INT(g->listen[1].sides, PROXY_SIDE_OUTSIDE);
        CHECK_INT(g->listen[1].advertise.family, AF_INET);
        CHECK_INT(g->listen[2].sides, PROXY_SIDE_INSIDE);
        CHECK_INT(g->n_upstreams, 2);
        CHECK_INT(g->upstreams[0].priority, 1);
        CHECK_INT(g->upstreams[1].priority, 2);
        CHECK_INT(g->upstreams[1].ep.transport, PBX_TP_TCP);
        CHECK(g->upstreams[1].tcp_fallback);
        CHECK_INT(g->health_interval_ms, 5000);
        CHECK_INT(g->health_timeout_ms, 500);
        CHECK_INT(g->proxy.fails_to_down, 2);
        CHECK_INT(g->proxy.oks_to_up, 2);
        CHECK_INT(g->proxy.expose[PROXY_EXPOSE_SERVER].mode, PROXY_EXPOSE_REPLACE);
        CHECK_STR(g->proxy.expose[PROXY_EXPOSE_SERVER].text, "SBC");
        CHECK_INT(g->proxy.expose[PROXY_EXPOSE_USER_AGENT].mode, PROXY_EXPOSE_KEEP);
        CHECK_INT(g->proxy.udp_max, 1400);
        CHECK_INT(g->proxy.retry_after_s, 60);
        CHECK(!g->proxy.force_rport);
        CHECK_INT(g->drain_timeout_ms, 2000);
        CHECK_STR(g->pid_file, "/run/pbxguard.pid");
        CHECK_STR(g->tls_cert, "/etc/c.pem");
    }
    if (s)
        cfg_snapshot_unref(s);
    cfg_diag_fini(&d);

    /* Errors: every one reported, with its position. */
    s = NULL;
    CHECK(load("gateway:\n"
               "  listen:\n"
               "    - sctp:1.2.3.4:5060\n"
               "    - uri: tls:0.0.0.0:5061\n"
               "      side: sideways\n"
               "  upstreams: [udp:pbx.example.com:5060]\n"
               "  expose: {server: hide}\n"
               "  bogus: 1\n",
               &s, &d) < 0);
    CHECK(s == NULL);
    CHECK(cfg_diag_errors(&d) >= 4);
    bool has_line = false;
    for (unsigned i = 0; i < d.count; i++)
        if (d.entries[i].line == 3)
            has_line = true;
    CHECK(has_line);
    cfg_diag_fini(&d);

    /* A tls listener without certificate. */
    s = NULL;
    CHECK(load("gateway:\n  listen: [tls:0.0.0.0:5061]\n", &s, &d) < 0);
    CHECK(s == NULL);
    cfg_diag_fini(&d);
    return test_finish();
}
