/* Loops shared by the checks; see check_util.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "checks.h"
#include "ctx.h"
#include "host.h"

const char *audit_file_list_add(char ***files, size_t *nfiles, const char *path)
{
    char **nf = realloc(*files, (*nfiles + 1) * sizeof(*nf));
    if (!nf)
        return NULL;
    *files = nf;
    nf[*nfiles] = strdup(path);
    return nf[*nfiles] ? nf[(*nfiles)++] : NULL;
}

void audit_file_list_free(char ***files, size_t *nfiles)
{
    for (size_t i = 0; i < *nfiles; i++)
        free((*files)[i]);
    free(*files);
    *files = NULL;
    *nfiles = 0;
}

int audit_report_listeners(const struct audit_check *self, const struct audit_ctx *ctx,
                           struct audit_report *r, audit_listen_pred_fn *wanted)
{
    struct host_listen l[512];
    size_t n = host_listeners(ctx, l, PBX_ARRAY_SIZE(l));
    for (size_t i = 0; i < n; i++) {
        if (l[i].loopback || !wanted(&l[i]))
            continue;
        /* RFC 3986 §3.2.2: an IPv6 literal is bracketed when a port follows. */
        bool v6 = strchr(l[i].addr, ':') != NULL;
        int rc = audit_report_add(r, self, l[i].file, l[i].line, "%s %s%s%s:%u listening",
                                  l[i].proto, v6 ? "[" : "", l[i].addr, v6 ? "]" : "", l[i].port);
        if (rc)
            return rc;
    }
    return 0;
}

int audit_report_eol(const struct audit_check *self, const struct audit_ctx *ctx,
                     struct audit_report *r, audit_product_pred_fn *wanted)
{
    struct host_version v[16];
    size_t n = host_versions(ctx, v, PBX_ARRAY_SIZE(v));
    for (size_t i = 0; i < n; i++) {
        int64_t eol;
        char name[128];
        if (!wanted(v[i].product))
            continue;
        if (host_eol_lookup(ctx, v[i].product, v[i].version, &eol, name, sizeof(name)) != 0 ||
            ctx->today <= eol)
            continue;
        int rc = audit_report_add(r, self, v[i].file, v[i].line,
                                  "%s installed, end of life %" PRId64 " days ago", name,
                                  ctx->today - eol);
        if (rc)
            return rc;
    }
    return 0;
}

const struct ast_var *audit_ast_general_public(const struct ast_conf *conf, const char **bind)
{
    const struct ast_var *ev, *bv;
    const struct ast_section *g = ast_conf_find(conf, "general", NULL);
    if (!g)
        return NULL;
    if (!ast_true(ast_section_get(g, "enabled", &ev)))
        return NULL;
    const char *b = ast_section_get(g, "bindaddr", &bv);
    if (b && audit_addr_is_private(b))
        return NULL;
    *bind = b;
    return bv ? bv : ev;
}
