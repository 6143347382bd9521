/* FreeSWITCH XML reader on libxml2; see fs_conf.h. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fs_conf.h"
#include "check_util.h"

static const char *intern(struct fs_conf *c, const char *path)
{
    return audit_file_list_add(&c->files, &c->nfiles, path);
}

/* Expands $${name} from the vars already read; unknown names are kept verbatim. */
static char *expand(const struct fs_conf *c, const char *in)
{
    char out[2048];
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < sizeof(out);) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            const char *end = strchr(p + 3, '}');
            if (end) {
                char name[128];
                size_t n = (size_t)(end - p - 3);
                if (n < sizeof(name)) {
                    memcpy(name, p + 3, n);
                    name[n] = '\0';
                    const struct fs_item *v = fs_conf_get(c, FS_KIND_VARS, name);
                    if (v) {
                        size_t vl = strlen(v->value);
                        if (o + vl >= sizeof(out))
                            break;
                        memcpy(out + o, v->value, vl);
                        o += vl;
                        p = end + 1;
                        continue;
                    }
                }
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return strdup(out);
}

static int add_item(struct fs_conf *c, enum fs_kind kind, const char *profile, const char *name,
                    const char *value, const char *file, unsigned line)
{
    if (c->n >= FS_MAX_ITEMS)
        return -EMSGSIZE;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 32;
        struct fs_item *ni = realloc(c->items, ncap * sizeof(*ni));
        if (!ni)
            return -ENOMEM;
        c->items = ni;
        c->cap = ncap;
    }
    struct fs_item *it = &c->items[c->n];
    it->kind = kind;
    it->profile = profile ? strdup(profile) : NULL;
    it->name = strdup(name);
    it->value = expand(c, value);
    it->file = file;
    it->line = line;
    if (!it->name || !it->value || (profile && !it->profile)) {
        free(it->profile);
        free(it->name);
        free(it->value);
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

static char *attr(xmlNodePtr n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static int walk(struct fs_conf *c, xmlNodePtr n, enum fs_kind kind, const char *profile,
                const char *file)
{
    int rc = 0;
    for (; n && rc == 0; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *tag = (const char *)n->name;
        unsigned line = (unsigned)xmlGetLineNo(n);
        if (strcasecmp(tag, "X-PRE-PROCESS") == 0) {
            char *cmd = attr(n, "cmd");
            char *data = attr(n, "data");
            if (cmd && data && strcasecmp(cmd, "set") == 0) {
                char *eq = strchr(data, '=');
                if (eq) {
                    *eq = '\0';
                    rc = add_item(c, FS_KIND_VARS, NULL, data, eq + 1, file, line);
                }
            }
            xmlFree(cmd);
            xmlFree(data);
        } else if (strcasecmp(tag, "param") == 0) {
            char *name = attr(n, "name");
            char *value = attr(n, "value");
            if (name && value)
                rc = add_item(c, kind, profile, name, value, file, line);
            xmlFree(name);
            xmlFree(value);
        } else if (strcasecmp(tag, "profile") == 0) {
            char *pname = attr(n, "name");
            rc = walk(c, n->children, kind, pname ? pname : profile, file);
            xmlFree(pname);
            continue;
        }
        if (rc == 0 && n->children)
            rc = walk(c, n->children, kind, profile, file);
    }
    return rc;
}

static int read_xml(struct fs_conf *c, const char *path, enum fs_kind kind, int *found)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fclose(f);
    /* No network, no entity expansion: configuration files are data, not programs. */
    xmlDocPtr doc = xmlReadFile(
        path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
    if (!doc) {
        fprintf(stderr, "audit: %s: not well-formed XML, skipped\n", path);
        return 0;
    }
    (*found)++;
    const char *file = intern(c, path);
    int rc = file ? walk(c, xmlDocGetRootElement(doc), kind, NULL, file) : -ENOMEM;
    xmlFreeDoc(doc);
    return rc;
}

int fs_conf_load(const char *dir, struct fs_conf *c)
{
    char path[PATH_MAX];
    int found = 0, rc;

    memset(c, 0, sizeof(*c));
    snprintf(path, sizeof(path), "%s/vars.xml", dir);
    rc = read_xml(c, path, FS_KIND_VARS, &found);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s/autoload_configs/event_socket.conf.xml", dir);
    rc = read_xml(c, path, FS_KIND_EVENT_SOCKET, &found);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s/sip_profiles/*.xml", dir);
    glob_t g;
    if (glob(path, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
            rc = read_xml(c, g.gl_pathv[i], FS_KIND_SOFIA_PROFILE, &found);
        globfree(&g);
    }
    if (rc == 0 && found == 0)
        rc = -ENOENT;
out:
    if (rc)
        fs_conf_fini(c);
    return rc;
}

void fs_conf_fini(struct fs_conf *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].profile);
        free(c->items[i].name);
        free(c->items[i].value);
    }
    free(c->items);
    audit_file_list_free(&c->files, &c->nfiles);
    memset(c, 0, sizeof(*c));
}

const struct fs_item *fs_conf_get(const struct fs_conf *c, enum fs_kind kind, const char *name)
{
    for (size_t i = c->n; i > 0; i--) {
        const struct fs_item *it = &c->items[i - 1];
        if (it->kind == kind && strcasecmp(it->name, name) == 0)
            return it;
    }
    return NULL;
}
