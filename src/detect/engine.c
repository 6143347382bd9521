/*
 * Detection engine core: tables, admission, the per-message pipeline, folding detector hits
 * into one verdict, events and bans. The detectors themselves are one per det_*.c file.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "det_int.h"
#include "pbxguard/ban/nft.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/store/store.h"

#define RAW_EXCERPT 512u

const char *det_action_name(enum det_action a)
{
    static const char *const names[] = {"pass", "alert", "drop", "reject", "ban"};
    return (unsigned)a < PBX_ARRAY_SIZE(names) ? names[a] : "unknown";
}

int det_action_parse(const char *s, enum det_action *out)
{
    for (int a = DET_PASS; a <= DET_BAN; a++) {
        if (strcmp(s, det_action_name((enum det_action)a)) == 0) {
            *out = (enum det_action)a;
            return 0;
        }
    }
    return -EINVAL;
}

static bool acct_pinned(const void *rec, int64_t now)
{
    const struct det_acct *a = rec;
    return a->protected_until > now;
}

static bool src_pinned(const void *rec, int64_t now)
{
    const struct det_src *s = rec;
    return s->trusted_until > now;
}

static int check_config(const struct det_config *c, char *err, size_t cap)
{
    if (c->v6_prefix < 32 || c->v6_prefix > 128) {
        snprintf(err, cap, "detect.ipv6_prefix must be 32..128");
        return -EINVAL;
    }
    if (c->enum_users > DET_MAX_TARGETS || c->enum_users == 0) {
        snprintf(err, cap, "detect.enumeration.users must be 1..%u", DET_MAX_TARGETS);
        return -EINVAL;
    }
    if (c->sweep_targets > DET_MAX_TARGETS || c->sweep_targets == 0) {
        snprintf(err, cap, "detect.scanner.sweep_targets must be 1..%u", DET_MAX_TARGETS);
        return -EINVAL;
    }
    if (c->bf_acct_sources > DET_ACCT_SRCS || c->bf_acct_sources == 0) {
        snprintf(err, cap, "detect.account.sources must be 1..%u", DET_ACCT_SRCS);
        return -EINVAL;
    }
    /* Suricata-style validation: a rule that can never fire is a configuration error. */
    if (c->malformed_reject > c->malformed_ban) {
        snprintf(err, cap, "detect.malformed.reject_after must not exceed ban_after");
        return -EINVAL;
    }
    if (c->trust_factor == 0) {
        snprintf(err, cap, "detect.trust_factor must be >= 1");
        return -EINVAL;
    }
    return 0;
}

/* NULL = the shipped file (installed copy, else the source tree's); "" = none. */
static int load_sigs(const struct det_config *cfg, struct det_sigs **out, char *err, size_t cap)
{
    const char *path = cfg->signatures;

    *out = NULL;
    if (path && !path[0])
        return 0;
    if (!path)
        path = access(PBX_DETECT_SIGNATURES, R_OK) == 0 ? PBX_DETECT_SIGNATURES
                                                        : PBX_DETECT_SRCSIGNATURES;
    return det_sigs_load(path, out, err, cap);
}

int det_engine_new(const struct det_config *cfg, struct ban_table *bans, const struct geo *geo,
                   char *errbuf, size_t errcap, struct det_engine **out)
{
    struct det_engine *e;
    int rc;
    char dummy[8];

    if (!errbuf || errcap == 0) {
        errbuf = dummy;
        errcap = sizeof(dummy);
    }
    errbuf[0] = '\0';
    if (!cfg || !bans)
        return -EINVAL;
    if ((rc = check_config(cfg, errbuf, errcap)) != 0)
        return rc;
    e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cfg = *cfg;
    e->bans = bans;
    e->geo = geo;
    /* Sources get 3/4 of the budget: a spoofed flood creates sources, not accounts. */
    rc = det_table_init(&e->srcs, sizeof(struct det_src), DET_SRC_KEY, cfg->memory_max / 4 * 3,
                        src_pinned);
    if (rc == 0)
        rc = det_table_init(&e->accts, sizeof(struct det_acct), DET_ACCT_KEY, cfg->memory_max / 4,
                            acct_pinned);
    if (rc != 0) {
        snprintf(errbuf, errcap, "detect.memory_max too small");
        goto out;
    }
    if ((rc = load_sigs(cfg, &e->sigs, errbuf, errcap)) != 0)
        goto out;
    if (pbx_siphash_keygen(e->key) != 0) {
        uint64_t x = (uint64_t)time(NULL);
        memcpy(e->key, &x, sizeof(x));
    }
    *out = e;
    return 0;
out:
    det_engine_free(e);
    return rc;
}

