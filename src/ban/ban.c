/*
 * Ban table: fixed pool + seeded hash index (see include/pbxguard/ban/ban.h).
 * Active bans are never recycled; only history (expired bans, /64 trackers) is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbxguard/ban/ban.h"
#include "pbxguard/core/siphash.h"

#define NIL UINT32_MAX

struct ban_slot {
    struct ban_entry e;
    uint32_t next;    /* hash chain */
    uint32_t members; /* /64 slots: banned addresses of this /64 counted so far */
    uint8_t used;
    uint8_t reported; /* expiry already handed to ban_expire's callback */
};

struct ban_table {
    struct ban_config cfg;
    uint8_t key[PBX_SIPHASH_KEY_LEN];
    uint32_t *buckets;
    uint32_t mask;
    struct ban_slot *slots;
    size_t cap;
    size_t used;
    size_t hand;    /* clock hand for recycling history */
    int64_t due_ms; /* no unreported ban expires before this: ban_expire skips the scan */
    struct pbx_cidr allow[BAN_MAX_ALLOW];
    size_t nallow;
};

void ban_config_defaults(struct ban_config *c)
{
    memset(c, 0, sizeof(*c));
    c->steps_ms[0] = 10 * 60 * 1000LL;
    c->steps_ms[1] = 60 * 60 * 1000LL;
    c->steps_ms[2] = 24 * 60 * 60 * 1000LL;
    c->steps_ms[3] = -1;
    c->nsteps = 4;
    c->history_ms = 7 * 24 * 60 * 60 * 1000LL;
    c->v6_widen_after = 3;
    c->capacity = 65536;
}

int ban_table_new(const struct ban_config *cfg, struct ban_table **out)
{
    struct ban_table *t;
    size_t nb = 1;

    if (!cfg || cfg->capacity == 0 || cfg->capacity > (1u << 24) || cfg->nsteps == 0 ||
        cfg->nsteps > BAN_MAX_STEPS)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->cfg = *cfg;
    while (nb < cfg->capacity)
        nb <<= 1;
    t->mask = (uint32_t)(nb - 1);
    t->cap = cfg->capacity;
    t->due_ms = BAN_PERMANENT;
    t->buckets = malloc(nb * sizeof(*t->buckets));
    t->slots = calloc(t->cap, sizeof(*t->slots));
    if (!t->buckets || !t->slots) {
        ban_table_free(t);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nb; i++)
        t->buckets[i] = NIL;
    if (pbx_siphash_keygen(t->key) != 0) {
        /* No entropy: a time-derived key still varies per process. */
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
        memcpy(t->key, &x, sizeof(x));
    }
    *out = t;
    return 0;
}

int ban_table_set_policy(struct ban_table *t, const struct ban_config *cfg)
{
    if (!cfg || cfg->nsteps == 0 || cfg->nsteps > BAN_MAX_STEPS)
        return -EINVAL;
    size_t cap = t->cfg.capacity;
    t->cfg = *cfg;
    t->cfg.capacity = cap;
    return cfg->capacity == cap ? 0 : -EBUSY;
}

void ban_table_free(struct ban_table *t)
{
    if (!t)
        return;
    free(t->buckets);
    free(t->slots);
    free(t);
}

size_t ban_table_mem(const struct ban_table *t)
{
    return sizeof(*t) + ((size_t)t->mask + 1) * sizeof(*t->buckets) + t->cap * sizeof(*t->slots);
}

static bool slot_active(const struct ban_slot *s, int64_t now)
{
    return s->used && s->e.level > 0 && s->e.expires_ms > now;
}

size_t ban_table_active(const struct ban_table *t, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        n += slot_active(&t->slots[i], now_ms);
    return n;
}

