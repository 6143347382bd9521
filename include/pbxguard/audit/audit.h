/*
 * pbxguard audit: configuration and host hardening checks.
 *
 * A check is a static descriptor (ID, severity, title, why, fix) plus a function that adds
 * findings to a report. Findings carry evidence: the file and line that caused them and the
 * offending value, with secrets masked (their length and shape only, never their bytes).
 *
 * Nothing here is thread-safe: one report belongs to one thread.
 */
#ifndef PBXGUARD_AUDIT_AUDIT_H
#define PBXGUARD_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbxguard/core/compiler.h"

enum audit_severity {
    AUDIT_SEV_INFO,
    AUDIT_SEV_LOW,
    AUDIT_SEV_MEDIUM,
    AUDIT_SEV_HIGH,
    AUDIT_SEV_CRITICAL,
};

/* Which reader a check needs; a check runs only when its input was given. */
enum audit_scope {
    AUDIT_SCOPE_ASTERISK,
    AUDIT_SCOPE_FREESWITCH,
    AUDIT_SCOPE_KAMAILIO,
    AUDIT_SCOPE_HOST,
    AUDIT_SCOPE_PROBE,
};

struct audit_ctx; /* loaded inputs, private to src/audit */
struct audit_report;

struct audit_check {
    const char *id; /* stable, e.g. "AST-SIP-001" */
    enum audit_severity severity;
    enum audit_scope scope;
    const char *title; /* one line */
    const char *why;   /* why it matters */
    const char *fix;   /* what to change */
    /* Adds zero or more findings; returns 0 or a negative errno (only -ENOMEM in practice). */
    int (*run)(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r);
};

struct audit_finding {
    const struct audit_check *check; /* borrowed static descriptor */
    char *file;                      /* owned; NULL when the finding has no location */
    unsigned line;                   /* 1-based; 0 when unknown */
    char *evidence;                  /* owned, NUL-terminated, already masked */
};

struct audit_report {
    struct audit_finding *v;
    size_t n, cap;
    size_t dropped; /* findings not kept because a cap below was reached */
};

/* Caps: at most this many findings per report and per check; the rest are only counted,
 * so one noisy check (20,000 weak passwords) cannot crowd out the others. */
#define AUDIT_MAX_FINDINGS 4096
#define AUDIT_MAX_PER_CHECK 256
#define AUDIT_MAX_EVIDENCE 512

void audit_report_init(struct audit_report *r);
void audit_report_fini(struct audit_report *r);

/*
 * Appends a finding. file may be NULL; the evidence is formatted with fmt and truncated to
 * AUDIT_MAX_EVIDENCE bytes; control bytes are replaced by '?'. Callers must mask secrets
 * before passing them (see audit_mask_secret). Past a cap the finding is only counted in
 * r->dropped. Returns 0 or -ENOMEM.
 */
PBX_WUR int audit_report_add(struct audit_report *r, const struct audit_check *c, const char *file,
                             unsigned line, const char *fmt, ...) PBX_PRINTF(5, 6);

/* Number of findings with this check ID (NULL counts all). */
size_t audit_report_count(const struct audit_report *r, const char *id);
/* The idx-th finding with this ID, or NULL. Borrowed from r. */
const struct audit_finding *audit_report_find(const struct audit_report *r, const char *id,
                                              size_t idx);
/* Highest severity present; returns false when the report is empty. */
bool audit_report_worst(const struct audit_report *r, enum audit_severity *out);
/* Sorts findings by severity (worst first), then check ID, file and line. */
void audit_report_sort(struct audit_report *r);

/*
 * Grade: A (nothing above info), B (worst is low), C (medium), D (high), F (critical).
 * Score: 100 minus 40 per critical, 15 per high, 5 per medium, 1 per low, floored at 0.
 */
char audit_report_grade(const struct audit_report *r);
int audit_report_score(const struct audit_report *r);

const char *audit_severity_name(enum audit_severity s);
/* Parses "info|low|medium|high|critical" (case-insensitive). 0 or -EINVAL. */
PBX_WUR int audit_severity_parse(const char *s, enum audit_severity *out);

/*
 * Describes a secret without revealing it, e.g. "<4 chars, digits only>" or
 * "<8 chars, dictionary word>". Always NUL-terminates out (cap >= 1).
 */
void audit_mask_secret(const char *secret, char *out, size_t cap);
/* True when the secret is weak: shorter than 10, digits only, a dictionary/default word, or
 * equal (case-insensitive) to user (user may be NULL). */
bool audit_secret_is_weak(const char *secret, const char *user);

/* Every audit check, in ID order (the probe's PRB-* checks: probe_checks()). */
const struct audit_check *const *audit_checks(size_t *n);
const struct audit_check *audit_check_by_id(const char *id);

struct audit_opts {
    const char *asterisk_dir;   /* e.g. /etc/asterisk, or NULL */
    const char *freeswitch_dir; /* e.g. /etc/freeswitch, or NULL */
    const char *kamailio_file;  /* e.g. /etc/kamailio/kamailio.cfg, or NULL */
    bool host;                  /* run host checks */
    const char *root;           /* host root prefix; NULL means "/" */
    int64_t today;              /* days since 1970-01-01 (UTC) for date comparisons */
    const char *eol_file;       /* OS/software end-of-life table; NULL uses the built-in one */
};

/*
 * Loads every requested input and runs the matching checks into r. Inputs that cannot be
 * read at all return -ENOENT (with a message on stderr naming the path); a missing optional
 * file inside a directory is not an error. Returns 0 or a negative errno.
 */
PBX_WUR int audit_run(const struct audit_opts *o, struct audit_report *r);

enum audit_format {
    AUDIT_FMT_TEXT,
    AUDIT_FMT_JSON,
    AUDIT_FMT_SARIF,
};

/*
 * Writes the report. Text is grouped by severity, coloured only when colour is true.
 * JSON and SARIF 2.1.0 schemas are documented in docs/audit.md. tool names the producer
 * ("audit" or "probe"); target (may be NULL) is what was assessed. Returns 0 or -EIO.
 */
PBX_WUR int audit_report_write(FILE *out, const struct audit_report *r, enum audit_format fmt,
                               const char *tool, const char *target, bool colour);

/* Parses "YYYY-MM-DD" into days since the epoch. 0 or -EINVAL. */
PBX_WUR int audit_date_parse(const char *s, int64_t *days);

#endif
