/* Asterisk .conf reader; see ast_conf.h for the grammar it accepts. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ast_conf.h"

/* Section name -> index of the last section with that name (case-insensitive), so template
 * and [name](+) lookups stay O(1) in configurations with tens of thousands of sections. */
struct name_index {
    size_t *slot; /* index + 1; 0 = empty */
    size_t cap;   /* power of two */
    size_t used;
};

struct parse_state {
    struct ast_conf *c;
    struct name_index idx;
    size_t cur_idx;
    bool have_cur;
    bool in_block_comment;
    char *stack[AST_CONF_MAX_DEPTH]; /* realpaths of the files being read */
    int depth;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

bool ast_true(const char *v)
{
    if (!v)
        return false;
    return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "y") == 0 ||
           strcasecmp(v, "t") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0;
}

const char *ast_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static const char *intern_file(struct ast_conf *c, const char *path)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (strcmp(c->files[i], path) == 0)
            return c->files[i];
    char **nf = realloc(c->files, (c->nfiles + 1) * sizeof(*nf));
    if (!nf)
        return NULL;
    c->files = nf;
    c->files[c->nfiles] = strdup(path);
    if (!c->files[c->nfiles])
        return NULL;
    return c->files[c->nfiles++];
}

static int add_var(struct parse_state *st, struct ast_section *sec, const char *name,
                   const char *value, const char *file, unsigned line, bool arrow)
{
    if (st->c->total_vars >= AST_CONF_MAX_VARS)
        return -EMSGSIZE;
    if (sec->nvars == sec->cap) {
        size_t ncap = sec->cap ? sec->cap * 2 : 8;
        struct ast_var *nv = realloc(sec->vars, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        sec->vars = nv;
        sec->cap = ncap;
    }
    struct ast_var *v = &sec->vars[sec->nvars];
    v->name = strdup(name);
    v->value = strdup(value);
    v->file = file;
    v->line = line;
    v->arrow = arrow;
    if (!v->name || !v->value) {
        free(v->name);
        free(v->value);
        return -ENOMEM;
    }
    sec->nvars++;
    st->c->total_vars++;
    return 0;
}

static size_t name_hash(const char *s)
{
    size_t h = 14695981039346656037u; /* FNV-1a: configuration text, not network data */
    for (; *s; s++) {
        h ^= (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
        h *= 1099511628211u;
    }
    return h;
}

/* Slot holding name, or the empty slot where it would go. */
static size_t *index_slot(const struct parse_state *st, const char *name)
{
    size_t mask = st->idx.cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        size_t *sl = &st->idx.slot[i];
        if (*sl == 0 || strcasecmp(st->c->secs[*sl - 1].name, name) == 0)
            return sl;
    }
}

static int index_put(struct parse_state *st, size_t sec)
{
    if ((st->idx.used + 1) * 2 > st->idx.cap) {
        struct name_index old = st->idx;
        size_t ncap = old.cap ? old.cap * 2 : 64;
        st->idx.slot = calloc(ncap, sizeof(*st->idx.slot));
        if (!st->idx.slot) {
            st->idx = old;
            return -ENOMEM;
        }
        st->idx.cap = ncap;
        st->idx.used = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slot[i]) {
                *index_slot(st, st->c->secs[old.slot[i] - 1].name) = old.slot[i];
                st->idx.used++;
            }
        }
        free(old.slot);
    }
    size_t *sl = index_slot(st, st->c->secs[sec].name);
    if (*sl == 0)
        st->idx.used++;
    *sl = sec + 1;
    return 0;
}

static struct ast_section *find_last(const struct parse_state *st, const char *name)
{
    if (!st->idx.cap)
        return NULL;
    size_t *sl = index_slot(st, name);
    return *sl ? &st->c->secs[*sl - 1] : NULL;
}

