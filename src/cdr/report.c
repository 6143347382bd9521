/*
 * Report writers: text, JSON (schema in docs/fraud.md) and a self-contained HTML page
 * with inline SVG charts. Account names and dialled numbers come from the CDR, which an
 * attacker influenced: text output strips control bytes, JSON escapes through the core
 * writer, HTML escapes every markup character.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/cdr/analyze.h"
#include "pbxguard/core/json.h"

static void iso_time(int64_t ms, char *buf, size_t cap)
{
    int64_t days, y, s;
    unsigned m, d;
    if (ms == INT64_MAX || ms == INT64_MIN) {
        snprintf(buf, cap, "-");
        return;
    }
    s = ms / 1000;
    days = s / 86400 - (s % 86400 < 0);
    s -= days * 86400;
    fraud_civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d, (unsigned)(s / 3600),
             (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

static void money(uint64_t milli, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIu64 ".%03u", milli / 1000, (unsigned)(milli % 1000));
}

/* Printable ASCII only, for terminals and plain files. */
static void plain(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++)
        buf[n++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ? *s : '?';
    buf[n] = '\0';
}

static const char *file_of(const struct cdr_report *rep, uint32_t i)
{
    return i < rep->n_files ? rep->files[i] : "?";
}

int cdr_report_text(const struct cdr_report *rep, FILE *out)
{
    const struct cdr_dest_stat *top[CDR_TOP_DEST];
    size_t ntop = cdr_report_top_dests(rep, top, CDR_TOP_DEST);
    char a[40], b[40], c[40];

    fprintf(out, "pbxguard cdr analyze: %zu file(s), %" PRIu64 " rows", rep->n_files, rep->rows);
    fprintf(out, " (%" PRIu64 " malformed, %" PRIu64 " without a start time) in %.2f s\n",
            rep->malformed, rep->bad_time, rep->seconds);
    iso_time(rep->first_ms, a, sizeof(a));
    iso_time(rep->last_ms, b, sizeof(b));
    fprintf(out, "period: %s .. %s (CDR times read as %s)\n", a, b, rep->timezone);
    money(rep->cost, c, sizeof(c));
    fprintf(out, "calls: %" PRIu64 ", answered %" PRIu64 ", talk time %" PRIu64 " s, cost %s\n",
            rep->rows - rep->bad_time, rep->answered, rep->billsec, c);
    fprintf(out,
            "flagged calls: %" PRIu64 " (would have been refused or ended live: %" PRIu64 ")\n",
            rep->flagged_calls, rep->would_block);

    fprintf(out, "\nflags by rule:\n");
    for (int r = 0; r < FRAUD_RULE_COUNT; r++)
        if (rep->by_rule[r])
            fprintf(out, "  %-20s %" PRIu64 "\n", fraud_rule_name((enum fraud_rule)r),
                    rep->by_rule[r]);
    fprintf(out, "\ncalls by class:\n");
    for (int k = 0; k < FRAUD_CLASS_COUNT; k++)
        if (rep->by_class[k]) {
            money(rep->cost_by_class[k], c, sizeof(c));
            fprintf(out, "  %-14s %10" PRIu64 "  cost %s\n", fraud_class_name((enum fraud_class)k),
                    rep->by_class[k], c);
        }
    fprintf(out, "\ntop destinations by cost:\n");
    for (size_t i = 0; i < ntop; i++) {
        money(top[i]->cost, c, sizeof(c));
        fprintf(out, "  %-4s %-14s %8" PRIu64 " calls %10" PRIu64 " s  cost %s\n",
                top[i]->region[0] ? top[i]->region : "?", fraud_class_name(top[i]->class),
                top[i]->calls, top[i]->billsec, c);
    }
    if (rep->n_flags) {
        fprintf(out, "\nflagged calls%s:\n",
                rep->n_flags < rep->flagged_calls ? " (first ones kept)" : "");
        for (size_t i = 0; i < rep->n_flags; i++) {
            const struct cdr_flag *f = &rep->flags[i];
            char acct[FRAUD_ACCOUNT_MAX], dst[48], det[FRAUD_DETAIL_MAX];
            plain(f->account, acct, sizeof(acct));
            plain(f->dst, dst, sizeof(dst));
            plain(f->detail, det, sizeof(det));
            iso_time(f->start_ms, a, sizeof(a));
            money(f->cost, c, sizeof(c));
            fprintf(out, "  %s:%" PRIu64 " %s %s -> %s (%s %s %s) %us cost %s: %s [",
                    file_of(rep, f->file), f->line, a, acct, dst, f->e164[0] ? f->e164 : "?",
                    fraud_class_name(f->class), f->country[0] ? f->country : "-", f->billsec, c,
                    fraud_action_name(f->action));
            for (size_t k = 0; k < f->n_rules; k++)
                fprintf(out, "%s%s", k ? "," : "", fraud_rule_name(f->rules[k]));
            fprintf(out, "] %s\n", det);
        }
    }
    return ferror(out) ? -EIO : 0;
}

