/*
 * Enumeration shielding. A PBX that answers 404 for a missing user and 401/407 for an
 * existing one tells a scanner which extensions exist, however slowly it scans. For
 * untrusted sources pbxguard rewrites "missing user" answers (404, 484, 604) to REGISTER,
 * INVITE, SUBSCRIBE and MESSAGE into the challenge an existing user gets:
 *
 *   - status line "401 Unauthorized" (REGISTER) or "407 Proxy Authentication Required";
 *   - every header of the PBX's answer kept in order (Via, From, To with its tag, Call-ID,
 *     CSeq, Server...) except Content-Length/-Type, Warning, Reason, Retry-After and any
 *     challenge, then the challenge, then "Content-Length: 0"; the body is dropped;
 *   - the challenge copies the PBX's last real challenge: realm, algorithm, qop list and
 *     whether it had an opaque; the nonce has the PBX nonce's length and alphabet (hex or
 *     base64) and is a keyed hash of Call-ID, source and a 10 s time slot (pbxguard never
 *     accepts it: the PBX will answer 404 again, which is rewritten again - to the client
 *     that is exactly "wrong password").
 *
 * OPTIONS to a user tells the same story (200 for a real user, 404 for a missing one), and
 * carries no credentials: its "missing user" answers become a bodiless "200 OK" with the same
 * headers, as a real user's answer.
 *
 * A PBX that routes INVITEs to its users before authenticating them answers an
 * unauthenticated INVITE to a real but unregistered user with 480: next to the challenge
 * that now answers missing users, that 480 gives the user away. So a 480 to an INVITE that
 * carried no credentials (no pending credentials matched it) from a source without learned
 * trust is rewritten into the same challenge; a caller with credentials still gets the 480.
 *
 * Limits (docs/detection.md): header order/casing differences between the PBX's 404 and 401
 * templates remain visible; a PBX that answers missing users with 403 after authentication
 * needs no shielding; until the PBX has sent one real challenge, realm falls back to
 * detect.shield.realm or the To host.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "det_int.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"

static int nonce_kind(struct slice n)
{
    bool hex = true, b64 = true;
    for (size_t i = 0; i < n.len; i++) {
        char c = n.p[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            hex = false;
        if (!alnum && c != '+' && c != '/' && c != '=')
            b64 = false;
    }
    return hex ? 0 : b64 ? 1 : 2;
}

static bool safe_token(struct slice s)
{
    if (s.len == 0 || s.len > 100)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
            return false;
    }
    return true;
}

void det_shield_learn(struct det_engine *e, const struct sip_msg *resp)
{
    struct sip_digest d;
    int k;

    if (resp->status == 401)
        k = 0;
    else if (resp->status == 407)
        k = 1;
    else
        return;
    if (sip_msg_digest(resp, k ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE, 0, &d) !=
            0 ||
        !safe_token(d.realm) || !d.nonce.len)
        return;
    slice_copy_cstr(d.realm, e->chal[k].realm, sizeof(e->chal[k].realm));
    e->chal[k].algorithm[0] = '\0';
    e->chal[k].qop[0] = '\0';
    if (safe_token(d.algorithm))
        slice_copy_cstr(d.algorithm, e->chal[k].algorithm, sizeof(e->chal[k].algorithm));
    if (safe_token(d.qop))
        slice_copy_cstr(d.qop, e->chal[k].qop, sizeof(e->chal[k].qop));
    e->chal[k].opaque = d.opaque.len > 0;
    e->chal[k].nonce_len = d.nonce.len > 128 ? 128 : d.nonce.len;
    e->chal[k].nonce_kind = nonce_kind(d.nonce);
    e->chal[k].learned = true;
}

static bool skip_header(const struct sip_hdr *h)
{
    switch (h->id) {
    case SIP_HDR_CONTENT_LENGTH:
    case SIP_HDR_CONTENT_TYPE:
    case SIP_HDR_CONTENT_ENCODING:
    case SIP_HDR_CONTENT_DISPOSITION:
    case SIP_HDR_WARNING:
    case SIP_HDR_REASON:
    case SIP_HDR_RETRY_AFTER:
    case SIP_HDR_WWW_AUTHENTICATE:
    case SIP_HDR_PROXY_AUTHENTICATE:
        return true;
    default:
        return false;
    }
}

static void make_nonce(const struct det_msgctx *mc, int kind, size_t len, char *out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char hex[] = "0123456789abcdef";
    uint8_t seed[64];
    size_t n = 0;
    int64_t slot = mc->now / 10000;
    uint64_t h = 0;

    memcpy(seed + n, &slot, sizeof(slot));
    n += sizeof(slot);
    memcpy(seed + n, &mc->ctx->src.ip, sizeof(mc->ctx->src.ip));
    n += sizeof(mc->ctx->src.ip);
    h = pbx_siphash24(mc->e->key, mc->m->call_id.p, mc->m->call_id.len);
    memcpy(seed + n, &h, sizeof(h));
    n += sizeof(h);
    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0) {
            memcpy(seed + n, &i, sizeof(i));
            h = pbx_siphash24(mc->e->key, seed, n + sizeof(i));
        }
        unsigned b = (unsigned)(h >> (8 * (i % 8))) & 0xff;
        out[i] = kind == 0 ? hex[b & 15] : b64[b & 63];
    }
    out[len] = '\0';
}

static bool append(char *buf, size_t cap, size_t *len, const char *p, size_t n)
{
    if (*len + n > cap)
        return false;
    memcpy(buf + *len, p, n);
    *len += n;
    return true;
}

/* The learned challenge to copy: k's own shape, else the other one's, else -1. */
static int learned_shape(const struct det_engine *e, int k)
{
    return e->chal[k].learned ? k : e->chal[1 - k].learned ? 1 - k : -1;
}

