/*
 * AST-DIAL-001: dial-out exposure. Finds the contexts that unauthenticated callers land in
 * (chan_sip guests, the PJSIP anonymous endpoint, identify sections matching any address),
 * follows include => chains and Goto() jumps (loop-safe), matches extension patterns with
 * Asterisk semantics against sample international and premium numbers, and reports when
 * the matched extension Dial()s a trunk. The evidence is the path, file:line per hop.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pbxguard/audit/dialplan.h"

#include "checks.h"
#include "ctx.h"

#define MAX_HOPS 64
#define MAX_EXT_LEN 128

struct sample {
    const char *number;
    const char *what;
};

/* Numbers a fraudster dials: international in every common dialling form, and premium. */
static const struct sample samples[] = {
    {"011442079460000", "international (NANP 011)"},
    {"00442079460000", "international (00)"},
    {"9011442079460000", "international (9 + 011)"},
    {"900442079460000", "international (9 + 00)"},
    {"+442079460000", "international (E.164)"},
    {"0088213000000", "premium international network (+882)"},
    {"19005550123", "premium (NANP 1-900)"},
    {"09098790000", "premium (UK 09)"},
};

struct walk {
    const struct ast_conf *ext;
    const char *number;
    char visited[MAX_HOPS][MAX_EXT_LEN];
    int nvisited;
    char hops[MAX_HOPS][160];
    int nhops;
};