int cdr_report_json(const struct cdr_report *rep, FILE *out)
{
    const struct cdr_dest_stat *top[CDR_TOP_DEST];
    size_t ntop = cdr_report_top_dests(rep, top, CDR_TOP_DEST);
    struct json_writer w;
    char t[40];
    int rc;

    json_init_dynamic(&w, 1u << 30); /* --max-flagged bounds the size */
    json_obj_begin(&w);
    json_kv_int(&w, "version", 1);
    json_key(&w, "files");
    json_arr_begin(&w);
    for (size_t i = 0; i < rep->n_files; i++)
        json_str(&w, rep->files[i]);
    json_arr_end(&w);
    json_kv_str(&w, "timezone", rep->timezone);
    json_kv_uint(&w, "rows", rep->rows);
    json_kv_uint(&w, "malformed", rep->malformed);
    json_kv_uint(&w, "bad_time", rep->bad_time);
    json_kv_uint(&w, "answered", rep->answered);
    json_kv_uint(&w, "billsec", rep->billsec);
    json_kv_uint(&w, "cost_milli", rep->cost);
    iso_time(rep->first_ms, t, sizeof(t));
    json_kv_str(&w, "first_start", t);
    iso_time(rep->last_ms, t, sizeof(t));
    json_kv_str(&w, "last_start", t);
    json_kv_uint(&w, "flagged_calls", rep->flagged_calls);
    json_kv_uint(&w, "would_block", rep->would_block);
    json_key(&w, "by_rule");
    json_obj_begin(&w);
    for (int r = 0; r < FRAUD_RULE_COUNT; r++)
        if (rep->by_rule[r])
            json_kv_uint(&w, fraud_rule_name((enum fraud_rule)r), rep->by_rule[r]);
    json_obj_end(&w);
    json_key(&w, "by_class");
    json_obj_begin(&w);
    for (int k = 0; k < FRAUD_CLASS_COUNT; k++)
        if (rep->by_class[k]) {
            json_key(&w, fraud_class_name((enum fraud_class)k));
            json_obj_begin(&w);
            json_kv_uint(&w, "calls", rep->by_class[k]);
            json_kv_uint(&w, "cost_milli", rep->cost_by_class[k]);
            json_obj_end(&w);
        }
    json_obj_end(&w);
    json_key(&w, "calls_by_hour");
    json_arr_begin(&w);
    for (int h = 0; h < 24; h++)
        json_uint(&w, rep->by_hour[h]);
    json_arr_end(&w);
    json_key(&w, "flagged_by_hour");
    json_arr_begin(&w);
    for (int h = 0; h < 24; h++)
        json_uint(&w, rep->flagged_by_hour[h]);
    json_arr_end(&w);
    json_key(&w, "top_destinations");
    json_arr_begin(&w);
    for (size_t i = 0; i < ntop; i++) {
        json_obj_begin(&w);
        json_kv_str(&w, "region", top[i]->region);
        json_kv_str(&w, "class", fraud_class_name(top[i]->class));
        json_kv_uint(&w, "calls", top[i]->calls);
        json_kv_uint(&w, "answered", top[i]->answered);
        json_kv_uint(&w, "billsec", top[i]->billsec);
        json_kv_uint(&w, "cost_milli", top[i]->cost);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_key(&w, "flagged");
    json_arr_begin(&w);
    for (size_t i = 0; i < rep->n_flags; i++) {
        const struct cdr_flag *f = &rep->flags[i];
        json_obj_begin(&w);
        json_kv_str(&w, "file", file_of(rep, f->file));
        json_kv_uint(&w, "line", f->line);
        iso_time(f->start_ms, t, sizeof(t));
        json_kv_str(&w, "start", t);
        json_key(&w, "account");
        json_str_untrusted(&w, slice_cstr(f->account), FRAUD_ACCOUNT_MAX);
        json_key(&w, "dialled");
        json_str_untrusted(&w, slice_cstr(f->dst), 48);
        json_kv_str(&w, "e164", f->e164);
        json_kv_str(&w, "class", fraud_class_name(f->class));
        json_kv_str(&w, "country", f->country);
        json_kv_uint(&w, "billsec", f->billsec);
        json_kv_uint(&w, "cost_milli", f->cost);
        json_kv_str(&w, "action", fraud_action_name(f->action));
        json_key(&w, "rules");
        json_arr_begin(&w);
        for (size_t k = 0; k < f->n_rules; k++)
            json_str(&w, fraud_rule_name(f->rules[k]));
        json_arr_end(&w);
        json_key(&w, "detail");
        json_str_untrusted(&w, slice_cstr(f->detail), FRAUD_DETAIL_MAX);
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_kv_bool(&w, "flagged_truncated", rep->n_flags < rep->flagged_calls);
    json_obj_end(&w);
    rc = json_error(&w);
    if (rc == 0) {
        fputs(json_cstr(&w), out);
        fputc('\n', out);
        rc = ferror(out) ? -EIO : 0;
    }
    json_fini(&w);
    return rc;
}

/* HTML text escaping of attacker-influenced strings (OWASP rule #1). */
static void html(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(c < 0x20 || c == 0x7f ? '?' : (int)c, out);
        }
    }
}