static void pick_realm(const struct det_engine *e, int src_k, struct slice to_host, char *realm,
                       size_t cap)
{
    if (src_k >= 0)
        snprintf(realm, cap, "%s", e->chal[src_k].realm);
    else if (e->cfg.shield_realm)
        snprintf(realm, cap, "%s", e->cfg.shield_realm);
    else if (safe_token(to_host))
        slice_copy_cstr(to_host, realm, cap);
    else
        snprintf(realm, cap, "pbxguard");
}

/* "WWW-Authenticate: Digest ..." or "Proxy-Authenticate: ..." line in the learned shape. */
static int format_challenge(const struct det_engine *e, int src_k, int k, const char *realm,
                            const char *nonce, char *line, size_t cap)
{
    bool has = src_k >= 0;
    const char *alg = has ? e->chal[src_k].algorithm : "";
    const char *qop = has ? e->chal[src_k].qop : "";
    char opaque[70] = "";

    if (has && e->chal[src_k].opaque)
        snprintf(opaque, sizeof(opaque), ", opaque=\"%.16s\"", nonce + strlen(nonce) / 2);
    int n = snprintf(line, cap, "%s: Digest realm=\"%s\", nonce=\"%s\"%s%s%s%s%s%s\r\n",
                     k ? "Proxy-Authenticate" : "WWW-Authenticate", realm, nonce, opaque,
                     alg[0] ? ", algorithm=" : "", alg, qop[0] ? ", qop=\"" : "", qop,
                     qop[0] ? "\"" : "");
    return n < 0 || (size_t)n >= cap ? -EMSGSIZE : n;
}

