/* Kamailio configuration reader; see kam_cfg.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kam_cfg.h"
#include "check_util.h"

struct kparse {
    struct kam_cfg *c;
    char *defines[KAM_MAX_DEFINES];
    int ndefines;
    bool active[KAM_MAX_DEPTH]; /* #!ifdef stack */
    bool taken[KAM_MAX_DEPTH];
    int pp_depth;
    bool in_block_comment;
    /* statement accumulation */
    char buf[8192];
    size_t blen;
    const char *stmt_file;
    unsigned stmt_line;
    /* block structure */
    char *route;
    int depth;
    char *conds[KAM_MAX_DEPTH];
    int cond_depth[KAM_MAX_DEPTH];
    int nconds;
    int include_depth;
};

static bool is_defined(struct kparse *k, const char *name)
{
    for (int i = 0; i < k->ndefines; i++)
        if (strcmp(k->defines[i], name) == 0)
            return true;
    return false;
}

static bool pp_on(const struct kparse *k)
{
    for (int i = 0; i < k->pp_depth; i++)
        if (!k->active[i])
            return false;
    return true;
}

static int emit(struct kparse *k, const char *text)
{
    struct kam_cfg *c = k->c;
    if (c->n >= KAM_MAX_STMTS)
        return -EMSGSIZE;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        struct kam_stmt *nv = realloc(c->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    char cond[4096];
    size_t off = 0;
    cond[0] = '\0';
    for (int i = 0; i < k->nconds && off < sizeof(cond); i++)
        off +=
            (size_t)snprintf(cond + off, sizeof(cond) - off, "%s%s", i ? " && " : "", k->conds[i]);
    struct kam_stmt *s = &c->v[c->n];
    s->text = strdup(text);
    s->route = k->route ? strdup(k->route) : NULL;
    s->cond = strdup(cond);
    s->file = k->stmt_file;
    s->line = k->stmt_line;
    if (!s->text || !s->cond || (k->route && !s->route)) {
        free(s->text);
        free(s->route);
        free(s->cond);
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

/* Returns the route name if text opens a route block ("route[NAME]", "request_route"). */
static bool route_header(const char *t, char *name, size_t cap)
{
    static const char *const kinds[] = {"request_route", "route",        "failure_route",
                                        "onreply_route", "branch_route", "reply_route",
                                        "event_route",   "onsend_route"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(t, kinds[i], n) != 0)
            continue;
        const char *p = t + n;
        while (*p == ' ')
            p++;
        if (*p == '\0') {
            snprintf(name, cap, "%s", strcmp(kinds[i], "route") == 0 ? "request_route" : kinds[i]);
            return true;
        }
        if (*p == '[') {
            const char *q = p + 1;
            while (*q == '"' || *q == ' ')
                q++;
            size_t len = strcspn(q, "\"] ");
            if (strcmp(kinds[i], "route") == 0)
                snprintf(name, cap, "%.*s", (int)len, q);
            else
                snprintf(name, cap, "%s:%.*s", kinds[i], (int)len, q);
            return true;
        }
    }
    return false;
}

static void trim_buf(struct kparse *k, char *out, size_t cap)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < k->blen && o + 1 < cap; i++) {
        char ch = k->buf[i];
        if (isspace((unsigned char)ch)) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap)
            out[o++] = ' ';
        space = false;
        out[o++] = ch;
    }
    out[o] = '\0';
}

static int flush(struct kparse *k, char delim)
{
    char t[8192];
    int rc = 0;
    trim_buf(k, t, sizeof(t));
    k->blen = 0;
    if (delim == '{') {
        char name[128];
        if (k->depth == 0 && route_header(t, name, sizeof(name))) {
            free(k->route);
            k->route = strdup(name);
            if (!k->route)
                return -ENOMEM;
            rc = emit(k, t);
        } else {
            /* "if (c)", "} else", "else if (c)", "switch ($rm)", "case ...": a condition */
            if (t[0] && k->nconds < KAM_MAX_DEPTH) {
                rc = emit(k, t);
                k->conds[k->nconds] = strdup(t);
                if (!k->conds[k->nconds])
                    return -ENOMEM;
                k->cond_depth[k->nconds++] = k->depth + 1;
            }
        }
        k->depth++;
        return rc;
    }
    if (t[0])
        rc = emit(k, t);
    if (delim == '}') {
        if (k->nconds && k->cond_depth[k->nconds - 1] == k->depth) {
            free(k->conds[--k->nconds]);
        }
        if (k->depth > 0)
            k->depth--;
        if (k->depth == 0 && k->route) {
            free(k->route);
            k->route = NULL;
        }
    }
    return rc;
}