void det_engine_free(struct det_engine *e)
{
    if (!e)
        return;
    det_table_fini(&e->srcs);
    det_table_fini(&e->accts);
    det_sigs_free(e->sigs);
    free(e);
}

int det_engine_reconfigure(struct det_engine *e, const struct det_config *cfg, char *errbuf,
                           size_t errcap)
{
    struct det_sigs *sigs = NULL;
    int rc;

    if ((rc = check_config(cfg, errbuf, errcap)) != 0)
        return rc;
    if ((rc = load_sigs(cfg, &sigs, errbuf, errcap)) != 0)
        return rc;
    det_sigs_free(e->sigs);
    e->sigs = sigs;
    uint64_t mem = e->cfg.memory_max;
    e->cfg = *cfg;
    e->cfg.memory_max = mem;
    return 0;
}

void det_set_ban_hook(struct det_engine *e, det_ban_hook_fn fn, void *ctx)
{
    e->ban_hook = fn;
    e->ban_hook_ctx = ctx;
}

void det_set_unban_hook(struct det_engine *e, det_unban_hook_fn fn, void *ctx)
{
    e->unban_hook = fn;
    e->unban_hook_ctx = ctx;
}

static void default_ban_hook(const struct ban_entry *b, const char *ev, size_t len, void *ctx)
{
    struct det_engine *e = ctx;
    int64_t now = clock_wall_ms();

    if (e->store && store_ban_put(e->store, b, ev, len, now) < 0)
        e->st.errors_hook++;
    if (e->nft && ban_nft_add(e->nft, b, now) != 0)
        e->st.errors_hook++;
}

static void default_unban_hook(const struct ban_entry *b, void *ctx)
{
    struct det_engine *e = ctx;

    if (e->store && store_ban_lift(e->store, b, clock_wall_ms()) < 0)
        e->st.errors_hook++;
    if (e->nft && ban_nft_del(e->nft, b) != 0)
        e->st.errors_hook++;
}

void det_attach_default_hook(struct det_engine *e, struct store *s, struct ban_nft *nft)
{
    e->store = s;
    e->nft = nft;
    det_set_ban_hook(e, default_ban_hook, e);
    det_set_unban_hook(e, default_unban_hook, e);
}

struct restore_ctx {
    struct det_engine *e;
    int64_t now;
    int n;
};

static void restore_one(const struct ban_entry *b, void *ctx)
{
    struct restore_ctx *rc = ctx;

    if (ban_restore(rc->e->bans, b, rc->now) != 0)
        return;
    if (rc->e->nft && ban_nft_add(rc->e->nft, b, rc->now) != 0)
        rc->e->st.errors_hook++;
    rc->n++;
}

int det_restore(struct det_engine *e, struct store *s, int64_t now_ms)
{
    struct restore_ctx rc = {e, now_ms, 0};
    int r = store_bans_load(s, now_ms, restore_one, &rc);
    return r != 0 ? r : rc.n;
}

void det_set_shadow(struct det_engine *e, bool on)
{
    e->cfg.shadow = on;
}

bool det_shadow(const struct det_engine *e)
{
    return e->cfg.shadow;
}

void det_set_lockdown(struct det_engine *e, bool on)
{
    e->lockdown = on;
}

bool det_lockdown(const struct det_engine *e)
{
    return e->lockdown;
}

struct ban_table *det_bans(struct det_engine *e)
{
    return e->bans;
}

/* ---- helpers shared by detectors ---- */

uint32_t det_hash32(const struct det_engine *e, struct slice s)
{
    uint32_t h = (uint32_t)pbx_siphash24(e->key, s.p, s.len);
    return h ? h : 1; /* 0 marks an empty set slot */
}

unsigned det_set_add(uint32_t *set, uint8_t *n, unsigned cap, uint32_t h)
{
    for (unsigned i = 0; i < *n; i++)
        if (set[i] == h)
            return *n;
    if (*n < cap)
        set[(*n)++] = h;
    return *n;
}

