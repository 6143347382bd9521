/*
 * Rendering of one inspected message. Every byte that came from the input (header values,
 * URIs, the first line, error context, even file names) goes through esc_untrusted() or
 * the JSON writer, which escapes and caps it: a crafted message cannot forge output lines
 * or break the JSON.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "inspect.h"
#include "pbxguard/core/escape.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"

/* Input bytes shown per value; longer values end with the "…[+N bytes]" marker. */
#define SHOW_MAX 200u
#define CONTEXT_MAX 60u
#define MAX_CONTACTS_SHOWN 8u

static struct sip_msg msg; /* large; one message at a time */

static const char *errno_name(int rc)
{
    switch (rc) {
    case -EBADMSG:
        return "EBADMSG";
    case -EMSGSIZE:
        return "EMSGSIZE";
    case -EAGAIN:
        return "EAGAIN";
    case -EINVAL:
        return "EINVAL";
    default:
        return "error";
    }
}

static const char *tp_name(enum inspect_transport tp)
{
    switch (tp) {
    case INSPECT_TP_UDP:
        return "udp";
    case INSPECT_TP_TCP:
        return "tcp";
    case INSPECT_TP_FILE:
        break;
    }
    return "file";
}

static void fmt_ts(int64_t ts_us, char *buf, size_t cap)
{
    time_t sec = (time_t)(ts_us / 1000000);
    struct tm tm;
    char day[32];
    if (!gmtime_r(&sec, &tm) || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, cap, "?");
        return;
    }
    snprintf(buf, cap, "%s.%06lldZ", day, (long long)(ts_us % 1000000));
}

/* The first line of buf (without CR/LF), at most SIP_MAX_LINE_LEN bytes. */
static struct slice first_line(const uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len && n < SIP_MAX_LINE_LEN && buf[n] != '\r' && buf[n] != '\n')
        n++;
    return slice_make(buf, n);
}

/* The line around off: up to CONTEXT_MAX bytes either side, never across a line end. */
static struct slice context_at(const uint8_t *buf, size_t len, size_t off, size_t *caret)
{
    if (off > len)
        off = len;
    size_t a = off, b = off;
    while (a > 0 && off - a < CONTEXT_MAX && buf[a - 1] != '\n' && buf[a - 1] != '\r')
        a--;
    while (b < len && b - off < CONTEXT_MAX && buf[b] != '\n' && buf[b] != '\r')
        b++;
    *caret = off - a;
    return slice_make(buf + a, b - a);
}

/* ---- text ---------------------------------------------------------------------------- */

static void text_value(FILE *out, const char *label, struct slice v)
{
    char esc[SHOW_MAX * 4 + ESC_MIN_CAP];
    esc_untrusted(esc, sizeof(esc), v.p, v.len, SHOW_MAX, ESC_TEXT);
    fprintf(out, "    %-15s %s\n", label, esc);
}

static void text_source(FILE *out, const struct inspect_src *s, size_t len)
{
    char esc[4096 + ESC_MIN_CAP];
    esc_untrusted(esc, sizeof(esc), s->file, strlen(s->file), 1024, ESC_TEXT);
    if (s->tp == INSPECT_TP_FILE) {
        fprintf(out, "== %s", esc);
        if (s->offset)
            fprintf(out, " @%llu", (unsigned long long)s->offset);
        fprintf(out, " (%zu bytes)\n", len);
        return;
    }
    char a[PBX_ADDR_STRLEN], b[PBX_ADDR_STRLEN], ts[48];
    fmt_ts(s->ts_us, ts, sizeof(ts));
    fprintf(out, "== %s #%llu", esc, (unsigned long long)s->frame);
    if (s->first_frame && s->first_frame != s->frame)
        fprintf(out, " (from #%llu)", (unsigned long long)s->first_frame);
    fprintf(out, " %s%s %s -> %s %s (%zu bytes)\n", tp_name(s->tp),
            s->reassembled ? " reassembled" : "", pbx_addr_fmt(s->src, a, sizeof(a)),
            pbx_addr_fmt(s->dst, b, sizeof(b)), ts, len);
}