static void svg_hours(const struct cdr_report *rep, FILE *out)
{
    uint64_t max = 1;
    const int w = 720, h = 220, left = 50, bottom = 30, bw = (w - left - 10) / 24;
    for (int i = 0; i < 24; i++)
        if (rep->by_hour[i] > max)
            max = rep->by_hour[i];
    fprintf(out,
            "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
            "aria-label=\"calls per hour of day\">\n",
            w, h, w, h);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left,
            h - bottom, w - 5, h - bottom);
    fprintf(out,
            "<text x=\"%d\" y=\"14\" font-size=\"11\" text-anchor=\"end\">%" PRIu64 "</text>\n",
            left - 4, max);
    for (int i = 0; i < 24; i++) {
        double all = (double)rep->by_hour[i] / (double)max * (h - bottom - 20);
        double fl = (double)rep->flagged_by_hour[i] / (double)max * (h - bottom - 20);
        int x = left + i * bw + 2;
        fprintf(out,
                "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#4a7ebb\">"
                "<title>%02d:00 %" PRIu64 " calls, %" PRIu64 " flagged</title></rect>\n",
                x, h - bottom - all, bw - 4, all, i, rep->by_hour[i], rep->flagged_by_hour[i]);
        if (rep->flagged_by_hour[i])
            fprintf(out,
                    "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                    "fill=\"#d9534f\"/>\n",
                    x, h - bottom - (fl < 2 ? 2 : fl), bw - 4, fl < 2 ? 2 : fl);
        if (i % 3 == 0)
            fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%02d</text>\n", x,
                    h - bottom + 14, i);
    }
    fprintf(out, "</svg>\n");
}

/* Bars by cost; by number of calls when no rate table priced anything. */
static uint64_t bar_value(const struct cdr_dest_stat *s, bool by_cost)
{
    return by_cost ? s->cost : s->calls;
}

static void svg_top(const struct cdr_dest_stat *const *top, size_t n, bool by_cost, FILE *out)
{
    uint64_t max = 1;
    const int w = 720, row = 22, left = 170;
    char c[40];
    for (size_t i = 0; i < n; i++)
        if (bar_value(top[i], by_cost) > max)
            max = bar_value(top[i], by_cost);
    fprintf(out,
            "<svg viewBox=\"0 0 %d %zu\" width=\"%d\" height=\"%zu\" role=\"img\" "
            "aria-label=\"top destinations by cost\">\n",
            w, n * row + 10, w, n * row + 10);
    for (size_t i = 0; i < n; i++) {
        double len = (double)bar_value(top[i], by_cost) / (double)max * (w - left - 120);
        int y = (int)i * row + 5;
        money(top[i]->cost, c, sizeof(c));
        fprintf(out,
                "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%s %s"
                "</text>\n",
                left - 6, y + 14, top[i]->region[0] ? top[i]->region : "?",
                fraud_class_name(top[i]->class));
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", left,
                y + 2, len < 1 ? 1 : len, row - 6,
                top[i]->class >= FRAUD_CLASS_PREMIUM ? "#d9534f" : "#4a7ebb");
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\">%s (%" PRIu64 " calls)</text>\n",
                left + (len < 1 ? 1 : len) + 6, y + 14, c, top[i]->calls);
    }
    fprintf(out, "</svg>\n");
}

