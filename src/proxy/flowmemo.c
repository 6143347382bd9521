/*
 * Flow-token memo (see struct proxy_flow_memo): two direct-mapped tables, one keyed by the
 * flow for encoding, one keyed by the token text for decoding. The slot index is a SipHash
 * of the key under the proxy's random hash key, so a remote party cannot aim its tokens at
 * the slot of someone else's flow; a hit is confirmed by comparing the whole key (the token
 * text in constant time, as flow_decode() compares its tag).
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pbxguard/core/siphash.h"
#include "proxy_int.h"

/* Canonical bytes of a flow (never the struct: padding is unspecified). */
static size_t flow_bytes(const struct flow *f, uint8_t out[40])
{
    size_t n = 0;
    out[n++] = (uint8_t)f->transport;
    out[n++] = f->side;
    out[n++] = (uint8_t)f->addr.family;
    if (f->addr.family == AF_INET) {
        memcpy(out + n, &f->addr.ip.v4, 4);
        n += 4;
    } else {
        memcpy(out + n, &f->addr.ip.v6, 16);
        n += 16;
    }
    out[n++] = (uint8_t)(f->addr.port >> 8);
    out[n++] = (uint8_t)f->addr.port;
    for (unsigned i = 0; i < 4; i++)
        out[n++] = (uint8_t)(f->listener_id >> (8 * i));
    for (unsigned i = 0; i < 8; i++)
        out[n++] = (uint8_t)(f->conn_id >> (8 * i));
    return n;
}

static bool flow_eq(const struct flow *a, const struct flow *b)
{
    return a->transport == b->transport && a->side == b->side && a->listener_id == b->listener_id &&
           a->conn_id == b->conn_id && pbx_addr_eq(&a->addr, &b->addr, true);
}

static unsigned slot_of(const struct proxy *p, const void *key, size_t len)
{
    return (unsigned)(pbx_siphash13(p->hash_key, key, len) % PROXY_FLOW_MEMO);
}

void px_flow_memo_reset(struct proxy *p)
{
    memset(p->enc_memo, 0, sizeof(p->enc_memo));
    memset(p->dec_memo, 0, sizeof(p->dec_memo));
}

int px_flow_encode(struct proxy *p, const struct flow *f, char *dst, size_t cap)
{
    uint8_t key[40];
    if (f->addr.family != AF_INET && f->addr.family != AF_INET6)
        return flow_encode(&p->fkey, f, dst, cap);
    struct proxy_flow_memo *e = &p->enc_memo[slot_of(p, key, flow_bytes(f, key))];
    if (e->len && flow_eq(&e->f, f)) {
        if (cap <= e->len)
            return -EMSGSIZE;
        memcpy(dst, e->tok, e->len);
        dst[e->len] = '\0';
        return e->len;
    }
    int rc = flow_encode(&p->fkey, f, dst, cap);
    if (rc > 0 && (size_t)rc <= FLOW_TOKEN_MAX) {
        e->f = *f;
        e->len = (uint8_t)rc;
        memcpy(e->tok, dst, (size_t)rc);
    }
    return rc;
}

int px_flow_decode(struct proxy *p, struct slice token, struct flow *f)
{
    if (!token.p || token.len == 0 || token.len > FLOW_TOKEN_MAX)
        return flow_decode(&p->fkey, token, f);
    struct proxy_flow_memo *e = &p->dec_memo[slot_of(p, token.p, token.len)];
    if (e->len == token.len && CRYPTO_memcmp(e->tok, token.p, token.len) == 0) {
        *f = e->f;
        return 0;
    }
    int rc = flow_decode(&p->fkey, token, f);
    if (rc == 0) {
        e->f = *f;
        e->len = (uint8_t)token.len;
        memcpy(e->tok, token.p, token.len);
    }
    return rc;
}
