/*
 * Flow tokens (see pbxguard/proxy/flow.h): HMAC-SHA256 tag over the flow payload, payload
 * encrypted with a keystream derived from the tag (deterministic SIV), hex-encoded so the
 * token is a valid SIP URI user part and Via parameter value (RFC 3261 §25.1 unreserved).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* SHA256_CTX midstates make HMAC cheap on the packet path (the one-shot HMAC() fetches the
 * digest and allocates a context per call). The low-level SHA-256 interface is deprecated
 * in OpenSSL 3 but present; init cross-checks the result against HMAC(). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "pbxguard/proxy/flow.h"

#define FLOW_VERSION 1u
#define FLOW_PAYLOAD_MAX 32u

static const char hexdig[] = "0123456789abcdef";

static int hmac256(const uint8_t *key, const uint8_t *data, size_t len, uint8_t out[32])
{
    unsigned int olen = 0;
    if (!HMAC(EVP_sha256(), key, FLOW_KEY_LEN, data, len, out, &olen) || olen != 32)
        return -EIO;
    return 0;
}

static void midstate(const uint8_t *key, uint8_t pad, uint32_t mid[8])
{
    uint8_t block[64];
    SHA256_CTX c;
    memset(block, pad, sizeof(block));
    for (size_t i = 0; i < FLOW_KEY_LEN; i++)
        block[i] ^= key[i];
    SHA256_Init(&c);
    SHA256_Update(&c, block, sizeof(block));
    memcpy(mid, c.h, 32);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(&c, sizeof(c));
}

static void resume(SHA256_CTX *c, const uint32_t mid[8])
{
    SHA256_Init(c);
    memcpy(c->h, mid, 32);
    c->Nl = 512; /* one 64-byte block absorbed */
    c->Nh = 0;
    c->num = 0;
}

/* HMAC-SHA256 (RFC 2104) from precomputed midstates: which = 0 mac key, 2 enc key. */
static void hmac_fast(const struct flow_key *k, int which, const uint8_t *data, size_t len,
                      uint8_t out[32])
{
    SHA256_CTX c;
    uint8_t ih[32];
    resume(&c, k->mid[which]);
    SHA256_Update(&c, data, len);
    SHA256_Final(ih, &c);
    resume(&c, k->mid[which + 1]);
    SHA256_Update(&c, ih, sizeof(ih));
    SHA256_Final(out, &c);
}

static int precompute(struct flow_key *k)
{
    static const uint8_t probe[] = "pbxguard flow self-test";
    uint8_t a[32], b[32];
    midstate(k->mac, 0x36, k->mid[0]);
    midstate(k->mac, 0x5c, k->mid[1]);
    midstate(k->enc, 0x36, k->mid[2]);
    midstate(k->enc, 0x5c, k->mid[3]);
    hmac_fast(k, 0, probe, sizeof(probe), a);
    if (hmac256(k->mac, probe, sizeof(probe), b) < 0 || CRYPTO_memcmp(a, b, 32) != 0)
        return -EIO;
    return 0;
}

int flow_key_init_random(struct flow_key *k)
{
    uint8_t buf[2 * FLOW_KEY_LEN];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = getrandom(buf + got, sizeof(buf) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    memcpy(k->mac, buf, FLOW_KEY_LEN);
    memcpy(k->enc, buf + FLOW_KEY_LEN, FLOW_KEY_LEN);
    OPENSSL_cleanse(buf, sizeof(buf));
    return precompute(k);
}

int flow_key_init_secret(struct flow_key *k, const uint8_t *secret, size_t len)
{
    if (!k || !secret || len < 16)
        return -EINVAL;
    /* Two independent keys from one secret: HMAC(secret, label) per purpose. */
    uint8_t kbuf[FLOW_KEY_LEN] = {0};
    uint8_t out[32];
    unsigned int olen = 0;
    if (len > FLOW_KEY_LEN) {
        if (!EVP_Digest(secret, len, kbuf, &olen, EVP_sha256(), NULL))
            return -EIO;
    } else {
        memcpy(kbuf, secret, len);
    }
    if (hmac256(kbuf, (const uint8_t *)"pbxguard flow mac", 17, out) < 0)
        return -EIO;
    memcpy(k->mac, out, FLOW_KEY_LEN);
    if (hmac256(kbuf, (const uint8_t *)"pbxguard flow enc", 17, out) < 0)
        return -EIO;
    memcpy(k->enc, out, FLOW_KEY_LEN);
    OPENSSL_cleanse(kbuf, sizeof(kbuf));
    OPENSSL_cleanse(out, sizeof(out));
    return precompute(k);
}

static size_t payload_build(const struct flow *f, uint8_t *p)
{
    size_t n = 0;
    unsigned lid = f->listener_id > 0xfffeu ? 0xffffu : f->listener_id;
    p[n++] = FLOW_VERSION;
    p[n++] = (uint8_t)f->transport;
    p[n++] = f->side;
    p[n++] = f->addr.family == AF_INET6 ? 6 : 4;
    p[n++] = (uint8_t)(lid >> 8);
    p[n++] = (uint8_t)lid;
    p[n++] = (uint8_t)(f->addr.port >> 8);
    p[n++] = (uint8_t)f->addr.port;
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t)(f->conn_id >> (8 * i));
    if (f->addr.family == AF_INET6) {
        memcpy(p + n, &f->addr.ip.v6, 16);
        n += 16;
    } else {
        memcpy(p + n, &f->addr.ip.v4, 4);
        n += 4;
    }
    return n;
}

