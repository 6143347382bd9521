/* The "log" section; see pbxguard/core/log.h and docs/configuration.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/core/config.h"
#include "pbxguard/core/log.h"

static const char *const level_words[] = {"error", "warn", "info", "debug", NULL};

/* "stderr", "syslog", or an absolute file path. */
static int bind_destination(const struct cfg_node *n, struct cfg_diag *d, void *dst)
{
    struct log_config *c = (struct log_config *)((char *)dst - offsetof(struct log_config, dest));
    const char *s;
    char q[96];
    int rc = cfg_parse_string(n, d, 1024, &s);
    if (rc)
        return rc;
    if (strcmp(s, "stderr") == 0) {
        c->dest = LOG_DEST_STDERR;
    } else if (strcmp(s, "syslog") == 0) {
        c->dest = LOG_DEST_SYSLOG;
    } else if (s[0] == '/') {
        c->dest = LOG_DEST_FILE;
        c->path = s;
    } else {
        cfg_error(d, n, "expected stderr, syslog or an absolute file path, got '%s'",
                  cfg_quote(n, q, sizeof(q)));
        return -EINVAL;
    }
    return 0;
}

int log_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out)
{
    static const struct cfg_field fields[] = {
        CFG_FIELD_ENUM(struct log_config, level, "level", level_words),
        {.key = "destination",
         .type = CFG_T_CUSTOM,
         .offset = offsetof(struct log_config, dest),
         .custom = bind_destination},
        {.key = "syslog_ident",
         .type = CFG_T_STRING,
         .offset = offsetof(struct log_config, ident),
         .max = 32},
    };
    struct log_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->level = LOG_LEVEL_INFO;
    c->dest = LOG_DEST_STDERR;
    c->ident = "pbxguard";
    /* enum fields are bound as int */
    _Static_assert(sizeof(enum log_level) == sizeof(int), "enum log_level bound as int");
    int rc = cfg_bind(section, fields, PBX_ARRAY_SIZE(fields), c, d);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void log_config_free(void *obj)
{
    free(obj);
}
