/*
 * pbxguard probe: black-box SIP assessment of one's own service.
 * Exit codes: 0 done (no finding at or above --fail-on), 1 such a finding exists,
 * 2 usage error, 3 target unreachable or local failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbxguard/probe/probe.h"

#include "commands.h"

static void usage(FILE *out)
{
    fputs("usage: pbxguard probe TARGET [--transport udp|tcp|tls] [--extensions RANGE]\n"
          "                      [--wordlist FILE --i-own-this-target] [--number NUMBER]\n"
          "                      [--rate N] [--timeout MS] [--tls-port PORT] [--no-flood]\n"
          "                      [--format text|json] [--fail-on SEVERITY] [--quiet]\n"
          "       pbxguard probe --list-checks\n"
          "\n"
          "Assesses your own SIP service from outside: version leaks, OPTIONS, user\n"
          "enumeration (codes and timing), unauthenticated INVITE routing (cancelled at\n"
          "once), TLS, flood rate limiting and, with --i-own-this-target, wordlist\n"
          "passwords. Requests are paced at --rate per second (default 10); the flood test\n"
          "sends 200 OPTIONS within 2 s. RANGE is like 100-199 or 100,105,200-210.\n"
          "Exit status: 0 below --fail-on, 1 at or above, 2 usage error, 3 unreachable.\n",
          out);
}

static int num_arg(const char *v, unsigned long max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > max)
        return -EINVAL;
    *out = (unsigned)n;
    return 0;
}

int cmd_probe(int argc, char **argv)
{
    struct probe_opts o;
    enum audit_format fmt = AUDIT_FMT_TEXT;
    enum audit_severity fail_on = AUDIT_SEV_INFO;
    bool have_fail_on = false, quiet = false;

    memset(&o, 0, sizeof(o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list-checks") == 0) {
            size_t n;
            const struct audit_check *const *c = probe_checks(&n);
            for (size_t k = 0; k < n; k++)
                printf("%-14s %-8s %s\n", c[k]->id, audit_severity_name(c[k]->severity),
                       c[k]->title);
            return 0;
        } else if (strcmp(a, "--i-own-this-target") == 0) {
            o.owner_ack = true;
            continue;
        } else if (strcmp(a, "--no-flood") == 0) {
            o.no_flood = true;
            continue;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
            continue;
        } else if (a[0] != '-') {
            if (o.target) {
                fprintf(stderr, "pbxguard probe: one target only\n");
                return 2;
            }
            o.target = a;
            continue;
        } else if (!v) {
            fprintf(stderr, "pbxguard probe: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--transport") == 0) {
            if (strcmp(v, "udp") == 0)
                o.transport = PROBE_UDP;
            else if (strcmp(v, "tcp") == 0)
                o.transport = PROBE_TCP;
            else if (strcmp(v, "tls") == 0)
                o.transport = PROBE_TLS;
            else
                bad = 1;
        } else if (strcmp(a, "--extensions") == 0) {
            o.extensions = v;
        } else if (strcmp(a, "--wordlist") == 0) {
            o.wordlist = v;
        } else if (strcmp(a, "--number") == 0) {
            o.number = v;
        } else if (strcmp(a, "--rate") == 0) {
            bad = num_arg(v, PROBE_MAX_RATE, &o.rate) != 0 || o.rate == 0;
        } else if (strcmp(a, "--timeout") == 0) {
            bad = num_arg(v, 30000, &o.timeout_ms) != 0 || o.timeout_ms < 100;
        } else if (strcmp(a, "--tls-port") == 0) {
            bad = num_arg(v, 65535, &o.tls_port) != 0 || o.tls_port == 0;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "text") == 0)
                fmt = AUDIT_FMT_TEXT;
            else if (strcmp(v, "json") == 0)
                fmt = AUDIT_FMT_JSON;
            else
                bad = 1;
        } else if (strcmp(a, "--fail-on") == 0) {
            bad = audit_severity_parse(v, &fail_on) != 0;
            have_fail_on = true;
        } else {
            fprintf(stderr, "pbxguard probe: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "pbxguard probe: bad value '%s' for %s\n", v, a);
            return 2;
        }
        i++;
    }
    if (!o.target) {
        usage(stderr);
        return 2;
    }
    if (o.wordlist && !o.owner_ack) {
        fprintf(stderr, "pbxguard probe: --wordlist tries passwords against accounts; it runs "
                        "only with --i-own-this-target\n");
        return 2;
    }
    if (o.extensions) {
        unsigned tmp[PROBE_MAX_EXTENSIONS];
        size_t n;
        if (probe_extensions_parse(o.extensions, tmp, PROBE_MAX_EXTENSIONS, &n) != 0) {
            fprintf(stderr, "pbxguard probe: bad --extensions '%s'\n", o.extensions);
            return 2;
        }
    }
    if (!quiet)
        o.log = stderr;

    struct audit_report r;
    audit_report_init(&r);
    int code = 0;
    int rc = probe_run(&o, &r);
    if (rc == -EINVAL) {
        fprintf(stderr, "pbxguard probe: cannot use target '%s'\n", o.target);
        code = 2;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "pbxguard probe: %s: %s\n", o.target,
                rc == -EHOSTUNREACH ? "no SIP answer" : strerror(-rc));
        code = 3;
        goto out;
    }
    if (audit_report_write(stdout, &r, fmt, "probe", o.target,
                           fmt == AUDIT_FMT_TEXT && isatty(STDOUT_FILENO)) != 0) {
        code = 3;
        goto out;
    }
    enum audit_severity worst;
    if (have_fail_on && audit_report_worst(&r, &worst) && worst >= fail_on)
        code = 1;
out:
    audit_report_fini(&r);
    return code;
}
