/*
 * Scanner signature file (data/scanners.yaml, format in docs/detection.md): case-insensitive
 * substrings of User-Agent/Server and of SDP s=/o= fields, each with a tool name and a score.
 * Loaded once per (re)configuration; strings are copied so the YAML document can go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"
#include "pbxguard/core/config.h"

#define SIGS_MAX 256u
#define SIG_LEN_MAX 64u

enum sig_field { SIG_UA, SIG_SDP_S, SIG_SDP_O };

struct sig {
    enum sig_field field;
    char match[SIG_LEN_MAX + 1];
    size_t len;
    char tool[32];
    int score;
};

struct det_sigs {
    struct sig s[SIGS_MAX];
    size_t n;
};

static bool contains_ci(struct slice hay, const char *needle, size_t nlen)
{
    char first;

    if (nlen == 0 || hay.len < nlen)
        return false;
    /* First-byte filter before the full compare: most positions fail at once. */
    first = slice_lower_ch(needle[0]);
    for (size_t i = 0; i + nlen <= hay.len; i++)
        if (slice_lower_ch(hay.p[i]) == first &&
            slice_eq_ci(slice_make(hay.p + i + 1, nlen - 1), slice_make(needle + 1, nlen - 1)))
            return true;
    return false;
}

static int load_list(const struct cfg_node *seq, enum sig_field field, const char *key,
                     struct det_sigs *out, struct cfg_diag *d)
{
    for (size_t i = 0; i < cfg_node_count(seq); i++) {
        const struct cfg_node *it = cfg_node_at(seq, i);
        const struct cfg_node *m = cfg_map_get(it, key), *t = cfg_map_get(it, "tool"),
                              *sc = cfg_map_get(it, "score");
        const char *ms = NULL, *ts = NULL;
        int64_t score = 100;
        struct sig *s;

        if (cfg_node_kind(it) != CFG_NODE_MAP) {
            cfg_error(d, it, "expected a map");
            return -EINVAL;
        }
        if (cfg_parse_string(m, d, SIG_LEN_MAX, &ms) != 0 || cfg_parse_string(t, d, 31, &ts) != 0) {
            if (!m || !t)
                cfg_error(d, it, "needs '%s' and 'tool'", key);
            return -EINVAL;
        }
        if (sc && cfg_parse_int(sc, d, 1, 1000, &score) != 0)
            return -EINVAL;
        if (out->n >= SIGS_MAX) {
            cfg_error(d, it, "more than %u signatures", SIGS_MAX);
            return -EMSGSIZE;
        }
        s = &out->s[out->n++];
        s->field = field;
        snprintf(s->match, sizeof(s->match), "%s", ms);
        s->len = strlen(s->match);
        snprintf(s->tool, sizeof(s->tool), "%s", ts);
        s->score = (int)score;
    }
    return 0;
}

int det_sigs_load(const char *path, struct det_sigs **out, char *err, size_t errcap)
{
    struct cfg_diag d;
    struct cfg_doc *doc = NULL;
    struct det_sigs *s = NULL;
    const struct cfg_node *root, *n;
    int rc;

    cfg_diag_init(&d);
    rc = cfg_doc_load_file(path, &d, &doc);
    if (rc != 0)
        goto out;
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    root = cfg_doc_root(doc);
    if (!root || cfg_node_kind(root) != CFG_NODE_MAP) {
        cfg_error(&d, root, "signature file must be a map");
        rc = -EINVAL;
        goto out;
    }
    if ((n = cfg_map_get(root, "user_agent")) && (rc = load_list(n, SIG_UA, "match", s, &d)) != 0)
        goto out;
    if ((n = cfg_map_get(root, "sdp_session_name")) &&
        (rc = load_list(n, SIG_SDP_S, "match", s, &d)) != 0)
        goto out;
    if ((n = cfg_map_get(root, "sdp_origin_user")) &&
        (rc = load_list(n, SIG_SDP_O, "match", s, &d)) != 0)
        goto out;
    *out = s;
    s = NULL;
out:
    if (rc != 0 && err && errcap) {
        if (d.count)
            snprintf(err, errcap, "%s:%u:%u: %s", d.entries[0].file, d.entries[0].line,
                     d.entries[0].column, d.entries[0].reason);
        else
            snprintf(err, errcap, "%s: %s", path, strerror(-rc));
    }
    free(s);
    cfg_doc_free(doc);
    cfg_diag_fini(&d);
    return rc;
}

void det_sigs_free(struct det_sigs *s)
{
    free(s);
}

static int best(const struct det_sigs *s, enum sig_field f, struct slice v, const char **tool)
{
    int sc = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->s[i].field == f && s->s[i].score > sc &&
            contains_ci(v, s->s[i].match, s->s[i].len)) {
            sc = s->s[i].score;
            *tool = s->s[i].tool;
        }
    }
    return sc;
}

int det_sigs_ua(const struct det_sigs *s, struct slice ua, const char **tool)
{
    return best(s, SIG_UA, ua, tool);
}

int det_sigs_sdp(const struct det_sigs *s, struct slice sname, struct slice ouser,
                 const char **tool)
{
    int a = sname.len ? best(s, SIG_SDP_S, sname, tool) : 0;
    const char *t2 = NULL;
    int b = ouser.len ? best(s, SIG_SDP_O, ouser, &t2) : 0;
    if (b > a) {
        *tool = t2;
        return b;
    }
    return a;
}
