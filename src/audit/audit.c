/* audit_run(): load the requested inputs, then run every check whose input is present. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checks.h"
#include "ctx.h"

static bool load_ast(const char *dir, const char *name, struct ast_conf *c, int *rc)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int r = ast_conf_load(path, c);
    if (r == -ENOENT)
        return false;
    if (r) {
        fprintf(stderr, "audit: %s: %s\n", path, strerror(-r));
        *rc = r;
        return false;
    }
    return true;
}

static void ctx_fini(struct audit_ctx *ctx)
{
    ast_conf_fini(&ctx->pjsip);
    ast_conf_fini(&ctx->sip);
    ast_conf_fini(&ctx->ext);
    ast_conf_fini(&ctx->manager);
    ast_conf_fini(&ctx->http);
    ast_conf_fini(&ctx->ari);
    ast_conf_fini(&ctx->rtp);
    if (ctx->has_freeswitch)
        fs_conf_fini(&ctx->fs);
    if (ctx->has_kamailio)
        kam_cfg_fini(&ctx->kam);
}

static int load(const struct audit_opts *o, struct audit_ctx *ctx)
{
    int rc = 0;
    struct stat st;

    if (o->asterisk_dir) {
        if (stat(o->asterisk_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "audit: %s: not a directory\n", o->asterisk_dir);
            return -ENOENT;
        }
        ctx->has_pjsip = load_ast(o->asterisk_dir, "pjsip.conf", &ctx->pjsip, &rc);
        ctx->has_sip = load_ast(o->asterisk_dir, "sip.conf", &ctx->sip, &rc);
        ctx->has_ext = load_ast(o->asterisk_dir, "extensions.conf", &ctx->ext, &rc);
        ctx->has_manager = load_ast(o->asterisk_dir, "manager.conf", &ctx->manager, &rc);
        ctx->has_http = load_ast(o->asterisk_dir, "http.conf", &ctx->http, &rc);
        ctx->has_ari = load_ast(o->asterisk_dir, "ari.conf", &ctx->ari, &rc);
        ctx->has_rtp = load_ast(o->asterisk_dir, "rtp.conf", &ctx->rtp, &rc);
        if (rc)
            return rc;
        ctx->has_asterisk = true;
    }
    if (o->freeswitch_dir) {
        rc = fs_conf_load(o->freeswitch_dir, &ctx->fs);
        if (rc) {
            fprintf(stderr, "audit: %s: %s\n", o->freeswitch_dir,
                    rc == -ENOENT ? "no vars.xml, event_socket.conf.xml or sip_profiles"
                                  : strerror(-rc));
            return rc;
        }
        ctx->has_freeswitch = true;
    }
    if (o->kamailio_file) {
        rc = kam_cfg_load(o->kamailio_file, &ctx->kam);
        if (rc) {
            fprintf(stderr, "audit: %s: %s\n", o->kamailio_file, strerror(-rc));
            return rc;
        }
        ctx->has_kamailio = true;
    }
    return 0;
}

int audit_run(const struct audit_opts *o, struct audit_report *r)
{
    struct audit_ctx ctx;
    char root[PATH_MAX];
    int rc;

    memset(&ctx, 0, sizeof(ctx));
    ctx.o = o;
    snprintf(root, sizeof(root), "%s", o->root ? o->root : "/");
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        root[--n] = '\0';
    ctx.root = root;
    ctx.today = o->today;

    rc = load(o, &ctx);
    if (rc)
        goto out;
    size_t nchecks;
    const struct audit_check *const *checks = audit_checks(&nchecks);
    for (size_t i = 0; i < nchecks && rc == 0; i++) {
        const struct audit_check *c = checks[i];
        bool on = (c->scope == AUDIT_SCOPE_ASTERISK && ctx.has_asterisk) ||
                  (c->scope == AUDIT_SCOPE_FREESWITCH && ctx.has_freeswitch) ||
                  (c->scope == AUDIT_SCOPE_KAMAILIO && ctx.has_kamailio) ||
                  (c->scope == AUDIT_SCOPE_HOST && o->host);
        if (on)
            rc = c->run(c, &ctx, r);
    }
    if (r->dropped)
        fprintf(stderr, "audit: %zu more findings not listed (caps: %d per check, %d in all)\n",
                r->dropped, AUDIT_MAX_PER_CHECK, AUDIT_MAX_FINDINGS);
    audit_report_sort(r);
out:
    ctx_fini(&ctx);
    return rc;
}
