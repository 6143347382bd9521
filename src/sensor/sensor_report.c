/* Sensor reports: decisions and bans as text or JSON lines (include/pbxguard/sensor/report.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbxguard/core/escape.h"
#include "pbxguard/core/json.h"
#include "pbxguard/sensor/report.h"
#include "pbxguard/sip/headers.h"

#define JSON_LINE_MAX (64u << 10)
#define FIELD_MAX 256u
#define TEXT_EVIDENCE_LINES 24u

struct rule_count {
    const char *rule; /* static string of the engine */
    enum det_action action;
    uint64_t n;
};

struct sensor_report {
    FILE *out;
    enum sensor_report_format fmt;
    bool quiet;
    uint64_t decisions;
    uint64_t nbans;
    struct rule_count rules[SENSOR_REPORT_MAX_RULES];
    size_t nrules;
    uint64_t rules_dropped;
    struct sensor_report_ban *bans;
    size_t nkept;
    struct pbx_addr flagged[SENSOR_REPORT_MAX_FLAGGED];
    size_t nflagged;
    struct json_writer w;
};

int sensor_report_new(FILE *out, enum sensor_report_format fmt, bool quiet,
                      struct sensor_report **r)
{
    struct sensor_report *p = calloc(1, sizeof(*p));

    if (!p)
        return -ENOMEM;
    p->bans = calloc(SENSOR_REPORT_MAX_BANS, sizeof(*p->bans));
    if (!p->bans) {
        free(p);
        return -ENOMEM;
    }
    p->out = out;
    p->fmt = fmt;
    p->quiet = quiet;
    json_init_dynamic(&p->w, JSON_LINE_MAX);
    *r = p;
    return 0;
}

void sensor_report_free(struct sensor_report *r)
{
    if (!r)
        return;
    json_fini(&r->w);
    free(r->bans);
    free(r);
}

static const char *iso_ms(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];

    if (!gmtime_r(&t, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, cap, "%lld", (long long)ms);
        return buf;
    }
    snprintf(buf, cap, "%s.%03dZ", base, (int)(ms % 1000 < 0 ? 0 : ms % 1000));
    return buf;
}

static const char *call_name(enum sensor_call c)
{
    switch (c) {
    case SENSOR_CALL_REQUEST:
        return "request";
    case SENSOR_CALL_RESPONSE:
        return "response";
    case SENSOR_CALL_MALFORMED:
    default:
        return "malformed";
    }
}

static void count_rule(struct sensor_report *r, const char *rule, enum det_action a)
{
    if (!rule)
        rule = "none";
    for (size_t i = 0; i < r->nrules; i++) {
        if (r->rules[i].action == a && strcmp(r->rules[i].rule, rule) == 0) {
            r->rules[i].n++;
            return;
        }
    }
    if (r->nrules == SENSOR_REPORT_MAX_RULES) {
        r->rules_dropped++;
        return;
    }
    r->rules[r->nrules++] = (struct rule_count){rule, a, 1};
}

static void flag(struct sensor_report *r, const struct pbx_addr *a)
{
    if (sensor_report_flagged(r, a) || r->nflagged == SENSOR_REPORT_MAX_FLAGGED)
        return;
    r->flagged[r->nflagged] = *a;
    r->flagged[r->nflagged].port = 0;
    r->nflagged++;
}

static void emit_json_line(struct sensor_report *r)
{
    if (json_error(&r->w) == 0) {
        fputs(json_cstr(&r->w), r->out);
        fputc('\n', r->out);
    }
    json_reset(&r->w);
}