static int read_cfg(struct kparse *k, const char *path);

static int directive(struct kparse *k, char *line, const char *file)
{
    char word[32], arg[256];
    size_t n = strcspn(line, " \t\r\n");
    snprintf(word, sizeof(word), "%.*s", (int)n, line);
    const char *a = line + n;
    while (*a == ' ' || *a == '\t')
        a++;
    size_t an = strcspn(a, " \t\r\n");
    snprintf(arg, sizeof(arg), "%.*s", (int)an, a);

    if (strcmp(word, "#!ifdef") == 0 || strcmp(word, "#!ifndef") == 0) {
        if (k->pp_depth >= KAM_MAX_DEPTH)
            return -EMSGSIZE;
        bool def = is_defined(k, arg);
        k->active[k->pp_depth] = word[3] == 'n' ? !def : def;
        k->taken[k->pp_depth] = k->active[k->pp_depth];
        k->pp_depth++;
    } else if (strcmp(word, "#!else") == 0) {
        if (k->pp_depth)
            k->active[k->pp_depth - 1] = !k->taken[k->pp_depth - 1];
    } else if (strcmp(word, "#!endif") == 0) {
        if (k->pp_depth)
            k->pp_depth--;
    } else if (!pp_on(k)) {
        return 0;
    } else if (strcmp(word, "#!define") == 0 || strcmp(word, "#!trydef") == 0) {
        if (!is_defined(k, arg) && k->ndefines < KAM_MAX_DEFINES) {
            k->defines[k->ndefines] = strdup(arg);
            if (!k->defines[k->ndefines])
                return -ENOMEM;
            k->ndefines++;
        }
    } else if (strcmp(word, "#!include_file") == 0 || strcmp(word, "#!import_file") == 0) {
        char inc[PATH_MAX];
        char *q = arg;
        size_t ql = strlen(q);
        if (ql >= 2 && q[0] == '"' && q[ql - 1] == '"') {
            q[ql - 1] = '\0';
            q++;
        }
        if (q[0] == '/') {
            snprintf(inc, sizeof(inc), "%s", q);
        } else {
            const char *slash = strrchr(file, '/');
            snprintf(inc, sizeof(inc), "%.*s/%s", slash ? (int)(slash - file) : 1,
                     slash ? file : ".", q);
        }
        int rc = read_cfg(k, inc);
        return rc == -ENOENT ? 0 : rc;
    }
    return 0;
}

static int feed_line(struct kparse *k, char *line, const char *file, unsigned lineno)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!k->in_block_comment && p[0] == '#' && p[1] == '!')
        return directive(k, p, file);
    if (!pp_on(k))
        return 0;
    if (!k->in_block_comment && strncmp(p, "include_file", 12) == 0) {
        char tmp[PATH_MAX + 20];
        snprintf(tmp, sizeof(tmp), "#!include_file %s", p + 12);
        return directive(k, tmp, file);
    }
    bool in_str = false;
    char quote = 0;
    int rc = 0;
    for (char *r = line; *r && rc == 0; r++) {
        if (k->in_block_comment) {
            if (r[0] == '*' && r[1] == '/') {
                k->in_block_comment = false;
                r++;
            }
            continue;
        }
        if (in_str) {
            if (*r == '\\' && r[1]) {
                if (k->blen + 2 < sizeof(k->buf)) {
                    k->buf[k->blen++] = r[0];
                    k->buf[k->blen++] = r[1];
                }
                r++;
                continue;
            }
            if (*r == quote)
                in_str = false;
        } else {
            if (*r == '#' || (r[0] == '/' && r[1] == '/'))
                break;
            if (r[0] == '/' && r[1] == '*') {
                k->in_block_comment = true;
                r++;
                continue;
            }
            if (*r == '"' || *r == '\'') {
                in_str = true;
                quote = *r;
            } else if (*r == ';' || *r == '{' || *r == '}') {
                rc = flush(k, *r);
                continue;
            }
        }
        if (k->blen == 0) {
            if (isspace((unsigned char)*r))
                continue;
            k->stmt_file = file;
            k->stmt_line = lineno;
        }
        if (k->blen + 1 < sizeof(k->buf))
            k->buf[k->blen++] = *r;
    }
    /* Outside route blocks a statement ends at the end of the line (loadmodule "x.so"). */
    if (rc == 0 && k->depth == 0 && !k->in_block_comment && k->blen) {
        char t[8192];
        trim_buf(k, t, sizeof(t));
        if (strncmp(t, "loadmodule", 10) == 0 || strncmp(t, "modparam", 8) == 0 ||
            strchr(t, '=') != NULL)
            rc = flush(k, '\n');
    }
    return rc;
}