bool det_user_numeric(struct slice u)
{
    if (u.len == 0)
        return false;
    for (size_t i = 0; i < u.len; i++)
        if (u.p[i] < '0' || u.p[i] > '9')
            return false;
    return true;
}

const struct sip_digest *det_credentials(struct det_msgctx *mc)
{
    if (mc->cred_state == 0) {
        mc->cred_state =
            sip_msg_digest(mc->m, SIP_HDR_AUTHORIZATION, 0, &mc->cred) == 0 ||
                    sip_msg_digest(mc->m, SIP_HDR_PROXY_AUTHORIZATION, 0, &mc->cred) == 0
                ? 1
                : -1;
    }
    return mc->cred_state > 0 ? &mc->cred : NULL;
}

struct slice det_target_user(const struct sip_msg *m)
{
    const struct sip_name_addr *to = sip_msg_to_get(m);
    struct sip_name_addr buf;

    /* Several detectors ask for every message: borrow the To the parser kept, and parse only
     * when it kept none (same value either way). */
    if (!to && sip_msg_to(m, &buf) == 0)
        to = &buf;
    if (to && to->uri.user.len)
        return to->uri.user;
    if (m->is_request)
        return m->ruri.user;
    return SLICE_NULL;
}

struct det_acct *det_acct_get(struct det_engine *e, struct slice user, int64_t now, bool create)
{
    uint8_t key[DET_ACCT_KEY];
    struct det_acct *a;
    bool created;

    if (user.len == 0)
        return NULL;
    memset(key, 0, sizeof(key));
    if (user.len < DET_ACCT_KEY - 8) {
        memcpy(key, user.p, user.len);
    } else {
        /* Long names: a prefix plus a keyed hash of the whole name. */
        uint64_t h = pbx_siphash24(e->key, user.p, user.len);
        memcpy(key, user.p, DET_ACCT_KEY - 9);
        memcpy(key + DET_ACCT_KEY - 8, &h, 8);
    }
    a = det_table_get(&e->accts, key, now, create, &created);
    if (a && created)
        slice_copy_cstr(user, a->name, sizeof(a->name));
    return a;
}

static void src_key(const struct det_engine *e, const struct pbx_addr *in, uint8_t key[DET_SRC_KEY],
                    struct pbx_addr *masked)
{
    struct pbx_addr a = pbx_addr_is_v4mapped(in) ? pbx_addr_unmap(in) : *in;

    memset(key, 0, DET_SRC_KEY);
    if (a.family == AF_INET6)
        a = pbx_addr_mask(&a, e->cfg.v6_prefix);
    a.port = 0;
    key[0] = (uint8_t)a.family;
    if (a.family == AF_INET)
        memcpy(key + 1, &a.ip.v4, 4);
    else
        memcpy(key + 1, &a.ip.v6, 16);
    *masked = a;
}

static struct det_src *src_get(struct det_engine *e, const struct pbx_addr *a, int64_t now)
{
    uint8_t key[DET_SRC_KEY];
    struct pbx_addr masked;
    bool created;
    struct det_src *s;

    src_key(e, a, key, &masked);
    s = det_table_get(&e->srcs, key, now, true, &created);
    if (created)
        s->addr = masked;
    return s;
}

unsigned det_factor(const struct det_msgctx *mc)
{
    return mc->learned_trust ? mc->e->cfg.trust_factor : 1;
}

/* ---- admission ---- */