void sensor_report_event(const struct sensor_event *ev, void *ctx)
{
    struct sensor_report *r = ctx;
    const struct det_verdict *v = ev->v;
    bool shadow = (v->flags & DET_F_SHADOW) != 0;
    enum det_action a = shadow ? v->would_action : v->action;
    char src[PBX_ADDR_STRLEN], dst[PBX_ADDR_STRLEN], cl[PBX_ADDR_STRLEN], ts[48];
    struct slice method = SLICE_NULL, ua = SLICE_NULL, callid = SLICE_NULL;

    if (a == DET_PASS && (v->flags & DET_F_ALERT))
        a = DET_ALERT;
    r->decisions++;
    count_rule(r, v->rule, a);
    flag(r, ev->client);
    if (ev->m) {
        method = ev->m->is_request ? ev->m->method_name : ev->m->cseq_method_name;
        callid = ev->m->call_id;
        if (ev->err == 0)
            ua = sip_msg_user_agent(ev->m);
    }
    pbx_addr_fmt(ev->src, src, sizeof(src));
    pbx_addr_fmt(ev->dst, dst, sizeof(dst));
    pbx_addr_fmt_ip(ev->client, cl, sizeof(cl));
    iso_ms(ev->ts_us / 1000, ts, sizeof(ts));
    if (r->fmt == SENSOR_REPORT_JSON) {
        struct json_writer *w = &r->w;
        json_obj_begin(w);
        json_kv_str(w, "type", "verdict");
        json_kv_str(w, "ts", ts);
        json_kv_int(w, "ts_us", ev->ts_us);
        json_kv_uint(w, "frame", ev->frame);
        json_kv_str(w, "call", call_name(ev->call));
        json_kv_str(w, "transport", pbx_transport_name(ev->tp));
        json_kv_str(w, "src", src);
        json_kv_str(w, "dst", dst);
        json_kv_str(w, "client", cl);
        json_kv_str(w, "action", det_action_name(a));
        json_kv_bool(w, "shadow", shadow);
        json_kv_str(w, "rule", v->rule ? v->rule : "none");
        json_kv_int(w, "score", v->score);
        if (v->reason)
            json_kv_str(w, "reason", v->reason);
        if (a == DET_REJECT)
            json_kv_int(w, "status", v->status);
        if (method.p) {
            json_key(w, "method");
            json_str_untrusted(w, method, FIELD_MAX);
        }
        if (ev->m && ev->call == SENSOR_CALL_RESPONSE)
            json_kv_int(w, "response", ev->m->status);
        if (callid.p) {
            json_key(w, "call_id");
            json_str_untrusted(w, callid, FIELD_MAX);
        }
        if (ua.p) {
            json_key(w, "user_agent");
            json_str_untrusted(w, ua, FIELD_MAX);
        }
        if (ev->call == SENSOR_CALL_MALFORMED)
            json_kv_str(w, "error", ev->m && ev->m->err_reason ? ev->m->err_reason : "malformed");
        json_obj_end(w);
        emit_json_line(r);
        return;
    }
    if (r->quiet)
        return;
    struct esc_buf eb1, eb2;
    fprintf(r->out, "%s %-9s %-6s %-22s client %s -> %s %s (score %d%s%s)%s%s\n", ts,
            call_name(ev->call), det_action_name(a), v->rule ? v->rule : "none", cl, dst,
            method.p ? esc_s(&eb1, method) : "-", v->score, v->reason ? ", " : "",
            v->reason ? v->reason : "", ua.p ? " ua=" : "", ua.p ? esc_s(&eb2, ua) : "");
}

static void ban_json(struct sensor_report *r, const struct ban_entry *b, const char *evidence,
                     size_t len)
{
    struct json_writer *w = &r->w;
    char scope[PBX_ADDR_STRLEN + 4], ts[48];

    json_obj_begin(w);
    json_kv_str(w, "type", "ban");
    json_kv_str(w, "ts", iso_ms(b->since_ms, ts, sizeof(ts)));
    json_kv_str(w, "scope", ban_scope_fmt(b, scope, sizeof(scope)));
    json_kv_int(w, "prefix", b->prefix);
    json_kv_str(w, "rule", b->rule);
    json_kv_str(w, "reason", b->reason);
    json_kv_int(w, "level", b->level);
    json_kv_int(w, "since_ms", b->since_ms);
    if (b->expires_ms == BAN_PERMANENT) {
        json_kv_int(w, "duration_s", -1);
    } else {
        json_kv_int(w, "expires_ms", b->expires_ms);
        json_kv_int(w, "duration_s", (b->expires_ms - b->since_ms) / 1000);
    }
    json_key(w, "evidence");
    json_str_untrusted(w, slice_make(evidence, len), SENSOR_REPORT_EVIDENCE_MAX);
    json_obj_end(w);
    emit_json_line(r);
}

static void ban_text_head(FILE *out, const struct ban_entry *b)
{
    char scope[PBX_ADDR_STRLEN + 4], ts[48];

    fprintf(out, "%s BAN %s by %s (level %u, ", iso_ms(b->since_ms, ts, sizeof(ts)),
            ban_scope_fmt(b, scope, sizeof(scope)), b->rule, (unsigned)b->level);
    if (b->expires_ms == BAN_PERMANENT)
        fprintf(out, "permanent");
    else
        fprintf(out, "%llds", (long long)((b->expires_ms - b->since_ms) / 1000));
    fprintf(out, "): %s\n", b->reason);
}

/* Evidence is SIP text: shown line by line, each escaped, so no byte can forge a line. */
static void evidence_text(FILE *out, const char *ev, size_t len)
{
    size_t i = 0;
    unsigned lines = 0;
    char buf[ESC_DEFAULT_MAX * 4 + ESC_MIN_CAP];

    while (i < len && lines < TEXT_EVIDENCE_LINES) {
        const char *nl = memchr(ev + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - ev) : len;
        size_t l = end - i;
        if (l && ev[i + l - 1] == '\r')
            l--;
        esc_untrusted(buf, sizeof(buf), ev + i, l, ESC_DEFAULT_MAX, ESC_TEXT);
        fprintf(out, "    | %s\n", buf);
        lines++;
        i = end + 1;
    }
    if (i < len)
        fprintf(out, "    | ... (%zu more bytes)\n", len - i);
}