static const char *intern(struct kam_cfg *c, const char *path)
{
    return audit_file_list_add(&c->files, &c->nfiles, path);
}

static int read_cfg(struct kparse *k, const char *path)
{
    char line[8192];
    int rc = 0;
    if (k->include_depth >= 16)
        return -EMSGSIZE;
    FILE *f = fopen(path, "r");
    if (!f)
        return -ENOENT;
    const char *name = intern(k->c, path);
    if (!name) {
        rc = -ENOMEM;
        goto out;
    }
    k->include_depth++;
    unsigned lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        rc = feed_line(k, line, name, lineno);
    }
    k->include_depth--;
out:
    fclose(f);
    return rc;
}

int kam_cfg_load(const char *path, struct kam_cfg *c)
{
    struct kparse *k = calloc(1, sizeof(*k));
    memset(c, 0, sizeof(*c));
    if (!k)
        return -ENOMEM;
    k->c = c;
    int rc = read_cfg(k, path);
    if (rc == 0 && k->blen)
        rc = flush(k, '\n');
    for (int i = 0; i < k->ndefines; i++)
        free(k->defines[i]);
    for (int i = 0; i < k->nconds; i++)
        free(k->conds[i]);
    free(k->route);
    free(k);
    if (rc)
        kam_cfg_fini(c);
    return rc;
}

void kam_cfg_fini(struct kam_cfg *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].text);
        free(c->v[i].route);
        free(c->v[i].cond);
    }
    free(c->v);
    audit_file_list_free(&c->files, &c->nfiles);
    memset(c, 0, sizeof(*c));
}

const struct kam_stmt *kam_cfg_module(const struct kam_cfg *c, const char *name)
{
    char want[128];
    snprintf(want, sizeof(want), "%s.so", name);
    for (size_t i = 0; i < c->n; i++) {
        const struct kam_stmt *s = &c->v[i];
        if (s->route || strncmp(s->text, "loadmodule", 10) != 0)
            continue;
        const char *q = strchr(s->text, '"');
        if (!q)
            continue;
        const char *base = q + 1;
        for (const char *p = base; *p && *p != '"'; p++)
            if (*p == '/')
                base = p + 1;
        size_t n = strcspn(base, "\"");
        if ((n == strlen(want) && strncmp(base, want, n) == 0) ||
            (n == strlen(name) && strncmp(base, name, n) == 0))
            return s;
    }
    return NULL;
}

/* True when some statement of a reachable route calls route(name). */
static bool called_from(const struct kam_cfg *c, const char *route, int depth)
{
    char pat1[160], pat2[160];
    if (depth > 32)
        return false;
    snprintf(pat1, sizeof(pat1), "route(%s)", route);
    snprintf(pat2, sizeof(pat2), "route(\"%s\")", route);
    for (size_t i = 0; i < c->n; i++) {
        const struct kam_stmt *s = &c->v[i];
        if (!s->route || strcmp(s->route, route) == 0)
            continue;
        if (!strstr(s->text, pat1) && !strstr(s->text, pat2))
            continue;
        if (strcmp(s->route, "request_route") == 0 || called_from(c, s->route, depth + 1))
            return true;
    }
    return false;
}

bool kam_cfg_route_reachable(const struct kam_cfg *c, const char *route)
{
    if (!route)
        return false;
    if (strcmp(route, "request_route") == 0)
        return true;
    return called_from(c, route, 0);
}

const struct kam_stmt *kam_cfg_request_route(const struct kam_cfg *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].route && strcmp(c->v[i].route, "request_route") == 0)
            return &c->v[i];
    return NULL;
}
