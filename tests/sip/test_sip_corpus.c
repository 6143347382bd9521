/*
 * Replays tests/data/sip/NNNN-slug.sip against NNNN-slug.expect (format: see
 * tests/data/sip/README.md). Every key of the .expect file is checked; a key the replayer
 * does not know fails the test, so an expectation can never be silently ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"
#include "pbxguard/sip/sdp.h"
#include "sip_test_util.h"

#define CORPUS_DIR "tests/data/sip"
#define VAL_CAP 512

static struct sip_msg msg;

static void put_slice(char *dst, struct slice s)
{
    if (!s.p) {
        snprintf(dst, VAL_CAP, "(absent)");
        return;
    }
    slice_copy_cstr(s, dst, VAL_CAP);
}

static const char *err_name(int rc)
{
    switch (rc) {
    case 0:
        return "0";
    case -EBADMSG:
        return "EBADMSG";
    case -EMSGSIZE:
        return "EMSGSIZE";
    case -EAGAIN:
        return "EAGAIN";
    case -EINVAL:
        return "EINVAL";
    case -ENOENT:
        return "ENOENT";
    default:
        return "other";
    }
}

/* Splits "via.2.host" into prefix "via", index 2 and field "host". */
static bool indexed(const char *key, const char *prefix, unsigned *idx, const char **field)
{
    size_t pl = strlen(prefix);
    if (strncmp(key, prefix, pl) != 0 || key[pl] != '.')
        return false;
    const char *p = key + pl + 1;
    unsigned v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (unsigned)(*p++ - '0');
    if (*p != '.')
        return false;
    *idx = v;
    *field = p + 1;
    return true;
}

static bool via_field(unsigned i, const char *field, char *out)
{
    struct sip_via v;
    int rc = sip_msg_via(&msg, i, &v);
    if (rc < 0) {
        snprintf(out, VAL_CAP, "%s", err_name(rc));
        return true;
    }
    if (!strcmp(field, "host"))
        put_slice(out, v.host);
    else if (!strcmp(field, "port"))
        snprintf(out, VAL_CAP, "%u", v.port);
    else if (!strcmp(field, "transport"))
        put_slice(out, v.transport);
    else if (!strcmp(field, "branch"))
        put_slice(out, v.branch);
    else if (!strcmp(field, "received"))
        put_slice(out, v.received);
    else if (!strcmp(field, "rport"))
        snprintf(out, VAL_CAP, "%s", v.has_rport ? (v.rport ? "set" : "empty") : "(absent)");
    else if (!strcmp(field, "rport_value"))
        snprintf(out, VAL_CAP, "%u", v.rport);
    else
        return false;
    return true;
}

static bool na_field(const struct sip_name_addr *na, const char *field, char *out)
{
    if (!strcmp(field, "tag"))
        put_slice(out, na->tag);
    else if (!strcmp(field, "display"))
        put_slice(out, na->display);
    else if (!strcmp(field, "uri"))
        put_slice(out, na->uri_raw);
    else if (!strcmp(field, "user"))
        put_slice(out, na->uri.user);
    else if (!strcmp(field, "host"))
        put_slice(out, na->uri.host);
    else if (!strcmp(field, "port"))
        snprintf(out, VAL_CAP, "%u", na->uri.port);
    else if (!strcmp(field, "expires"))
        put_slice(out, na->expires);
    else if (!strcmp(field, "q"))
        put_slice(out, na->q);
    else if (!strcmp(field, "star"))
        snprintf(out, VAL_CAP, "%d", na->star ? 1 : 0);
    else
        return false;
    return true;
}

static bool auth_field(const char *field, char *out)
{
    static const enum sip_hdr_id ids[] = {SIP_HDR_AUTHORIZATION, SIP_HDR_PROXY_AUTHORIZATION,
                                          SIP_HDR_WWW_AUTHENTICATE, SIP_HDR_PROXY_AUTHENTICATE};
    struct sip_digest d;
    int rc = -ENOENT;
    for (unsigned i = 0; i < PBX_ARRAY_SIZE(ids) && rc == -ENOENT; i++)
        rc = sip_msg_digest(&msg, ids[i], 0, &d);
    if (rc < 0) {
        snprintf(out, VAL_CAP, "%s", err_name(rc));
        return true;
    }
    static const struct {
        const char *name;
        size_t off;
    } f[] = {
        {"scheme", offsetof(struct sip_digest, scheme)},
        {"username", offsetof(struct sip_digest, username)},
        {"realm", offsetof(struct sip_digest, realm)},
        {"nonce", offsetof(struct sip_digest, nonce)},
        {"uri", offsetof(struct sip_digest, uri)},
        {"response", offsetof(struct sip_digest, response)},
        {"algorithm", offsetof(struct sip_digest, algorithm)},
        {"qop", offsetof(struct sip_digest, qop)},
        {"nc", offsetof(struct sip_digest, nc)},
        {"cnonce", offsetof(struct sip_digest, cnonce)},
        {"opaque", offsetof(struct sip_digest, opaque)},
        {"stale", offsetof(struct sip_digest, stale)},
    };
    for (unsigned i = 0; i < PBX_ARRAY_SIZE(f); i++) {
        if (!strcmp(field, f[i].name)) {
            put_slice(out, *(const struct slice *)((const char *)&d + f[i].off));
            return true;
        }
    }
    return false;
}

