/* Host readers: sshd_config, the end-of-life table, installed versions, /proc/net. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctx.h"
#include "eol_data.h"
#include "host.h"

/* ---- sshd_config ---- */

struct ssh_walk {
    const struct audit_ctx *ctx;
    const char *keyword;
    struct host_setting *out;
    int depth;
    bool found;
};

static int ssh_read(struct ssh_walk *w, const char *path);

static int ssh_include(struct ssh_walk *w, const char *arg)
{
    char pat[1024], rel[600];
    /* sshd resolves relative Include names against /etc/ssh. */
    if (arg[0] == '/')
        snprintf(rel, sizeof(rel), "%s", arg);
    else
        snprintf(rel, sizeof(rel), "/etc/ssh/%s", arg);
    audit_host_path(w->ctx, rel, pat, sizeof(pat));
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < g.gl_pathc && !w->found && rc == 0; i++)
        rc = ssh_read(w, g.gl_pathv[i]);
    globfree(&g);
    return rc;
}

static int ssh_read(struct ssh_walk *w, const char *path)
{
    char line[1024];
    if (w->depth > 8)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -ENOENT;
    w->depth++;
    unsigned lineno = 0;
    bool in_match = false;
    while (!w->found && fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || !*p)
            continue;
        size_t kl = strcspn(p, " \t=\r\n");
        char *v = p + kl;
        while (*v == ' ' || *v == '\t' || *v == '=')
            v++;
        size_t vl = strcspn(v, "\r\n");
        while (vl && isspace((unsigned char)v[vl - 1]))
            vl--;
        v[vl] = '\0';
        if (kl == 5 && strncasecmp(p, "Match", 5) == 0) {
            in_match = true;
            continue;
        }
        if (kl == 7 && strncasecmp(p, "Include", 7) == 0) {
            /* Include inside Match applies to the Match only. */
            if (!in_match) {
                char *save = v;
                while (save && *save && !w->found) {
                    char *sp = strchr(save, ' ');
                    if (sp)
                        *sp = '\0';
                    ssh_include(w, save);
                    save = sp ? sp + 1 : NULL;
                }
            }
            continue;
        }
        if (in_match || kl != strlen(w->keyword) || strncasecmp(p, w->keyword, kl) != 0)
            continue;
        snprintf(w->out->value, sizeof(w->out->value), "%.200s", v);
        snprintf(w->out->file, sizeof(w->out->file), "%s", path);
        w->out->line = lineno;
        w->found = true;
    }
    w->depth--;
    fclose(f);
    return 0;
}

int host_sshd_get(const struct audit_ctx *ctx, const char *keyword, struct host_setting *out)
{
    char path[1024];
    struct ssh_walk w = {ctx, keyword, out, 0, false};
    audit_host_path(ctx, "/etc/ssh/sshd_config", path, sizeof(path));
    if (ssh_read(&w, path) == -ENOENT)
        return -ENODEV;
    return w.found ? 0 : -ENOENT;
}

/* ---- end-of-life table ---- */

static int eol_scan(const char *text, const char *product, const char *version, int64_t *eol_day,
                    char *name, size_t cap)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        if (len < sizeof(line) && *p != '#') {
            memcpy(line, p, len);
            line[len] = '\0';
            char *f[4] = {line, NULL, NULL, NULL};
            int nf = 1;
            for (char *q = line; *q && nf < 4; q++) {
                if (*q == ' ' || *q == '\t') {
                    *q = '\0';
                    while (q[1] == ' ' || q[1] == '\t')
                        q++;
                    f[nf++] = q + 1;
                }
            }
            if (nf == 4 && strcasecmp(f[0], product) == 0 && strcmp(f[1], version) == 0 &&
                audit_date_parse(f[2], eol_day) == 0) {
                snprintf(name, cap, "%s", f[3]);
                return 0;
            }
        }
        p = nl ? nl + 1 : p + len;
    }
    return -ENOENT;
}

int host_eol_lookup(const struct audit_ctx *ctx, const char *product, const char *version,
                    int64_t *eol_day, char *name, size_t cap)
{
    if (!ctx->o->eol_file)
        return eol_scan(audit_eol_builtin, product, version, eol_day, name, cap);
    FILE *f = fopen(ctx->o->eol_file, "r");
    if (!f)
        return -ENOENT;
    char *buf = malloc(1 << 20);
    int rc = -ENOMEM;
    if (buf) {
        size_t n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = '\0';
        rc = eol_scan(buf, product, version, eol_day, name, cap);
        free(buf);
    }
    fclose(f);
    return rc;
}

/* ---- installed versions ---- */

static size_t add_version(struct host_version *v, size_t n, size_t cap, const char *product,
                          const char *ver, const char *file, unsigned line)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].product, product) == 0 && strcmp(v[i].version, ver) == 0)
            return n;
    if (n >= cap)
        return n;
    snprintf(v[n].product, sizeof(v[n].product), "%s", product);
    snprintf(v[n].version, sizeof(v[n].version), "%s", ver);
    snprintf(v[n].file, sizeof(v[n].file), "%s", file);
    v[n].line = line;
    return n + 1;
}

