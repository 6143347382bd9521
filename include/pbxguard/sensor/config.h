/*
 * The "sensor" configuration section (docs/sensor.md lists every key):
 *
 *   sensor:
 *     interface: eth1                # live capture interface (-i overrides)
 *     pbx: ["192.0.2.10:5060", "2001:db8::10"]   # PBX addresses, port optional
 *     filter: "udp or tcp port 5060 or port 5061 or ip6 proto 44"
 *     buffer_size: 16M               # kernel capture buffer
 *     promiscuous: true
 *     enforce: true                  # live: bans go to nftables (--no-enforce overrides)
 *     max_flows: 4096                # TCP directions rebuilt at once
 *     flow_buffer: 128K              # unconsumed bytes per TCP direction
 *     max_fragments: 256             # IP datagrams being reassembled at once
 *     stats_interval: 60s            # live: counters to the log (0 = never)
 *
 * Strings are borrowed from the configuration document (they live as long as the snapshot).
 */
#ifndef PBXGUARD_SENSOR_CONFIG_H
#define PBXGUARD_SENSOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/sensor/sensor.h"

/* Why "udp" and not "udp port 5060": IPv4 fragments after the first carry no UDP header, so
 * a port filter would lose the tail of every fragmented INVITE; IPv6 fragments (next header
 * 44) are not "udp" to BPF at all. TCP is limited to the SIP ports (5061: TLS, counted only). */
#define SENSOR_DEFAULT_FILTER "udp or tcp port 5060 or tcp port 5061 or ip6 proto 44"
#define SENSOR_SNAPLEN 65535

struct sensor_config {
    const char *interface; /* NULL: none configured */
    struct pbx_addr pbx[SENSOR_MAX_PBX];
    size_t npbx;
    const char *filter;        /* BPF; default SENSOR_DEFAULT_FILTER */
    uint64_t buffer_size;      /* bytes; default 16 MiB */
    bool promiscuous;          /* default true (a mirror port carries others' traffic) */
    bool enforce;              /* default true */
    unsigned max_flows;        /* default 4096 */
    size_t flow_buffer;        /* default 128 KiB */
    unsigned max_fragments;    /* default 256 */
    int64_t stats_interval_ms; /* default 60 s; 0 = never */
};

void sensor_config_defaults(struct sensor_config *c);

/* cfg_section_load_fn for "sensor"; *out is a struct sensor_config. */
struct cfg_node;
struct cfg_diag;
PBX_WUR int sensor_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void sensor_config_free(void *obj);

#endif