bool det_admit(struct det_engine *e, const struct pbx_addr *src, enum pbx_transport tp,
               int64_t now_ms)
{
    struct det_src *s;
    unsigned factor;

    (void)tp;
    if (ban_allowed(e->bans, src)) {
        e->st.admitted++;
        return true;
    }
    if (ban_check(e->bans, src, now_ms, NULL)) {
        e->st.refused_ban++;
        return false;
    }
    s = src_get(e, src, now_ms);
    s->packets++;
    s->last_ms = now_ms;
    factor = s->trusted_until > now_ms ? e->cfg.trust_factor : 1;
    if (e->lockdown && s->trusted_until <= now_ms) {
        e->st.refused_lockdown++;
        return false;
    }
    if (e->geo && (e->cfg.geo.nallow || e->cfg.geo.ndeny || e->cfg.geo.unknown_deny)) {
        /* One lookup per source record: the verdict is cached with it. */
        if (!s->geo_checked) {
            struct geo_result g;
            s->geo_checked = 1;
            s->geo_denied =
                !geo_policy_permits(&e->cfg.geo, geo_lookup(e->geo, src, &g) == 0 ? g.cc : NULL);
        }
        if (s->geo_denied && !e->cfg.shadow) {
            e->st.refused_geo++;
            return false;
        }
    }
    if (!det_bucket_take(&s->admit, now_ms, e->cfg.admit_rate, e->cfg.admit_burst, factor) &&
        !e->cfg.shadow) {
        e->st.refused_budget++;
        return false;
    }
    e->st.admitted++;
    return true;
}

/* ---- verdict folding and events ---- */

static int severity_rank(enum det_action a)
{
    static const int rank[] = {0, 1, 2, 3, 4};
    return rank[a];
}

void det_hit_init(struct det_hit *h, const char *rule, const char *type,
                  const struct det_rule_cfg *rc, int score)
{
    memset(h, 0, sizeof(*h));
    h->rule = rule;
    h->type = type;
    h->action = rc ? rc->action : DET_ALERT;
    h->status = rc && rc->reject_status ? rc->reject_status : 403;
    h->reason = "Forbidden";
    h->score = score;
    h->sev = EV_SEV_MEDIUM;
}

static enum ev_action ev_of(enum det_action a)
{
    switch (a) {
    case DET_ALERT:
        return EV_ACT_ALERT;
    case DET_DROP:
        return EV_ACT_DROP;
    case DET_REJECT:
        return EV_ACT_REJECT;
    case DET_BAN:
        return EV_ACT_BAN;
    case DET_PASS:
    default:
        return EV_ACT_LOG;
    }
}

static void emit(struct det_msgctx *mc, const struct det_hit *h, enum det_action act,
                 const struct ban_entry *b)
{
    struct det_engine *e = mc->e;
    char src[PBX_ADDR_STRLEN];
    struct ev_kv kv[8];
    size_t n = 0;
    struct ev_record r;

    memset(&r, 0, sizeof(r));
    pbx_addr_fmt(&mc->ctx->src, src, sizeof(src));
    r.ts_ms = mc->now;
    r.type = h->type;
    r.rule = h->rule;
    r.action = ev_of(act);
    r.severity = act == DET_BAN ? EV_SEV_HIGH : h->sev;
    r.shadow = e->cfg.shadow;
    r.component = "detect";
    r.src = slice_cstr(src);
    r.transport = pbx_transport_name(mc->ctx->tp);
    r.target = h->target;
    r.reason = h->reason;
    for (size_t i = 0; i < h->nev && n < PBX_ARRAY_SIZE(kv) - 2; i++)
        kv[n++] = h->ev[i];
    kv[n++] = EV_KV_I("score", h->score);
    if (b) {
        r.ban_s = b->expires_ms == BAN_PERMANENT ? -1 : (b->expires_ms - mc->now) / 1000;
        kv[n++] = EV_KV_I("ban_level", b->level);
    }
    r.evidence = kv;
    r.n_evidence = n;
    if (mc->m) {
        r.call_id = mc->m->call_id;
        r.method = mc->m->is_request ? mc->m->method_name : mc->m->cseq_method_name;
        r.user_agent = sip_msg_user_agent(mc->m);
        r.raw = slice_make(mc->m->buf, mc->m->len < RAW_EXCERPT ? mc->m->len : RAW_EXCERPT);
    }
    ev_emit(&r);
}

static uint64_t src_tag(const struct det_engine *e, const struct pbx_addr *a)
{
    uint8_t key[DET_SRC_KEY];
    struct pbx_addr masked;
    uint64_t h;

    src_key(e, a, key, &masked);
    h = pbx_siphash24(e->key, key, sizeof(key));
    return h ? h : 1;
}