/* Canonical scope key: unmapped, masked, port 0. Returns false for a bad address/prefix. */
static bool scope_norm(const struct pbx_addr *a, unsigned prefix, struct pbx_addr *out,
                       uint8_t *pfx)
{
    struct pbx_addr x = pbx_addr_is_v4mapped(a) ? pbx_addr_unmap(a) : *a;

    if (x.family == AF_INET) {
        if (prefix != 0 && prefix != 32)
            return false;
        *pfx = 32;
    } else if (x.family == AF_INET6) {
        if (prefix != 0 && prefix != 128 && prefix != 64)
            return false;
        *pfx = prefix ? (uint8_t)prefix : 128;
    } else {
        return false;
    }
    *out = pbx_addr_mask(&x, *pfx);
    out->port = 0;
    return true;
}

static uint32_t scope_hash(const struct ban_table *t, const struct pbx_addr *a, uint8_t pfx)
{
    uint8_t buf[18];
    size_t n;

    buf[0] = (uint8_t)a->family;
    buf[1] = pfx;
    if (a->family == AF_INET) {
        memcpy(buf + 2, &a->ip.v4, 4);
        n = 6;
    } else {
        memcpy(buf + 2, &a->ip.v6, 16);
        n = 18;
    }
    return (uint32_t)pbx_siphash13(t->key, buf, n) & t->mask;
}

static struct ban_slot *find(const struct ban_table *t, const struct pbx_addr *a, uint8_t pfx)
{
    for (uint32_t i = t->buckets[scope_hash(t, a, pfx)]; i != NIL; i = t->slots[i].next) {
        struct ban_slot *s = &t->slots[i];
        if (s->e.prefix == pfx && pbx_addr_eq(&s->e.addr, a, false))
            return s;
    }
    return NULL;
}

static void unlink_slot(struct ban_table *t, uint32_t idx)
{
    struct ban_slot *s = &t->slots[idx];
    uint32_t *pp = &t->buckets[scope_hash(t, &s->e.addr, s->e.prefix)];

    while (*pp != NIL && *pp != idx)
        pp = &t->slots[*pp].next;
    if (*pp == idx)
        *pp = s->next;
    memset(s, 0, sizeof(*s));
    t->used--;
}

/* A free slot, recycling history (never an active ban). NULL when all are active. */
static struct ban_slot *take_slot(struct ban_table *t, int64_t now)
{
    uint32_t idx = NIL;

    if (t->used < t->cap) {
        for (size_t n = 0; n < t->cap; n++) {
            size_t i = (t->hand + n) % t->cap;
            if (!t->slots[i].used) {
                idx = (uint32_t)i;
                break;
            }
        }
    } else {
        /* Prefer history that no longer counts for escalation, else any inactive slot. */
        for (size_t n = 0; n < t->cap && idx == NIL; n++) {
            size_t i = (t->hand + n) % t->cap;
            const struct ban_slot *s = &t->slots[i];
            if (!slot_active(s, now) && (s->e.level == 0 || s->e.expires_ms == BAN_PERMANENT ||
                                         s->e.expires_ms + t->cfg.history_ms <= now))
                idx = (uint32_t)i;
        }
        for (size_t n = 0; n < t->cap && idx == NIL; n++) {
            size_t i = (t->hand + n) % t->cap;
            if (!slot_active(&t->slots[i], now))
                idx = (uint32_t)i;
        }
        if (idx == NIL)
            return NULL;
        unlink_slot(t, idx);
    }
    if (idx == NIL)
        return NULL;
    t->hand = (idx + 1) % t->cap;
    t->used++;
    t->slots[idx].used = 1;
    return &t->slots[idx];
}

static struct ban_slot *get_or_create(struct ban_table *t, const struct pbx_addr *a, uint8_t pfx,
                                      int64_t now)
{
    struct ban_slot *s = find(t, a, pfx);
    uint32_t h;

    if (s)
        return s;
    s = take_slot(t, now);
    if (!s)
        return NULL;
    s->e.addr = *a;
    s->e.prefix = pfx;
    h = scope_hash(t, a, pfx);
    s->next = t->buckets[h];
    t->buckets[h] = (uint32_t)(s - t->slots);
    return s;
}