static bool sdp_field(const char *key, char *out)
{
    struct sip_sdp sdp;
    int rc = sip_sdp_parse(&sdp, msg.body);
    unsigned i;
    const char *field;
    if (rc < 0) {
        snprintf(out, VAL_CAP, "%s", err_name(rc));
        return true;
    }
    if (!strcmp(key, "sdp.c"))
        put_slice(out, sdp.conn.addr);
    else if (!strcmp(key, "sdp.o"))
        put_slice(out, sdp.o_addr.addr);
    else if (!strcmp(key, "sdp.media"))
        snprintf(out, VAL_CAP, "%u", sdp.nmedia);
    else if (indexed(key, "sdp.m", &i, &field)) {
        if (i >= sdp.nmedia)
            snprintf(out, VAL_CAP, "ENOENT");
        else if (!strcmp(field, "port"))
            snprintf(out, VAL_CAP, "%u", sdp.media[i].port);
        else if (!strcmp(field, "proto"))
            put_slice(out, sdp.media[i].proto);
        else if (!strcmp(field, "fmts"))
            put_slice(out, sdp.media[i].fmts);
        else if (!strcmp(field, "c")) {
            const struct sip_sdp_conn *c = sip_sdp_media_conn(&sdp, i);
            put_slice(out, c ? c->addr : SLICE_NULL);
        } else
            return false;
    } else
        return false;
    return true;
}

/* Writes the actual value of key into out; false when the key is unknown. */
static bool actual(const char *key, int rc, char *out)
{
    unsigned i;
    const char *field;
    struct sip_name_addr na;
    if (!strcmp(key, "rc"))
        snprintf(out, VAL_CAP, "%s", err_name(rc));
    else if (!strcmp(key, "reason"))
        snprintf(out, VAL_CAP, "%s", msg.err_reason ? msg.err_reason : "(none)");
    else if (!strcmp(key, "err_off"))
        snprintf(out, VAL_CAP, "%zu", msg.err_off);
    else if (!strcmp(key, "anomalies"))
        sip_anomaly_fmt(msg.anomalies, out, VAL_CAP);
    else if (!strcmp(key, "method"))
        put_slice(out, msg.method_name);
    else if (!strcmp(key, "method_id"))
        snprintf(out, VAL_CAP, "%s",
                 msg.method == SIP_METHOD_UNKNOWN ? "UNKNOWN" : sip_method_name(msg.method));
    else if (!strcmp(key, "status"))
        snprintf(out, VAL_CAP, "%d", msg.status);
    else if (!strcmp(key, "reason_phrase"))
        put_slice(out, msg.reason);
    else if (!strcmp(key, "ruri.scheme"))
        put_slice(out, msg.ruri.scheme_name);
    else if (!strcmp(key, "ruri.user"))
        put_slice(out, msg.ruri.user);
    else if (!strcmp(key, "ruri.host"))
        put_slice(out, msg.ruri.host);
    else if (!strcmp(key, "ruri.port"))
        snprintf(out, VAL_CAP, "%u", msg.ruri.port);
    else if (!strcmp(key, "ruri.params"))
        put_slice(out, msg.ruri.params);
    else if (!strcmp(key, "via.count"))
        snprintf(out, VAL_CAP, "%u", msg.via_count);
    else if (indexed(key, "via", &i, &field))
        return via_field(i, field, out);
    else if (!strcmp(key, "cseq.num"))
        snprintf(out, VAL_CAP, "%u", msg.cseq_num);
    else if (!strcmp(key, "cseq.method"))
        put_slice(out, msg.cseq_method_name);
    else if (!strcmp(key, "call_id"))
        put_slice(out, msg.call_id);
    else if (!strcmp(key, "max_forwards"))
        snprintf(out, VAL_CAP, "%d", msg.max_forwards);
    else if (!strcmp(key, "content_length"))
        snprintf(out, VAL_CAP, "%lld", (long long)msg.content_length);
    else if (!strcmp(key, "body_len"))
        snprintf(out, VAL_CAP, "%zu", msg.body.len);
    else if (!strcmp(key, "msg_len"))
        snprintf(out, VAL_CAP, "%zu", msg.msg_len);
    else if (!strcmp(key, "user_agent"))
        put_slice(out, sip_msg_user_agent(&msg));
    else if (!strncmp(key, "from.", 5) || !strncmp(key, "to.", 3)) {
        bool from = key[0] == 'f';
        int r = from ? sip_msg_from(&msg, &na) : sip_msg_to(&msg, &na);
        if (r < 0) {
            snprintf(out, VAL_CAP, "%s", err_name(r));
            return true;
        }
        return na_field(&na, key + (from ? 5 : 3), out);
    } else if (indexed(key, "contact", &i, &field)) {
        int r = sip_msg_contact(&msg, i, &na);
        if (r < 0) {
            snprintf(out, VAL_CAP, "%s", err_name(r));
            return true;
        }
        return na_field(&na, field, out);
    } else if (!strncmp(key, "hdr.", 4)) {
        /* hdr.<Name>.count: occurrences found by name (long or compact form). */
        const char *dot = strrchr(key, '.');
        if (dot == key + 3 || strcmp(dot, ".count") != 0)
            return false;
        struct slice name = slice_make(key + 4, (size_t)(dot - key - 4));
        unsigned n = 0;
        while (sip_msg_hdr_by_name(&msg, name, n))
            n++;
        snprintf(out, VAL_CAP, "%u", n);
    } else if (!strncmp(key, "auth.", 5))
        return auth_field(key + 5, out);
    else if (!strncmp(key, "sdp.", 4))
        return sdp_field(key, out);
    else
        return false;
    return true;
}

