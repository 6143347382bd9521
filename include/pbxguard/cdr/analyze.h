/*
 * Offline analysis of call records with the live fraud engine: every CDR is replayed as
 * an INVITE at its start time, answered at its answer time and ended at its end time, so
 * the same policy, limits and detectors judge it as the gateway would have. Results are
 * aggregated in fixed-size tables (constant memory whatever the input size) and written
 * as text, JSON or a self-contained HTML report.
 * One analysis per thread; the engine is borrowed and must not be used elsewhere meanwhile.
 */
#ifndef PBXGUARD_CDR_ANALYZE_H
#define PBXGUARD_CDR_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbxguard/cdr/reader.h"
#include "pbxguard/core/compiler.h"
#include "pbxguard/fraud/engine.h"
#include "pbxguard/fraud/tz.h"

#define CDR_FLAGGED_KEEP_DEFAULT 1000
#define CDR_FLAG_RULES_MAX 4
#define CDR_TOP_DEST 15

struct cdr_options {
    struct cdr_mapping map;
    const char *timezone; /* zone of the CDR timestamps; NULL = the policy's schedule zone */
    bool progress;        /* progress on stderr (the caller checks isatty) */
    size_t flagged_keep;  /* flagged calls kept for the report (0 = default) */
};

struct cdr_flag {
    uint64_t line;
    uint32_t file;
    char account[FRAUD_ACCOUNT_MAX];
    char dst[48];
    char e164[24];
    char country[4];
    enum fraud_class class;
    int64_t start_ms;
    uint32_t billsec;
    uint64_t cost;
    enum fraud_action action;
    enum fraud_rule rules[CDR_FLAG_RULES_MAX];
    size_t n_rules;
    char detail[FRAUD_DETAIL_MAX];
};

/* One destination bucket: (region, class). */
struct cdr_dest_stat {
    char region[4];
    enum fraud_class class;
    uint64_t calls, answered, billsec, cost;
};

struct cdr_report {
    const char *const *files;
    size_t n_files;
    uint64_t rows, malformed, bad_time, answered, billsec, cost;
    uint64_t flagged_calls; /* rows with at least one flag (alert or worse) */
    uint64_t would_block;   /* rows the live policy would have refused or ended */
    uint64_t by_rule[FRAUD_RULE_COUNT];
    uint64_t by_class[FRAUD_CLASS_COUNT];
    uint64_t cost_by_class[FRAUD_CLASS_COUNT];
    uint64_t by_hour[24], flagged_by_hour[24]; /* by local hour of the day */
    int64_t first_ms, last_ms;
    struct cdr_dest_stat *dests; /* FRAUD_REGIONS_MAX * FRAUD_CLASS_COUNT, owned */
    struct cdr_flag *flags;      /* first flagged_keep flagged calls, owned */
    size_t n_flags, flags_cap;
    char timezone[FRAUD_TZ_NAME_MAX];
    double seconds; /* wall time spent */
};

PBX_WUR int cdr_report_init(struct cdr_report *rep, size_t flagged_keep);
void cdr_report_fini(struct cdr_report *rep);

/*
 * Analyses the files in order (CDRs are expected roughly in time order, as PBXs write
 * them; earlier timestamps than already seen count as the latest seen). `files` are paths,
 * "-" is standard input; borrowed for the report's lifetime. Returns 0, or -errno on I/O
 * errors or a bad header (reason written to err).
 */
PBX_WUR int cdr_analyze(struct fraud_engine *e, const char *const *files, size_t n_files,
                        const struct cdr_options *opt, struct cdr_report *rep, char *err,
                        size_t err_cap);

/* Outputs. Each returns 0 or -EIO. The JSON schema is in docs/fraud.md. */
PBX_WUR int cdr_report_text(const struct cdr_report *rep, FILE *out);
PBX_WUR int cdr_report_json(const struct cdr_report *rep, FILE *out);
PBX_WUR int cdr_report_html(const struct cdr_report *rep, FILE *out);

/* The top destinations by cost (then calls), at most cap, into out; returns the count. */
size_t cdr_report_top_dests(const struct cdr_report *rep, const struct cdr_dest_stat **out,
                            size_t cap);

/*
 * Parses "YYYY-MM-DD HH:MM:SS" (also 'T' separator, optional fraction, optional 'Z') as
 * local wall time in seconds "as if UTC", or a plain integer as epoch seconds (*is_epoch
 * set). -EINVAL on anything else; empty input is -ENOENT.
 */
PBX_WUR int cdr_parse_time(struct slice s, int64_t *out, bool *is_epoch);

#endif
