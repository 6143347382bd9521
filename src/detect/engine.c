/*
 * Detection engine life cycle: configuration checks, creation with its bounded tables and
 * signatures, reconfiguration, modes and statistics. The per-message pipeline is pipeline.c,
 * verdicts verdict.c, bans bans.c; the detectors are one per det_*.c file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "det_int.h"

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