static int new_section(struct parse_state *st, const char *name, const char *file, unsigned line)
{
    struct ast_conf *c = st->c;
    if (c->nsecs == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct ast_section *ns = realloc(c->secs, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        c->secs = ns;
        c->cap = ncap;
    }
    struct ast_section *s = &c->secs[c->nsecs];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    if (!s->name)
        return -ENOMEM;
    s->file = file;
    s->line = line;
    st->cur_idx = c->nsecs++;
    st->have_cur = true;
    return 0;
}

/* "[name](opts)": opts is a comma list of '!', '+' and template names. */
static int parse_header(struct parse_state *st, char *line, const char *file, unsigned lineno)
{
    char *end = strchr(line, ']');
    if (!end)
        return 0; /* Asterisk warns and ignores a malformed header; so do we. */
    *end = '\0';
    char *name = trim(line + 1);
    char *opts = NULL;
    char *rest = end + 1;
    if (*rest == '(') {
        char *close = strchr(rest, ')');
        if (close) {
            *close = '\0';
            opts = rest + 1;
        }
    }
    bool extend = false;
    if (opts) {
        for (char *p = opts; *p; p++)
            if (*p == '+' && (p == opts || p[-1] == ',') && (p[1] == ',' || p[1] == '\0'))
                extend = true;
    }
    if (extend) {
        struct ast_section *old = find_last(st, name);
        if (old) {
            st->cur_idx = (size_t)(old - st->c->secs);
            st->have_cur = true;
            return 0;
        }
    }
    int rc = new_section(st, name, file, lineno);
    if (rc)
        return rc;
    if (!opts)
        return index_put(st, st->cur_idx);
    /* Walk the option list; the section pointer is re-fetched after each copy because
     * copying never reallocates secs, only the section's own vars. */
    char *save = opts;
    while (save) {
        char *comma = strchr(save, ',');
        if (comma)
            *comma = '\0';
        char *opt = trim(save);
        save = comma ? comma + 1 : NULL;
        struct ast_section *cur = &st->c->secs[st->cur_idx];
        if (strcmp(opt, "!") == 0) {
            cur->is_template = true;
            continue;
        }
        if (!*opt || strcmp(opt, "+") == 0)
            continue;
        /* The new section is not indexed yet, so this finds an earlier one. */
        struct ast_section *tmpl = find_last(st, opt);
        if (!tmpl)
            continue; /* Asterisk refuses the section; we keep it so checks still see it. */
        for (size_t i = 0; i < tmpl->nvars; i++) {
            struct ast_var *tv = &tmpl->vars[i];
            rc = add_var(st, cur, tv->name, tv->value, tv->file, tv->line, tv->arrow);
            if (rc)
                return rc;
        }
    }
    return index_put(st, st->cur_idx);
}

static int read_file(struct parse_state *st, const char *path, bool must_exist);

static int do_include(struct parse_state *st, const char *arg, const char *from, bool must)
{
    char pattern[PATH_MAX];
    char spec[PATH_MAX];
    size_t n = strlen(arg);

    if (n >= sizeof(spec))
        return -EMSGSIZE;
    memcpy(spec, arg, n + 1);
    char *s = trim(spec);
    n = strlen(s);
    if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '<' && s[n - 1] == '>'))) {
        s[n - 1] = '\0';
        s++;
    }
    if (s[0] == '/') {
        snprintf(pattern, sizeof(pattern), "%s", s);
    } else {
        const char *slash = strrchr(from, '/');
        int dirlen = slash ? (int)(slash - from) : 1;
        snprintf(pattern, sizeof(pattern), "%.*s/%s", dirlen, slash ? from : ".", s);
    }
    glob_t g;
    int grc = glob(pattern, 0, NULL, &g);
    if (grc == GLOB_NOMATCH) {
        if (must)
            fprintf(stderr, "audit: %s: #include %s: no such file\n", from, s);
        return 0;
    }
    if (grc != 0)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
        rc = read_file(st, g.gl_pathv[i], false);
    globfree(&g);
    return rc;
}