/* Remembers an excerpt of the message behind a hit (requests and responses alike). */
void det_note(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    size_t n;

    if (!mc->m || !mc->m->buf || mc->ring_done)
        return;
    mc->ring_done = true;
    n = mc->m->len < DET_EVIDENCE_EXCERPT ? mc->m->len : DET_EVIDENCE_EXCERPT;
    e->ring[e->ring_next].src = src_tag(e, &mc->ctx->src);
    e->ring[e->ring_next].len = (uint16_t)n;
    memcpy(e->ring[e->ring_next].text, mc->m->buf, n);
    e->ring_next = (e->ring_next + 1) % DET_EVIDENCE_RING;
}

/* Up to DET_EVIDENCE_MAX bytes: the source's remembered excerpts, oldest first, each ended by
 * a separator line. */
static size_t ring_collect(const struct det_engine *e, const struct pbx_addr *a, char *out)
{
    static const char sep[] = "\n--\n";
    uint64_t tag = src_tag(e, a);
    size_t n = 0;

    for (unsigned k = 0; k < DET_EVIDENCE_RING; k++) {
        unsigned i = (e->ring_next + k) % DET_EVIDENCE_RING;
        size_t l = e->ring[i].len;
        if (e->ring[i].src != tag || l == 0)
            continue;
        if (n + l + sizeof(sep) - 1 > DET_EVIDENCE_MAX) {
            /* Keep the newest: drop what was collected so far when it no longer fits. */
            if (l + sizeof(sep) - 1 > DET_EVIDENCE_MAX)
                continue;
            n = 0;
        }
        memcpy(out + n, e->ring[i].text, l);
        n += l;
        memcpy(out + n, sep, sizeof(sep) - 1);
        n += sizeof(sep) - 1;
    }
    return n;
}

void det_hit(struct det_msgctx *mc, const struct det_hit *h)
{
    struct det_verdict *v = mc->v;
    enum det_action cur = mc->e->cfg.shadow ? v->would_action : v->action;

    if (h->action == DET_BAN) {
        /* Bans are emitted once applied, with their duration. */
        if (!mc->has_ban || h->score > mc->ban_hit.score)
            mc->ban_hit = *h;
        mc->has_ban = true;
    } else {
        emit(mc, h, h->action, NULL);
    }
    if (h->action != DET_PASS)
        det_note(mc);
    if (h->action == DET_ALERT)
        v->flags |= DET_F_ALERT;
    if (severity_rank(h->action) > severity_rank(cur) ||
        (h->action == cur && h->score > v->score)) {
        if (mc->e->cfg.shadow)
            v->would_action = h->action;
        else
            v->action = h->action;
        v->status = h->status;
        v->reason = h->reason;
        v->rule = h->rule;
        v->score = h->score;
    }
}

static void verdict_init(struct det_verdict *v)
{
    v->action = DET_PASS;
    v->would_action = DET_PASS;
    v->flags = 0;
    v->status = 0;
    v->reason = NULL;
    v->retry_after_s = 0;
    v->rule = NULL;
    v->score = 0;
    memset(&v->ban, 0, sizeof(v->ban));
    v->rewrite_len = 0;
}

static void apply_ban(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    struct det_hit *h = &mc->ban_hit;
    struct ban_entry b;
    bool widened = false;
    int rc;

    if (e->cfg.shadow) {
        emit(mc, h, DET_BAN, NULL);
        mc->v->flags |= DET_F_SHADOW;
        return;
    }
    rc = ban_add(e->bans, &mc->ctx->src, h->ban_prefix, h->ban_ms, h->rule, h->reason, mc->now, &b,
                 &widened);
    if (rc != 0) {
        /* Allow-listed (or table full of active bans): never banned, but still visible. */
        struct det_hit a = *h;
        a.action = DET_ALERT;
        a.reason = rc == -EPERM ? "allow-listed source, not banned" : "ban table full";
        emit(mc, &a, DET_ALERT, NULL);
        if (mc->v->action == DET_BAN)
            mc->v->action = DET_DROP;
        mc->v->flags |= DET_F_ALERT;
        return;
    }
    mc->v->ban = b;
    emit(mc, h, DET_BAN, &b);
    e->st.bans++;
    if (e->ban_hook) {
        size_t len = ring_collect(e, &mc->ctx->src, e->evidence);
        e->ban_hook(&b, e->evidence, len, e->ban_hook_ctx);
    }
}