int det_challenge_line(const struct det_engine *e, bool proxy, struct slice to_host, char *out,
                       size_t cap)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char hex[] = "0123456789abcdef";
    int k = proxy ? 1 : 0, src_k = learned_shape(e, k);
    size_t len = src_k >= 0 ? e->chal[src_k].nonce_len : 32;
    int kind = src_k >= 0 ? e->chal[src_k].nonce_kind : 0;
    uint8_t rnd[128];
    char realm[128], nonce[130];

    if (len == 0 || len > sizeof(rnd))
        len = 32;
    if (getrandom(rnd, len, 0) != (ssize_t)len)
        return -EAGAIN;
    for (size_t i = 0; i < len; i++)
        nonce[i] = kind == 0 ? hex[rnd[i] & 15] : b64[rnd[i] & 63];
    nonce[len] = '\0';
    pick_realm(e, src_k, to_host, realm, sizeof(realm));
    return format_challenge(e, src_k, k, realm, nonce, out, cap);
}

void det_shield_response(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    const struct sip_msg *m = mc->m;
    struct det_verdict *v = mc->v;
    enum sip_method cm = m->cseq_method;
    int k;
    char realm[128], nonce[130], line[512];
    size_t len = 0;
    struct det_hit h;
    bool ok = true;
    int n;

    bool unavailable = m->status == 480 && m->cseq_method == SIP_METHOD_INVITE &&
                       !mc->auth_answer && !mc->learned_trust;
    if (!e->cfg.shield ||
        (m->status != 404 && m->status != 484 && m->status != 604 && !unavailable))
        return;
    if (cm != SIP_METHOD_REGISTER && cm != SIP_METHOD_INVITE && cm != SIP_METHOD_SUBSCRIBE &&
        cm != SIP_METHOD_MESSAGE && cm != SIP_METHOD_OPTIONS)
        return;
    bool options = cm == SIP_METHOD_OPTIONS;
    k = cm == SIP_METHOD_REGISTER ? 0 : 1;
    /* Use the other challenge's shape when this one was never seen. */
    int src_k = learned_shape(e, k);
    struct sip_name_addr to;
    pick_realm(e, src_k, sip_msg_to(m, &to) == 0 ? to.uri.host : SLICE_NULL, realm, sizeof(realm));
    make_nonce(mc, src_k >= 0 ? e->chal[src_k].nonce_kind : 0,
               src_k >= 0 ? e->chal[src_k].nonce_len : 32, nonce);

    const char *sl = options ? "SIP/2.0 200 OK\r\n"
                     : k     ? "SIP/2.0 407 Proxy Authentication Required\r\n"
                             : "SIP/2.0 401 Unauthorized\r\n";
    ok = append(v->rewrite, sizeof(v->rewrite), &len, sl, strlen(sl));
    for (unsigned i = 0; ok && i < m->nhdrs; i++) {
        const struct sip_hdr *hd = &m->hdrs[i];
        if (skip_header(hd))
            continue;
        ok = append(v->rewrite, sizeof(v->rewrite), &len, hd->name.p, hd->name.len) &&
             append(v->rewrite, sizeof(v->rewrite), &len, ": ", 2) &&
             append(v->rewrite, sizeof(v->rewrite), &len, hd->value.p, hd->value.len) &&
             append(v->rewrite, sizeof(v->rewrite), &len, "\r\n", 2);
    }
    n = format_challenge(e, src_k, k, realm, nonce, line, sizeof(line));
    if (n < 0)
        return;
    if (!options)
        ok = ok && append(v->rewrite, sizeof(v->rewrite), &len, line, (size_t)n);
    ok = ok && append(v->rewrite, sizeof(v->rewrite), &len, "Content-Length: 0\r\n\r\n", 21);
    if (!ok) {
        v->rewrite_len = 0;
        return; /* too large to rewrite: forwarded as is, still counted by enumeration */
    }
    v->rewrite_len = len;
    v->flags |= DET_F_REWRITE;
    det_hit_init(&h, "det.shield", "scan.shielded", NULL, 0);
    h.action = DET_PASS;
    h.sev = EV_SEV_INFO;
    h.reason = options ? "missing-user answer rewritten to 200 OK"
                       : "missing-user answer rewritten to a challenge";
    h.target = det_target_user(m);
    h.ev[h.nev++] = EV_KV_I("status", m->status);
    det_hit(mc, &h);
}
