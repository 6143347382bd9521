/*
 * pbxguard cdr analyze: the fraud policy and detectors applied to call records.
 * Exit codes: 0 no flag raised, 1 at least one call flagged, 2 usage, configuration or
 * I/O error. Data goes to stdout (or -o FILE), diagnostics and progress to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "pbxguard/cdr/analyze.h"
#include "pbxguard/core/config.h"
#include "pbxguard/fraud/config.h"
#include "pbxguard/fraud/engine.h"

static void usage(FILE *out)
{
    fputs("usage: pbxguard cdr analyze [OPTIONS] FILE...\n"
          "\n"
          "Replays call records through the fraud policy and detectors and reports the\n"
          "calls they flag. FILE '-' reads standard input.\n"
          "\n"
          "  -c, --config FILE     take the policy from FILE's fraud: section\n"
          "  -p, --plan REGION     dialling plan preset when no config (US CA GB DE FR AU)\n"
          "  -t, --cdr-format F    asterisk (Master.csv, default), freeswitch, generic\n"
          "  -m, --map SPEC        generic columns: field=N or field=header-name, comma\n"
          "                        separated; fields: account src dst channel start answer\n"
          "                        end duration billsec disposition id source\n"
          "      --header          the first row is a header (implied by names in --map)\n"
          "  -z, --timezone ZONE   zone of the CDR timestamps (default: the schedule's)\n"
          "  -r, --ranges FILE     destination ranges file (default: the shipped one)\n"
          "  -f, --format FMT      text (default), json, html\n"
          "  -o, --output FILE     write the report to FILE instead of stdout\n"
          "  -n, --max-flagged N   flagged calls listed in the report (default 1000)\n"
          "  -q, --no-progress     no progress display on a terminal\n"
          "\n"
          "exit status: 0 clean, 1 calls flagged, 2 usage/configuration/I-O error\n",
          out);
}

static int load_policy(const char *path, struct fraud_policy **out)
{
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    void *obj = NULL;
    int rc;

    cfg_diag_init(&d);
    rc = cfg_doc_load_file(path, &d, &doc);
    if (rc == 0) {
        const struct cfg_node *root = cfg_doc_root(doc);
        rc = fraud_config_load(root ? cfg_map_get(root, "fraud") : NULL, &d, &obj);
    }
    if (rc < 0)
        cfg_diag_print(&d, stderr);
    cfg_diag_fini(&d);
    cfg_doc_free(doc);
    if (rc == 0)
        *out = obj;
    return rc;
}

static int analyze(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"plan", required_argument, NULL, 'p'},
        {"cdr-format", required_argument, NULL, 't'},
        {"map", required_argument, NULL, 'm'},
        {"header", no_argument, NULL, 'H'},
        {"timezone", required_argument, NULL, 'z'},
        {"ranges", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"max-flagged", required_argument, NULL, 'n'},
        {"no-progress", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *plan = NULL, *fmt = "text", *output = NULL, *ranges = NULL;
    char *map = NULL;
    enum cdr_format cdrfmt = CDR_FMT_ASTERISK;
    struct cdr_options o;
    struct fraud_policy *policy = NULL;
    struct fraud_engine *e = NULL;
    struct cdr_report rep;
    bool header = false, progress = true, rep_ok = false;
    char err[512];
    FILE *out = stdout;
    int c, rc, status = 2;
    unsigned long keep = CDR_FLAGGED_KEEP_DEFAULT;

    memset(&o, 0, sizeof(o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:p:t:m:z:r:f:o:n:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'p':
            plan = optarg;
            break;
        case 't':
            if (strcmp(optarg, "asterisk") == 0)
                cdrfmt = CDR_FMT_ASTERISK;
            else if (strcmp(optarg, "freeswitch") == 0)
                cdrfmt = CDR_FMT_FREESWITCH;
            else if (strcmp(optarg, "generic") == 0)
                cdrfmt = CDR_FMT_GENERIC;
            else {
                fprintf(stderr, "pbxguard cdr: unknown CDR format '%s'\n", optarg);
                return 2;
            }
            break;
        case 'm':
            map = optarg;
            cdrfmt = CDR_FMT_GENERIC;
            break;
        case 'H':
            header = true;
            break;
        case 'z':
            o.timezone = optarg;
            break;
        case 'r':
            ranges = optarg;
            break;
        case 'f':
            fmt = optarg;
            if (strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "html")) {
                fprintf(stderr, "pbxguard cdr: --format is text, json or html\n");
                return 2;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case 'n': {
            char *end;
            errno = 0;
            keep = strtoul(optarg, &end, 10);
            if (errno || *end || keep < 1 || keep > 1000000) {
                fprintf(stderr, "pbxguard cdr: --max-flagged takes 1..1000000\n");
                return 2;
            }
            break;
        }
        case 'q':
            progress = false;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "pbxguard cdr analyze: no CDR file given\n");
        usage(stderr);
        return 2;
    }
    cdr_mapping_preset(cdrfmt, &o.map);
    if (cdrfmt == CDR_FMT_GENERIC) {
        if (!map) {
            fprintf(stderr, "pbxguard cdr: --cdr-format generic needs --map\n");
            return 2;
        }
        if (cdr_mapping_parse(map, &o.map, err, sizeof(err)) < 0) {
            fprintf(stderr, "pbxguard cdr: --map: %s\n", err);
            return 2;
        }
        o.map.header = o.map.header || header;
    } else if (header) {
        o.map.header = true;
    }
    o.flagged_keep = keep;
    o.progress = progress && isatty(STDERR_FILENO);

    if (config) {
        if (load_policy(config, &policy) < 0)
            return 2;
    } else {
        policy = fraud_policy_new();
        if (!policy)
            return 2;
        if (plan && fraud_dialplan_preset(&policy->plan, plan) < 0) {
            fprintf(stderr, "pbxguard cdr: unknown dialling plan '%s'\n", plan);
            goto out;
        }
    }
    if (ranges)
        slice_copy_cstr(slice_cstr(ranges), policy->ranges_file, sizeof(policy->ranges_file));
    rc = fraud_engine_new(policy, &e, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "pbxguard cdr: %s\n", err[0] ? err : strerror(-rc));
        goto out;
    }
    if (cdr_report_init(&rep, o.flagged_keep) < 0)
        goto out;
    rep_ok = true;
    rc = cdr_analyze(e, (const char *const *)argv + optind, (size_t)(argc - optind), &o, &rep, err,
                     sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "pbxguard cdr: %s\n", err);
        goto out;
    }
    if (output) {
        out = fopen(output, "w");
        if (!out) {
            fprintf(stderr, "pbxguard cdr: %s: %s\n", output, strerror(errno));
            goto out;
        }
    }
    if (strcmp(fmt, "json") == 0)
        rc = cdr_report_json(&rep, out);
    else if (strcmp(fmt, "html") == 0)
        rc = cdr_report_html(&rep, out);
    else
        rc = cdr_report_text(&rep, out);
    if (fflush(out) != 0)
        rc = -EIO;
    if (out != stdout && fclose(out) != 0)
        rc = -EIO;
    if (rc < 0) {
        fprintf(stderr, "pbxguard cdr: writing the report failed\n");
        goto out;
    }
    if (rep.malformed)
        fprintf(stderr, "pbxguard cdr: %llu malformed rows skipped\n",
                (unsigned long long)rep.malformed);
    status = rep.flagged_calls ? 1 : 0;
out:
    if (rep_ok)
        cdr_report_fini(&rep);
    fraud_engine_free(e);
    fraud_policy_free(policy);
    return status;
}

int cmd_cdr(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "analyze") == 0)
        return analyze(argc - 1, argv + 1);
    fprintf(stderr, "pbxguard cdr: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
