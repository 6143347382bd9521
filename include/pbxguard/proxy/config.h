/*
 * The "gateway:" configuration section (see man/pbxguard.yaml.5 and docs/gateway.md):
 * listeners, upstreams, health checks, exposure rules, TLS material and limits.
 *
 * gateway_config_load() is a cfg_section_load_fn: it validates the section (or produces the
 * safe defaults when the section is absent) into a struct gateway_config whose strings and
 * arrays are owned by the configuration document (they live as long as the snapshot).
 */
#ifndef PBXGUARD_PROXY_CONFIG_H
#define PBXGUARD_PROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/proxy/proxy.h"

#define GATEWAY_MAX_LISTEN 16u
#define GATEWAY_MAX_UPSTREAMS PROXY_MAX_UPSTREAMS

struct gateway_listen {
    struct pbx_endpoint ep;
    unsigned sides;            /* PROXY_SIDE_*; default both */
    struct pbx_addr advertise; /* family 0 when not set */
};

struct gateway_upstream {
    struct pbx_endpoint ep;
    int priority;      /* default 1; lower is preferred */
    bool tcp_fallback; /* default false */
};

struct gateway_config {
    const struct gateway_listen *listen; /* default udp:0.0.0.0:5060 and tcp:0.0.0.0:5060 */
    size_t n_listen;
    const struct gateway_upstream *upstreams; /* default none: give one with --upstream */
    size_t n_upstreams;
    struct proxy_settings proxy; /* see proxy_settings_default() */
    int64_t health_interval_ms;  /* default 10 s; 0 disables health checks */
    int64_t health_timeout_ms;   /* default 2 s */
    const char *tls_cert;        /* PEM chain; required with a tls listener */
    const char *tls_key;
    const char *tls_ca; /* verifies client certificates (trunks) and upstreams */
    bool tls_verify_client;
    int64_t max_connections; /* 0 = transport default */
    int64_t max_connections_per_source;
    int64_t idle_timeout_ms;
    int64_t handshake_timeout_ms;
    int64_t drain_timeout_ms; /* SIGTERM: longest wait for queued writes; default 5 s */
    const char *pid_file;     /* NULL = none */
};

/* Fills the defaults (no allocation; arrays point to static defaults). */
void gateway_config_defaults(struct gateway_config *g);

/* cfg_section_load_fn / cfg_section_free_fn for the "gateway" key. */
PBX_WUR int gateway_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void gateway_config_free(void *obj);

#endif
