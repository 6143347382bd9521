/* Firewall configuration reader (nftables, iptables-save, ufw, firewalld). */
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctx.h"
#include "host_fw.h"

static void note(struct host_fw *fw, const char *what, const char *file, unsigned line)
{
    if (!fw->found || (fw->line == 0 && line)) {
        snprintf(fw->what, sizeof(fw->what), "%s", what);
        snprintf(fw->file, sizeof(fw->file), "%s", file);
        fw->line = line;
    }
    fw->found = true;
}

/* nftables: a chain with "hook input" filters when its policy is drop or it drops/rejects. */
static void read_nft(const struct audit_ctx *ctx, const char *path, struct host_fw *fw, int depth)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f || depth > 8) {
        if (f)
            fclose(f);
        return;
    }
    note(fw, "nftables", path, 0);
    unsigned lineno = 0;
    int brace = 0, chain_brace = -1;
    bool in_input = false;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "include", 7) == 0) {
            char *q1 = strchr(p, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
            if (q1 && q2) {
                char rel[512], pat[1024];
                snprintf(rel, sizeof(rel), "%.*s", (int)(q2 - q1 - 1), q1 + 1);
                if (rel[0] == '/')
                    audit_host_path(ctx, rel, pat, sizeof(pat));
                else
                    snprintf(pat, sizeof(pat), "%.*s/%s",
                             (int)(strrchr(path, '/') ? strrchr(path, '/') - path : 1),
                             strrchr(path, '/') ? path : ".", rel);
                glob_t g;
                if (glob(pat, 0, NULL, &g) == 0) {
                    for (size_t i = 0; i < g.gl_pathc; i++)
                        read_nft(ctx, g.gl_pathv[i], fw, depth + 1);
                    globfree(&g);
                }
            }
            continue;
        }
        if (strncmp(p, "chain ", 6) == 0)
            chain_brace = brace + 1;
        if (strstr(p, "hook input") && strstr(p, "type filter")) {
            in_input = true;
            note(fw, "nftables", path, lineno);
            if (strstr(p, "policy drop") || strstr(p, "policy reject"))
                fw->filters = true;
        } else if (in_input &&
                   (strstr(p, " drop") || strncmp(p, "drop", 4) == 0 || strstr(p, "reject"))) {
            fw->filters = true;
        }
        for (char *c = p; *c; c++) {
            if (*c == '{')
                brace++;
            else if (*c == '}') {
                if (brace == chain_brace) {
                    in_input = false;
                    chain_brace = -1;
                }
                brace--;
            }
        }
    }
    fclose(f);
}

/* iptables-save format: ":INPUT DROP" or an INPUT rule jumping to DROP/REJECT. */
static void read_ipt(const char *path, struct host_fw *fw)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    note(fw, "iptables", path, 0);
    unsigned lineno = 0;
    bool filter = false;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '*') {
            filter = strncmp(line, "*filter", 7) == 0;
            continue;
        }
        if (!filter)
            continue;
        if (strncmp(line, ":INPUT ", 7) == 0) {
            note(fw, "iptables", path, lineno);
            if (strncmp(line + 7, "DROP", 4) == 0)
                fw->filters = true;
        } else if (strncmp(line, "-A ", 3) == 0 &&
                   (strstr(line, "-j DROP") || strstr(line, "-j REJECT"))) {
            fw->filters = true;
        }
    }
    fclose(f);
}

void host_fw_read(const struct audit_ctx *ctx, struct host_fw *fw)
{
    char path[1024], line[256];
    memset(fw, 0, sizeof(*fw));
    read_nft(ctx, audit_host_path(ctx, "/etc/nftables.conf", path, sizeof(path)), fw, 0);
    read_nft(ctx, audit_host_path(ctx, "/etc/sysconfig/nftables.conf", path, sizeof(path)), fw, 0);
    read_ipt(audit_host_path(ctx, "/etc/iptables/rules.v4", path, sizeof(path)), fw);
    read_ipt(audit_host_path(ctx, "/etc/sysconfig/iptables", path, sizeof(path)), fw);
    FILE *f = fopen(audit_host_path(ctx, "/etc/ufw/ufw.conf", path, sizeof(path)), "r");
    if (f) {
        unsigned lineno = 0;
        while (fgets(line, sizeof(line), f)) {
            lineno++;
            if (strncasecmp(line, "ENABLED=yes", 11) == 0) {
                note(fw, "ufw", path, lineno);
                fw->filters = true; /* ufw's default input policy is deny */
            }
        }
        fclose(f);
    }
    glob_t g;
    if (glob(audit_host_path(ctx, "/etc/firewalld/zones/*.xml", path, sizeof(path)), 0, NULL, &g) ==
        0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            note(fw, "firewalld", g.gl_pathv[i], 0);
            f = fopen(g.gl_pathv[i], "r");
            bool accept = false;
            while (f && fgets(line, sizeof(line), f))
                accept |= strstr(line, "target=\"ACCEPT\"") != NULL;
            if (f)
                fclose(f);
            if (!accept)
                fw->filters = true;
        }
        globfree(&g);
    }
}