static unsigned parse_mode(const char *v)
{
    if (!strcmp(v, "stream"))
        return SIP_PARSE_STREAM;
    if (!strcmp(v, "datagram-strict"))
        return SIP_PARSE_DATAGRAM | SIP_PARSE_STRICT;
    if (!strcmp(v, "stream-strict"))
        return SIP_PARSE_STREAM | SIP_PARSE_STRICT;
    return SIP_PARSE_DATAGRAM;
}

static void replay(const char *stem)
{
    char path[512];
    size_t sip_len = 0, exp_len = 0;
    snprintf(path, sizeof(path), CORPUS_DIR "/%s.sip", stem);
    uint8_t *sip = sip_test_load(path, &sip_len);
    snprintf(path, sizeof(path), CORPUS_DIR "/%s.expect", stem);
    uint8_t *exp = sip_test_load(path, &exp_len);
    if (!sip || !exp) {
        TEST_FAIL_AT("%s: missing .sip or .expect", stem);
        goto out;
    }
    /* First pass: the mode, which must be known before parsing. */
    unsigned flags = SIP_PARSE_DATAGRAM;
    char *text = (char *)exp;
    char *nt = realloc(text, exp_len + 1);
    if (!nt) {
        TEST_FAIL_AT("out of memory");
        goto out;
    }
    exp = (uint8_t *)nt;
    text = nt;
    text[exp_len] = '\0';
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (!strncmp(line, "mode=", 5)) {
            char mode[32];
            size_t l = nl ? (size_t)(nl - line - 5) : strlen(line + 5);
            slice_copy_cstr(slice_make(line + 5, l), mode, sizeof(mode));
            flags = parse_mode(mode);
        }
        line = nl ? nl + 1 : NULL;
    }
    int rc = sip_msg_parse(&msg, sip, sip_len, flags);
    unsigned checked = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t l = nl ? (size_t)(nl - line) : strlen(line);
        char key[128], want[VAL_CAP], got[VAL_CAP];
        if (l && line[l - 1] == '\r')
            l--;
        line[l] = '\0';
        char *eq = strchr(line, '=');
        if (l == 0 || line[0] == '#' || !strncmp(line, "mode=", 5)) {
        } else if (!eq) {
            TEST_FAIL_AT("%s.expect: line without '=': %s", stem, line);
        } else {
            slice_copy_cstr(slice_make(line, (size_t)(eq - line)), key, sizeof(key));
            slice_copy_cstr(slice_cstr(eq + 1), want, sizeof(want));
            if (!actual(key, rc, got)) {
                TEST_FAIL_AT("%s.expect: unknown key %s", stem, key);
            } else if (strcmp(got, want) != 0) {
                TEST_FAIL_AT("%s: %s: want \"%s\", got \"%s\"", stem, key, want, got);
            } else {
                test_passed_count++;
                checked++;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    /* Every case states at least its verdict. */
    CHECK(checked > 0);
out:
    free(sip);
    free(exp);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    DIR *d = opendir(CORPUS_DIR);
    char *stems[512];
    unsigned n = 0;
    CHECK(d != NULL);
    if (!d)
        return test_finish();
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < PBX_ARRAY_SIZE(stems)) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".sip")) {
            char *s = malloc(l - 3);
            if (!s)
                break;
            memcpy(s, e->d_name, l - 4);
            s[l - 4] = '\0';
            stems[n++] = s;
        }
    }
    closedir(d);
    qsort(stems, n, sizeof(stems[0]), cmp_str);
    /* The corpus must exist: an empty directory would make this test vacuous. */
    CHECK(n >= 20);
    for (unsigned i = 0; i < n; i++) {
        replay(stems[i]);
        free(stems[i]);
    }
    printf("%u corpus cases\n", n);
    return test_finish();
}
