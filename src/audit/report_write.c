/* Report writers: text (grouped by severity), JSON and SARIF 2.1.0 (core JSON writer). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/audit/audit.h"
#include "pbxguard/core/json.h"

/* A report is at most AUDIT_MAX_FINDINGS findings of bounded size; 64 MiB is ample. */
#define JSON_OUT_MAX (64u << 20)

/* Prints the finished document with a final newline; -EIO if the writer failed. */
static int emit(FILE *out, struct json_writer *w)
{
    int rc = json_error(w);
    if (rc == 0) {
        fputs(json_cstr(w), out);
        fputc('\n', out);
    }
    json_fini(w);
    return rc ? -EIO : 0;
}

static void summary_counts(const struct audit_report *r, size_t counts[5])
{
    memset(counts, 0, 5 * sizeof(counts[0]));
    for (size_t i = 0; i < r->n; i++)
        counts[r->v[i].check->severity]++;
}

static int write_text(FILE *out, const struct audit_report *r, const char *tool, const char *target,
                      bool colour)
{
    static const char *const col[] = {"\033[2m", "\033[36m", "\033[33m", "\033[31m", "\033[1;31m"};
    const char *reset = colour ? "\033[0m" : "";
    size_t counts[5];
    summary_counts(r, counts);
    fprintf(out, "pbxguard %s%s%s: %zu finding%s, grade %c (score %d/100)\n", tool,
            target ? " of " : "", target ? target : "", r->n, r->n == 1 ? "" : "s",
            audit_report_grade(r), audit_report_score(r));
    fprintf(out, "  critical %zu, high %zu, medium %zu, low %zu, info %zu\n", counts[4], counts[3],
            counts[2], counts[1], counts[0]);
    for (int sev = AUDIT_SEV_CRITICAL; sev >= AUDIT_SEV_INFO; sev--) {
        if (!counts[sev])
            continue;
        char name[16];
        const char *n = audit_severity_name((enum audit_severity)sev);
        size_t i;
        for (i = 0; n[i] && i + 1 < sizeof(name); i++)
            name[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i]);
        name[i] = '\0';
        fprintf(out, "\n%s%s%s\n", colour ? col[sev] : "", name, reset);
        for (size_t k = 0; k < r->n; k++) {
            const struct audit_finding *f = &r->v[k];
            if ((int)f->check->severity != sev)
                continue;
            fprintf(out, "  %s%-14s%s %s\n", colour ? col[sev] : "", f->check->id, reset,
                    f->check->title);
            if (f->file && f->line)
                fprintf(out, "      at %s:%u\n", f->file, f->line);
            else if (f->file)
                fprintf(out, "      at %s\n", f->file);
            fprintf(out, "      evidence: %s\n", f->evidence);
            fprintf(out, "      why: %s\n", f->check->why);
            fprintf(out, "      fix: %s\n", f->check->fix);
        }
    }
    return 0;
}

