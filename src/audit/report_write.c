/*
 * Report writers: text (grouped by severity), JSON and SARIF 2.1.0. The JSON emitter is a
 * minimal string escaper local to the report; it is the one place to switch to the
 * project-wide JSON writer once there is one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/audit/audit.h"

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void summary_counts(const struct audit_report *r, size_t counts[5])
{
    memset(counts, 0, 5 * sizeof(counts[0]));
    for (size_t i = 0; i < r->n; i++)
        counts[r->v[i].check->severity]++;
}

static int write_text(FILE *out, const struct audit_report *r, const char *tool,
                      const char *target, bool colour)
{
    static const char *const col[] = {"\033[2m", "\033[36m", "\033[33m", "\033[31m",
                                      "\033[1;31m"};
    const char *reset = colour ? "\033[0m" : "";
    size_t counts[5];
    summary_counts(r, counts);
    fprintf(out, "pbxguard %s%s%s: %zu finding%s, grade %c (score %d/100)\n", tool,
            target ? " of " : "", target ? target : "", r->n, r->n == 1 ? "" : "s",
            audit_report_grade(r), audit_report_score(r));
    fprintf(out, "  critical %zu, high %zu, medium %zu, low %zu, info %zu\n", counts[4],
            counts[3], counts[2], counts[1], counts[0]);
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

static int write_json(FILE *out, const struct audit_report *r, const char *tool,
                      const char *target)
{
    size_t counts[5];
    summary_counts(r, counts);
    fprintf(out, "{\"schema\":\"pbxguard-report/1\",\"tool\":");
    json_str(out, tool);
    fprintf(out, ",\"version\":\"%s\",\"target\":", PBX_VERSION);
    if (target)
        json_str(out, target);
    else
        fputs("null", out);
    fprintf(out, ",\"grade\":\"%c\",\"score\":%d,\"summary\":{", audit_report_grade(r),
            audit_report_score(r));
    for (int s = AUDIT_SEV_CRITICAL; s >= AUDIT_SEV_INFO; s--)
        fprintf(out, "\"%s\":%zu,", audit_severity_name((enum audit_severity)s), counts[s]);
    fprintf(out, "\"total\":%zu},\"findings\":[", r->n);
    for (size_t i = 0; i < r->n; i++) {
        const struct audit_finding *f = &r->v[i];
        fprintf(out, "%s\n{\"id\":", i ? "," : "");
        json_str(out, f->check->id);
        fprintf(out, ",\"severity\":\"%s\",\"title\":", audit_severity_name(f->check->severity));
        json_str(out, f->check->title);
        fputs(",\"file\":", out);
        if (f->file)
            json_str(out, f->file);
        else
            fputs("null", out);
        fprintf(out, ",\"line\":%u,\"evidence\":", f->line);
        json_str(out, f->evidence);
        fputs(",\"why\":", out);
        json_str(out, f->check->why);
        fputs(",\"fix\":", out);
        json_str(out, f->check->fix);
        fputc('}', out);
    }
    fputs("]}\n", out);
    return 0;
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

    for (size_t i = 0; i < r->n; i++) {
        size_t k;
        for (k = 0; k < nrules; k++)
            if (rules[k] == r->v[i].check)
                break;
        if (k == nrules)
            rules[nrules++] = r->v[i].check;
        rule_of[i] = k;
    }
    fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
          "\"runs\":[{\"tool\":{\"driver\":{\"name\":",
          out);
    char name[64];
    snprintf(name, sizeof(name), "pbxguard %s", tool);
    json_str(out, name);
    fprintf(out, ",\"version\":\"%s\",\"informationUri\":\"https://pbxguard.invalid/docs/%s\","
                 "\"rules\":[",
            PBX_VERSION, tool);
    for (size_t k = 0; k < nrules; k++) {
        const struct audit_check *c = rules[k];
        fprintf(out, "%s\n{\"id\":", k ? "," : "");
        json_str(out, c->id);
        fputs(",\"shortDescription\":{\"text\":", out);
        json_str(out, c->title);
        fputs("},\"fullDescription\":{\"text\":", out);
        json_str(out, c->why);
        fputs("},\"help\":{\"text\":", out);
        json_str(out, c->fix);
        fprintf(out,
                "},\"defaultConfiguration\":{\"level\":\"%s\"},\"properties\":{"
                "\"security-severity\":\"%s\",\"severity\":\"%s\"}}",
                sarif_level(c->severity), sarif_score(c->severity),
                audit_severity_name(c->severity));
    }
    fputs("]}},\"results\":[", out);
    for (size_t i = 0; i < r->n; i++) {
        const struct audit_finding *f = &r->v[i];
        fprintf(out, "%s\n{\"ruleId\":", i ? "," : "");
        json_str(out, f->check->id);
        fprintf(out, ",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":", rule_of[i],
                sarif_level(f->check->severity));
        json_str(out, f->evidence);
        fputs("},\"locations\":[", out);
        if (f->file) {
            fputs("{\"physicalLocation\":{\"artifactLocation\":{\"uri\":", out);
            json_str(out, f->file);
            fputc('}', out);
            if (f->line)
                fprintf(out, ",\"region\":{\"startLine\":%u}", f->line);
            fputs("}}", out);
        }
        fputs("]}", out);
    }
    fputs("]}]}\n", out);
    return 0;
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