static void finish(struct det_msgctx *mc)
{
    struct det_verdict *v = mc->v;
    struct det_engine *e = mc->e;

    if (mc->has_ban)
        apply_ban(mc);
    if (e->cfg.shadow) {
        if (v->would_action != DET_PASS)
            v->flags |= DET_F_SHADOW;
        v->action = DET_PASS;
        v->flags &= ~DET_F_STRIP_IDENTITY;
        v->flags &= ~DET_F_REWRITE;
        v->rewrite_len = 0;
    }
    switch (v->action) {
    case DET_PASS:
        e->st.passes++;
        break;
    case DET_ALERT:
        e->st.alerts++;
        break;
    case DET_DROP:
        e->st.drops++;
        break;
    case DET_REJECT:
        e->st.rejects++;
        break;
    case DET_BAN:
        break;
    }
    if (v->flags & DET_F_REWRITE)
        e->st.rewrites++;
}

static void ctx_init(struct det_msgctx *mc, struct det_engine *e, const struct det_ctx *ctx,
                     const struct sip_msg *m, int64_t now, struct det_verdict *v)
{
    /* cred and ban_hit (the last ~700 bytes) are only read once cred_state / has_ban say
     * they were written: clearing them for every message was a measurable share of the
     * per-message cost. */
    memset(mc, 0, offsetof(struct det_msgctx, cred));
    mc->e = e;
    mc->ctx = ctx;
    mc->m = m;
    mc->now = now;
    mc->v = v;
    verdict_init(v);
}

static bool allow_listed(struct det_engine *e, const struct det_ctx *ctx)
{
    return ctx->trusted || ban_allowed(e->bans, &ctx->src);
}

void det_on_request(struct det_engine *e, const struct det_ctx *ctx, const struct sip_msg *m,
                    int64_t now_ms, struct det_verdict *v)
{
    struct det_msgctx mc;

    ctx_init(&mc, e, ctx, m, now_ms, v);
    e->st.requests++;
    if (ctx->from_upstream) {
        e->st.passes++;
        return;
    }
    if (allow_listed(e, ctx)) {
        /* Trunks and trusted networks: no scoring, but a canary still raises an alert. */
        det_canary_request(&mc);
        if (v->action != DET_PASS || mc.has_ban) {
            mc.has_ban = false;
            v->action = DET_PASS;
        }
        e->st.passes++;
        return;
    }
    mc.src = src_get(e, &ctx->src, now_ms);
    mc.learned_trust = mc.src->trusted_until > now_ms;
    det_canary_request(&mc);
    det_scanner_request(&mc);
    det_account_request(&mc);
    det_flood_request(&mc);
    det_spoof_request(&mc);
    det_malformed_request(&mc);
    det_bruteforce_request(&mc);
    finish(&mc);
}

void det_on_response(struct det_engine *e, const struct det_ctx *ctx, const struct sip_msg *resp,
                     int64_t now_ms, struct det_verdict *v)
{
    struct det_msgctx mc;

    ctx_init(&mc, e, ctx, resp, now_ms, v);
    e->st.responses++;
    det_shield_learn(e, resp);
    if (allow_listed(e, ctx)) {
        e->st.passes++;
        return;
    }
    mc.src = src_get(e, &ctx->src, now_ms);
    mc.learned_trust = mc.src->trusted_until > now_ms;
    det_bruteforce_response(&mc);
    det_enum_response(&mc);
    det_regan_response(&mc);
    det_shield_response(&mc);
    /* A response is never rejected back to the PBX: drop/reject mean "do not forward". */
    finish(&mc);
}

void det_on_malformed(struct det_engine *e, const struct det_ctx *ctx, int err,
                      const struct sip_msg *m, int64_t now_ms, struct det_verdict *v)
{
    struct det_msgctx mc;

    ctx_init(&mc, e, ctx, m, now_ms, v);
    e->st.malformed++;
    if (ctx->from_upstream || allow_listed(e, ctx)) {
        e->st.passes++;
        return;
    }
    mc.src = src_get(e, &ctx->src, now_ms);
    mc.learned_trust = mc.src->trusted_until > now_ms;
    det_malformed_parse_error(&mc, err);
    finish(&mc);
}

/* ---- operator actions ---- */