int flow_encode(const struct flow_key *k, const struct flow *f, char *dst, size_t cap)
{
    uint8_t raw[FLOW_TAG_LEN + FLOW_PAYLOAD_MAX];
    uint8_t pl[FLOW_PAYLOAD_MAX];
    uint8_t h[32];
    if (!k || !f || !dst)
        return -EINVAL;
    if (f->addr.family != AF_INET && f->addr.family != AF_INET6)
        return -EINVAL;
    size_t n = payload_build(f, pl);
    if (cap < 2 * (FLOW_TAG_LEN + n) + 1)
        return -EMSGSIZE;
    hmac_fast(k, 0, pl, n, h);
    memcpy(raw, h, FLOW_TAG_LEN);
    hmac_fast(k, 2, raw, FLOW_TAG_LEN, h);
    for (size_t i = 0; i < n; i++)
        raw[FLOW_TAG_LEN + i] = pl[i] ^ h[i];
    size_t total = FLOW_TAG_LEN + n;
    for (size_t i = 0; i < total; i++) {
        dst[2 * i] = hexdig[raw[i] >> 4];
        dst[2 * i + 1] = hexdig[raw[i] & 15];
    }
    dst[2 * total] = '\0';
    return (int)(2 * total);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int flow_decode(const struct flow_key *k, struct slice token, struct flow *f)
{
    uint8_t raw[FLOW_TAG_LEN + FLOW_PAYLOAD_MAX];
    uint8_t pl[FLOW_PAYLOAD_MAX];
    uint8_t h[32];
    if (!k || !f || !token.p)
        return -EBADMSG;
    if (token.len % 2 || token.len < 2 * (FLOW_TAG_LEN + 20) ||
        token.len > 2 * (FLOW_TAG_LEN + FLOW_PAYLOAD_MAX))
        return -EBADMSG;
    size_t total = token.len / 2;
    for (size_t i = 0; i < total; i++) {
        int hi = hexval(token.p[2 * i]), lo = hexval(token.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EBADMSG;
        raw[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t n = total - FLOW_TAG_LEN;
    hmac_fast(k, 2, raw, FLOW_TAG_LEN, h);
    for (size_t i = 0; i < n; i++)
        pl[i] = raw[FLOW_TAG_LEN + i] ^ h[i];
    hmac_fast(k, 0, pl, n, h);
    if (CRYPTO_memcmp(h, raw, FLOW_TAG_LEN) != 0)
        return -EPERM;
    /* The tag verified: the payload is one we wrote; still check its shape. */
    if (pl[0] != FLOW_VERSION || pl[1] > PBX_TP_TLS || (pl[3] != 4 && pl[3] != 6))
        return -EBADMSG;
    size_t want = pl[3] == 6 ? 32u : 20u;
    if (n != want)
        return -EBADMSG;
    struct flow r;
    memset(&r, 0, sizeof(r));
    r.transport = (enum pbx_transport)pl[1];
    r.side = pl[2];
    unsigned lid = (unsigned)pl[4] << 8 | pl[5];
    r.listener_id = lid == 0xffffu ? UINT32_MAX : lid;
    r.addr.port = (uint16_t)((unsigned)pl[6] << 8 | pl[7]);
    for (int i = 0; i < 8; i++)
        r.conn_id = r.conn_id << 8 | pl[8 + i];
    if (pl[3] == 6) {
        r.addr.family = AF_INET6;
        memcpy(&r.addr.ip.v6, pl + 16, 16);
    } else {
        r.addr.family = AF_INET;
        memcpy(&r.addr.ip.v4, pl + 16, 4);
    }
    *f = r;
    return 0;
}