static void text_headers(FILE *out, const struct sip_msg *m)
{
    struct slice v;
    char num[64];
    if (sip_msg_value(m, SIP_HDR_VIA, 0, &v) == 0) {
        text_value(out, "via", v);
        if (m->via_count > 1) {
            snprintf(num, sizeof(num), "%u values", m->via_count);
            fprintf(out, "    %-15s %s\n", "via count", num);
        }
    }
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_FROM, 0)))
        text_value(out, "from", v);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_TO, 0)))
        text_value(out, "to", v);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_CALL_ID, 0)))
        text_value(out, "call-id", v);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_CSEQ, 0)))
        text_value(out, "cseq", v);
    for (unsigned i = 0; i < MAX_CONTACTS_SHOWN; i++) {
        if (sip_msg_value(m, SIP_HDR_CONTACT, i, &v) != 0)
            break;
        text_value(out, "contact", v);
    }
    if (slice_present(v = sip_msg_user_agent(m)))
        text_value(out, "user-agent", v);
    if (slice_present(v = sip_msg_server(m)))
        text_value(out, "server", v);
    if (m->max_forwards >= 0)
        fprintf(out, "    %-15s %d\n", "max-forwards", m->max_forwards);
    if (m->content_length >= 0)
        snprintf(num, sizeof(num), "%lld", (long long)m->content_length);
    else
        snprintf(num, sizeof(num), "absent");
    fprintf(out, "    %-15s %s", "content-length", num);
    if (slice_present(m->body) && (int64_t)m->body.len != m->content_length)
        fprintf(out, " (body %zu bytes)", m->body.len);
    fputc('\n', out);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_CONTENT_TYPE, 0)))
        text_value(out, "content-type", v);

    static const struct {
        enum sip_hdr_id id;
        const char *label;
    } auth[] = {
        {SIP_HDR_AUTHORIZATION, "authorization"},
        {SIP_HDR_PROXY_AUTHORIZATION, "proxy-auth"},
        {SIP_HDR_WWW_AUTHENTICATE, "www-auth"},
        {SIP_HDR_PROXY_AUTHENTICATE, "proxy-authn"},
    };
    for (size_t k = 0; k < PBX_ARRAY_SIZE(auth); k++) {
        struct sip_digest d;
        if (sip_msg_hdr_count(m, auth[k].id) == 0)
            continue;
        if (sip_msg_digest(m, auth[k].id, 0, &d) != 0) {
            fprintf(out, "    %-15s (unparsable)\n", auth[k].label);
            continue;
        }
        char u[SHOW_MAX * 4 + ESC_MIN_CAP], r[SHOW_MAX * 4 + ESC_MIN_CAP],
            sc[SHOW_MAX * 4 + ESC_MIN_CAP];
        esc_untrusted(sc, sizeof(sc), d.scheme.p, d.scheme.len, 32, ESC_TEXT);
        esc_untrusted(u, sizeof(u), d.username.p, d.username.len, SHOW_MAX, ESC_TEXT);
        esc_untrusted(r, sizeof(r), d.realm.p, d.realm.len, SHOW_MAX, ESC_TEXT);
        if (slice_present(d.username))
            fprintf(out, "    %-15s %s username=\"%s\" realm=\"%s\"\n", auth[k].label, sc, u, r);
        else
            fprintf(out, "    %-15s %s realm=\"%s\"\n", auth[k].label, sc, r);
    }
}

static void text_anomalies(FILE *out, uint64_t set)
{
    fprintf(out, "    %-15s ", "anomalies");
    if (!set) {
        fputs("none\n", out);
        return;
    }
    bool first = true;
    for (unsigned i = 0; i < SIP_ANOM_COUNT; i++)
        if (set >> i & 1u) {
            fprintf(out, "%s%s", first ? "" : ", ", sip_anomaly_name((enum sip_anomaly)i));
            first = false;
        }
    fputc('\n', out);
}