static void emit_operator(const char *type, enum ev_action act, const struct ban_entry *b,
                          int64_t now, const char *reason)
{
    char scope[PBX_ADDR_STRLEN + 4];
    struct ev_record r;

    memset(&r, 0, sizeof(r));
    r.ts_ms = now;
    r.type = type;
    r.rule = b->rule[0] ? b->rule : "ctl";
    r.action = act;
    r.severity = EV_SEV_INFO;
    r.component = "detect";
    r.src = slice_cstr(ban_scope_fmt(b, scope, sizeof(scope)));
    r.reason = reason;
    if (act == EV_ACT_BAN)
        r.ban_s = b->expires_ms == BAN_PERMANENT ? -1 : (b->expires_ms - now) / 1000;
    ev_emit(&r);
}

int det_ban(struct det_engine *e, const struct pbx_addr *a, unsigned prefix, int64_t duration_ms,
            const char *rule, const char *reason, int64_t now_ms, struct ban_entry *out)
{
    struct ban_entry b;
    int rc = ban_add(e->bans, a, prefix, duration_ms, rule, reason, now_ms, &b, NULL);

    if (rc != 0)
        return rc;
    emit_operator("ban.operator", EV_ACT_BAN, &b, now_ms, reason);
    e->st.bans++;
    if (e->ban_hook)
        e->ban_hook(&b, NULL, 0, e->ban_hook_ctx);
    if (out)
        *out = b;
    return 0;
}

int det_unban(struct det_engine *e, const struct pbx_addr *a, unsigned prefix, int64_t now_ms)
{
    struct ban_entry b;
    int rc;

    if (!ban_check(e->bans, a, now_ms, &b))
        return -ENOENT;
    /* Lift exactly the scope asked for (an address inside a banned /64 lifts the /64 only if
     * asked with prefix 64). */
    rc = ban_del(e->bans, a, prefix, now_ms);
    if (rc != 0)
        return rc;
    if (prefix == 64 || b.prefix != 64) {
        b.expires_ms = now_ms;
        emit_operator("ban.lifted", EV_ACT_UNBAN, &b, now_ms, "operator");
        if (e->unban_hook)
            e->unban_hook(&b, e->unban_hook_ctx);
    }
    return 0;
}

static void expired_cb(const struct ban_entry *b, void *ctx)
{
    struct det_engine *e = ctx;

    emit_operator("ban.expired", EV_ACT_UNBAN, b, b->expires_ms, "expired");
    /* nftables drops timed-out elements itself; the store keeps the row as history. */
    (void)e;
}

void det_tick(struct det_engine *e, int64_t now_ms)
{
    ban_expire(e->bans, now_ms, expired_cb, e);
}

void det_stats_get(const struct det_engine *e, struct det_stats *out)
{
    *out = e->st;
    out->src_evictions = e->srcs.evictions;
    out->acct_evictions = e->accts.evictions;
    out->src_used = e->srcs.used;
    out->src_cap = e->srcs.cap;
    out->acct_used = e->accts.used;
    out->acct_cap = e->accts.cap;
    out->mem_bytes = det_table_mem(&e->srcs) + det_table_mem(&e->accts);
}

size_t det_top(const struct det_engine *e, struct det_talker *out, size_t max)
{
    size_t n = 0;
    int64_t now = clock_wall_ms();

    if (max == 0)
        return 0;
    for (size_t i = 0; i < e->srcs.cap; i++) {
        const struct det_src *s = det_table_slot((struct det_table *)&e->srcs, i);
        size_t j;
        if (!s)
            continue;
        if (n == max && s->packets <= out[n - 1].packets)
            continue;
        /* Insertion into a short sorted list: max is small (ctl top). */
        j = n < max ? n++ : n - 1;
        while (j > 0 && out[j - 1].packets < s->packets) {
            out[j] = out[j - 1];
            j--;
        }
        out[j].addr = s->addr;
        out[j].packets = s->packets;
        out[j].last_ms = s->last_ms;
        out[j].score = s->score;
        out[j].trusted = s->trusted_until > now;
    }
    return n;
}

bool det_account_protected(struct det_engine *e, const char *user, int64_t now_ms)
{
    struct det_acct *a = det_acct_get(e, slice_cstr(user), now_ms, false);
    return a && a->protected_until > now_ms;
}