/* Removes comments in place, honouring "\;" and the ";-- --;" block form. */
static void strip_comments(struct parse_state *st, char *line)
{
    char *w = line;
    for (char *r = line; *r;) {
        if (st->in_block_comment) {
            if (r[0] == '-' && r[1] == '-' && r[2] == ';') {
                st->in_block_comment = false;
                r += 3;
            } else {
                r++;
            }
            continue;
        }
        if (r[0] == '\\' && r[1] == ';') {
            *w++ = ';';
            r += 2;
            continue;
        }
        if (r[0] == ';') {
            if (r[1] == '-' && r[2] == '-') {
                st->in_block_comment = true;
                r += 3;
                continue;
            }
            break;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static int parse_line(struct parse_state *st, char *raw, const char *file, unsigned lineno)
{
    strip_comments(st, raw);
    char *line = trim(raw);
    if (!*line)
        return 0;
    if (line[0] == '#') {
        if (strncasecmp(line, "#include", 8) == 0)
            return do_include(st, line + 8, file, true);
        if (strncasecmp(line, "#tryinclude", 11) == 0)
            return do_include(st, line + 11, file, false);
        return 0; /* #exec and unknown directives are not evaluated */
    }
    if (line[0] == '[')
        return parse_header(st, line, file, lineno);
    char *eq = strchr(line, '=');
    if (!eq || !st->have_cur)
        return 0;
    bool arrow = eq[1] == '>';
    *eq = '\0';
    char *name = trim(line);
    char *value = trim(eq + (arrow ? 2 : 1));
    return add_var(st, &st->c->secs[st->cur_idx], name, value, file, lineno, arrow);
}

static int read_file(struct parse_state *st, const char *path, bool must_exist)
{
    char real[PATH_MAX];
    char buf[AST_CONF_MAX_LINE];
    int rc = 0;

    if (!realpath(path, real))
        return must_exist ? -ENOENT : 0;
    for (int i = 0; i < st->depth; i++) {
        if (strcmp(st->stack[i], real) == 0) {
            fprintf(stderr, "audit: %s: include loop, skipped\n", path);
            return 0;
        }
    }
    if (st->depth >= AST_CONF_MAX_DEPTH || st->c->nfiles >= AST_CONF_MAX_FILES)
        return -EMSGSIZE;
    FILE *f = fopen(real, "r");
    if (!f)
        return must_exist ? -ENOENT : 0;
    /* Evidence names the file as the user wrote the tree, not the resolved symlink. */
    const char *name = intern_file(st->c, path);
    if (!name) {
        rc = -ENOMEM;
        goto out;
    }
    st->stack[st->depth] = real;
    st->depth++;
    unsigned lineno = 0;
    while (fgets(buf, sizeof(buf), f)) {
        lineno++;
        size_t n = strlen(buf);
        if (n == sizeof(buf) - 1 && buf[n - 1] != '\n') {
            /* Over-long line: drop the remainder rather than misparse it as new lines. */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
        }
        rc = parse_line(st, buf, name, lineno);
        if (rc)
            break;
    }
    st->depth--;
out:
    fclose(f);
    return rc;
}

void ast_conf_fini(struct ast_conf *c)
{
    for (size_t i = 0; i < c->nsecs; i++) {
        struct ast_section *s = &c->secs[i];
        for (size_t j = 0; j < s->nvars; j++) {
            free(s->vars[j].name);
            free(s->vars[j].value);
        }
        free(s->vars);
        free(s->name);
    }
    free(c->secs);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->files);
    memset(c, 0, sizeof(*c));
}

int ast_conf_load(const char *path, struct ast_conf *c)
{
    struct parse_state st;

    memset(c, 0, sizeof(*c));
    memset(&st, 0, sizeof(st));
    st.c = c;
    int rc = read_file(&st, path, true);
    free(st.idx.slot);
    if (rc)
        ast_conf_fini(c);
    return rc;
}

const char *ast_section_get(const struct ast_section *sec, const char *name,
                            const struct ast_var **where)
{
    for (size_t i = sec->nvars; i > 0; i--) {
        if (strcasecmp(sec->vars[i - 1].name, name) == 0) {
            if (where)
                *where = &sec->vars[i - 1];
            return sec->vars[i - 1].value;
        }
    }
    if (where)
        *where = NULL;
    return NULL;
}

bool ast_section_is_type(const struct ast_section *sec, const char *type)
{
    const char *t = ast_section_get(sec, "type", NULL);
    return t && strcasecmp(t, type) == 0;
}

const struct ast_section *ast_conf_find(const struct ast_conf *c, const char *name,
                                        const char *type)
{
    for (size_t i = 0; i < c->nsecs; i++) {
        const struct ast_section *s = &c->secs[i];
        if (s->is_template || strcasecmp(s->name, name) != 0)
            continue;
        if (type && !ast_section_is_type(s, type))
            continue;
        return s;
    }
    return NULL;
}