static void text_error(FILE *out, const uint8_t *buf, size_t len, size_t off, const char *reason)
{
    char ctx[CONTEXT_MAX * 2 * 4 + ESC_MIN_CAP];
    size_t caret;
    fprintf(out, "    %-15s byte %zu: %s\n", "ERROR", off, reason ? reason : "invalid");
    struct slice c = context_at(buf, len, off, &caret);
    esc_untrusted(ctx, sizeof(ctx), c.p, c.len, CONTEXT_MAX * 2, ESC_TEXT);
    size_t col = esc_measure(c.p, caret, ESC_TEXT);
    fprintf(out, "    %-15s %s\n", "near", ctx);
    fprintf(out, "    %-15s %*s^\n", "", (int)(col < 400 ? col : 400), "");
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void j_untrusted(struct json_writer *w, const char *key, struct slice v)
{
    json_key(w, key);
    json_str_untrusted(w, v, SHOW_MAX);
}

static void j_source(struct json_writer *w, const struct inspect_src *s)
{
    char a[PBX_ADDR_STRLEN], ts[48];
    json_key(w, "source");
    json_obj_begin(w);
    json_kv_str(w, "file", s->file);
    json_kv_str(w, "format", s->format);
    json_kv_str(w, "transport", tp_name(s->tp));
    json_kv_uint(w, "offset", s->offset);
    if (s->tp != INSPECT_TP_FILE) {
        json_kv_uint(w, "frame", s->frame);
        json_kv_uint(w, "first_frame", s->first_frame ? s->first_frame : s->frame);
        json_kv_str(w, "src", pbx_addr_fmt(s->src, a, sizeof(a)));
        json_kv_str(w, "dst", pbx_addr_fmt(s->dst, a, sizeof(a)));
        fmt_ts(s->ts_us, ts, sizeof(ts));
        json_kv_str(w, "time", ts);
        json_kv_int(w, "time_us", s->ts_us);
        if (s->tp == INSPECT_TP_TCP)
            json_kv_uint(w, "flow", s->flow);
        json_kv_bool(w, "reassembled", s->reassembled);
    }
    json_obj_end(w);
}

static void j_name_addr(struct json_writer *w, const char *key, struct slice raw,
                        const struct sip_name_addr *na, bool parsed)
{
    json_key(w, key);
    json_obj_begin(w);
    j_untrusted(w, "value", raw);
    if (parsed) {
        if (slice_present(na->display))
            j_untrusted(w, "display", na->display);
        j_untrusted(w, "uri", na->uri_raw);
        if (slice_present(na->tag))
            j_untrusted(w, "tag", na->tag);
        if (slice_present(na->expires))
            j_untrusted(w, "expires", na->expires);
    }
    json_obj_end(w);
}

static void j_headers(struct json_writer *w, const struct sip_msg *m)
{
    struct slice v;
    struct sip_via via;
    struct sip_name_addr na;
    if (sip_msg_value(m, SIP_HDR_VIA, 0, &v) == 0) {
        json_key(w, "via");
        json_obj_begin(w);
        j_untrusted(w, "value", v);
        json_kv_uint(w, "count", m->via_count);
        if (sip_msg_via(m, 0, &via) == 0) {
            j_untrusted(w, "transport", via.transport);
            j_untrusted(w, "host", via.host);
            if (via.port)
                json_kv_uint(w, "port", via.port);
            if (slice_present(via.branch))
                j_untrusted(w, "branch", via.branch);
            if (slice_present(via.received))
                j_untrusted(w, "received", via.received);
            if (via.has_rport)
                json_kv_uint(w, "rport", via.rport);
        }
        json_obj_end(w);
    }
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_FROM, 0)))
        j_name_addr(w, "from", v, &na, sip_msg_from(m, &na) == 0);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_TO, 0)))
        j_name_addr(w, "to", v, &na, sip_msg_to(m, &na) == 0);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_CALL_ID, 0)))
        j_untrusted(w, "call_id", v);
    struct sip_cseq cs;
    if (sip_msg_hdr_count(m, SIP_HDR_CSEQ)) {
        json_key(w, "cseq");
        json_obj_begin(w);
        j_untrusted(w, "value", sip_msg_hdr_value(m, SIP_HDR_CSEQ, 0));
        if (sip_msg_cseq(m, &cs) == 0) {
            json_kv_uint(w, "num", cs.num);
            j_untrusted(w, "method", cs.method_name);
        }
        json_obj_end(w);
    }
    if (sip_msg_hdr_count(m, SIP_HDR_CONTACT)) {
        json_key(w, "contact");
        json_arr_begin(w);
        for (unsigned i = 0; i < SIP_MAX_LIST_VALUES; i++) {
            if (sip_msg_value(m, SIP_HDR_CONTACT, i, &v) != 0)
                break;
            json_obj_begin(w);
            j_untrusted(w, "value", v);
            if (sip_msg_contact(m, i, &na) == 0) {
                if (na.star)
                    json_kv_bool(w, "star", true);
                else
                    j_untrusted(w, "uri", na.uri_raw);
                if (slice_present(na.expires))
                    j_untrusted(w, "expires", na.expires);
            }
            json_obj_end(w);
        }
        json_arr_end(w);
    }
    if (slice_present(v = sip_msg_user_agent(m)))
        j_untrusted(w, "user_agent", v);
    if (slice_present(v = sip_msg_server(m)))
        j_untrusted(w, "server", v);
    if (m->max_forwards >= 0)
        json_kv_int(w, "max_forwards", m->max_forwards);
    if (m->content_length >= 0)
        json_kv_int(w, "content_length", m->content_length);
    if (slice_present(m->body))
        json_kv_uint(w, "body_length", m->body.len);
    if (slice_present(v = sip_msg_hdr_value(m, SIP_HDR_CONTENT_TYPE, 0)))
        j_untrusted(w, "content_type", v);

    static const struct {
        enum sip_hdr_id id;
        const char *key;
    } auth[] = {
        {SIP_HDR_AUTHORIZATION, "authorization"},
        {SIP_HDR_PROXY_AUTHORIZATION, "proxy_authorization"},
        {SIP_HDR_WWW_AUTHENTICATE, "www_authenticate"},
        {SIP_HDR_PROXY_AUTHENTICATE, "proxy_authenticate"},
    };
    for (size_t k = 0; k < PBX_ARRAY_SIZE(auth); k++) {
        struct sip_digest d;
        if (sip_msg_hdr_count(m, auth[k].id) == 0)
            continue;
        json_key(w, auth[k].key);
        json_obj_begin(w);
        bool ok = sip_msg_digest(m, auth[k].id, 0, &d) == 0;
        json_kv_bool(w, "parsed", ok);
        if (ok) {
            j_untrusted(w, "scheme", d.scheme);
            if (slice_present(d.username))
                j_untrusted(w, "username", d.username);
            if (slice_present(d.realm))
                j_untrusted(w, "realm", d.realm);
            if (slice_present(d.algorithm))
                j_untrusted(w, "algorithm", d.algorithm);
        }
        json_obj_end(w);
    }
}

