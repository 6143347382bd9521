/*
 * pbxguard audit: grade a PBX configuration and its host.
 * Exit codes: 0 done (no finding at or above --fail-on), 1 such a finding exists,
 * 2 usage error, 3 an input could not be read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/audit/audit.h"
#include "pbxguard/core/clock.h"

#include "commands.h"

static void usage(FILE *out)
{
    fputs("usage: pbxguard audit [--asterisk DIR] [--freeswitch DIR] [--kamailio FILE]\n"
          "                      [--host [--root DIR]] [--today YYYY-MM-DD] [--eol-file FILE]\n"
          "                      [--format text|json|sarif] [--fail-on SEVERITY]\n"
          "                      [--color|--no-color] [--list-checks]\n"
          "\n"
          "Reads PBX configurations and host settings and reports findings with an ID, a\n"
          "severity, the evidence (file:line, secrets masked), why it matters and the fix.\n"
          "SEVERITY is info, low, medium, high or critical. Exit status: 0 clean (below\n"
          "--fail-on), 1 a finding at or above --fail-on, 2 usage error, 3 unreadable input.\n",
          out);
}

static int list_checks(void)
{
    size_t n;
    const struct audit_check *const *c = audit_checks(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-14s %-8s %s\n", c[i]->id, audit_severity_name(c[i]->severity), c[i]->title);
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    struct audit_opts o;
    struct audit_report r;
    enum audit_format fmt = AUDIT_FMT_TEXT;
    enum audit_severity fail_on = AUDIT_SEV_INFO;
    bool have_fail_on = false;
    int colour = -1;
    const char *today = NULL;

    memset(&o, 0, sizeof(o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list-checks") == 0) {
            return list_checks();
        } else if (strcmp(a, "--host") == 0) {
            o.host = true;
            takes = false;
        } else if (strcmp(a, "--color") == 0 || strcmp(a, "--no-color") == 0) {
            colour = a[2] == 'c';
            takes = false;
        } else if (!v) {
            fprintf(stderr, "pbxguard audit: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--asterisk") == 0) {
            o.asterisk_dir = v;
        } else if (strcmp(a, "--freeswitch") == 0) {
            o.freeswitch_dir = v;
        } else if (strcmp(a, "--kamailio") == 0) {
            o.kamailio_file = v;
        } else if (strcmp(a, "--root") == 0) {
            o.root = v;
        } else if (strcmp(a, "--eol-file") == 0) {
            o.eol_file = v;
        } else if (strcmp(a, "--today") == 0) {
            today = v;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "text") == 0)
                fmt = AUDIT_FMT_TEXT;
            else if (strcmp(v, "json") == 0)
                fmt = AUDIT_FMT_JSON;
            else if (strcmp(v, "sarif") == 0)
                fmt = AUDIT_FMT_SARIF;
            else {
                fprintf(stderr, "pbxguard audit: unknown format '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--fail-on") == 0) {
            if (audit_severity_parse(v, &fail_on) != 0) {
                fprintf(stderr, "pbxguard audit: unknown severity '%s'\n", v);
                return 2;
            }
            have_fail_on = true;
        } else {
            fprintf(stderr, "pbxguard audit: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (takes)
            i++;
    }
    if (!o.asterisk_dir && !o.freeswitch_dir && !o.kamailio_file && !o.host) {
        fprintf(stderr, "pbxguard audit: nothing to audit\n");
        usage(stderr);
        return 2;
    }
    if (o.root && !o.host) {
        fprintf(stderr, "pbxguard audit: --root only applies with --host\n");
        return 2;
    }
    if (today) {
        if (audit_date_parse(today, &o.today) != 0) {
            fprintf(stderr, "pbxguard audit: --today wants YYYY-MM-DD, got '%s'\n", today);
            return 2;
        }
    } else {
        o.today = clock_wall_ms() / 86400000;
    }
    if (colour < 0)
        colour = fmt == AUDIT_FMT_TEXT && isatty(STDOUT_FILENO);

    audit_report_init(&r);
    int rc = audit_run(&o, &r);
    int exit_code = 0;
    if (rc) {
        if (rc != -ENOENT)
            fprintf(stderr, "pbxguard audit: %s\n", strerror(-rc));
        exit_code = 3;
        goto out;
    }
    if (audit_report_write(stdout, &r, fmt, "audit", NULL, colour != 0) != 0) {
        fprintf(stderr, "pbxguard audit: cannot write the report\n");
        exit_code = 3;
        goto out;
    }
    enum audit_severity worst;
    if (have_fail_on && audit_report_worst(&r, &worst) && worst >= fail_on)
        exit_code = 1;
out:
    audit_report_fini(&r);
    return exit_code;
}