bool ban_allowed(const struct ban_table *t, const struct pbx_addr *a)
{
    struct pbx_addr x = pbx_addr_is_v4mapped(a) ? pbx_addr_unmap(a) : *a;
    for (size_t i = 0; i < t->nallow; i++)
        if (pbx_cidr_contains(&t->allow[i], &x))
            return true;
    return false;
}

bool ban_check(struct ban_table *t, const struct pbx_addr *a, int64_t now_ms, struct ban_entry *e)
{
    struct pbx_addr k;
    uint8_t pfx;
    struct ban_slot *s;

    if (!scope_norm(a, 0, &k, &pfx))
        return false;
    s = find(t, &k, pfx);
    if ((!s || !slot_active(s, now_ms)) && k.family == AF_INET6) {
        k = pbx_addr_mask(&k, 64);
        s = find(t, &k, 64);
    }
    if (!s || !slot_active(s, now_ms))
        return false;
    s->e.hits++;
    if (e)
        *e = s->e;
    return true;
}

static int64_t step_for(const struct ban_table *t, uint32_t level)
{
    uint32_t i = level == 0 ? 0 : level - 1;
    if (i >= t->cfg.nsteps)
        i = t->cfg.nsteps - 1;
    return t->cfg.steps_ms[i];
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void note_due(struct ban_table *t, const struct ban_slot *s)
{
    if (s->e.expires_ms < t->due_ms)
        t->due_ms = s->e.expires_ms;
}

/* Puts (or escalates) a ban on slot s. */
static void apply_ban(struct ban_table *t, struct ban_slot *s, int64_t duration_ms,
                      const char *rule, const char *reason, int64_t now)
{
    bool active = slot_active(s, now);
    bool remembered = s->e.level > 0 && (active || s->e.expires_ms == BAN_PERMANENT ||
                                         s->e.expires_ms + t->cfg.history_ms > now);
    uint32_t level = remembered ? s->e.level + 1 : 1;
    int64_t d = duration_ms != 0 ? duration_ms : step_for(t, level);
    int64_t exp = d < 0 ? BAN_PERMANENT : now + d;

    if (!remembered)
        s->e.first_ms = now;
    if (!active) {
        s->e.since_ms = now;
        s->e.hits = 0;
    }
    s->e.level = level;
    /* Re-banning never shortens a ban already in force. */
    if (!active || exp > s->e.expires_ms)
        s->e.expires_ms = exp;
    s->reported = 0;
    note_due(t, s);
    copy_text(s->e.rule, sizeof(s->e.rule), rule);
    copy_text(s->e.reason, sizeof(s->e.reason), reason);
}

int ban_add(struct ban_table *t, const struct pbx_addr *a, unsigned prefix, int64_t duration_ms,
            const char *rule, const char *reason, int64_t now_ms, struct ban_entry *out,
            bool *widened)
{
    struct pbx_addr k;
    uint8_t pfx;
    struct ban_slot *s;
    bool was_active;

    if (widened)
        *widened = false;
    if (!scope_norm(a, prefix, &k, &pfx))
        return -EINVAL;
    if (ban_allowed(t, &k))
        return -EPERM;
    s = get_or_create(t, &k, pfx, now_ms);
    if (!s)
        return -ENOSPC;
    was_active = slot_active(s, now_ms);
    apply_ban(t, s, duration_ms, rule, reason, now_ms);
    if (out)
        *out = s->e;

    /* IPv6 widening: several banned addresses of one /64 mean the attacker owns the /64 (an
     * IPv6 host picks any address of its /64 at will). */
    if (pfx == 128 && !was_active && t->cfg.v6_widen_after > 0) {
        struct pbx_addr net = pbx_addr_mask(&k, 64);
        struct ban_slot *n = get_or_create(t, &net, 64, now_ms);
        if (n) {
            n->members++;
            if (n->members >= t->cfg.v6_widen_after && !slot_active(n, now_ms)) {
                apply_ban(t, n, 0, rule, "ipv6 /64 widened", now_ms);
                if (out)
                    *out = n->e;
                if (widened)
                    *widened = true;
            }
        }
    }
    return 0;
}

int ban_restore(struct ban_table *t, const struct ban_entry *e, int64_t now_ms)
{
    struct pbx_addr k;
    uint8_t pfx;
    struct ban_slot *s;

    if (e->expires_ms <= now_ms)
        return -ESTALE;
    if (!scope_norm(&e->addr, e->prefix, &k, &pfx))
        return -EINVAL;
    if (ban_allowed(t, &k))
        return -EPERM;
    s = get_or_create(t, &k, pfx, now_ms);
    if (!s)
        return -ENOSPC;
    s->e = *e;
    s->e.addr = k;
    s->e.prefix = pfx;
    if (s->e.level == 0)
        s->e.level = 1;
    s->reported = 0;
    note_due(t, s);
    return 0;
}

int ban_del(struct ban_table *t, const struct pbx_addr *a, unsigned prefix, int64_t now_ms)
{
    struct pbx_addr k;
    uint8_t pfx;
    struct ban_slot *s;

    if (!scope_norm(a, prefix, &k, &pfx))
        return -EINVAL;
    s = find(t, &k, pfx);
    if (!s || !slot_active(s, now_ms))
        return -ENOENT;
    /* Kept as history so a repeat offence still escalates; reported as lifted by the caller. */
    s->e.expires_ms = now_ms;
    s->reported = 1;
    return 0;
}

size_t ban_list(const struct ban_table *t, struct ban_entry *out, size_t max, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap && n < max; i++)
        if (slot_active(&t->slots[i], now_ms))
            out[n++] = t->slots[i].e;
    return n;
}