static void j_anomalies(struct json_writer *w, uint64_t set)
{
    json_key(w, "anomalies");
    json_arr_begin(w);
    for (unsigned i = 0; i < SIP_ANOM_COUNT; i++)
        if (set >> i & 1u)
            json_str(w, sip_anomaly_name((enum sip_anomaly)i));
    json_arr_end(w);
}

static void j_error(struct json_writer *w, const uint8_t *buf, size_t len, size_t off,
                    const char *reason, const char *code)
{
    size_t caret;
    json_key(w, "error");
    json_obj_begin(w);
    json_kv_uint(w, "offset", off);
    json_kv_str(w, "reason", reason ? reason : "invalid");
    json_kv_str(w, "code", code);
    struct slice c = context_at(buf, len, off, &caret);
    json_key(w, "context");
    json_str_untrusted(w, c, CONTEXT_MAX * 2);
    json_kv_uint(w, "context_offset", caret);
    json_obj_end(w);
}

static void emit_json(struct inspect_ctx *c)
{
    if (json_error(&c->jw) == 0) {
        fputs(json_cstr(&c->jw), c->out);
        fputc('\n', c->out);
    } else {
        fprintf(stderr, "inspect: JSON record too large, skipped\n");
    }
    json_reset(&c->jw);
}

/* ---- entry points -------------------------------------------------------------------- */

