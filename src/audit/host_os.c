/* Reads ID and VERSION_ID from etc/os-release under the root. */
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "host_os.h"

int host_os_release(const struct audit_ctx *ctx, struct host_os *os)
{
    char path[1024], line[512];
    memset(os, 0, sizeof(*os));
    audit_host_path(ctx, "/etc/os-release", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f) {
        audit_host_path(ctx, "/usr/lib/os-release", path, sizeof(path));
        f = fopen(path, "r");
    }
    if (!f)
        return -1;
    snprintf(os->file, sizeof(os->file), "%s", path);
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *v = eq + 1;
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        }
        if (strcmp(line, "ID") == 0)
            snprintf(os->id, sizeof(os->id), "%s", v);
        else if (strcmp(line, "VERSION_ID") == 0) {
            snprintf(os->version, sizeof(os->version), "%s", v);
            os->line = lineno;
        } else if (strcmp(line, "PRETTY_NAME") == 0)
            snprintf(os->pretty, sizeof(os->pretty), "%s", v);
    }
    fclose(f);
    /* CentOS/RHEL give "7" or "8.4"; the table is keyed by major for those. */
    if (strcmp(os->id, "ubuntu") != 0) {
        char *dot = strchr(os->version, '.');
        if (dot)
            *dot = '\0';
    }
    return os->id[0] && os->version[0] ? 0 : -1;
}