/* "10.3.39-0+deb10u1" or "1:10.3.39" -> "10.3"; false when not a version. */
static bool major_minor(const char *s, char *out, size_t cap)
{
    const char *colon = strchr(s, ':');
    if (colon && colon - s < 4)
        s = colon + 1;
    size_t i = 0;
    int dots = 0;
    while (s[i] && (isdigit((unsigned char)s[i]) || s[i] == '.')) {
        if (s[i] == '.' && ++dots == 2)
            break;
        i++;
    }
    if (i == 0 || dots == 0 || i >= cap)
        return false;
    memcpy(out, s, i);
    out[i] = '\0';
    return true;
}

size_t host_versions(const struct audit_ctx *ctx, struct host_version *v, size_t cap)
{
    char path[1024], line[1024], pkg[256] = "";
    size_t n = 0;
    unsigned pkg_line = 0, lineno = 0;

    audit_host_path(ctx, "/var/lib/dpkg/status", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            lineno++;
            line[strcspn(line, "\r\n")] = '\0';
            if (strncmp(line, "Package: ", 9) == 0) {
                snprintf(pkg, sizeof(pkg), "%.200s", line + 9);
                pkg_line = lineno;
                continue;
            }
            if (strncmp(line, "Version: ", 9) != 0 || !pkg[0])
                continue;
            char mm[16];
            if (!major_minor(line + 9, mm, sizeof(mm)))
                continue;
            if (strncmp(pkg, "php", 3) == 0 && strstr(pkg, "-common"))
                n = add_version(v, n, cap, "php", mm, path, pkg_line);
            else if (strncmp(pkg, "mariadb-server", 14) == 0)
                n = add_version(v, n, cap, "mariadb", mm, path, pkg_line);
            else if (strncmp(pkg, "mysql-server", 12) == 0)
                n = add_version(v, n, cap, "mysql", mm, path, pkg_line);
            pkg[0] = '\0';
        }
        fclose(f);
    }
    /* Debian's PHP keeps one configuration directory per installed version. */
    audit_host_path(ctx, "/etc/php", path, sizeof(path));
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char mm[16], where[1400];
            if (e->d_name[0] == '.' || !major_minor(e->d_name, mm, sizeof(mm)))
                continue;
            snprintf(where, sizeof(where), "%s/%s", path, e->d_name);
            n = add_version(v, n, cap, "php", mm, where, 0);
        }
        closedir(d);
    }
    return n;
}

/* ---- /proc/net ---- */

static size_t read_proc_net(const struct audit_ctx *ctx, const char *name, bool v6, bool tcp,
                            struct host_listen *v, size_t n, size_t cap)
{
    char rel[64], path[1024], line[512];
    snprintf(rel, sizeof(rel), "/proc/net/%s", name);
    audit_host_path(ctx, rel, path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f)
        return n;
    unsigned lineno = 0;
    while (n < cap && fgets(line, sizeof(line), f)) {
        lineno++;
        if (lineno == 1)
            continue;
        /* "  0: 0100007F:13C4 00000000:0000 0A ..." */
        char *p = strchr(line, ':');
        if (!p)
            continue;
        p++;
        while (*p == ' ')
            p++;
        char *colon = strchr(p, ':');
        if (!colon)
            continue;
        size_t hexlen = (size_t)(colon - p);
        if (hexlen != (v6 ? 32u : 8u))
            continue;
        char portbuf[5];
        memcpy(portbuf, colon + 1, 4);
        portbuf[4] = '\0';
        char *st = colon + 5;
        while (*st == ' ')
            st++;
        st = strchr(st, ' '); /* skip remote address */
        if (!st)
            continue;
        while (*st == ' ')
            st++;
        unsigned state = (unsigned)strtoul(st, NULL, 16);
        if (tcp && state != 0x0A)
            continue; /* TCP_LISTEN */
        if (!tcp && state != 0x07)
            continue; /* TCP_CLOSE: an unconnected (listening) UDP socket */
        unsigned char addr[16];
        for (size_t i = 0; i < hexlen / 8; i++) {
            char word[9];
            memcpy(word, p + i * 8, 8);
            word[8] = '\0';
            uint32_t w = (uint32_t)strtoul(word, NULL, 16);
            /* The kernel prints each 32-bit word in host (little-endian) order. */
            memcpy(addr + i * 4, &w, 4);
        }
        struct host_listen *l = &v[n];
        snprintf(l->proto, sizeof(l->proto), "%s", tcp ? "tcp" : "udp");
        inet_ntop(v6 ? AF_INET6 : AF_INET, addr, l->addr, sizeof(l->addr));
        l->port = (unsigned)strtoul(portbuf, NULL, 16);
        static const unsigned char zero[16];
        l->any = memcmp(addr, zero, v6 ? 16 : 4) == 0;
        l->loopback = v6 ? strcmp(l->addr, "::1") == 0 : addr[0] == 127;
        snprintf(l->file, sizeof(l->file), "%s", path);
        l->line = lineno;
        n++;
    }
    fclose(f);
    return n;
}

size_t host_listeners(const struct audit_ctx *ctx, struct host_listen *v, size_t cap)
{
    size_t n = 0;
    n = read_proc_net(ctx, "tcp", false, true, v, n, cap);
    n = read_proc_net(ctx, "tcp6", true, true, v, n, cap);
    n = read_proc_net(ctx, "udp", false, false, v, n, cap);
    n = read_proc_net(ctx, "udp6", true, false, v, n, cap);
    return n;
}