void ban_expire(struct ban_table *t, int64_t now_ms, ban_expired_fn fn, void *ctx)
{
    /* Called on every tick: the whole-table scan runs only when a ban is due. */
    if (now_ms < t->due_ms)
        return;
    int64_t next = BAN_PERMANENT;
    t->due_ms = BAN_PERMANENT; /* bans the callbacks add lower it again */
    for (size_t i = 0; i < t->cap; i++) {
        struct ban_slot *s = &t->slots[i];
        if (!s->used || s->e.level == 0 || s->reported)
            continue;
        if (s->e.expires_ms <= now_ms) {
            s->reported = 1;
            if (fn)
                fn(&s->e, ctx);
        } else if (s->e.expires_ms < next) {
            next = s->e.expires_ms;
        }
    }
    if (next < t->due_ms)
        t->due_ms = next;
}

static bool cidr_same(const struct pbx_cidr *a, const struct pbx_cidr *b)
{
    return a->prefix == b->prefix && pbx_addr_eq(&a->base, &b->base, false);
}

int ban_allow_add(struct ban_table *t, const struct pbx_cidr *c)
{
    for (size_t i = 0; i < t->nallow; i++)
        if (cidr_same(&t->allow[i], c))
            return 0;
    if (t->nallow >= BAN_MAX_ALLOW)
        return -ENOSPC;
    t->allow[t->nallow++] = *c;
    return 0;
}

int ban_allow_del(struct ban_table *t, const struct pbx_cidr *c)
{
    for (size_t i = 0; i < t->nallow; i++) {
        if (cidr_same(&t->allow[i], c)) {
            t->allow[i] = t->allow[--t->nallow];
            return 0;
        }
    }
    return -ENOENT;
}

size_t ban_allow_list(const struct ban_table *t, struct pbx_cidr *out, size_t max)
{
    size_t n = t->nallow < max ? t->nallow : max;
    memcpy(out, t->allow, n * sizeof(*out));
    return n;
}

const char *ban_scope_fmt(const struct ban_entry *e, char *buf, size_t cap)
{
    char ip[PBX_ADDR_STRLEN];

    pbx_addr_fmt_ip(&e->addr, ip, sizeof(ip));
    if (e->prefix == 64)
        snprintf(buf, cap, "%s/64", ip);
    else
        snprintf(buf, cap, "%s", ip);
    return buf;
}