void sensor_report_ban(const struct ban_entry *b, const char *evidence, size_t len, void *ctx)
{
    struct sensor_report *r = ctx;

    r->nbans++;
    if (r->nkept < SENSOR_REPORT_MAX_BANS) {
        struct sensor_report_ban *k = &r->bans[r->nkept++];
        k->b = *b;
        k->evidence_len = len < sizeof(k->evidence) ? len : sizeof(k->evidence);
        if (k->evidence_len)
            memcpy(k->evidence, evidence, k->evidence_len);
    }
    if (r->fmt == SENSOR_REPORT_JSON)
        ban_json(r, b, evidence, len);
    else if (!r->quiet)
        ban_text_head(r->out, b);
}

void sensor_report_summary(struct sensor_report *r, const struct sensor_stats *st, double elapsed_s)
{
    double rate = elapsed_s > 0 ? (double)st->messages / elapsed_s : 0;

    if (r->fmt == SENSOR_REPORT_JSON) {
        struct json_writer *w = &r->w;
        json_obj_begin(w);
        json_kv_str(w, "type", "summary");
        json_kv_uint(w, "frames", st->frames);
        json_kv_uint(w, "bad_frames", st->bad_frames);
        json_kv_uint(w, "fragments", st->fragments);
        json_kv_uint(w, "reassembled", st->reassembled);
        json_kv_uint(w, "tcp_segments", st->tcp);
        json_kv_uint(w, "messages", st->messages);
        json_kv_uint(w, "requests", st->requests);
        json_kv_uint(w, "responses", st->responses);
        json_kv_uint(w, "malformed", st->malformed);
        json_kv_uint(w, "framing_errors", st->framing_errors);
        json_kv_uint(w, "non_sip", st->non_sip);
        json_kv_uint(w, "not_pbx", st->not_pbx);
        json_kv_uint(w, "refused", st->refused);
        json_kv_uint(w, "decisions", r->decisions);
        json_kv_uint(w, "bans", r->nbans);
        json_key(w, "rules");
        json_arr_begin(w);
        for (size_t i = 0; i < r->nrules; i++) {
            json_obj_begin(w);
            json_kv_str(w, "rule", r->rules[i].rule);
            json_kv_str(w, "action", det_action_name(r->rules[i].action));
            json_kv_uint(w, "count", r->rules[i].n);
            json_obj_end(w);
        }
        json_arr_end(w);
        json_key(w, "elapsed_s");
        json_double(w, elapsed_s);
        json_key(w, "messages_per_s");
        json_double(w, rate);
        json_obj_end(w);
        emit_json_line(r);
        return;
    }
    FILE *o = r->out;
    fprintf(o, "\nframes %llu (bad %llu), fragments %llu (reassembled %llu), tcp segments %llu\n",
            (unsigned long long)st->frames, (unsigned long long)st->bad_frames,
            (unsigned long long)st->fragments, (unsigned long long)st->reassembled,
            (unsigned long long)st->tcp);
    fprintf(o,
            "SIP messages %llu: %llu requests, %llu responses, %llu malformed, %llu framing "
            "errors; %llu not SIP, %llu not to/from a PBX, %llu refused by admission\n",
            (unsigned long long)st->messages, (unsigned long long)st->requests,
            (unsigned long long)st->responses, (unsigned long long)st->malformed,
            (unsigned long long)st->framing_errors, (unsigned long long)st->non_sip,
            (unsigned long long)st->not_pbx, (unsigned long long)st->refused);
    fprintf(o, "decisions %llu, bans %llu\n", (unsigned long long)r->decisions,
            (unsigned long long)r->nbans);
    if (r->nrules) {
        fprintf(o, "\n%-28s %-7s %s\n", "rule", "action", "count");
        for (size_t i = 0; i < r->nrules; i++)
            fprintf(o, "%-28s %-7s %llu\n", r->rules[i].rule, det_action_name(r->rules[i].action),
                    (unsigned long long)r->rules[i].n);
    }
    for (size_t i = 0; i < r->nkept; i++) {
        if (i == 0)
            fprintf(o, "\nbans:\n");
        ban_text_head(o, &r->bans[i].b);
        evidence_text(o, r->bans[i].evidence, r->bans[i].evidence_len);
    }
    if (r->nbans > r->nkept)
        fprintf(o, "(%llu more bans not kept)\n", (unsigned long long)(r->nbans - r->nkept));
}

uint64_t sensor_report_decisions(const struct sensor_report *r)
{
    return r->decisions;
}

uint64_t sensor_report_nbans(const struct sensor_report *r)
{
    return r->nbans;
}

const struct sensor_report_ban *sensor_report_ban_at(const struct sensor_report *r, size_t i)
{
    return i < r->nkept ? &r->bans[i] : NULL;
}

uint64_t sensor_report_count(const struct sensor_report *r, const char *rule, enum det_action a)
{
    for (size_t i = 0; i < r->nrules; i++)
        if (r->rules[i].action == a && strcmp(r->rules[i].rule, rule) == 0)
            return r->rules[i].n;
    return 0;
}

bool sensor_report_flagged(const struct sensor_report *r, const struct pbx_addr *client)
{
    for (size_t i = 0; i < r->nflagged; i++)
        if (pbx_addr_eq(&r->flagged[i], client, false))
            return true;
    return false;
}
