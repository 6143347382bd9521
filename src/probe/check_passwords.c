/*
 * PRB-PASS-001: weak passwords. Only with --wordlist and --i-own-this-target (probe_run
 * refuses otherwise). For each extension that challenges a REGISTER, each word is tried
 * with digest credentials (Expires: 0, so no binding is ever created), paced by the probe's
 * rate limit; the run stops at the first success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_int.h"

static int load_words(const char *path, char ***out, size_t *n)
{
    char line[512];
    FILE *f = fopen(path, "r");
    *out = NULL;
    *n = 0;
    if (!f)
        return -errno;
    char **v = calloc(PROBE_MAX_WORDS, sizeof(*v));
    if (!v) {
        fclose(f);
        return -ENOMEM;
    }
    while (*n < PROBE_MAX_WORDS && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        v[*n] = strdup(line);
        if (!v[*n])
            break;
        (*n)++;
    }
    fclose(f);
    *out = v;
    return 0;
}

static void register_req(struct probe_ctx *pc, struct probe_req *req, const char *user)
{
    probe_req_init(pc, req, "REGISTER", NULL);
    snprintf(req->to_user, sizeof(req->to_user), "%s", user);
    snprintf(req->from_user, sizeof(req->from_user), "%s", user);
    snprintf(req->extra, sizeof(req->extra), "Expires: 0\r\n");
}

/* 1 when the password works, 0 when not, -ENOENT when the user is not challenged. */
static int try_word(struct probe_ctx *pc, const char *user, const char *word)
{
    struct probe_req req;
    struct probe_resp resp;
    register_req(pc, &req, user);
    int rc = probe_transact(pc, &req, &resp, false);
    if (rc)
        return rc == -ETIMEDOUT ? -ENOENT : rc;
    if (resp.status != 401 && resp.status != 407)
        return -ENOENT;
    char hdr[1024];
    if (probe_digest_header(resp.challenge, resp.proxy_auth, user, word, "REGISTER", req.ruri, hdr,
                            sizeof(hdr)) != 0)
        return -ENOENT;
    size_t used = strlen(req.extra);
    snprintf(req.extra + used, sizeof(req.extra) - used, "%s", hdr);
    req.cseq++;
    char b[24];
    probe_random_hex(b, sizeof(b), 16);
    snprintf(req.branch, sizeof(req.branch), "z9hG4bK-pbxg-%s", b);
    rc = probe_transact(pc, &req, &resp, false);
    if (rc)
        return rc == -ETIMEDOUT ? 0 : rc;
    return resp.status >= 200 && resp.status < 300 ? 1 : 0;
}

int probe_check_passwords(struct probe_ctx *pc, const unsigned *ext, size_t n,
                          struct audit_report *r)
{
    char **words;
    size_t nw;
    int rc = load_words(pc->o->wordlist, &words, &nw);
    if (rc)
        return rc;
    unsigned tried = 0;
    for (size_t e = 0; e < n && rc == 0; e++) {
        char user[24];
        snprintf(user, sizeof(user), "%u", ext[e]);
        for (size_t w = 0; w < nw; w++) {
            int t = try_word(pc, user, words[w]);
            if (t == -ENOENT)
                break; /* not an account that authenticates: next extension */
            if (t < 0) {
                rc = t;
                break;
            }
            tried++;
            if (t == 1) {
                char mask[64];
                audit_mask_secret(words[w], mask, sizeof(mask));
                rc = audit_report_add(r, &prb_pass_001, NULL, 0,
                                      "extension %s accepted wordlist entry %zu %s after %u "
                                      "attempts",
                                      user, w + 1, mask, tried);
                goto out;
            }
        }
    }
out:
    if (pc->o->log)
        fprintf(pc->o->log, "probe: passwords: %u attempts\n", tried);
    for (size_t i = 0; i < nw; i++)
        free(words[i]);
    free(words);
    return rc;
}

const struct audit_check prb_pass_001 = {
    .id = "PRB-PASS-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "An extension accepts a password from the wordlist",
    .why = "Online guessing with the same lists finds this password; the account then "
           "registers from anywhere and places calls on your bill.",
    .fix = "Replace the password with a random one of at least 16 characters and rate-limit "
           "authentication failures per account and per source.",
    .run = NULL,
};
