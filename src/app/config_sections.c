/*
 * Top-level configuration sections and their loaders. Adding a section is one line in
 * APP_CONFIG_SECTIONS: X(yaml key, load function, free function). The X-macro also declares
 * the two functions, so no include is needed here; the subsystem's own header keeps the
 * authoritative prototypes (cfg_section_load_fn / cfg_section_free_fn signatures).
 */
#include <string.h>

#include "config_sections.h"

#include "pbxguard/core/config.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/log.h"

/* clang-format off */
#define APP_CONFIG_SECTIONS(X)                                   \
    X("general", general_config_load, general_config_free)       \
    X("log",     log_config_load,     log_config_free)           \
    X("events",  ev_config_load,      ev_config_free)            \
    X("fraud",   fraud_config_load,   fraud_config_free)         \
    X("gateway", gateway_config_load, gateway_config_free)       \
    X("detect",  det_config_load,     det_config_free)           \
    X("ban",     ban_config_load,     ban_config_free)           \
    X("store",   store_config_load,   store_config_free)         \
    X("geo",     geo_config_load,     geo_config_free)           \
    X("sensor",  sensor_config_load,  sensor_config_free)
/* clang-format on */

#define APP_DECLARE_SECTION(name, load, free_fn)                                                   \
    int load(const struct cfg_node *section, struct cfg_diag *d, void **out);                      \
    void free_fn(void *obj);
APP_CONFIG_SECTIONS(APP_DECLARE_SECTION)

#define APP_SECTION_ENTRY(name, load, free_fn) {name, load, free_fn},
const struct cfg_section app_config_sections[] = {APP_CONFIG_SECTIONS(APP_SECTION_ENTRY)};
const size_t app_config_sections_count = PBX_ARRAY_SIZE(app_config_sections);

int app_config_load(const char *path, struct cfg_diag *d, struct cfg_snapshot **out)
{
    return cfg_snapshot_load_file(path, app_config_sections, app_config_sections_count, d, out);
}

int app_config_reload(struct cfg_live *live, const char *path, struct cfg_diag *d)
{
    return cfg_live_reload(live, path, app_config_sections, app_config_sections_count, d);
}

int app_config_apply_core(const struct cfg_snapshot *s)
{
    const struct log_config *lc = cfg_snapshot_section(s, "log");
    const struct ev_config *ec = cfg_snapshot_section(s, "events");
    int rc = 0, r;

    if (lc && (r = log_configure(lc)) != 0) {
        log_error("log: cannot open %s: %s (keeping the previous destination)",
                  lc->path ? lc->path : "destination", strerror(-r));
        rc = r;
    }
    if (ec && (r = ev_open(ec)) != 0) {
        log_error("events: cannot open %s: %s (keeping the previous destination)",
                  ec->path ? ec->path : "destination", strerror(-r));
        if (!rc)
            rc = r;
    }
    return rc;
}
