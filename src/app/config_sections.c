/*
 * Top-level configuration sections and their loaders. Adding a section is one line in
 * APP_CONFIG_SECTIONS: X(yaml key, load function, free function). The X-macro also declares
 * the two functions, so no include is needed here; the subsystem's own header keeps the
 * authoritative prototypes (cfg_section_load_fn / cfg_section_free_fn signatures).
 */
#include "config_sections.h"

#include "pbxguard/core/config.h"

/* clang-format off */
#define APP_CONFIG_SECTIONS(X)                                   \
    X("general", general_config_load, general_config_free)       \
    X("log",     log_config_load,     log_config_free)           \
    X("events",  ev_config_load,      ev_config_free)
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
