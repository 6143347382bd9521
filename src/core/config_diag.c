/* Collection of configuration errors; see pbxguard/core/config.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "pbxguard/core/escape.h"

void cfg_diag_init(struct cfg_diag *d)
{
    memset(d, 0, sizeof(*d));
}

void cfg_diag_fini(struct cfg_diag *d)
{
    for (unsigned i = 0; i < d->count; i++) {
        free(d->entries[i].file);
        free(d->entries[i].reason);
    }
    memset(d, 0, sizeof(*d));
}

unsigned cfg_diag_errors(const struct cfg_diag *d)
{
    return d->count + d->dropped;
}

static char *dup_or_null(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static void diag_vadd(struct cfg_diag *d, const char *file, unsigned line, unsigned column,
                      const char *prefix, const char *fmt, va_list ap) PBX_PRINTF(6, 0);

static void diag_vadd(struct cfg_diag *d, const char *file, unsigned line, unsigned column,
                      const char *prefix, const char *fmt, va_list ap)
{
    char msg[1024];
    size_t off = 0;

    if (d->count >= CFG_MAX_ERRORS) {
        d->dropped++;
        return;
    }
    if (prefix && *prefix) {
        int n = snprintf(msg, sizeof(msg), "%s: ", prefix);
        off = n > 0 ? ((size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) : 0;
    }
    vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);

    struct cfg_diag_entry *e = &d->entries[d->count++];
    e->file = dup_or_null(file ? file : "");
    e->line = line;
    e->column = column;
    e->reason = dup_or_null(msg);
}

void cfg_diag_add(struct cfg_diag *d, const char *file, unsigned line, unsigned column,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, file, line, column, NULL, fmt, ap);
    va_end(ap);
}

void cfg_error(struct cfg_diag *d, const struct cfg_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (n)
        diag_vadd(d, n->doc->name, n->line, n->column, n->path, fmt, ap);
    else
        diag_vadd(d, NULL, 0, 0, NULL, fmt, ap);
    va_end(ap);
}

const char *cfg_quote(const struct cfg_node *n, char *buf, size_t cap)
{
    if (!n || n->kind != CFG_NODE_SCALAR) {
        snprintf(buf, cap, "%s", n ? cfg_kind_name(n->kind) : "(none)");
        return buf;
    }
    esc_untrusted(buf, cap, n->str, n->len, 64, ESC_TEXT);
    return buf;
}

void cfg_diag_sort(struct cfg_diag *d)
{
    /* insertion sort: stable, and there are at most CFG_MAX_ERRORS entries */
    for (unsigned i = 1; i < d->count; i++) {
        struct cfg_diag_entry e = d->entries[i];
        unsigned j = i;
        while (j > 0 &&
               (d->entries[j - 1].line > e.line ||
                (d->entries[j - 1].line == e.line && d->entries[j - 1].column > e.column))) {
            d->entries[j] = d->entries[j - 1];
            j--;
        }
        d->entries[j] = e;
    }
}

void cfg_diag_print(const struct cfg_diag *d, FILE *out)
{
    for (unsigned i = 0; i < d->count; i++) {
        const struct cfg_diag_entry *e = &d->entries[i];
        const char *reason = e->reason ? e->reason : "out of memory";
        if (e->file && *e->file && e->line)
            fprintf(out, "%s:%u:%u: %s\n", e->file, e->line, e->column, reason);
        else if (e->file && *e->file)
            fprintf(out, "%s: %s\n", e->file, reason);
        else
            fprintf(out, "%s\n", reason);
    }
    if (d->dropped)
        fprintf(out, "(%u more errors not shown)\n", d->dropped);
}