static int write_json(FILE *out, const struct audit_report *r, const char *tool, const char *target)
{
    struct json_writer w;
    size_t counts[5];
    char grade[2] = {audit_report_grade(r), '\0'};

    summary_counts(r, counts);
    json_init_dynamic(&w, JSON_OUT_MAX);
    json_obj_begin(&w);
    json_kv_str(&w, "schema", "pbxguard-report/1");
    json_kv_str(&w, "tool", tool);
    json_kv_str(&w, "version", PBX_VERSION);
    json_kv_str(&w, "target", target); /* NULL writes null */
    json_kv_str(&w, "grade", grade);
    json_kv_int(&w, "score", audit_report_score(r));
    json_key(&w, "summary");
    json_obj_begin(&w);
    for (int s = AUDIT_SEV_CRITICAL; s >= AUDIT_SEV_INFO; s--)
        json_kv_uint(&w, audit_severity_name((enum audit_severity)s), counts[s]);
    json_kv_uint(&w, "total", r->n);
    json_kv_uint(&w, "dropped", r->dropped);
    json_obj_end(&w);
    json_key(&w, "findings");
    json_arr_begin(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct audit_finding *f = &r->v[i];
        json_obj_begin(&w);
        json_kv_str(&w, "id", f->check->id);
        json_kv_str(&w, "severity", audit_severity_name(f->check->severity));
        json_kv_str(&w, "title", f->check->title);
        json_kv_str(&w, "file", f->file);
        json_kv_uint(&w, "line", f->line);
        json_kv_str(&w, "evidence", f->evidence);
        json_kv_str(&w, "why", f->check->why);
        json_kv_str(&w, "fix", f->check->fix);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_obj_end(&w);
    return emit(out, &w);
}

static const char *sarif_level(enum audit_severity s)
{
    return s >= AUDIT_SEV_HIGH ? "error" : s == AUDIT_SEV_MEDIUM ? "warning" : "note";
}

/* GitHub code scanning reads properties.security-severity (CVSS-like 0.0-10.0). */
static const char *sarif_score(enum audit_severity s)
{
    static const char *const v[] = {"0.0", "3.0", "5.5", "8.0", "9.5"};
    return v[s];
}

static int write_sarif(FILE *out, const struct audit_report *r, const char *tool)
{
    const struct audit_check *rules[AUDIT_MAX_FINDINGS];
    size_t nrules = 0;
    size_t rule_of[AUDIT_MAX_FINDINGS];
    struct json_writer w;
    char name[64];

    for (size_t i = 0; i < r->n; i++) {
        size_t k;
        for (k = 0; k < nrules; k++)
            if (rules[k] == r->v[i].check)
                break;
        if (k == nrules)
            rules[nrules++] = r->v[i].check;
        rule_of[i] = k;
    }
    snprintf(name, sizeof(name), "pbxguard %s", tool);
    json_init_dynamic(&w, JSON_OUT_MAX);
    json_obj_begin(&w);
    json_kv_str(&w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    json_kv_str(&w, "version", "2.1.0");
    json_key(&w, "runs");
    json_arr_begin(&w);
    json_obj_begin(&w);
    json_key(&w, "tool");
    json_obj_begin(&w);
    json_key(&w, "driver");
    json_obj_begin(&w);
    json_kv_str(&w, "name", name);
    json_kv_str(&w, "version", PBX_VERSION);
    json_key(&w, "rules");
    json_arr_begin(&w);
    for (size_t k = 0; k < nrules; k++) {
        const struct audit_check *c = rules[k];
        json_obj_begin(&w);
        json_kv_str(&w, "id", c->id);
        json_key(&w, "shortDescription");
        json_obj_begin(&w);
        json_kv_str(&w, "text", c->title);
        json_obj_end(&w);
        json_key(&w, "fullDescription");
        json_obj_begin(&w);
        json_kv_str(&w, "text", c->why);
        json_obj_end(&w);
        json_key(&w, "help");
        json_obj_begin(&w);
        json_kv_str(&w, "text", c->fix);
        json_obj_end(&w);
        json_key(&w, "defaultConfiguration");
        json_obj_begin(&w);
        json_kv_str(&w, "level", sarif_level(c->severity));
        json_obj_end(&w);
        json_key(&w, "properties");
        json_obj_begin(&w);
        json_kv_str(&w, "security-severity", sarif_score(c->severity));
        json_kv_str(&w, "severity", audit_severity_name(c->severity));
        json_obj_end(&w);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_obj_end(&w); /* driver */
    json_obj_end(&w); /* tool */
    json_key(&w, "results");
    json_arr_begin(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct audit_finding *f = &r->v[i];
        json_obj_begin(&w);
        json_kv_str(&w, "ruleId", f->check->id);
        json_kv_uint(&w, "ruleIndex", rule_of[i]);
        json_kv_str(&w, "level", sarif_level(f->check->severity));
        json_key(&w, "message");
        json_obj_begin(&w);
        json_kv_str(&w, "text", f->evidence);
        json_obj_end(&w);
        json_key(&w, "locations");
        json_arr_begin(&w);
        if (f->file) {
            json_obj_begin(&w);
            json_key(&w, "physicalLocation");
            json_obj_begin(&w);
            json_key(&w, "artifactLocation");
            json_obj_begin(&w);
            json_kv_str(&w, "uri", f->file);
            json_obj_end(&w);
            if (f->line) {
                json_key(&w, "region");
                json_obj_begin(&w);
                json_kv_uint(&w, "startLine", f->line);
                json_obj_end(&w);
            }
            json_obj_end(&w);
            json_obj_end(&w);
        }
        json_arr_end(&w);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_obj_end(&w); /* run */
    json_arr_end(&w);
    json_obj_end(&w);
    return emit(out, &w);
}

int audit_report_write(FILE *out, const struct audit_report *r, enum audit_format fmt,
                       const char *tool, const char *target, bool colour)
{
    int rc;
    switch (fmt) {
    case AUDIT_FMT_JSON:
        rc = write_json(out, r, tool, target);
        break;
    case AUDIT_FMT_SARIF:
        rc = write_sarif(out, r, tool);
        break;
    case AUDIT_FMT_TEXT:
    default:
        rc = write_text(out, r, tool, target, colour);
        break;
    }
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = -EIO;
    return rc;
}