int cdr_report_html(const struct cdr_report *rep, FILE *out)
{
    const struct cdr_dest_stat *top[CDR_TOP_DEST];
    size_t ntop = cdr_report_top_dests(rep, top, CDR_TOP_DEST);
    char a[40], b[40], c[40];

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>pbxguard CDR analysis</title>\n<style>\n"
          "body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}\n"
          "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}\n"
          ".cards{display:flex;gap:1em;flex-wrap:wrap}\n"
          ".card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:9em}\n"
          ".card b{display:block;font-size:1.4em}.bad b{color:#c9302c}\n"
          "table{border-collapse:collapse;font-size:.9em}\n"
          "td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left}\n"
          "th{background:#f3f3f3}.mono{font-family:monospace}\n"
          ".legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em}\n"
          "</style></head><body>\n<h1>pbxguard CDR analysis</h1>\n",
          out);
    fputs("<p>Files: ", out);
    for (size_t i = 0; i < rep->n_files; i++) {
        fputs(i ? ", <span class=\"mono\">" : "<span class=\"mono\">", out);
        html(out, rep->files[i]);
        fputs("</span>", out);
    }
    iso_time(rep->first_ms, a, sizeof(a));
    iso_time(rep->last_ms, b, sizeof(b));
    fprintf(out, "<br>Period: %s &ndash; %s (CDR times read as ", a, b);
    html(out, rep->timezone);
    fputs(")</p>\n<div class=\"cards\">\n", out);
    money(rep->cost, c, sizeof(c));
    fprintf(out, "<div class=\"card\"><b>%" PRIu64 "</b>calls</div>\n", rep->rows - rep->bad_time);
    fprintf(out, "<div class=\"card\"><b>%" PRIu64 "</b>answered</div>\n", rep->answered);
    fprintf(out, "<div class=\"card\"><b>%s</b>estimated cost</div>\n", c);
    fprintf(out, "<div class=\"card%s\"><b>%" PRIu64 "</b>flagged calls</div>\n",
            rep->flagged_calls ? " bad" : "", rep->flagged_calls);
    fprintf(out, "<div class=\"card%s\"><b>%" PRIu64 "</b>would be refused live</div>\n",
            rep->would_block ? " bad" : "", rep->would_block);
    fputs("</div>\n<h2>Calls per hour of day</h2>\n<p class=\"legend\"><span "
          "style=\"background:#4a7ebb\"></span>all calls<span style=\"background:#d9534f\">"
          "</span>flagged</p>\n",
          out);
    svg_hours(rep, out);
    fputs(rep->cost ? "<h2>Top destinations by cost</h2>\n"
                    : "<h2>Top destinations by calls</h2>\n<p>No rate table priced these "
                      "calls; destinations are ranked by number of calls.</p>\n",
          out);
    if (ntop)
        svg_top(top, ntop, rep->cost != 0, out);
    else
        fputs("<p>No external calls.</p>\n", out);
    fputs("<h2>Flags by rule</h2>\n<table><tr><th>rule</th><th>calls</th></tr>\n", out);
    for (int r = 0; r < FRAUD_RULE_COUNT; r++)
        if (rep->by_rule[r])
            fprintf(out, "<tr><td>%s</td><td>%" PRIu64 "</td></tr>\n",
                    fraud_rule_name((enum fraud_rule)r), rep->by_rule[r]);
    fputs("</table>\n<h2>Flagged calls</h2>\n", out);
    if (!rep->n_flags) {
        fputs("<p>None.</p>\n", out);
    } else {
        if (rep->n_flags < rep->flagged_calls)
            fprintf(out, "<p>First %zu of %" PRIu64 " shown.</p>\n", rep->n_flags,
                    rep->flagged_calls);
        fputs("<table><tr><th>where</th><th>start (UTC)</th><th>account</th><th>dialled</th>"
              "<th>E.164</th><th>class</th><th>billsec</th><th>cost</th><th>action</th>"
              "<th>reasons</th></tr>\n",
              out);
        for (size_t i = 0; i < rep->n_flags; i++) {
            const struct cdr_flag *f = &rep->flags[i];
            iso_time(f->start_ms, a, sizeof(a));
            money(f->cost, c, sizeof(c));
            fputs("<tr><td class=\"mono\">", out);
            html(out, file_of(rep, f->file));
            fprintf(out, ":%" PRIu64 "</td><td>%s</td><td class=\"mono\">", f->line, a);
            html(out, f->account);
            fputs("</td><td class=\"mono\">", out);
            html(out, f->dst);
            fprintf(out,
                    "</td><td class=\"mono\">%s</td><td>%s %s</td><td>%u</td><td>%s</td>"
                    "<td>%s</td><td>",
                    f->e164, fraud_class_name(f->class), f->country, f->billsec, c,
                    fraud_action_name(f->action));
            for (size_t k = 0; k < f->n_rules; k++)
                fprintf(out, "%s<b>%s</b>", k ? ", " : "", fraud_rule_name(f->rules[k]));
            fputs(": ", out);
            html(out, f->detail);
            fputs("</td></tr>\n", out);
        }
        fputs("</table>\n", out);
    }
    fputs("<p><small>Generated by pbxguard " PBX_VERSION " from the fraud policy in force; "
          "costs use the configured rate table.</small></p>\n</body></html>\n",
          out);
    return ferror(out) ? -EIO : 0;
}