/* Copies the first field of a comma list ("_X.,1,Dial(...)") into out; returns the rest. */
static const char *field(const char *s, char *out, size_t cap)
{
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    while (n && *s == ' ') {
        s++;
        n--;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return comma ? comma + 1 : s + strlen(s);
}

static bool app_is(const char *app, const char *name)
{
    size_t n = strlen(name);
    while (*app == ' ')
        app++;
    return strncasecmp(app, name, n) == 0 && (app[n] == '(' || app[n] == '\0' || app[n] == ' ');
}

/* True when the Dial() argument list sends the call out of the PBX to a trunk. */
static bool dial_is_trunk(const char *app)
{
    const char *args = strchr(app, '(');
    if (!args)
        return false;
    args++;
    if (strcasestr(args, "${TRUNK") || strcasestr(args, "${OUT"))
        return true;
    /* Each '&'-separated destination of the first argument. */
    char dest[256];
    field(args, dest, sizeof(dest));
    char *save = dest;
    while (save && *save) {
        char *amp = strchr(save, '&');
        if (amp)
            *amp = '\0';
        char *slash = strchr(save, '/');
        if (slash) {
            const char *res = slash + 1;
            size_t tech = (size_t)(slash - save);
            if (tech == 5 && strncasecmp(save, "PJSIP", 5) == 0) {
                if (strchr(res, '@') || strchr(res, '/'))
                    return true;
            } else if ((tech == 3 && strncasecmp(save, "SIP", 3) == 0) ||
                       (tech == 4 && strncasecmp(save, "IAX2", 4) == 0)) {
                if (strchr(res, '/') || strchr(res, '@'))
                    return true;
            } else if ((tech == 5 && strncasecmp(save, "DAHDI", 5) == 0) ||
                       (tech == 3 && strncasecmp(save, "Zap", 3) == 0)) {
                return true;
            }
        }
        save = amp ? amp + 1 : NULL;
    }
    return false;
}

static bool reach(struct walk *w, const char *context);

/* The sections of the dialplan named context (templates aside), one per call from *i on;
 * NULL after the last. */
static const struct ast_section *next_section(const struct ast_conf *ext, const char *context,
                                              size_t *i)
{
    while (*i < ext->nsecs) {
        const struct ast_section *s = &ext->secs[(*i)++];
        if (!s->is_template && strcasecmp(s->name, context) == 0)
            return s;
    }
    return NULL;
}

/* The pattern of an "exten =>" value ("_X.,1,Dial(...)") without its "/callerid" part;
 * returns the rest after the pattern. */
static const char *ext_pattern(const char *value, char *out, size_t cap)
{
    const char *rest = field(value, out, cap);
    char *cid = strchr(out, '/');
    if (cid)
        *cid = '\0';
    return rest;
}

static bool was_visited(struct walk *w, const char *context)
{
    for (int i = 0; i < w->nvisited; i++)
        if (strcasecmp(w->visited[i], context) == 0)
            return true;
    return false;
}

static void hop(struct walk *w, const struct ast_var *v, const char *text)
{
    if (w->nhops < MAX_HOPS) {
        snprintf(w->hops[w->nhops], sizeof(w->hops[0]), "%.40s:%u %.110s", ast_basename(v->file),
                 v->line, text);
        w->nhops++;
    }
}

/* Runs the priorities of one extension in order; true when one reaches a trunk. */
static bool run_extension(struct walk *w, const char *context, const char *pattern)
{
    char cur[MAX_EXT_LEN] = "";
    const struct ast_section *s;
    for (size_t i = 0; (s = next_section(w->ext, context, &i));) {
        for (size_t j = 0; j < s->nvars; j++) {
            const struct ast_var *v = &s->vars[j];
            const char *rest;
            if (strcasecmp(v->name, "exten") == 0) {
                rest = ext_pattern(v->value, cur, sizeof(cur));
            } else if (strcasecmp(v->name, "same") == 0) {
                rest = v->value;
            } else {
                continue;
            }
            if (strcmp(cur, pattern) != 0)
                continue;
            char prio[32];
            const char *app = field(rest, prio, sizeof(prio));
            char text[140];
            snprintf(text, sizeof(text), "[%.40s] %.5s => %.80s", context, v->name, v->value);
            if (app_is(app, "Dial") && dial_is_trunk(app)) {
                hop(w, v, text);
                return true;
            }
            if ((app_is(app, "Macro") || app_is(app, "Gosub")) && strcasestr(app, "dialout")) {
                hop(w, v, text);
                return true;
            }
            if (app_is(app, "Goto")) {
                /* Goto(context,exten,prio) with the dialled number carried along. */
                char target[MAX_EXT_LEN], ex[MAX_EXT_LEN];
                const char *a = strchr(app, '(') + 1;
                const char *r2 = field(a, target, sizeof(target));
                field(r2, ex, sizeof(ex));
                if (*r2 && (strstr(ex, "${EXTEN}") || strcmp(ex, w->number) == 0)) {
                    int save = w->nhops;
                    hop(w, v, text);
                    if (reach(w, target))
                        return true;
                    w->nhops = save;
                }
                return false;
            }
            if (app_is(app, "Hangup") || app_is(app, "Congestion") || app_is(app, "Busy") ||
                app_is(app, "Return"))
                return false;
        }
    }
    return false;
}

static bool reach(struct walk *w, const char *context)
{
    if (was_visited(w, context) || w->nvisited >= MAX_HOPS)
        return false;
    snprintf(w->visited[w->nvisited++], sizeof(w->visited[0]), "%s", context);

    /* The context's own extensions come before anything it includes. */
    char best[MAX_EXT_LEN] = "";
    const struct ast_section *s;
    for (size_t i = 0; (s = next_section(w->ext, context, &i));) {
        for (size_t j = 0; j < s->nvars; j++) {
            const struct ast_var *v = &s->vars[j];
            if (strcasecmp(v->name, "exten") != 0)
                continue;
            char pat[MAX_EXT_LEN];
            ext_pattern(v->value, pat, sizeof(pat));
            if (!audit_ext_match(pat, w->number))
                continue;
            if (!best[0] || audit_ext_cmp(pat, best) < 0)
                snprintf(best, sizeof(best), "%s", pat);
        }
    }
    if (best[0])
        return run_extension(w, context, best);

    for (size_t i = 0; (s = next_section(w->ext, context, &i));) {
        for (size_t j = 0; j < s->nvars; j++) {
            const struct ast_var *v = &s->vars[j];
            if (strcasecmp(v->name, "include") != 0)
                continue;
            char inc[MAX_EXT_LEN];
            field(v->value, inc, sizeof(inc));
            char *bar = strchr(inc, '|');
            if (bar)
                *bar = '\0';
            int save = w->nhops;
            char text[140];
            snprintf(text, sizeof(text), "[%.60s] include => %.60s", context, inc);
            hop(w, v, text);
            if (reach(w, inc))
                return true;
            w->nhops = save;
        }
    }
    return false;
}

struct entry {
    const char *context;
    const char *file;
    unsigned line;
    const char *how;
};

static int analyse(const struct audit_check *self, const struct audit_ctx *ctx,
                   struct audit_report *r, const struct entry *e)
{
    struct walk w;
    int reached = 0;
    const struct sample *first = NULL;
    char path[AUDIT_MAX_EVIDENCE] = "";

    for (size_t i = 0; i < PBX_ARRAY_SIZE(samples); i++) {
        memset(&w, 0, sizeof(w));
        w.ext = &ctx->ext;
        w.number = samples[i].number;
        if (!reach(&w, e->context))
            continue;
        reached++;
        if (first)
            continue;
        first = &samples[i];
        size_t off = 0;
        for (int h = 0; h < w.nhops && off < sizeof(path); h++)
            off += (size_t)snprintf(path + off, sizeof(path) - off, " -> %s", w.hops[h]);
    }
    if (!first)
        return 0;
    return audit_report_add(
        r, self, e->file, e->line, "%s lands in [%s]; %s %s reaches a trunk%s (%d of %zu samples)",
        e->how, e->context, first->what, first->number, path, reached, PBX_ARRAY_SIZE(samples));
}

static int run(const struct audit_check *self, const struct audit_ctx *ctx, struct audit_report *r)
{
    int rc = 0;
    if (!ctx->has_ext)
        return 0;
    if (ctx->has_sip) {
        const struct ast_section *g = ast_conf_find(&ctx->sip, "general", NULL);
        const struct ast_var *av, *cv;
        const char *ag = g ? ast_section_get(g, "allowguest", &av) : NULL;
        if (g && (!ag || ast_true(ag))) {
            const char *c = ast_section_get(g, "context", &cv);
            const struct ast_var *at = cv ? cv : av;
            struct entry e = {c ? c : "default", at ? at->file : g->file, at ? at->line : g->line,
                              "sip.conf guest (allowguest)"};
            rc = analyse(self, ctx, r, &e);
            if (rc)
                return rc;
        }
    }
    if (!ctx->has_pjsip)
        return 0;
    for (size_t i = 0; i < ctx->pjsip.nsecs && rc == 0; i++) {
        const struct ast_section *s = &ctx->pjsip.secs[i];
        const struct ast_var *cv;
        if (s->is_template)
            continue;
        if (ast_section_is_type(s, "endpoint") && strcasecmp(s->name, "anonymous") == 0) {
            const char *c = ast_section_get(s, "context", &cv);
            struct entry e = {c ? c : "default", cv ? cv->file : s->file, cv ? cv->line : s->line,
                              "PJSIP anonymous endpoint"};
            rc = analyse(self, ctx, r, &e);
        } else if (ast_section_is_type(s, "identify")) {
            const struct ast_var *mv;
            const char *m = ast_section_get(s, "match", &mv);
            const char *epn = ast_section_get(s, "endpoint", NULL);
            if (!m || !epn || (!strstr(m, "0.0.0.0/0") && !strstr(m, "::/0")))
                continue;
            const struct ast_section *ep = ast_conf_find(&ctx->pjsip, epn, "endpoint");
            const char *c = ep ? ast_section_get(ep, "context", NULL) : NULL;
            struct entry e = {c ? c : "default", mv->file, mv->line,
                              "PJSIP identify matching any address"};
            rc = analyse(self, ctx, r, &e);
        }
    }
    return rc;
}

const struct audit_check check_ast_dial_001 = {
    .id = "AST-DIAL-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_ASTERISK,
    .title = "Unauthenticated callers can dial international or premium numbers",
    .why = "Toll fraud: a context that guests or anonymous callers land in reaches an "
           "outbound trunk for international or premium-rate numbers (directly, through "
           "include => or Goto), so anyone on the Internet can run up the bill.",
    .fix = "Send guests and anonymous calls to a context that only contains inbound "
           "destinations (no include of outbound contexts), set allowguest=no, remove the "
           "anonymous endpoint, and restrict identify match= to the provider.",
    .run = run,
};
