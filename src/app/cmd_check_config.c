/*
 * pbxguard check-config [--format text|json] FILE
 * Exit status: 0 valid, 1 invalid (errors on stderr as file:line:column: reason),
 * 2 usage or I/O error (file missing, unreadable, not a regular file).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config_sections.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/json.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: pbxguard check-config [--format text|json] FILE\n"
                 "\n"
                 "Validates a configuration file. Errors are printed on stderr as\n"
                 "file:line:column: reason. With --format json a report is printed on stdout.\n"
                 "Exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n");
}

static void print_json(const char *path, bool valid, const struct cfg_diag *d)
{
    struct json_writer w;
    json_init_dynamic(&w, 1u << 20);
    json_obj_begin(&w);
    json_kv_str(&w, "file", path);
    json_kv_bool(&w, "valid", valid);
    json_key(&w, "errors");
    json_arr_begin(&w);
    for (unsigned i = 0; i < d->count; i++) {
        const struct cfg_diag_entry *e = &d->entries[i];
        json_obj_begin(&w);
        json_kv_str(&w, "file", e->file);
        json_kv_uint(&w, "line", e->line);
        json_kv_uint(&w, "column", e->column);
        json_kv_str(&w, "reason", e->reason ? e->reason : "out of memory");
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_kv_uint(&w, "errors_not_shown", d->dropped);
    json_obj_end(&w);
    if (json_error(&w) == 0)
        printf("%s\n", json_cstr(&w));
    else
        fprintf(stderr, "pbxguard check-config: report too large\n");
    json_fini(&w);
}

int cmd_check_config(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    struct cfg_diag d;
    struct cfg_snapshot *snap = NULL;
    int status;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *fmt = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return 2;
            }
            fmt = argv[++i];
        } else if (strncmp(a, "--format=", 9) == 0) {
            fmt = a + 9;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "pbxguard check-config: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "pbxguard check-config: one file at a time\n");
            return 2;
        }
        if (fmt) {
            if (strcmp(fmt, "json") == 0) {
                json = true;
            } else if (strcmp(fmt, "text") == 0) {
                json = false;
            } else {
                fprintf(stderr, "pbxguard check-config: unknown format '%s'\n", fmt);
                return 2;
            }
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }

    cfg_diag_init(&d);
    int rc = app_config_load(path, &d, &snap);
    if (rc == 0) {
        status = 0;
    } else if (rc == -EINVAL || rc == -EMSGSIZE) {
        status = 1;
    } else {
        status = 2;
    }
    cfg_diag_print(&d, stderr);
    if (json)
        print_json(path, status == 0, &d);
    else if (status == 0)
        printf("%s: configuration is valid\n", path);
    else if (status == 2 && d.count == 0)
        fprintf(stderr, "%s: %s\n", path, strerror(-rc));
    cfg_snapshot_unref(snap);
    cfg_diag_fini(&d);
    return status;
}