bool inspect_message(struct inspect_ctx *c, const struct inspect_src *s, const uint8_t *buf,
                     size_t len, unsigned flags)
{
    struct sip_msg *m = &msg;
    int rc = sip_msg_parse(m, buf, len, flags);
    bool valid = rc == 0;
    struct slice line = first_line(buf, len);
    c->messages++;
    if (valid)
        c->valid++;
    else
        c->invalid++;
    /* Fields parsed before a failure are only shown once the start line was understood. */
    bool have_hdrs = valid || m->nhdrs > 0;

    if (c->json) {
        struct json_writer *w = &c->jw;
        json_obj_begin(w);
        json_kv_str(w, "schema", INSPECT_SCHEMA);
        j_source(w, s);
        json_kv_uint(w, "size", valid ? m->msg_len : len);
        json_kv_bool(w, "valid", valid);
        j_untrusted(w, "first_line", line);
        if (have_hdrs) {
            json_kv_str(w, "type", m->is_request ? "request" : "response");
            if (m->is_request) {
                j_untrusted(w, "method", m->method_name);
                j_untrusted(w, "request_uri", m->ruri_raw);
            } else {
                json_kv_int(w, "status", m->status);
                j_untrusted(w, "reason", m->reason);
            }
            j_headers(w, m);
        }
        j_anomalies(w, m->anomalies);
        if (!valid)
            j_error(w, buf, len, m->err_off, m->err_reason, errno_name(rc));
        json_obj_end(w);
        emit_json(c);
        return valid;
    }

    FILE *out = c->out;
    text_source(out, s, valid ? m->msg_len : len);
    char esc[SHOW_MAX * 2 * 4 + ESC_MIN_CAP];
    esc_untrusted(esc, sizeof(esc), line.p, line.len, SHOW_MAX * 2, ESC_TEXT);
    fprintf(out, "  %s\n", esc);
    if (!valid) {
        text_error(out, buf, len, m->err_off, m->err_reason);
        if (have_hdrs)
            fprintf(out, "    %-15s %s\n", "", "(fields parsed before the error)");
    }
    if (have_hdrs)
        text_headers(out, m);
    text_anomalies(out, m->anomalies);
    fprintf(out, "    %-15s %s\n\n", "verdict", valid ? "valid" : "INVALID");
    return valid;
}

void inspect_framing_error(struct inspect_ctx *c, const struct inspect_src *s, const uint8_t *buf,
                           size_t len, size_t err_off, const char *reason)
{
    struct slice line = first_line(buf, len);
    c->messages++;
    c->invalid++;
    if (c->json) {
        struct json_writer *w = &c->jw;
        json_obj_begin(w);
        json_kv_str(w, "schema", INSPECT_SCHEMA);
        j_source(w, s);
        json_kv_uint(w, "size", len);
        json_kv_bool(w, "valid", false);
        j_untrusted(w, "first_line", line);
        j_anomalies(w, 0);
        j_error(w, buf, len, err_off, reason, "EBADMSG");
        json_obj_end(w);
        emit_json(c);
        return;
    }
    char esc[SHOW_MAX * 2 * 4 + ESC_MIN_CAP];
    text_source(c->out, s, len);
    esc_untrusted(esc, sizeof(esc), line.p, line.len, SHOW_MAX * 2, ESC_TEXT);
    fprintf(c->out, "  %s\n", esc);
    text_error(c->out, buf, len, err_off, reason);
    fprintf(c->out, "    %-15s %s\n\n", "verdict", "INVALID");
}

bool inspect_is_keepalive(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    bool crlf = true, nul = true;
    for (size_t i = 0; i < n; i++) {
        crlf = crlf && (p[i] == '\r' || p[i] == '\n');
        nul = nul && p[i] == 0;
    }
    return crlf || nul;
}
